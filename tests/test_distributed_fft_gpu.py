"""gpmath.distributed.fft on GPUs: tests/distributed_fft_check.py on 1 rank, and on 2 under mpirun.

Skipped, saying why, without mpi4py, without cuFFTMp or NVSHMEM's host library (``pip install
gpmath[distributed]``, or their folders on ``LD_LIBRARY_PATH``), or with fewer GPUs than ranks.
The script compares every result with SciPy in float64 and prints what it ran.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_distributed_gpu import _run, run_on

SCRIPT = Path(__file__).with_name("distributed_fft_check.py")


def _requirements() -> None:
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install gpmath[distributed])")
    from gpmath._bindings import cufftmp, nvshmem
    from gpmath._core.errors import NoGPUError

    for label, library in (("NVSHMEM's host library", nvshmem.library), ("cuFFTMp", cufftmp.library)):
        try:
            library.cdll
        except (NoGPUError, OSError) as exc:
            pytest.skip(f"{label} cannot be loaded: {exc}")


@pytest.mark.gpu
def test_distributed_fft_on_one_rank():
    _requirements()
    output = run_on(SCRIPT, 1)
    assert "distributed FFT: all cases passed on 1 rank(s)" in output, output


@pytest.mark.multigpu
def test_distributed_fft_on_two_ranks():
    _requirements()
    output = run_on(SCRIPT, 2)
    assert "distributed FFT: all cases passed on 2 rank(s)" in output, output


TORCHRUN_SCRIPT = Path(__file__).with_name("distributed_torchrun_check.py")


@pytest.mark.multigpu
def test_torchrun_process_group_on_two_ranks():
    """initialize() from a torch.distributed process group (NCCL backend) under torchrun."""
    _requirements()
    pytest.importorskip("torch", reason="torch is not installed")
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not on PATH")
    output = _run([torchrun, "--standalone", "--nproc_per_node=2", str(TORCHRUN_SCRIPT)])
    assert "torchrun check: all cases passed on 2 rank(s)" in output, output
