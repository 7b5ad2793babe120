"""The documentation works as written: the Sphinx site builds with warnings as errors, and every
Python block of the README and of ``docs/*.md`` runs.

A block runs in a fresh interpreter: on the CPU everywhere, or, where the line before it says
"GPU only", on a GPU machine.  The blocks of ``docs/distributed.md`` need several MPI ranks with
GPUs (``mpirun``), which a test run does not start: they are compiled here, and the same calls run
in ``tests/distributed_*_check.py`` under MPI.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MPI_PAGES = {"distributed.md"}


def _blocks(page: pathlib.Path) -> list[tuple[str, str]]:
    """``(line before, code)`` of every ```python block of *page*."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"([^\n]*)\n+```python\n(.*?)```", page.read_text(), re.S)]


BLOCKS = [(page.name, index, before, code) for page in PAGES for index, (before, code) in enumerate(_blocks(page))]


def _ids(blocks) -> list[str]:
    return [f"{name}-{index}" for name, index, _, _ in blocks]


CPU = [b for b in BLOCKS if b[0] not in MPI_PAGES and "GPU only" not in b[2]]
GPU = [b for b in BLOCKS if b[0] not in MPI_PAGES and "GPU only" in b[2]]
MPI = [b for b in BLOCKS if b[0] in MPI_PAGES]


def test_the_pages_have_snippets():
    assert len(CPU) >= 5 and GPU and MPI


@pytest.mark.parametrize("block", CPU, ids=_ids(CPU))
def test_snippet_runs(block):
    _run(block[3])


@pytest.mark.gpu
@pytest.mark.parametrize("block", GPU, ids=_ids(GPU))
def test_gpu_only_snippet_runs(block):
    pytest.importorskip("torch")
    _run(block[3])


@pytest.mark.parametrize("block", MPI, ids=_ids(MPI))
def test_mpi_snippet_compiles(block):
    compile(block[3], block[0], "exec")


def _run(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]


def test_docs_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_parser")
    command = [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"),
               str(tmp_path / "html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    pages = {p.name for p in (tmp_path / "html" / "api" / "generated").glob("*.html")}
    for name in ("gpmath.matmul.html", "gpmath.fft.fft.html", "gpmath.linalg.solve.html", "gpmath.blas.Matmul.html"):
        assert name in pages
    assert (tmp_path / "html" / "gallery" / "poisson_fft.html").exists()
