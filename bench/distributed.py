"""Distributed GEMM and FFT scaling through gpmath.distributed (cuBLASMp, cuFFTMp), beside torch on one GPU.

Run on 1, 2, 4 ... ranks and compare the lines: ``mpirun -n 1 python bench/distributed.py`` then
``mpirun -n 2 python bench/distributed.py`` (``--only fft`` or ``--only gemm`` for one part).
GEMM: strong scaling, the same ``N x N x N`` product on every rank count, and weak scaling,
``(N * ranks) x N x N``; ``--blocks 0,8192,-1`` compares layouts on several ranks (0: one block per
process on one grid, the descriptors' default; -1: the tensor-parallel panels of cuBLASMp's
AllGather+GEMM, A and the result in row panels, B in column panels).  FFT: strong scaling of a
c64 ``n^3`` transform in slabs (default ``n = 1024``; where the copies do not fit in the GPUs'
memory only the transform in the symmetric buffer is timed, and sizes where that does not fit
either are skipped) and weak scaling, ``(n * ranks) x n x n``, timed twice: ``execute()`` (copies in and
out of the symmetric buffer included) and with the operand and result in the plan's symmetric
buffer (``reset_operands(plan.operand)``, ``execute(copy=False)``: the transform alone, as a
forward/inverse pair halved and as forward transforms alone, the figure to set beside
``bench/distributed_nvmath.py``).  Its throughput is one read and one write of the array
(8 bytes an element) per second per GPU.
Each case is timed as the wall time of ``--iterations`` executions between device syncs and an
MPI barrier (the slowest rank counts), after one warm-up execution.  Rank 0 prints one line per
case; on one rank also torch's time (torch.matmul, torch.fft.fftn).  Rank 0 keeps every result
in ``--results`` (JSON), so that a run on N ranks prints its parallel efficiency against the
one-rank run made before it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time

import torch
from mpi4py import MPI

import gpmath.distributed as gd
from gpmath._bindings import cublasmp, nccl

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


PROFILE = False  # --profile: rank 0 prints the kernels of one more execution of each case


def kernels(comm, launch, title: str) -> None:
    """One more *launch* on every rank; on rank 0 under torch's profiler, printing its top kernels."""
    if not PROFILE:
        return
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    comm.Barrier()
    if comm.rank != 0:
        launch()
        torch.cuda.synchronize()
        return
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        launch()
        torch.cuda.synchronize()
    events = sorted((e for e in prof.key_averages() if e.device_type == DeviceType.CUDA),
                    key=lambda e: -e.self_device_time_total)
    total = sum(e.self_device_time_total for e in events)
    print(f"  kernels of one {title} on rank 0: {total / 1e3:.1f} ms in all", flush=True)
    for e in events[:8]:
        print(f"    {e.count:4d}x {e.self_device_time_total / 1e3:8.2f} ms  {e.key[:100]}", flush=True)


