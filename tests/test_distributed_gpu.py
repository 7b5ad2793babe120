"""gpmath.distributed on GPUs: the check scripts on 1 rank, on 2 under ``mpirun``, and ``torchrun``.

``distributed_matmul_check.py`` (cuBLASMp) and ``distributed_fft_check.py`` (cuFFTMp) compare
every result with NumPy/SciPy in float64 and print what they ran; ``distributed_torchrun_check.py``
initializes from a torch.distributed process group.  Skipped, saying why, without mpi4py, without
the libraries (``pip install gpmath[distributed]``, or their folders on ``LD_LIBRARY_PATH``), or
with fewer GPUs than ranks.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
CHECKS = {  # name: (script, the gpmath._bindings modules whose libraries it needs, its last line)
    "matmul": ("distributed_matmul_check.py", ("cublasmp",), "distributed matmul: all cases passed on {} rank(s)"),
    "fft": ("distributed_fft_check.py", ("nvshmem", "cufftmp"), "distributed FFT: all cases passed on {} rank(s)"),
}
RANKS = [pytest.param(1, marks=pytest.mark.gpu, id="1-rank"), pytest.param(2, marks=pytest.mark.multigpu, id="2-ranks")]


def _requirements(bindings, launcher: str = "mpi4py") -> None:
    pytest.importorskip(launcher, reason=f"{launcher} is not installed")
    from gpmath._errors import NoGPUError

    for name in bindings:
        try:
            importlib.import_module(f"gpmath._bindings.{name}").library.cdll
        except (NoGPUError, OSError) as exc:
            pytest.skip(f"the library behind gpmath._bindings.{name} cannot be loaded: {exc}")


def _run(command: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def _launcher(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH")
    return path


@pytest.mark.parametrize("ranks", RANKS)
@pytest.mark.parametrize("check", list(CHECKS))
def test_check_script(check, ranks):
    """The script on *ranks* ranks: in this Python for one, under ``mpirun`` for more."""
    script, bindings, last_line = CHECKS[check]
    _requirements(bindings)
    command = [sys.executable, str(HERE / script)]
    if ranks > 1:
        command = [_launcher("mpirun"), "-n", str(ranks), "--oversubscribe"] + command
    output = _run(command)
    assert last_line.format(ranks) in output, output


@pytest.mark.multigpu
def test_torchrun_process_group_on_two_ranks():
    """initialize() from a torch.distributed process group (NCCL backend) under torchrun."""
    _requirements(("nvshmem", "cufftmp"), launcher="torch")
    output = _run([_launcher("torchrun"), "--standalone", "--nproc_per_node=2",
                   str(HERE / "distributed_torchrun_check.py")])
    assert "torchrun check: all cases passed on 2 rank(s)" in output, output
