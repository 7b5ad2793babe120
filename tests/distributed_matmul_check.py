"""Distributed matmul against NumPy, run on every rank: ``mpirun -n N python tests/distributed_matmul_check.py``.

Each rank builds the same random global matrices, takes its block-cyclic parts, multiplies them
with gpmath.distributed (cuBLASMp), and rank 0 gathers the parts and compares the assembled
result with NumPy in float64.  Exits non-zero on any mismatch; rank 0 prints one line per case.
Used by tests/test_distributed_gpu.py (1 rank, and 2 ranks where two GPUs are visible).
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI

import gpmath.distributed as gd
from gpmath._bindings import cublasmp

TOL = {"float32": 1e-5, "float64": 1e-12, "complex64": 1e-5, "complex128": 1e-12}


def to_device(x: np.ndarray, package: str):
    if package == "cupy":
        import cupy

        return cupy.asfortranarray(cupy.asarray(x))
    import torch

    return torch.from_numpy(np.ascontiguousarray(x.T)).to(f"cuda:{gd.current().device_id}").T


def to_host(x) -> np.ndarray:
    return x.get() if type(x).__module__.startswith("cupy") else x.cpu().numpy()


def random(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def check(comm, name, parts_local, dist, reference, dtype) -> bool:
    parts = comm.gather(parts_local, root=0)
    ok = True
    if comm.rank == 0:
        error = np.abs(dist.assemble(parts) - reference).max() / np.abs(reference).max()
        ok = bool(error < TOL[dtype] * 10)
        print(f"{name}: relative error {error:.2e} {'ok' if ok else 'FAILED'}", flush=True)
    return comm.bcast(ok, root=0)


def main() -> int:
    comm = MPI.COMM_WORLD
    ctx = gd.initialize(comm)
    rng = np.random.default_rng(7)  # the same global matrices on every rank
    ok = True
    cases = [("cupy", "float64", (96, 64, 80), None), ("torch", "float32", (128, 96, 64), (32, 32)),
             ("cupy", "complex128", (50, 30, 40), (8, 8)), ("torch", "float64", (64, 200, 48), (16, 16))]
    for package, dtype, (m, k, n), blocks in cases:
        a_dist = gd.BlockCyclic((m, k), blocks)
        b_dist = gd.BlockCyclic((k, n), None if blocks is None else blocks, a_dist.grid)
        if blocks is None:  # default blocks: make B's row blocks match A's column blocks
            b_dist = gd.BlockCyclic((k, n), (a_dist.blocks[1], -(-n // a_dist.grid[1])), a_dist.grid)
        A, B, C = random(rng, (m, k), dtype), random(rng, (k, n), dtype), random(rng, (m, n), dtype)
        a, b = (to_device(d.local_part(x, ctx.rank), package) for d, x in ((a_dist, A), (b_dist, B)))
        name = f"{package} {dtype} ({m}x{k})@({k}x{n}) blocks {a_dist.blocks} on {ctx.size} rank(s)"
        d = gd.matmul(a, b, a_dist=a_dist, b_dist=b_dist)
        out = gd.BlockCyclic((m, n), (a_dist.blocks[0], b_dist.blocks[1]), a_dist.grid)
        ok &= check(comm, name, to_host(d), out, A.astype(np.complex128) @ B, dtype)
        c = to_device(out.local_part(C, ctx.rank), package)
        with gd.Matmul(a, b, c, a_dist=a_dist, b_dist=b_dist, alpha=0.5, beta=2.0) as plan:
            plan.plan()
            plan.execute()
            plan.reset_operands(a=to_device(a_dist.local_part(2 * A, ctx.rank), package))
            ok &= check(comm, name + " plan, c, reset", to_host(plan.execute()), out, A @ B + 2 * C, dtype)
            rows, cols = out.local_shape(ctx.rank)
            target = to_device(np.zeros((rows, cols), dtype), package)
            same = plan.execute(out=target) is target and plan.execute(out=target) is target
            ok &= check(comm, name + " into out=", to_host(target), out, A @ B + 2 * C, dtype) and same
            try:  # every rank's part has several columns here, so every rank raises before the product
                plan.execute(out=to_device(np.zeros((rows + 3, cols), dtype), package)[:rows])
                ok = False
            except ValueError as exc:
                ok &= "leading dimension must be" in str(exc)
            rows_a, cols_a = a_dist.local_shape(ctx.rank)
            try:  # a part padded between its columns: not the planned layout
                plan.reset_operands(a=to_device(np.zeros((rows_a + 3, cols_a), dtype), package)[:rows_a])
                ok &= cols_a < 2  # a single column has no leading dimension to differ
            except ValueError as exc:
                ok &= "leading dimension must be" in str(exc)
    ops = {"N": lambda x: x, "T": lambda x: x.T, "C": lambda x: x.conj().T}
    for package, dtype, (m, k, n), trans_a, trans_b, panels in (
            ("cupy", "float64", (96, 64, 80), "T", "N", False), ("torch", "complex128", (50, 30, 40), "C", "T", False),
            ("cupy", "complex128", (64, 48, 40), "N", "C", False), ("torch", "float32", (128, 96, 64), "T", "N", True)):
        p = ctx.size
        if panels:  # NVIDIA's TN AllGather+GEMM: A (k x m) and B in column panels, the result in row panels
            a_dist = gd.BlockCyclic((k, m), (k, -(-m // p)), (1, p))
            b_dist = gd.BlockCyclic((k, n), (k, -(-n // p)), (1, p))
            out = gd.BlockCyclic((m, n), (-(-m // p), -(-n // p)), (p, 1))
        else:  # one grid, 16 x 16 (8 x 8) blocks
            block = 16 if m > 60 else 8
            a_dist = gd.BlockCyclic((m, k) if trans_a == "N" else (k, m), (block, block))
            b_dist = gd.BlockCyclic((k, n) if trans_b == "N" else (n, k), (block, block), a_dist.grid)
            out = None
        A = random(rng, a_dist.shape, dtype)
        B = random(rng, b_dist.shape, dtype)
        a, b = (to_device(d.local_part(x, ctx.rank), package) for d, x in ((a_dist, A), (b_dist, B)))
        with gd.Matmul(a, b, a_dist=a_dist, b_dist=b_dist, out_dist=out, trans_a=trans_a, trans_b=trans_b) as plan:
            d = plan.plan().execute()
            name = f"{package} {dtype} {plan!r}"
            reference = ops[trans_a](A.astype(np.complex128)) @ ops[trans_b](B)
            ok &= check(comm, name, to_host(d), plan.out_dist, reference, dtype)
    kept = None
    for package, dtype, (m, k, n) in (("cupy", "float32", (128, 96, 64)), ("torch", "float64", (128, 96, 64)),
                                      ("torch", "float32", (1024, 512, 768))):  # tensor-parallel layouts: three grids
        p = ctx.size
        a_dist = gd.BlockCyclic((m, k), (-(-m // p), k), (p, 1))
        b_dist = gd.BlockCyclic((k, n), (k, -(-n // p)), (1, p))
        out = gd.BlockCyclic((m, n), (-(-m // p), -(-n // p)), (p, 1))
        A, B = random(rng, (m, k), dtype), random(rng, (k, n), dtype)
        a, b = (to_device(d.local_part(x, ctx.rank), package) for d, x in ((a_dist, A), (b_dist, B)))
        name = f"{package} {dtype} ({m}x{k})@({k}x{n}) A, D in row panels, B in column panels on {ctx.size} rank(s)"
        if m < 1024:
            d = gd.matmul(a, b, a_dist=a_dist, b_dist=b_dist, out_dist=out)
        else:  # a plan left for finalize() to free, before the grids its workspace is registered with
            kept = gd.Matmul(a, b, a_dist=a_dist, b_dist=b_dist, out_dist=out).plan()
            kept.execute()
            d = kept.execute()
            name += " (plan freed by finalize)"
        ok &= check(comm, name, to_host(d), out, A.astype(np.float64) @ B, dtype)
    if comm.rank == 0:
        memory = "NCCL symmetric" if kept.symmetric_workspace else "stream-ordered"
        print(f"cuBLASMp {cublasmp.get_version()}: workspaces in {memory} memory", flush=True)
    gd.finalize()
    if comm.rank == 0:
        print(f"distributed matmul: {'all cases passed' if ok else 'FAILURES'} on {comm.size} rank(s)", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
