"""Distributed GEMM scaling through gpmath.distributed (cuBLASMp), beside torch on one GPU.

Run on 1, 2, 4 ... ranks and compare the lines: ``mpirun -n 1 python bench/distributed.py`` then
``mpirun -n 2 python bench/distributed.py``.  Strong scaling: the same ``N x N x N`` product on
every rank count; weak scaling: ``(N * ranks) x N x N`` (the work per GPU stays the same).
Each case is timed as the wall time of ``--iterations`` executions between device syncs and an
MPI barrier (the slowest rank counts), after one warm-up execution.  Rank 0 prints one line per
case: TFLOP/s per GPU, and, on one rank, torch.matmul of the same shape.
"""

from __future__ import annotations

import argparse
import time

import torch
from mpi4py import MPI

import gpmath.distributed as gd

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def local(dist: gd.BlockCyclic, rank: int, dtype, device: int):
    rows, cols = dist.local_shape(rank)
    return torch.randn(cols, rows, dtype=dtype, device=f"cuda:{device}").T  # column-major


def timed(comm, launch, iterations: int) -> float:
    launch()
    torch.cuda.synchronize()
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(iterations):
        launch()
    torch.cuda.synchronize()
    elapsed = (time.perf_counter() - start) / iterations
    return comm.allreduce(elapsed, op=MPI.MAX)


def case(comm, ctx, m: int, k: int, n: int, dtype_name: str, iterations: int) -> dict:
    dtype = DTYPES[dtype_name]
    da = gd.BlockCyclic((m, k))
    db = gd.BlockCyclic((k, n), (da.blocks[1], -(-n // da.grid[1])), da.grid)
    a, b = local(da, ctx.rank, dtype, ctx.device_id), local(db, ctx.rank, dtype, ctx.device_id)
    with gd.Matmul(a, b, a_dist=da, b_dist=db) as plan:
        plan.plan()
        seconds = timed(comm, plan.execute, iterations)
    result = {"dtype": dtype_name, "shape": (m, k, n), "ranks": comm.size, "ms": 1e3 * seconds,
              "tflops_per_gpu": 2 * m * k * n / seconds / comm.size / 1e12}
    if comm.size == 1:
        ta, tb = torch.randn(m, k, dtype=dtype, device="cuda"), torch.randn(k, n, dtype=dtype, device="cuda")
        result["torch_ms"] = 1e3 * timed(comm, lambda: torch.matmul(ta, tb), iterations)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32768)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--dtypes", default="bfloat16,float32")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    ctx = gd.initialize(comm)
    size = args.size
    for dtype_name in args.dtypes.split(","):
        shapes = [("strong", (size, size, size))]
        if comm.size > 1:
            shapes.append(("weak", (size * comm.size, size, size)))
        for kind, (m, k, n) in shapes:
            result = case(comm, ctx, m, k, n, dtype_name, args.iterations)
            if comm.rank == 0:
                extra = f", torch {result['torch_ms']:.1f} ms" if "torch_ms" in result else ""
                print(f"{kind} {dtype_name} {m}x{k}x{n} on {comm.size} GPU(s): {result['ms']:.1f} ms, "
                      f"{result['tflops_per_gpu']:.1f} TFLOP/s per GPU{extra}", flush=True)
    gd.finalize()


if __name__ == "__main__":
    main()
