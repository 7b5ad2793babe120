"""Device benchmark of gpmath.linalg against torch.linalg and cupy.linalg (CUDA events, medians).

Run on the GPU machine: ``python bench/linalg.py``.  Every case uses random data, warms up, then
times each library on the same stream with CUDA events and prints medians and ratios
(``ratio`` > 1: gpmath is faster than the faster peer).  Batched eigh/svd sweep n across the
n=33 cliff; the IRS rows compare ``refine="mixed"`` in each inner precision with
torch.linalg.solve and their residuals; the ``crossover`` rows time the routes that
``gpmath/solver/_crossover.py`` chooses between.  At the end it prints the table in the
format of bench/RESULTS.md (and, with ``--json``/``--csv``/``--plot``, as files and a chart).
Total run: about two minutes on an H100.
Command-line arguments pick sections: large, batched, irs, crossover; ``lu`` (lu_solve and qr
at n = 4096, also in large); ``triangular`` (solve_triangular and its zero-diagonal check); ``eig``
(general eigenproblems); ``pinv``; ``issue19`` (inv 4096, then ``lstsq``: gelsy's routes over
shapes, lstsq 4096×1024); ``profile`` (not in the default run) splits the small batched cases into
GPU kernel time and host time per call, and ``irs-tol`` sweeps the IRS stopping tolerance at
n = 32768.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _cli import Table, add_output_options, emit, num, optional_module  # noqa: E402
from _timing import cuda_medians_ms  # noqa: E402

import gpmath
from gpmath import linalg
from gpmath.solver import (Inv, Lstsq, Solve, _crossover, _cuda_factor, _cuda_inverse, _cuda_irs, _cuda_lstsq,
                           _cuda_solve)

_DEFAULT_IRS = (_cuda_irs.IRS_REFINEMENT, _cuda_irs.IRS_TOLERANCE)
ROWS: list[tuple[str, float, float, float]] = []
warnings.filterwarnings("ignore", category=DeprecationWarning)  # cupy's ExternalStream, used for the peers
cupy = optional_module("cupy")  # without it, the CuPy column says n/a
cupyx_linalg = None if cupy is None else __import__("cupyx.scipy.linalg", fromlist=["linalg"])


def _cp(x):
    """*x* as a CuPy array (None without CuPy)."""
    return None if cupy is None else cupy.asarray(x)


def _peer_stream():
    """CuPy on torch's current stream, so that the peers' work is ordered with gpmath's."""
    return contextlib.nullcontext() if cupy is None else cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream)


def median_ms(fn, repeats: int = 10, warmup: int = 2) -> float:
    """Median CUDA-event milliseconds of *fn* alone (the shared helper with one function)."""
    return cuda_medians_ms({"fn": fn}, warmup=warmup, reps=repeats)["fn"]


def spd(batch, n, dtype):
    x = torch.randn(*batch, n, n, dtype=dtype, device="cuda")
    return x @ x.mT / n + torch.eye(n, dtype=dtype, device="cuda")


