"""gpmath.distributed on GPUs: tests/distributed_matmul_check.py on 1 rank, and on 2 under mpirun.

Skipped, saying why, without mpi4py, without cuBLASMp (``pip install gpmath[distributed]``), or
with fewer GPUs than ranks.  The script compares every result with NumPy in float64.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("distributed_matmul_check.py")
ROOT = Path(__file__).resolve().parent.parent


def _requirements() -> None:
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install gpmath[distributed])")
    from gpmath._bindings import cublasmp
    from gpmath._core.errors import NoGPUError

    try:
        cublasmp.library.cdll
    except (NoGPUError, OSError) as exc:
        pytest.skip(f"cuBLASMp cannot be loaded: {exc}")


def _run(command: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def run_on(script: Path, ranks: int) -> str:
    """*script*'s output on *ranks* ranks: in this Python for one, under ``mpirun`` for more."""
    command = [sys.executable, str(script)]
    if ranks > 1:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            pytest.skip("mpirun is not on PATH")
        command = [mpirun, "-n", str(ranks), "--oversubscribe"] + command
    return _run(command)


@pytest.mark.gpu
def test_distributed_matmul_on_one_rank():
    _requirements()
    output = run_on(SCRIPT, 1)
    assert "all cases passed on 1 rank(s)" in output, output


@pytest.mark.multigpu
def test_distributed_matmul_on_two_ranks():
    _requirements()
    output = run_on(SCRIPT, 2)
    assert "all cases passed on 2 rank(s)" in output, output