def case(comm, ctx, m: int, k: int, n: int, dtype_name: str, iterations: int, block: int = 0,
         trans_a: str = "N") -> dict:
    dtype = DTYPES[dtype_name]
    out = None
    if block == -1:  # tensor-parallel panels: A and the result in row panels, B in column panels (AG+GEMM)
        p = comm.size
        da = gd.BlockCyclic((m, k), (-(-m // p), k), (p, 1))
        if trans_a == "T":  # NVIDIA's TN layout: A stored k x m, in column panels
            da = gd.BlockCyclic((k, m), (k, -(-m // p)), (1, p))
        db = gd.BlockCyclic((k, n), (k, -(-n // p)), (1, p))
        out = gd.BlockCyclic((m, n), (-(-m // p), -(-n // p)), (p, 1))  # cuBLASMp: B's and D's column blocks agree
    elif trans_a != "N":
        raise SystemExit("--trans-a T applies to the panel layout (--blocks=-1) only")
    elif block:  # square blocks dealt round-robin on one grid
        da = gd.BlockCyclic((m, k), (block, block))
        db = gd.BlockCyclic((k, n), (block, block), da.grid)
    else:  # one block per process
        da = gd.BlockCyclic((m, k))
        db = gd.BlockCyclic((k, n), (da.blocks[1], -(-n // da.grid[1])), da.grid)
    a, b = local(da, ctx.rank, dtype, ctx.device_id), local(db, ctx.rank, dtype, ctx.device_id)
    with gd.Matmul(a, b, a_dist=da, b_dist=db, out_dist=out, trans_a=trans_a) as plan:
        plan.plan()
        seconds = timed(comm, plan.execute, iterations)
        kernels(comm, plan.execute, f"{dtype_name} {m}x{k}x{n} matmul, blocks {block or 'one per process'}")
    result = {"dtype": dtype_name, "shape": (m, k, n), "ranks": comm.size, "ms": 1e3 * seconds,
              "tflops_per_gpu": 2 * m * k * n / seconds / comm.size / 1e12,
              "workspace": "NCCL symmetric" if plan.symmetric_workspace else "stream-ordered"}
    if comm.size == 1:
        ta, tb = torch.randn(m, k, dtype=dtype, device="cuda"), torch.randn(k, n, dtype=dtype, device="cuda")
        result["torch_ms"] = 1e3 * timed(comm, lambda: torch.matmul(ta, tb), iterations)
    return result


def fft_fits(comm, shape: tuple, slabs: float, torch_arrays: int) -> bool:
    """Whether every rank has room for *slabs* copies of its slab, and rank 0 alone (on one rank)
    for *torch_arrays* global arrays of torch's."""
    free, size = torch.cuda.mem_get_info()[0], 8 * math.prod(shape)
    need = slabs * size // comm.size + (torch_arrays * size if comm.size == 1 else 0)
    return bool(comm.allreduce(need < 0.9 * free, op=MPI.LAND))


def fft_case(comm, ctx, shape: tuple, iterations: int, lean: bool = False) -> dict:
    """Time ``execute()`` (copies in and out) and the transform in the plan's symmetric buffer; torch
    on one rank.  *lean*: the transform alone, with no array outside the plan (a stride-0 stand-in
    to plan with), for sizes where the copies do not fit."""
    n = "x".join(map(str, shape))
    box = gd.Slab(0).box(shape, ctx.rank, comm.size)
    device = f"cuda:{ctx.device_id}"
    x = (torch.empty(1, dtype=torch.complex64, device=device).expand(box.shape) if lean
         else torch.randn(box.shape, dtype=torch.complex64, device=device))
    result = {}
    with gd.fft.FFT(x, gd.Slab(0)) as plan:
        plan.plan()
        if not lean:
            result["ms"] = 1e3 * timed(comm, plan.execute, iterations)
        plan.reset_operands(plan.operand)  # the operand in symmetric memory, the result read there
        if lean:
            torch.view_as_real(plan.operand).normal_()
        else:
            plan.operand.copy_(x)
        del x
        # forward and inverse in turn keep the values bounded (the inverse includes its 1/n scaling)
        transform = timed(comm, lambda: (plan.execute(copy=False), plan.execute("inverse", copy=False)), iterations) / 2
        forward = timed(comm, lambda: plan.execute(copy=False), iterations)  # values grow; the time does not change
        kernels(comm, lambda: plan.execute(copy=False), f"c64 {n} forward FFT")
    moved = 2 * 8 * math.prod(shape) / comm.size / 1e12
    result.update(transform_ms=1e3 * transform, forward_ms=1e3 * forward, transform_tbs_per_gpu=moved / transform)
    if not lean:
        result["tbs_per_gpu"] = moved / (result["ms"] / 1e3)
    if comm.size == 1 and not lean:
        t = torch.randn(shape, dtype=torch.complex64, device="cuda")
        result["torch_ms"] = 1e3 * timed(comm, lambda: torch.fft.fftn(t), iterations)
    return result


def report(results: dict, key: str, ranks: int, line: str, result: dict, ms_key: str = "ms") -> str:
    """*line* with the parallel efficiency against the one-rank result of *key*, if known."""
    results[f"{key} on {ranks}"] = result
    single = results.get(f"{key} on 1")
    if ranks > 1 and single:
        line += f", efficiency {100 * single[ms_key] / (ranks * result[ms_key]):.0f} % of 1 rank"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32768)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--dtypes", default="bfloat16,float32")
    parser.add_argument("--fft-sizes", default="1024,2048")
    parser.add_argument("--only", choices=("gemm", "fft"), default=None)
    parser.add_argument("--blocks", default="0",
                        help="GEMM layouts to try on several ranks, comma-separated: a block size, 0 (one block "
                             "per process) or -1 (row panels of A and the result, column panels of B: AG+GEMM)")
    parser.add_argument("--trans-a", choices=("N", "T"), default="N",
                        help="T: multiply A^T, A stored k x m in column panels (NVIDIA's TN AllGather+GEMM); "
                             "with --blocks=-1")
    parser.add_argument("--profile", action="store_true", help="print the kernels of one execution of each case")
    parser.add_argument("--results", default=os.path.join(tempfile.gettempdir(), "gpmath_bench_distributed.json"))
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    comm = MPI.COMM_WORLD
    ctx = gd.initialize(comm)
    results = {}
    if comm.rank == 0 and os.path.exists(args.results):
        with open(args.results) as file:
            results = json.load(file)
    if args.only != "gemm":
        sizes = [int(n) for n in args.fft_sizes.split(",")]
        cases = [("strong", n, (n, n, n)) for n in sizes]
        if comm.size > 1:  # weak: the first axis grows with the ranks, every rank keeps an n^3 slab
            cases += [("weak", n, (n * comm.size, n, n)) for n in sizes]
        for kind, n, shape in cases:
            label = "x".join(map(str, shape))
            lean = not fft_fits(comm, shape, 4, 3)  # x, the buffer, cuFFTMp's work area, the result; torch's
            # the buffer and cuFFTMp's work area alone (NVSHMEM aborts the process when its heap runs out)
            if lean and not fft_fits(comm, shape, 2.2, 0):
                if comm.rank == 0:
                    print(f"fft c64 {label} on {comm.size} GPU(s): skipped, too large for the GPUs' memory", flush=True)
                continue
            result = fft_case(comm, ctx, shape, args.iterations, lean)
            if comm.rank == 0:
                extra = f", torch.fft.fftn {result['torch_ms']:.1f} ms" if "torch_ms" in result else ""
                copies = ("transform only (the copies do not fit)" if lean else
                          f"execute {result['ms']:.1f} ms ({result['tbs_per_gpu']:.2f} TB/s per GPU)")
                line = (f"{kind} fft c64 {label} on {comm.size} GPU(s): {copies}, transform {result['transform_ms']:.1f} "
                        f"ms ({result['transform_tbs_per_gpu']:.2f} TB/s per GPU), forward alone "
                        f"{result['forward_ms']:.1f} ms{extra}")
                if kind == "strong":
                    line = report(results, f"fft {n}", comm.size, line, result, "transform_ms")
                print(line, flush=True)
    if args.only == "fft":
        gd.finalize()
        _save(comm, args.results, results)
        return
    if comm.rank == 0:
        print(f"cuBLASMp {cublasmp.get_version()}, NCCL {nccl.get_version()}", flush=True)
    size = args.size
    for dtype_name in args.dtypes.split(","):
        shapes = [("strong", (size, size, size))]
        if comm.size > 1:
            shapes.append(("weak", (size * comm.size, size, size)))
        blocks = [int(b) for b in args.blocks.split(",")] if comm.size > 1 else [-1 if args.trans_a == "T" else 0]
        for (kind, (m, k, n)), block in ((shape, block) for shape in shapes for block in blocks):
            result = case(comm, ctx, m, k, n, dtype_name, args.iterations, block, args.trans_a)
            if comm.rank == 0:
                extra = f", torch {result['torch_ms']:.1f} ms" if "torch_ms" in result else ""
                layout = {0: "", -1: ", A/D row panels, B column panels"}.get(block, f", blocks {block}")
                if args.trans_a == "T":
                    layout = ", A^T: A and B in column panels, D in row panels"
                line = (f"{kind} {dtype_name} {m}x{k}x{n} on {comm.size} GPU(s){layout}: {result['ms']:.1f} ms, "
                        f"{result['tflops_per_gpu']:.1f} TFLOP/s per GPU (workspace: {result['workspace']}){extra}")
                if kind == "strong":
                    line = report(results, f"gemm {dtype_name} {size}", comm.size, line, result)
                print(line, flush=True)
    gd.finalize()
    _save(comm, args.results, results)


def _save(comm, path: str, results: dict) -> None:
    if comm.rank == 0:
        with open(path, "w") as file:
            json.dump(results, file, indent=1)


if __name__ == "__main__":
    main()
