"""Every file in examples/ runs as a test.

Examples that need more than gpmath's core (``poisson_distributed.py``: mpi4py, CuPy, cuFFTMp and
a GPU) are skipped, saying what is missing, where that is not installed.
"""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


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
def test_example_runs(path):
    missing = NEEDS.get(path.name, lambda: None)()
    if missing:
        pytest.skip(f"{path.name} needs mpi4py, CuPy, cuFFTMp and a GPU: {missing}")
    root = path.parent.parent
    result = subprocess.run([sys.executable, str(path)], cwd=root, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr[-2000:]
