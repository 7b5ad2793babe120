"""gpmath.distributed under ``torchrun``: initialize from a torch.distributed process group.

``torchrun --nproc_per_node=N tests/distributed_torchrun_check.py`` (or ``python`` for one
process).  Every rank builds the same random global arrays, runs a distributed FFT (cuFFTMp)
and, where cuBLASMp loads, a distributed matmul on its parts, gathers the parts with
torch.distributed and compares the assembled results with SciPy/NumPy in float64.  Rank 0 prints
one line per case and ``torchrun check: all cases passed on N rank(s)``; exits non-zero otherwise.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import scipy.fft
import torch
import torch.distributed as dist

import gpmath.distributed as gd
from gpmath._errors import NoGPUError


def _gather(local: np.ndarray) -> list[np.ndarray]:
    parts = [None] * dist.get_world_size()
    dist.all_gather_object(parts, local)
    return parts


def _report(name: str, error: float, tolerance: float) -> bool:
    ok = bool(error < tolerance)
    if dist.get_rank() == 0:
        print(f"{name}: relative error {error:.2e} (tolerance {tolerance:g}) {'ok' if ok else 'FAILED'}", flush=True)
    return ok


def check_fft(ctx) -> bool:
    shape = (18, 10, 7)
    rng = np.random.default_rng(3)
    X = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    box = gd.Slab(0).box(shape, ctx.rank, ctx.size)
    x = torch.from_numpy(X[box.slices]).to(f"cuda:{ctx.device_id}")
    with gd.fft.FFT(x, gd.Slab(0)) as plan:
        y = plan.plan().execute()
        out_boxes = _gather(plan.out_box)
    parts = _gather(y.cpu().numpy())
    reference = scipy.fft.fftn(X)
    full = np.empty_like(reference)
    for part_box, part in zip(out_boxes, parts):
        full[part_box.slices] = part
    return _report(f"fftn {shape} complex128 Slab(0) on {ctx.size} rank(s)",
                   float(np.abs(full - reference).max() / np.abs(reference).max()), 1e-12)


def check_matmul(ctx) -> bool:
    m, k, n = 64, 48, 40
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    a_dist = gd.BlockCyclic((m, k))
    b_dist = gd.BlockCyclic((k, n), (a_dist.blocks[1], -(-n // a_dist.grid[1])), a_dist.grid)
    device = f"cuda:{ctx.device_id}"
    a = torch.from_numpy(np.ascontiguousarray(a_dist.local_part(A, ctx.rank).T)).to(device).T
    b = torch.from_numpy(np.ascontiguousarray(b_dist.local_part(B, ctx.rank).T)).to(device).T
    d = gd.matmul(a, b, a_dist=a_dist, b_dist=b_dist)
    out = gd.BlockCyclic((m, n), (a_dist.blocks[0], b_dist.blocks[1]), a_dist.grid)
    full = out.assemble(_gather(d.cpu().numpy()))
    reference = A @ B
    return _report(f"matmul ({m}x{k})@({k}x{n}) float64 on {ctx.size} rank(s)",
                   float(np.abs(full - reference).max() / np.abs(reference).max()), 1e-12)


def main() -> int:
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local_rank % torch.cuda.device_count())
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")  # a plain one-process run (torchrun sets these)
    os.environ.setdefault("MASTER_PORT", "29533")
    os.environ.setdefault("RANK", "0")
    os.environ.setdefault("WORLD_SIZE", "1")
    dist.init_process_group(os.environ.get("GPMATH_TORCH_BACKEND", "nccl"))
    ctx = gd.initialize(dist.group.WORLD)
    ok = check_fft(ctx)
    try:
        ok &= check_matmul(ctx)
    except NoGPUError as exc:  # cuBLASMp not installed: the FFT part still counts
        if ctx.rank == 0:
            print(f"matmul skipped: {exc}", flush=True)
    gd.finalize()
    if dist.get_rank() == 0:
        print(f"torchrun check: {'all cases passed' if ok else 'FAILURES'} on {dist.get_world_size()} rank(s)", flush=True)
    dist.destroy_process_group()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
