"""Device benchmark of gpmath.linalg against torch.linalg and cupy.linalg (CUDA events, medians).

Run on the GPU machine: ``python bench/linalg.py``.  Every case uses random data, warms up, then
times each library on the same stream with CUDA events and prints medians and ratios
(``ratio`` > 1: gpmath is faster than the faster peer).  Batched eigh/svd sweep n across the
n=33 cliff; the IRS row compares ``refine="mixed"`` with torch.linalg.solve and their residuals.
Total run: about three minutes on an H100.
"""

from __future__ import annotations

import statistics

import cupy
import torch

from gpmath import linalg


def median_ms(fn, repeats: int = 10, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def spd(batch, n, dtype):
    x = torch.randn(*batch, n, n, dtype=dtype, device="cuda")
    return x @ x.mT / n + torch.eye(n, dtype=dtype, device="cuda")


def report(name: str, ours, torch_fn, cupy_fn, repeats=10) -> None:
    with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
        t_ours = median_ms(ours, repeats)
        t_torch = median_ms(torch_fn, repeats)
        t_cupy = median_ms(cupy_fn, repeats) if cupy_fn is not None else float("inf")
    ratio = min(t_torch, t_cupy) / t_ours
    print(f"{name:<34} gpmath {t_ours:9.3f} ms  torch {t_torch:9.3f}  cupy {t_cupy:9.3f}  ratio {ratio:5.2f}")


def large(dtype) -> None:
    name = str(dtype).split(".")[-1]
    a, b = spd((), 4096, dtype), torch.randn(4096, 1, dtype=dtype, device="cuda")
    ca, cb = cupy.asarray(a), cupy.asarray(b)
    report(f"cholesky 4096 {name}", lambda: linalg.cholesky(a, True), lambda: torch.linalg.cholesky(a),
           lambda: cupy.linalg.cholesky(ca), 5)
    report(f"solve 4096 (1 rhs) {name}", lambda: linalg.solve(a, b), lambda: torch.linalg.solve(a, b),
           lambda: cupy.linalg.solve(ca, cb), 5)
    report(f"qr 4096 {name}", lambda: linalg.qr(a, "economic"), lambda: torch.linalg.qr(a), lambda: cupy.linalg.qr(ca), 3)
    report(f"eigh 4096 {name}", lambda: linalg.eigh(a), lambda: torch.linalg.eigh(a), lambda: cupy.linalg.eigh(ca), 3)
    s, cs_ = a[:2048, :2048].contiguous(), cupy.asarray(a[:2048, :2048].contiguous())
    report(f"svd 2048 {name}", lambda: linalg.svd(s, False), lambda: torch.linalg.svd(s, False),
           lambda: cupy.linalg.svd(cs_, False), 3)


def batched_small() -> None:
    a, b = spd((10000,), 32, torch.float64), torch.randn(10000, 32, 1, dtype=torch.float64, device="cuda")
    ca, cb = cupy.asarray(a), cupy.asarray(b)
    report("cholesky 10000x32x32 f64", lambda: linalg.cholesky(a, True), lambda: torch.linalg.cholesky(a),
           lambda: cupy.linalg.cholesky(ca))
    report("solve 10000x32x32 f64", lambda: linalg.solve(a, b), lambda: torch.linalg.solve(a, b),
           lambda: cupy.linalg.solve(ca, cb))
    for n in (16, 32, 33, 48, 64, 96, 128):
        h = spd((128,), n, torch.float64)
        ch = cupy.asarray(h)
        report(f"eigh 128x{n}x{n} f64", lambda: linalg.eigh(h), lambda: torch.linalg.eigh(h), lambda: cupy.linalg.eigh(ch), 5)
        report(f"svd 128x{n}x{n} f64", lambda: linalg.svd(h, False), lambda: torch.linalg.svd(h, False),
               lambda: cupy.linalg.svd(ch, False), 3)


def irs() -> None:
    n = 8192
    a = torch.randn(n, n, dtype=torch.float64, device="cuda") + n**0.5 * torch.eye(n, dtype=torch.float64, device="cuda")
    b = torch.randn(n, 1, dtype=torch.float64, device="cuda")
    report("IRS solve 8192 f64 (f32 inner)", lambda: linalg.solve(a, b, refine="mixed"), lambda: torch.linalg.solve(a, b),
           None, 5)
    x, info = linalg.solve(a, b, refine="mixed", full_output=True)
    res_ours = float((a @ x - b).abs().max())
    res_torch = float((a @ torch.linalg.solve(a, b) - b).abs().max())
    print(f"  residual gpmath {res_ours:.3e}  torch {res_torch:.3e}  iterations {info.iterations}  fell back {info.fell_back}")


if __name__ == "__main__":
    for dtype in (torch.float32, torch.float64):
        large(dtype)
    batched_small()
    irs()