def guarded(fn):
    """A case that raises is reported and skipped, so one failure does not end the run."""
    def run(name, *args, **kwargs):
        try:
            return fn(name, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001  (a benchmark reports and goes on)
            print(f"{name:<40} FAILED: {type(exc).__name__}: {exc}", flush=True)
            return float("nan")
    return run


@guarded
def report(name: str, ours, torch_fn, cupy_fn, repeats=10) -> float:
    """Time gpmath and the peers in interleaved rounds (clock and temperature drift hit all alike)."""
    fns = {"gpmath": ours, "torch": torch_fn, "cupy": cupy_fn if cupy is not None else None}
    with _peer_stream():
        times = cuda_medians_ms({k: f for k, f in fns.items() if f is not None}, warmup=2, reps=repeats)
    t_ours, t_torch, t_cupy = (times.get(k, float("inf")) for k in fns)
    ratio = min(t_torch, t_cupy) / t_ours
    ROWS.append((name, t_ours, t_torch, t_cupy))
    print(f"{name:<40} gpmath {t_ours:9.3f} ms  torch {t_torch:9.3f}  cupy {t_cupy:9.3f}  ratio {ratio:5.2f}", flush=True)
    return t_ours


@guarded
def timed(name: str, fn, repeats=5) -> float:
    t = median_ms(fn, repeats, 1)
    print(f"  {name:<38} {t:9.3f} ms", flush=True)
    return t


def alternative(name: str, fn, repeats: int = 5, **settings) -> None:
    """Time *fn* with the Solve engine's settings changed, e.g. ``SOLVE_SWAPPED=True`` (LU of A
    itself, getrs "N") or ``SOLVE=...`` (another route)."""
    saved = {key: getattr(_cuda_solve, key) for key in settings}
    for key, value in settings.items():
        setattr(_cuda_solve, key, value)
    gpmath.cache_clear()
    try:
        timed(name, fn, repeats)
    finally:
        for key, value in saved.items():
            setattr(_cuda_solve, key, value)
        gpmath.cache_clear()


@guarded
def layouts(name: str, a, b, peers: dict, repeats: int = 5) -> None:
    """Solve's two layouts, the LU of Aᵀ (a plain copy) with getrs "T" and the LU of A (a swapped
    copy) with getrs "N", beside the peers, timed in interleaved rounds."""
    default = _cuda_solve.SOLVE_SWAPPED
    plans = {swapped: Solve(a, b).plan() for swapped in (False, True)}

    def run(swapped):
        _cuda_solve.SOLVE_SWAPPED = swapped
        return plans[swapped].execute(check=True)

    fns = {"LU of A^T, getrs T": lambda: run(False), "LU of A, getrs N": lambda: run(True),
           **{key: fn for key, fn in peers.items() if key != "cupy" or cupy is not None}}
    try:
        with _peer_stream():
            times = cuda_medians_ms({k: f for k, f in fns.items() if f is not None}, warmup=2, reps=repeats)
    finally:
        _cuda_solve.SOLVE_SWAPPED = default
        for plan in plans.values():
            plan.free()
    print(f"  {name}: " + ", ".join(f"{key} {t:.3f} ms" for key, t in times.items()), flush=True)


def factored(dtype, a, b, ca, cb) -> None:
    """lu_solve with a factorisation made once (1 rhs), and qr, of the n = 4096 matrix *a*."""
    name = str(dtype).split(".")[-1]
    lu, piv = linalg.lu_factor(a)
    tlu, tpiv = torch.linalg.lu_factor(a)
    clu = None if cupy is None else cupyx_linalg.lu_factor(ca)
    report(f"lu_solve 4096 (1 rhs) {name}", lambda: linalg.lu_solve((lu, piv), b),
           lambda: torch.linalg.lu_solve(tlu, tpiv, b), lambda: cupyx_linalg.lu_solve(clu, cb), 10)
    report(f"qr 4096 {name}", lambda: linalg.qr(a, "economic"), lambda: torch.linalg.qr(a), lambda: cupy.linalg.qr(ca), 3)


def lu_and_qr() -> None:
    """The ``lu`` section: :func:`factored` alone, in f32 and f64."""
    for dtype in (torch.float32, torch.float64):
        a, b = spd((), 4096, dtype), torch.randn(4096, 1, dtype=dtype, device="cuda")
        factored(dtype, a, b, _cp(a), _cp(b))


def large(dtype) -> None:
    name = str(dtype).split(".")[-1]
    a, b = spd((), 4096, dtype), torch.randn(4096, 1, dtype=dtype, device="cuda")
    ca, cb = _cp(a), _cp(b)
    report(f"cholesky 4096 {name}", lambda: linalg.cholesky(a, True), lambda: torch.linalg.cholesky(a),
           lambda: cupy.linalg.cholesky(ca), 5)
    timed("cholesky upper (lower=False)", lambda: linalg.cholesky(a))
    report(f"solve 4096 (1 rhs) {name}", lambda: linalg.solve(a, b), lambda: torch.linalg.solve(a, b),
           lambda: cupy.linalg.solve(ca, cb), 5)
    layouts(f"solve 4096 {name}", a, b, {"torch": lambda: torch.linalg.solve(a, b), "cupy": lambda: cupy.linalg.solve(ca, cb)})
    m, mb = spd((128,), 64, dtype), torch.randn(128, 64, 1, dtype=dtype, device="cuda")
    layouts(f"solve 128x64x64 {name}", m, mb, {"torch": lambda: torch.linalg.solve(m, mb)}, 20)
    factored(dtype, a, b, ca, cb)
    report(f"eigh 4096 {name}", lambda: linalg.eigh(a), lambda: torch.linalg.eigh(a), lambda: cupy.linalg.eigh(ca), 3)
    s, cs_ = a[:2048, :2048].contiguous(), _cp(a[:2048, :2048].contiguous())
    report(f"svd 2048 {name}", lambda: linalg.svd(s, False), lambda: torch.linalg.svd(s, False),
           lambda: cupy.linalg.svd(cs_, False), 3)
    for driver in ("gesvd", "gesvdj", "gesvdp"):
        timed(f"svd 2048 driver={driver}", lambda: linalg.svd(s, False, driver=driver), 3)
    x = spd((), 1024, dtype)
    report(f"inv 1024 {name}", lambda: linalg.inv(x), lambda: torch.linalg.inv(x), lambda: cupy.linalg.inv(_cp(x)), 5)
    report(f"slogdet 1024 {name}", lambda: linalg.slogdet(x), lambda: torch.linalg.slogdet(x),
           lambda: cupy.linalg.slogdet(_cp(x)), 5)
    t = torch.randn(4096, 1024, dtype=dtype, device="cuda")
    bt = torch.randn(4096, 1, dtype=dtype, device="cuda")
    ct_, cbt = _cp(t), _cp(bt)
    report(f"lstsq 4096x1024 {name} (gelsy: QR)", lambda: linalg.lstsq(t, bt, lapack_driver="gelsy"),
           lambda: torch.linalg.lstsq(t, bt, driver="gels"), lambda: cupy.linalg.lstsq(ct_, cbt, rcond=None), 3)
    report(f"lstsq 4096x1024 {name} (gelsd: SVD)", lambda: linalg.lstsq(t, bt),
           lambda: torch.linalg.lstsq(t, bt, driver="gels"), lambda: cupy.linalg.lstsq(ct_, cbt, rcond=None), 3)


def batched_small() -> None:
    a, b = spd((10000,), 32, torch.float64), torch.randn(10000, 32, 1, dtype=torch.float64, device="cuda")
    ca, cb = _cp(a), _cp(b)
    report("cholesky 10000x32x32 f64", lambda: linalg.cholesky(a, True), lambda: torch.linalg.cholesky(a),
           lambda: cupy.linalg.cholesky(ca), 30)
    report("solve 10000x32x32 f64", lambda: linalg.solve(a, b), lambda: torch.linalg.solve(a, b),
           lambda: cupy.linalg.solve(ca, cb), 30)
    report("solve 10000x32x32 f64 assume_a=pos", lambda: linalg.solve(a, b, assume_a="pos", lower=True),
           lambda: torch.cholesky_solve(b, torch.linalg.cholesky(a)), lambda: cupy.linalg.solve(ca, cb), 30)
    factored = {"SOLVE": ((1, None, "factor"),)}  # cuBLAS getrfBatched + getrsBatched, not gpmath's kernel
    alternative("solve 10000x32x32 getrfBatched + getrsBatched", lambda: linalg.solve(a, b), **factored)
    for n, dtype in ((8, torch.float64), (16, torch.float64), (32, torch.float32), (32, torch.complex128)):
        x, y = torch.randn(10000, n, n, dtype=dtype, device="cuda"), torch.randn(10000, n, 1, dtype=dtype, device="cuda")
        x = x + 2 * n**0.5 * torch.eye(n, dtype=dtype, device="cuda")
        cx, cy = _cp(x), _cp(y)
        report(f"solve 10000x{n}x{n} {str(dtype).split('.')[-1]}", lambda: linalg.solve(x, y),
               lambda: torch.linalg.solve(x, y), lambda: cupy.linalg.solve(cx, cy), 30)
    for n in (16, 32, 33, 48, 64, 96, 128):
        h = spd((128,), n, torch.float64)
        ch = _cp(h)
        small = n <= 32  # sub-millisecond for every library: more repeats for a steady median
        report(f"eigh 128x{n}x{n} f64", lambda: linalg.eigh(h), lambda: torch.linalg.eigh(h), lambda: cupy.linalg.eigh(ch),
               30 if small else 5)
        for driver in ("syevjBatched", "syevBatched"):
            timed(f"eigh 128x{n} driver={driver}", lambda: linalg.eigh(h, driver=driver), 10)
        report(f"svd 128x{n}x{n} f64", lambda: linalg.svd(h, False), lambda: torch.linalg.svd(h, False),
               lambda: cupy.linalg.svd(ch, False), 30 if small else 3)
        if n >= 48:
            for driver in ("gesvdj", "gesvdp"):
                timed(f"svd 128x{n} driver={driver}", lambda: linalg.svd(h, False, driver=driver), 2)
        else:  # the default is gpmath's Jacobi kernel; cuSOLVER's Jacobi (CuPy's route at n <= 32) beside it
            timed(f"svd 128x{n} driver=gesvdj (gesvdjBatched)", lambda: linalg.svd(h, False, driver="gesvdj"), 10)
    for n in (8, 16, 24, 32, 48, 64):  # one matrix: gpmath's kernel against cuSOLVER's one-matrix routines
        h = spd((), n, torch.float64)
        timed(f"eigh 1x{n} driver=None (kernel)", lambda: linalg.eigh(h), 30)
        timed(f"eigh 1x{n} driver=syevd", lambda: linalg.eigh(h, driver="syevd"), 30)
        timed(f"svd 1x{n} driver=None (kernel)", lambda: linalg.svd(h), 30)
        timed(f"svd 1x{n} driver=gesvdj", lambda: linalg.svd(h, driver="gesvdj"), 30)


def crossover() -> None:
    """Batched (pointer-array) against looped (64-bit API) factorisations above the table's n = 512."""
    for n, batch in ((1024, 16),):
        a, b = spd((batch,), n, torch.float64), torch.randn(batch, n, 1, dtype=torch.float64, device="cuda")
        for route in ("batched", "looped"):
            table = ((1, None, route),)
            _cuda_factor.FACTOR = table
            gpmath.cache_clear()
            timed(f"crossover cholesky {batch}x{n} {route}", lambda: linalg.cholesky(a, True))
            timed(f"crossover solve {batch}x{n} {route}", lambda: linalg.solve(a, b))
    _cuda_factor.FACTOR = _crossover.FACTOR
    gpmath.cache_clear()
    h = spd((8,), 1024, torch.float64)
    for driver in ("syevjBatched", "syevd"):
        timed(f"crossover eigh 8x1024 {driver}", lambda: linalg.eigh(h, driver=driver), 3)


def irs() -> None:
    for n, precisions in ((8192, ("f32", "tf32", "f16", "bf16")), (16384, (None, "f32", "tf32", "f16")),
                          (32768, (None, "tf32", "f16"))):
        a = torch.randn(n, n, dtype=torch.float64, device="cuda") + n**0.5 * torch.eye(n, dtype=torch.float64, device="cuda")
        b = torch.randn(n, 1, dtype=torch.float64, device="cuda")
        res_torch = float((a @ torch.linalg.solve(a, b) - b).abs().max())
        for precision in precisions:
            def ours():
                return linalg.solve(a, b, refine="mixed", precision=precision)
            report(f"IRS solve {n} f64 ({precision or 'default'} inner)", ours, lambda: torch.linalg.solve(a, b), None,
                   5 if n < 10000 else 2)
            x, info = linalg.solve(a, b, refine="mixed", precision=precision, full_output=True)
            res_ours = float((a @ x - b).abs().max())
            print(f"  residual gpmath {res_ours:.3e}  torch {res_torch:.3e}  iterations {info.iterations}  "
                  f"fell back {info.fell_back}", flush=True)
        del a, b
        torch.cuda.empty_cache()


def profile() -> None:
    """Kernel time (torch profiler) and wall time per synchronised call of the small batched cases."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    a, b = spd((10000,), 32, torch.float64), torch.randn(10000, 32, 1, dtype=torch.float64, device="cuda")
    a32, b32 = a.float(), b.float()
    h, x = spd((128,), 16, torch.float64), spd((), 1024, torch.float64)
    g, gb = spd((), 4096, torch.float32), torch.randn(4096, 1, dtype=torch.float32, device="cuda")
    tall, rhs = torch.randn(4096, 1024, device="cuda"), torch.randn(4096, 1, device="cuda")
    ca, cb, ch, cx, cg, cgb = (_cp(t) for t in (a, b, h, x, g, gb))
    cases = {
        "cholesky 10000x32": (lambda: linalg.cholesky(a, True), lambda: torch.linalg.cholesky(a),
                              lambda: cupy.linalg.cholesky(ca)),
        "solve 10000x32": (lambda: linalg.solve(a, b), lambda: torch.linalg.solve(a, b), lambda: cupy.linalg.solve(ca, cb)),
        "solve 10000x32 f32": (lambda: linalg.solve(a32, b32), lambda: torch.linalg.solve(a32, b32), None),
        "eigh 128x16": (lambda: linalg.eigh(h), lambda: torch.linalg.eigh(h), lambda: cupy.linalg.eigh(ch)),
        "svd 128x16": (lambda: linalg.svd(h, False), lambda: torch.linalg.svd(h, False), lambda: cupy.linalg.svd(ch, False)),
        "slogdet 1024": (lambda: linalg.slogdet(x), lambda: torch.linalg.slogdet(x), lambda: cupy.linalg.slogdet(cx)),
        "solve 4096 f32": (lambda: linalg.solve(g, gb), lambda: torch.linalg.solve(g, gb),
                           lambda: cupy.linalg.solve(cg, cgb)),
        "lstsq 4096x1024 f32": (lambda: linalg.lstsq(tall, rhs, lapack_driver="gelsy", check_finite=False),
                                lambda: torch.linalg.lstsq(tall, rhs, driver="gels"), None),
    }
    calls = 20
    for case, fns in cases.items():
        for library, fn in zip(("gpmath", "torch", "cupy"), fns):
            if fn is None or (library == "cupy" and cupy is None):
                continue
            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
                torch.cuda.synchronize()
            wall = (time.perf_counter() - start) / calls * 1e6
            with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                for _ in range(calls):
                    fn()
                    torch.cuda.synchronize()
            kernels = sorted((e for e in prof.key_averages() if e.device_type == DeviceType.CUDA),
                             key=lambda e: -e.self_device_time_total)
            gpu = sum(e.self_device_time_total for e in kernels) / calls
            print(f"{case:<18} {library:<6} wall {wall:8.1f} us/call  kernels {gpu:8.1f} us/call  "
                  f"host+gaps {wall - gpu:8.1f}", flush=True)
            for e in kernels[:6]:
                print(f"      {e.count / calls:4.1f}x {e.self_device_time_total / e.count:8.1f} us  {e.key[:90]}")
            if library == "gpmath":
                _host_profile(fn, calls)


def _host_profile(fn, calls: int) -> None:
    """Where *fn*'s host time goes (cProfile, the functions that take most of it themselves)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
        torch.cuda.synchronize()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(10)
    lines = [line for line in text.getvalue().splitlines() if line.strip() and "/" in line or "tottime" in line]
    print("\n".join("      " + line for line in lines[:11]), flush=True)


def irs_tolerance() -> None:
    """Time, iterations and residual of the IRS solve at n = 32768 for refinement solvers and stopping tolerances."""
    n = 32768
    a = torch.randn(n, n, dtype=torch.float64, device="cuda") + n**0.5 * torch.eye(n, dtype=torch.float64, device="cuda")
    b = torch.randn(n, 1, dtype=torch.float64, device="cuda")
    t_torch = median_ms(lambda: torch.linalg.solve(a, b), 2, 1)
    res_torch = float((a @ torch.linalg.solve(a, b) - b).abs().max())
    print(f"IRS sweep n={n}: torch.linalg.solve {t_torch:.1f} ms, residual {res_torch:.2e}, "
          f"max|x| {float(torch.linalg.solve(a, b).abs().max()):.2e}, |A|inf {float(a.abs().sum(1).max()):.3e}", flush=True)
    # tolerance: the factor of eps * ‖A‖∞ * max|x| (None: cuSOLVER's default, sqrt(N))
    configs = [("CLASSICAL", None, ("f16", "tf32")), ("CLASSICAL", 1.0, ("f16", "tf32"))]  # IRSRefinement names
    configs += [("CLASSICAL", tol, ("f16",)) for tol in (4.0, 0.5)]
    configs += [("GMRES", 1.0, ("f16",)), ("CLASSICAL_GMRES", 1.0, ("f16",))]
    for refinement, tol, precisions in configs:
        _cuda_irs.IRS_REFINEMENT, _cuda_irs.IRS_TOLERANCE = refinement, tol
        gpmath.cache_clear()
        for precision in precisions:
            t = median_ms(lambda: linalg.solve(a, b, refine="mixed", precision=precision), 2, 1)
            x, info = linalg.solve(a, b, refine="mixed", precision=precision, full_output=True)
            res = float((a @ x - b).abs().max())
            print(f"  {refinement:<16} tol {tol!s:>6} {precision:>5}: {t:7.1f} ms ({t_torch / t:4.2f}x torch)  "
                  f"residual {res:.2e} ({res / res_torch:6.1f}x torch)  iterations {info.iterations}/{info.outer_iterations}"
                  f"  fell back {info.fell_back}", flush=True)
    _cuda_irs.IRS_REFINEMENT, _cuda_irs.IRS_TOLERANCE = _DEFAULT_IRS
    gpmath.cache_clear()


def triangular() -> None:
    """solve_triangular against torch.linalg.solve_triangular and cupyx.scipy.linalg's (one matrix
    only), and the cost of the zero-diagonal check (``unit_diagonal=True`` skips it)."""
    cases = [(1, 4096, 1), (1, 4096, 512), (1000, 32, 1), (100, 128, 8), (16, 512, 16), (8, 1024, 64), (4, 4096, 64)]
    for batch, n, k in cases + [(-200, 512, 4), (-1000, 64, 1)]:  # negative: one A for that many b
        shared, batch = batch < 0, abs(batch)
        for dtype in (torch.float32, torch.float64):
            a = torch.randn(1 if shared else batch, n, n, dtype=dtype, device="cuda").triu()
            a += n**0.5 * torch.eye(n, dtype=dtype, device="cuda")
            b = torch.randn(batch, n, k, dtype=dtype, device="cuda")
            if batch == 1 or shared:
                a = a[0]
            if batch == 1:
                b = b[0]
            ca, cb = _cp(a), _cp(b)
            name = f"solve_triangular {'one A, ' if shared else ''}{batch}x{n} k={k} {str(dtype).split('.')[-1]}"
            report(name, lambda: linalg.solve_triangular(a, b), lambda: torch.linalg.solve_triangular(a, b, upper=True),
                   (lambda: cupyx_linalg.solve_triangular(ca, cb)) if batch == 1 else None)
            timed("unit_diagonal (trsm without divisions, no check)", lambda: linalg.solve_triangular(a, b, unit_diagonal=True))


def eig() -> None:
    """linalg.eig against torch.linalg.eig and, where CuPy has it, cupy.linalg.eig; then each
    route of the ``EIG`` crossover row ("geev": cusolverDnXgeev, "host": LAPACK's geev on the host)
    at the orders around it, which the row is set from."""
    cupy_eig = getattr(getattr(cupy, "linalg", None), "eig", None)
    for batch, n in ((1, 256), (1, 1024), (1, 2048), (16, 64)):
        for dtype in (torch.float32, torch.float64):
            a = torch.randn(batch, n, n, dtype=dtype, device="cuda")
            if batch == 1:
                a = a[0]
            ca = _cp(a)
            name = f"eig {batch}x{n} {str(dtype).split('.')[-1]}"
            report(name, lambda: linalg.eig(a), lambda: torch.linalg.eig(a),
                   (lambda: cupy_eig(ca)) if cupy_eig is not None else None, 3)
            timed("eigvals", lambda: linalg.eigvals(a), 3)
    from gpmath.solver import _crossover

    for batch, n in ((1, 8), (1, 32), (1, 64), (8, 64), (1, 96), (1, 128), (8, 128), (1, 192), (1, 256), (1, 384)):
        a = torch.randn(batch, n, n, dtype=torch.float64, device="cuda")[0 if batch == 1 else slice(None)]
        timed(f"eigvals {batch}x{n} f64 torch", lambda: torch.linalg.eigvals(a), 5)
        for route in ("geev", "host"):
            gpmath.cache_clear()
            with _crossover.overriding(_crossover.EIG, 0, [(1, None, route)]):
                timed(f"eigvals {batch}x{n} f64 {route}", lambda: linalg.eigvals(a), 5)
                timed(f"eig {batch}x{n} f64 {route}", lambda: linalg.eig(a), 5)
        gpmath.cache_clear()


def pinv() -> None:
    """linalg.pinv (the SVD engine, then array operations) against torch.linalg.pinv and cupy.linalg.pinv."""
    for batch, m, n in ((1, 1024, 512), (1, 4096, 1024), (100, 64, 32), (1000, 16, 16)):
        for dtype in (torch.float32, torch.float64):
            a = torch.randn(batch, m, n, dtype=dtype, device="cuda")
            if batch == 1:
                a = a[0]
            ca = _cp(a)
            report(f"pinv {batch}x{m}x{n} {str(dtype).split('.')[-1]}", lambda: linalg.pinv(a),
                   lambda: torch.linalg.pinv(a), lambda: cupy.linalg.pinv(ca), 5)


def planned_by_constant(module, name: str, routes: dict, make) -> dict:
    """``{route: plan}``: ``make()`` planned with *module*'s constant *name* set to each value of
    *routes* (the constant by which its engine chooses the route; restored after)."""
    saved, plans = getattr(module, name), {}
    try:
        for route, value in routes.items():
            setattr(module, name, value)
            plans[route] = make().plan()
    finally:
        setattr(module, name, saved)
    return plans


@guarded
def inverse_routes(name: str, x) -> None:
    """``Inv`` plans through getri's steps (trtri, trsm) and through getrs of I, beside torch.linalg.inv."""
    plans = planned_by_constant(_cuda_inverse, "INVERSE_MIN_N", {"trsm route": 1, "getrs of I": 1 << 30},
                                lambda: Inv(x))
    fns = {**{route: plan.execute for route, plan in plans.items()}, "torch": lambda: torch.linalg.inv(x)}
    try:
        with _peer_stream():
            times = cuda_medians_ms(fns, warmup=2, reps=5)
    finally:
        for plan in plans.values():
            plan.free()
    print(f"  {name}: " + ", ".join(f"{key} {t:.3f} ms" for key, t in times.items())
          + f"; torch / trsm route {times['torch'] / times['trsm route']:.2f}", flush=True)


@guarded
def lstsq_routes(name: str, a, b) -> None:
    """``Lstsq(lapack_driver="gelsy")`` plans through Cholesky QR2 and through Householder QR,
    beside torch.linalg.lstsq (``gels``), and each route's relative residual of the normal equations."""
    plans = planned_by_constant(_cuda_lstsq, "CHOLESKY_QR_SMALLEST", {"cholesky qr2": 1, "householder": 1 << 62},
                                lambda: Lstsq(a, b, lapack_driver="gelsy"))
    fns = {**{route: plan.execute for route, plan in plans.items()},
           "torch": lambda: torch.linalg.lstsq(a, b, driver="gels")}
    try:
        with _peer_stream():
            times = cuda_medians_ms(fns, warmup=2, reps=5)
        errors = {}
        for route, fn in fns.items():  # ‖Aᴴ(b - A x)‖ / (‖A‖² ‖x‖): the normal equations' residual
            x = fn()[0]
            residual = torch.linalg.norm(a.mH @ (b - a @ x))
            errors[route] = float(residual / (torch.linalg.norm(a) ** 2 * torch.linalg.norm(x)))
        fell_back = getattr(plans["cholesky qr2"].route, "_householder", None) is not None  # (or not taken)
    finally:
        for plan in plans.values():
            plan.free()
    print(f"  {name}: " + ", ".join(f"{key} {t:.3f} ms ({errors[key]:.1e})" for key, t in times.items())
          + f"; torch / cholesky qr2 {times['torch'] / times['cholesky qr2']:.2f}"
          + (" (fell back)" if fell_back else ""), flush=True)


def issue19() -> None:
    """Issue 19's inv and lstsq rows: inv of 4096² (and the two inverse routes from n = 256), then
    :func:`lstsq_table`."""
    for dtype in (torch.float32, torch.float64):
        name = str(dtype).split(".")[-1]
        for n in (64, 128, 256, 512, 1024, 2048, 4096):
            inverse_routes(f"inv {n} {name}", torch.randn(n, n, dtype=dtype, device="cuda"))
        x = spd((), 4096, dtype)
        cx = _cp(x)
        for check in (True, False):
            report(f"inv 4096 {name} (check_finite={check})", lambda: linalg.inv(x, check_finite=check),
                   lambda: torch.linalg.inv(x), lambda: cupy.linalg.inv(cx), 5)
    lstsq_table()


LSTSQ_SHAPES = ((4096, 1024, ()), (4096, 4096, ()), (2048, 1024, ()), (1024, 1024, ()), (65536, 64, ()),
                (16384, 256, ()), (512, 128, ()), (256, 64, ()), (128, 32, ()), (1024, 4096, ()), (256, 64, (8,)))


def lstsq_table() -> None:
    """gelsy's two routes over :data:`LSTSQ_SHAPES` (one right-hand side), then issue 19's lstsq
    rows: a full-rank 4096×1024 system by each driver, float32 and float64."""
    for dtype in (torch.float32, torch.float64):
        name = str(dtype).split(".")[-1]
        for m, n, batch in LSTSQ_SHAPES:
            lstsq_routes(f"lstsq {'x'.join(map(str, batch + (m, n)))} {name}",
                         torch.randn(*batch, m, n, dtype=dtype, device="cuda"),
                         torch.randn(*batch, m, 1, dtype=dtype, device="cuda"))
        t = torch.randn(4096, 1024, dtype=dtype, device="cuda")
        bt = torch.randn(4096, 1, dtype=dtype, device="cuda")
        ct_, cbt = _cp(t), _cp(bt)
        for driver, check in ((None, True), ("gelsy", True), ("gelsy", False)):
            report(f"lstsq 4096x1024 {name} ({driver or 'default'}, check_finite={check})",
                   lambda: linalg.lstsq(t, bt, lapack_driver=driver, check_finite=check),
                   lambda: torch.linalg.lstsq(t, bt, driver="gels"), lambda: cupy.linalg.lstsq(ct_, cbt, rcond=None), 3)


def summary() -> Table:
    """Every reported case: gpmath's time beside the peers' (ms), ratio = the faster peer / gpmath."""
    rows = [[name, num(ours), num(None if t == float("inf") else t), num(None if c == float("inf") else c),
             num(min(t, c) / ours)] for name, ours, t, c in ROWS]
    return Table("gpmath.linalg beside torch.linalg and cupy.linalg (ms; ratio = faster peer / gpmath)",
                 ["case", "gpmath", "torch", "cupy", "ratio"], rows, times=("gpmath", "torch", "cupy"), name="linalg")


SECTIONS = {
    "large": lambda: [large(dtype) for dtype in (torch.float32, torch.float64)],
    "lu": lu_and_qr, "batched": batched_small, "irs": irs, "crossover": crossover, "profile": profile,
    "irs-tol": irs_tolerance, "triangular": triangular, "eig": eig,
    "pinv": pinv, "issue19": issue19, "lstsq": lstsq_table,
}

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", default=["large", "batched", "crossover", "irs"],
                        help=f"sections to run, of {', '.join(SECTIONS)} (default: large batched crossover irs)")
    add_output_options(parser)
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    print(torch.cuda.get_device_name(), torch.__version__, getattr(cupy, "__version__", "no cupy"), flush=True)
    try:
        for section in SECTIONS:  # in this order, whatever the command line's
            if section in args.sections:
                SECTIONS[section]()
    finally:
        emit([summary()], args)


if __name__ == "__main__":
    main()
