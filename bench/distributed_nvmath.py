"""nvmath-python's distributed FFT on the case of ``bench/distributed.py``, for the comparison.

Run on the same ranks: ``mpirun -n N python bench/distributed_nvmath.py [--size 1024]``.  It
transforms a c64 ``n^3`` array distributed in X slabs (``Slab.X`` in, ``Slab.Y`` out: one
all-to-all, as gpmath's ``Slab(0)``), in place in NVSHMEM symmetric memory (as gpmath's
``execute(copy=False)``), and prints rank 0's line: wall time of a forward transform (the mean of
``--iterations`` after a warm-up, slowest rank) and TB/s per GPU (one read and one write of the
array).  Prints why and exits when nvmath-python's distributed module is not importable.
"""

from __future__ import annotations

import argparse
import time

import torch
from mpi4py import MPI


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    try:
        import nvmath
        import nvmath.distributed as nd
        from nvmath.distributed.distribution import Slab
    except ImportError as exc:
        if comm.rank == 0:
            print(f"nvmath-python's distributed FFT is not available: {exc}", flush=True)
        return
    device = comm.rank % torch.cuda.device_count()
    torch.cuda.set_device(device)
    nd.initialize(device, comm, backends=["nvshmem"])
    n = args.size
    local = (n // comm.size, n, n)
    x = nd.fft.allocate_operand(local, torch, input_dtype=torch.complex64, distribution=Slab.X, memory_space="cuda")
    x.copy_(torch.randn(local, dtype=torch.complex64, device=f"cuda:{device}"))
    with nd.fft.FFT(x, distribution=Slab.X) as plan:
        plan.plan()
        plan.execute()  # warm-up; later transforms reuse the buffer (values do not change the time)
        torch.cuda.synchronize()
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(args.iterations):
            plan.execute()
        torch.cuda.synchronize()
        seconds = comm.allreduce((time.perf_counter() - start) / args.iterations, op=MPI.MAX)
    nd.free_symmetric_memory(x)
    nd.finalize()
    if comm.rank == 0:
        moved = 2 * 8 * n**3 / comm.size / 1e12
        print(f"nvmath-python {nvmath.__version__} fft c64 {n}^3 on {comm.size} GPU(s): forward {1e3 * seconds:.1f} ms "
              f"({moved / seconds:.2f} TB/s per GPU)", flush=True)


if __name__ == "__main__":
    main()
