"""Every file in examples/ runs as a test (``_*.py`` are their helpers, not examples).

Examples that need more than gpmath's core (``poisson_distributed.py``: mpi4py, CuPy, cuFFTMp and
a GPU) are skipped, saying what is missing, where that is not installed.  Figures go to a temporary
``GPMATH_EXAMPLES_OUT``; where matplotlib is installed, an example that draws must save one.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted(p for p in (pathlib.Path(__file__).parent.parent / "examples").glob("*.py")
                  if not p.name.startswith("_"))


def _distributed_missing() -> str | None:
    """Why the distributed examples cannot run here (None: they can)."""
    for module in ("mpi4py", "cupy"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed"
    from gpmath._core import runtime

    if runtime.device_count() == 0:
        return f"no GPU: {runtime.no_gpu_reason()}"
    from gpmath._bindings import cufftmp

    try:
        cufftmp.library.cdll
    except Exception as exc:  # NoGPUError, OSError: not installed here
        return f"cuFFTMp cannot be loaded: {exc}"
    return None


NEEDS = {"poisson_distributed.py": _distributed_missing}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    missing = NEEDS.get(path.name, lambda: None)()
    if missing:
        pytest.skip(f"{path.name} needs mpi4py, CuPy, cuFFTMp and a GPU: {missing}")
    root = path.parent.parent
    pythonpath = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, str(path)], cwd=root, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": pythonpath, "GPMATH_EXAMPLES_OUT": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    drawn = "save_figure(" in path.read_text() and "is not installed" not in result.stdout
    if drawn and importlib.util.find_spec("matplotlib"):  # the figure, unless a package was missing
        assert list(tmp_path.glob("*.png")), f"{path.name} saved no figure in GPMATH_EXAMPLES_OUT"


def test_gallery_lists_every_example():
    gallery = (pathlib.Path(__file__).parent.parent / "docs" / "examples.md").read_text()
    assert [p.name for p in EXAMPLES if f"examples/{p.name}" not in gallery] == []
