"""Packaging metadata (pyproject.toml): one CUDA stack per extra, the version in one place, the
license, typing; and an installed gpmath reports the version the source holds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _names(requirements) -> dict[str, str]:
    """``{name: version specifier}`` of requirement strings."""
    found = {}
    for requirement in requirements:
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
        found[name.lower()] = spec
    return found


@pytest.mark.parametrize("extra", ["cu12", "distributed-cu12"])
def test_cuda12_extras_take_cuda12_wheels_and_bindings(extra):
    names = _names(EXTRAS[extra])
    assert names["cuda-bindings"] == ">=12.6,<13"
    nvidia = [n for n in names if n.startswith("nvidia-")]
    assert nvidia and all(n.endswith("-cu12") for n in nvidia), nvidia


@pytest.mark.parametrize("extra", ["cu13", "distributed"])
def test_cuda13_extras_take_cuda13_wheels_and_bindings(extra):
    names = _names(EXTRAS[extra])
    assert names["cuda-bindings"] == ">=13,<14"
    assert not [n for n in names if n.endswith(("-cu11", "-cu12"))]


def test_the_base_requirements_leave_the_cuda_major_to_the_extras():
    names = _names(PROJECT["dependencies"])
    assert "cuda-python" not in names  # the metapackage would pull cuda-bindings 13 into a cu12 install
    assert "<" not in names["cuda-bindings"] and "cuda-pathfinder" in names


def test_the_version_lives_in_gpmath_only():
    import gpmath

    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "gpmath.__version__"}
    try:
        installed = metadata.version("gpmath")
    except metadata.PackageNotFoundError:
        pytest.skip("gpmath is not installed (running from a source tree)")
    assert installed == gpmath.__version__


def test_license_and_typing_ship():
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert (ROOT / "gpmath" / "py.typed").exists()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["gpmath"]


def _built(tmp_path: Path, hook: str) -> zipfile.ZipFile:
    """The wheel PEP 517's *hook* (``build_wheel``, ``build_editable``) builds from a copy of the
    project in a folder named ``gpmath`` (a clone's usual name) under *tmp_path*, as pip would."""
    if int(metadata.version("setuptools").split(".")[0]) < 77:
        pytest.skip("the build needs setuptools >= 77 (PEP 639 license expressions)")
    clone = tmp_path / "gpmath"
    clone.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        (clone / name).write_bytes((ROOT / name).read_bytes())
    shutil.copytree(ROOT / "gpmath", clone / "gpmath", ignore=shutil.ignore_patterns("__pycache__"))
    build = f"import sys; from setuptools import build_meta; print(build_meta.{hook}(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", build, str(tmp_path / "wheel")], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return zipfile.ZipFile(tmp_path / "wheel" / done.stdout.strip().splitlines()[-1])


def test_the_wheel_carries_every_kernel_source(tmp_path):
    """NVRTC compiles gpmath's kernels from the installed sources: every file of a ``kernels``
    folder (a ``.cu`` and the ``.cuh`` files it includes) must be in the wheel."""
    with _built(tmp_path, "build_wheel") as wheel:
        shipped = set(wheel.namelist())
    sources = {path.relative_to(ROOT).as_posix() for path in ROOT.glob("gpmath/**/kernels/*") if path.is_file()}
    assert sources and sources <= shipped, sorted(sources - shipped)


def test_an_editable_install_beside_a_clone_named_gpmath_imports_the_package(tmp_path):
    """The newcomer trap: a script that runs from the folder holding a clone named ``gpmath``
    finds that folder first.  The editable install must put the clone's root on ``sys.path`` (a
    ``.pth`` path entry, where the regular package inside wins over the folder), not an import
    hook that comes after the folder: build the editable wheel as pip would, then import from
    the clone's parent folder with the wheel's path entries where ``site`` puts them."""
    with _built(tmp_path, "build_editable") as wheel:
        entries = [line for name in wheel.namelist() if name.endswith(".pth")
                   for line in wheel.read(name).decode().splitlines() if line and not line.startswith("import ")]
    assert entries, "the editable wheel adds no path entry: an import hook would lose to the folder"
    probe = ("import os, sys; "  # this machine's own gpmath off the path, the wheel's entries where site puts them
             "sys.path[:] = [p for p in sys.path if not os.path.isfile(os.path.join(p or '.', 'gpmath', '__init__.py'))]; "
             "sys.path.extend(sys.argv[1:]); import gpmath; print(gpmath.__file__, hasattr(gpmath, 'matmul'))")
    found = subprocess.run([sys.executable, "-c", probe, *entries], cwd=tmp_path, capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"})
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.split() == [str(tmp_path / "gpmath" / "gpmath" / "__init__.py"), "True"]


def test_the_sdist_carries_what_its_tests_docs_and_examples_need(tmp_path):
    """The sdist (as ``python -m build --sdist`` makes it from a clone) holds every tracked file
    of the package, its tests, docs sources, examples and benchmarks, and a test runs from it."""
    if int(metadata.version("setuptools").split(".")[0]) < 77:
        pytest.skip("the build needs setuptools >= 77 (PEP 639 license expressions)")
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != ROOT.resolve():
        pytest.skip("not a git checkout of its own (an sdist, or an export inside another repository)")
    # the files a commit of this tree would track: git's index, and files not ignored that it does not list yet
    # (a new module before `git add`, or a checkout whose index is older than its files)
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    tracked = {name for name in listed.stdout.split() if (ROOT / name).is_file()}
    clone = tmp_path / "gpmath"
    for name in tracked:
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, clone / name)
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist")], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    archive = tmp_path / "dist" / done.stdout.strip().splitlines()[-1]
    shutil.unpack_archive(archive, tmp_path / "unpacked")
    (root,) = (tmp_path / "unpacked").iterdir()
    shipped = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
    needed = {name for name in tracked if name.startswith(("gpmath/", "tests/", "examples/", "bench/"))
              and not name.startswith("tests/data/")} | {name for name in tracked if name.startswith("docs/")
                                                         and name.endswith((".md", ".py", ".rst"))}
    assert needed and needed <= shipped, sorted(needed - shipped)
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_import.py"],
                         cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
