"""Host arrays at device speed? NumPy in, NumPy out, over sizes, beside every alternative.

Run on the GPU machine: ``PYTHONPATH=$PWD python3 bench/host.py [--quick] [--only matmul,fft,solve,eigh]
[--sizes 64,4096] [--full] [--json PATH] [--csv PATH] [--plot DIR]`` (the whole sweep takes minutes:
the CPU columns of the large sizes dominate; ``--quick`` is 64, 1024 and 4096).

For matmul (f32), fft (c64, batched rows), solve and eigh (f64) of size n (16 ... 8192), with
NumPy operands, it times (wall clock, medians of interleaved rounds, results on the host):

- ``default``: gpmath as a user calls it (``execution=None``);
- ``cuda`` and ``cpu``: gpmath with the GPU, or the CPU, forced;
- ``numpy``: NumPy/SciPy (``a @ b``, ``scipy.fft.fft``, ``scipy.linalg.solve``/``eigh``);
- ``nvmath``: nvmath-python's NumPy path where it is installed (matmul, fft);
- ``ideal``: pinned host buffers copied in, torch's device operation, copied back (the floor a
  host path can reach).

and prints ``best/default`` (the faster of cpu and cuda over default: >= 0.91 is the placement
target), ``ideal/cuda`` (>= 0.83 is the transfer target at large sizes) and how the default call
runs once settled (``default via``: a cached ``plan``, or a ``shortcut`` to NumPy/SciPy without one).  Then the per-call
cost of the stateless functions on torch CUDA operands beside torch, the time of
``import gpmath`` in a fresh process, and the first matmul in a fresh process beside torch's.
``host-calls``: the stateless functions on small NumPy operands (``--sizes``, by default 16, 64
and 256) beside NumPy's and SciPy's own, per call; ``torch-cpu``: on torch CPU tensors beside torch.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.fft
import scipy.linalg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cli import Table, add_output_options, emit, show  # noqa: E402
from _timing import PROGRESS, fmt  # noqa: E402

import gpmath  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
try:
    import nvmath
except ImportError:
    nvmath = None

GPU = gpmath.device_count() > 0
TORCH_CUDA = torch is not None and torch.cuda.is_available()
SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
LIMITS = {"matmul": 8192, "fft": 8192, "solve": 8192, "eigh": 4096}  # --full: every size


GPU_FIRST = ["cuda", "ideal", "nvmath", "default", "cpu", "numpy"]  # the order of the calls within a round
ROTATED = ("default", "cpu", "numpy")  # after the GPU-only columns, in an order that rotates from round to round
LOOP_S = 2e-3  # calls shorter than this are timed as a loop of calls lasting about this long
SETTLE_S = 0.2  # OpenBLAS's threads spin for about 2^28 cycles after a product (~0.1 s)
SWITCH_S = 0.1  # calls under this long run twice in a round, the second timed (see wall_medians_s)


def wall_medians_s(fns: dict, budget_s: float = 1.5, most: int = 15) -> dict:
    """Median seconds of each ``fns[name]()`` (each returns with its result on the host), rounds
    interleaved; in each round every function runs twice in a row and the second call is timed.
    The first absorbs the switch from the previous function: NumPy and SciPy bring separate
    OpenBLAS thread pools, and a 64² ``eigh`` right after the other library's call takes 3.7 ms
    instead of 0.7 (its threads still spin), which no loop of one library's calls pays.  Within a
    round the GPU columns come first (:data:`GPU_FIRST`), then, where every call takes under a
    millisecond, the columns that may run on the CPU in an order that rotates (:data:`ROTATED`: the
    first after the GPU calls paid about 2 µs more for the same NumPy product at n = 16 and 64), and
    where a call takes over a
    millisecond each round starts after :data:`SETTLE_S` of rest (and a call of :data:`SWITCH_S` or
    more runs once: the eigh of 4096² on the CPU takes seconds, and the sweep must fit a device
    call): the host copies of a GPU call
    need the cores that a multithreaded CPU product's threads keep spinning on afterwards (a 4096²
    float32 NumPy matmul on the GPU: 6.5 ms alone, 27.6 ms right after a NumPy product on an H200
    host).  Calls shorter than :data:`LOOP_S` are timed as a loop of calls that lasts about that
    long (the per-call cost of a loop, as a program calling one function many times pays it: a
    16x16 NumPy solve took 31 µs a call in a loop of 300 on the H200's host, 70-82 µs as the
    second of two calls after other libraries' calls), its count from the fastest of three calls
    after a warm-up (one slow call, a thread pool waking, would shorten that function's loops).  The
    round count fits *budget_s* for the
    slowest function (3 at least)."""
    fns = {name: fns[name] for name in sorted(fns, key=GPU_FIRST.index)}
    first = {}
    for name, fn in fns.items():
        fn()  # warm-up: plans, caches, kernels
        first[name] = math.inf
        for _ in range(3):
            start = time.perf_counter()
            fn()
            first[name] = min(first[name], time.perf_counter() - start)
    rounds = max(3, min(most, int(budget_s / max(2 * max(first.values()), 1e-6))))
    settle_s = SETTLE_S if max(first.values()) > 1e-3 else 0.0
    times = {name: [] for name in fns}
    fixed, rotating = [n for n in fns if n not in ROTATED], [n for n in fns if n in ROTATED]
    loops = {name: max(1, math.ceil(LOOP_S / max(first[name], 1e-7))) for name in fns}
    for turn in range(rounds):
        time.sleep(settle_s)
        shift = 0 if settle_s else turn % max(len(rotating), 1)  # (longer calls: default on the GPU goes first)
        for name in fixed + rotating[shift:] + rotating[:shift]:
            fn, count = fns[name], loops[name]
            if first[name] < SWITCH_S:  # (a call of a second or more pays no switch worth a second call)
                fn()
            start = time.perf_counter()
            for _ in range(count):
                fn()
            times[name].append((time.perf_counter() - start) / count)
    PROGRESS.tick()
    return {name: statistics.median(v) for name, v in times.items()}


def _ideal(inputs: list[np.ndarray], device_op, result_shape, result_dtype):
    """Pinned copies of *inputs* in, ``device_op(*device_inputs)`` on the GPU, a pinned copy out."""
    pinned = [torch.from_numpy(x).pin_memory() for x in inputs]
    device = [torch.empty_like(p, device="cuda") for p in pinned]
    out = torch.empty(result_shape, dtype=result_dtype).pin_memory()

    def run():
        for d, p in zip(device, pinned):
            d.copy_(p, non_blocking=True)
        out.copy_(device_op(*device), non_blocking=True)
        torch.cuda.current_stream().synchronize()

    return run


def _cases(family: str, n: int, rng) -> dict:
    """{column: callable} of *family* at size *n* (columns this machine cannot run left out)."""
    fns = _all_cases(family, n, rng)
    if not GPU:
        fns = {k: v for k, v in fns.items() if k not in ("cuda", "nvmath")}
    return fns


def _all_cases(family: str, n: int, rng) -> dict:
    if family == "matmul":
        a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        fns = {"default": lambda: gpmath.matmul(a, b), "cuda": lambda: gpmath.matmul(a, b, execution="cuda"),
               "cpu": lambda: gpmath.matmul(a, b, execution="cpu"), "numpy": lambda: a @ b}
        if nvmath is not None:
            fns["nvmath"] = lambda: nvmath.linalg.advanced.matmul(a, b)
        if TORCH_CUDA:
            fns["ideal"] = _ideal([a, b], torch.matmul, (n, n), torch.float32)
    elif family == "fft":
        x = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(np.complex64)
        fns = {"default": lambda: gpmath.fft.fft(x), "cuda": lambda: gpmath.fft.fft(x, execution="cuda"),
               "cpu": lambda: gpmath.fft.fft(x, execution="cpu"), "numpy": lambda: scipy.fft.fft(x)}
        if nvmath is not None:
            fns["nvmath"] = lambda: nvmath.fft.fft(x)
        if TORCH_CUDA:
            fns["ideal"] = _ideal([x], lambda d: torch.fft.fft(d), (n, n), torch.complex64)
    elif family == "solve":
        a = rng.standard_normal((n, n)) + n * np.eye(n)
        b = rng.standard_normal(n)
        fns = {"default": lambda: gpmath.linalg.solve(a, b), "cuda": lambda: gpmath.linalg.solve(a, b, execution="cuda"),
               "cpu": lambda: gpmath.linalg.solve(a, b, execution="cpu"), "numpy": lambda: scipy.linalg.solve(a, b)}
        if TORCH_CUDA:
            fns["ideal"] = _ideal([a, b], lambda da, db: torch.linalg.solve(da, db), (n,), torch.float64)
    else:  # eigh
        r = rng.standard_normal((n, n))
        a = (r + r.T) / 2
        fns = {"default": lambda: gpmath.linalg.eigh(a), "cuda": lambda: gpmath.linalg.eigh(a, execution="cuda"),
               "cpu": lambda: gpmath.linalg.eigh(a, execution="cpu"), "numpy": lambda: scipy.linalg.eigh(a)}
        if TORCH_CUDA:
            fns["ideal"] = _ideal([a], lambda d: torch.linalg.eigh(d)[1], (n, n), torch.float64)
    return fns


COLUMNS = ["default", "cuda", "cpu", "numpy", "nvmath", "ideal"]


def default_route(call) -> str:
    """How *call* (a default gpmath call, already made) runs now: ``"plan"`` where it looks up a
    cached plan (gpmath's plan caches counted before and after three calls), else ``"shortcut"``
    (NumPy's or SciPy's function, or a host lane, reached without the plans)."""
    def lookups() -> int:
        return sum(info.hits + info.misses for info in gpmath.cache_info().values())

    before = lookups()
    for _ in range(3):
        call()
    return "plan" if lookups() > before else "shortcut"


def sweep(family: str, sizes: list[int]) -> Table:
    rng = np.random.default_rng(0)
    header = ["n"] + [f"{c} ms" for c in COLUMNS] + ["best/default", "ideal/cuda", "default via"]
    t = Table(f"{family}, NumPy in and out (ms; best/default >= 0.91 and ideal/cuda >= 0.83 are the targets)",
              header, times=tuple(f"{c} ms" for c in COLUMNS), name=family)
    for n in sizes:
        fns = _cases(family, n, rng)
        ms = {k: v * 1e3 for k, v in wall_medians_s(fns).items()}
        cells = [round(ms[c], 4) if c in ms else "n/a" for c in COLUMNS]
        best = min(ms.get("cuda", float("inf")), ms["cpu"])
        ideal = ms.get("ideal")
        t.rows.append([n, *cells, fmt(best / ms["default"]), fmt(ideal / ms["cuda"]) if ideal and GPU else "n/a",
                       default_route(fns["default"])])
        print(f"  {family} n={n}: default {ms['default']:.4g} ms", file=sys.stderr, flush=True)
    return t


def per_call() -> Table:
    """Stateless calls on torch CUDA operands beside torch (µs per call, loops of thousands)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _timing import per_call_us

    a = torch.randn(64, 64, device="cuda")
    x = torch.randn(1024, dtype=torch.complex64, device="cuda")
    s = torch.randn(32, 32, device="cuda", dtype=torch.float64)
    spd = s @ s.T + 32 * torch.eye(32, device="cuda", dtype=torch.float64)
    rhs = torch.randn(32, 1, device="cuda", dtype=torch.float64)
    # (gpmath's call, the same call with execution="cuda": the full path, which takes no lane; torch's)
    cases = {
        "matmul 64² f32": (lambda **o: gpmath.matmul(a, a, **o), lambda: torch.matmul(a, a)),
        "fft 1024 c64": (lambda **o: gpmath.fft.fft(x, **o), lambda: torch.fft.fft(x)),
        "solve 32² f64": (lambda **o: gpmath.linalg.solve(spd, rhs, **o), lambda: torch.linalg.solve(spd, rhs)),
        "cholesky 32² f64": (lambda **o: gpmath.linalg.cholesky(spd, lower=True, **o),
                             lambda: torch.linalg.cholesky(spd)),
    }
    t = Table("stateless calls on torch CUDA operands (µs per call; torch/gpmath >= 1 is the target; "
              "full path: the same call with execution='cuda', which takes no lane; all in interleaved rounds)",
              ["call", "gpmath µs", "torch µs", "torch/gpmath", "full path µs"], name="per-call")
    for name, (ours, theirs) in cases.items():
        us = per_call_us({"gpmath": ours, "torch": theirs, "full": lambda: ours(execution="cuda")}, calls=2000, rounds=5)
        t.rows.append([name, round(us["gpmath"], 2), round(us["torch"], 2), fmt(us["torch"] / us["gpmath"]),
                       round(us["full"], 2)])
    return t


def _host_pairs(n: int, rng) -> dict:
    """{name: (gpmath's call, NumPy's or SciPy's)} on NumPy operands of order *n*."""
    la = gpmath.linalg
    x = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    r = rng.standard_normal(n)
    f32 = rng.standard_normal((n, n), dtype=np.float32)
    a, b = rng.standard_normal((n, n)), rng.standard_normal(n)
    spd, sym, grid = a @ a.T + n * np.eye(n), a + a.T, rng.standard_normal((n, n)) + 0j
    lu, cho = scipy.linalg.lu_factor(a), scipy.linalg.cho_factor(spd)
    return {
        "matmul f32": (lambda: gpmath.matmul(f32, f32), lambda: f32 @ f32),
        "fft c128": (lambda: gpmath.fft.fft(x), lambda: scipy.fft.fft(x)),
        "rfft f64": (lambda: gpmath.fft.rfft(r), lambda: scipy.fft.rfft(r)),
        "fft2 c128": (lambda: gpmath.fft.fft2(grid), lambda: scipy.fft.fft2(grid)),
        "dct f64": (lambda: gpmath.fft.dct(r), lambda: scipy.fft.dct(r)),
        "solve": (lambda: la.solve(a, b), lambda: scipy.linalg.solve(a, b)),
        "solve_triangular": (lambda: la.solve_triangular(spd, b), lambda: scipy.linalg.solve_triangular(spd, b)),
        "inv": (lambda: la.inv(a), lambda: scipy.linalg.inv(a)),
        "det": (lambda: la.det(a), lambda: scipy.linalg.det(a)),
        "cholesky": (lambda: la.cholesky(spd), lambda: scipy.linalg.cholesky(spd)),
        "cho_solve": (lambda: la.cho_solve(cho, b), lambda: scipy.linalg.cho_solve(cho, b)),
        "lu_factor": (lambda: la.lu_factor(a), lambda: scipy.linalg.lu_factor(a)),
        "lu_solve": (lambda: la.lu_solve(lu, b), lambda: scipy.linalg.lu_solve(lu, b)),
        "lu": (lambda: la.lu(a), lambda: scipy.linalg.lu(a)),
        "qr": (lambda: la.qr(a), lambda: scipy.linalg.qr(a)),
        "eigh": (lambda: la.eigh(sym), lambda: scipy.linalg.eigh(sym)),
        "svd": (lambda: la.svd(a), lambda: scipy.linalg.svd(a)),
        "lstsq": (lambda: la.lstsq(a, b), lambda: scipy.linalg.lstsq(a, b)),
        "norm": (lambda: la.norm(a), lambda: scipy.linalg.norm(a)),
    }


def _torch_cpu_pairs(n: int, rng) -> dict:
    """{name: (gpmath's call, torch's)} on torch CPU tensors of order *n*."""
    la = gpmath.linalg
    a = torch.from_numpy(rng.standard_normal((n, n)))
    b, f32 = torch.from_numpy(rng.standard_normal(n)), torch.from_numpy(rng.standard_normal((n, n), dtype=np.float32))
    x = torch.from_numpy(rng.standard_normal(n) + 1j * rng.standard_normal(n))
    spd = a @ a.T + n * torch.eye(n, dtype=torch.float64)
    return {
        "matmul f32": (lambda: gpmath.matmul(f32, f32), lambda: f32 @ f32),
        "fft c128": (lambda: gpmath.fft.fft(x), lambda: torch.fft.fft(x)),
        "solve": (lambda: la.solve(a, b), lambda: torch.linalg.solve(a, b)),
        "inv": (lambda: la.inv(a), lambda: torch.linalg.inv(a)),
        "det": (lambda: la.det(a), lambda: torch.linalg.det(a)),
        "cholesky": (lambda: la.cholesky(spd, lower=True), lambda: torch.linalg.cholesky(spd)),
        "eigh": (lambda: la.eigh(spd), lambda: torch.linalg.eigh(spd)),
        "norm": (lambda: la.norm(a), lambda: torch.linalg.norm(a)),
    }


def host_calls(sizes: list[int], pairs=_host_pairs, peer: str = "scipy") -> Table:
    """Stateless calls on host operands beside their peer's own (µs per call, loops of hundreds to
    thousands; on a machine with a GPU automatic placement chooses, as for a user): NumPy arrays
    beside NumPy and SciPy (*pairs* :func:`_host_pairs`), or torch CPU tensors beside torch
    (:func:`_torch_cpu_pairs`)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _timing import per_call_us

    rng = np.random.default_rng(0)
    kind = "NumPy operands" if peer == "scipy" else "torch CPU tensors"
    t = Table(f"stateless calls on {kind} (µs per call; gpmath/{peer} <= 1 is the target)",
              ["call", "n", "gpmath µs", f"{peer} µs", f"gpmath/{peer}"], name="host-calls" if peer == "scipy" else "torch-cpu")
    for n in sizes:
        for name, (ours, theirs) in pairs(n, rng).items():
            calls = max(50, min(3000, int(3e4 / max(n, 16) ** 1.5 * 16)))
            us = per_call_us({"gpmath": ours, peer: theirs}, calls=calls, rounds=5)
            t.rows.append([name, n, round(us["gpmath"], 2), round(us[peer], 2), fmt(us["gpmath"] / us[peer])])
    return t


def _fresh_process_s(code: str, runs: int = 5) -> float:
    """Least wall time of *code* in a fresh interpreter, less an empty interpreter's."""
    def least(snippet):
        best = float("inf")
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", snippet], check=True)
            best = min(best, time.perf_counter() - start)
        return best

    return least(code) - least("pass")


def startup() -> Table:
    t = Table("fresh process (ms beyond an empty interpreter)", ["what", "gpmath", "torch"], name="startup")
    t.rows.append(["import", round(_fresh_process_s("import gpmath") * 1e3, 1),
                   round(_fresh_process_s("import torch") * 1e3, 1) if torch is not None else "n/a"])
    first_gpmath = ("import numpy as np, gpmath; a = np.ones((64, 64), np.float32); gpmath.matmul(a, a)")
    first_torch = ("import torch; a = torch.ones(64, 64, device='cuda'); (a @ a).cpu()")
    t.rows.append(["first 64² f32 matmul", round(_fresh_process_s(first_gpmath, 3) * 1e3, 1),
                   round(_fresh_process_s(first_torch, 3) * 1e3, 1) if TORCH_CUDA else "n/a"])
    return t


def _calibrate_now() -> None:
    """Calibrate automatic placement on this (idle) machine before measuring it, as a user's first
    call does, rather than trust a saved calibration made under whatever load ran then."""
    from gpmath._core import calibration, runtime

    device = runtime.current_device()
    start = time.perf_counter()
    calibration.calibrate(device)
    print(f"placement calibrated in {time.perf_counter() - start:.1f} s; crossovers {calibration.crossovers(device)}",
          flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="matmul,fft,solve,eigh,host-calls,torch-cpu,per-call,startup",
                        help="comma-separated sections (default: all)")
    parser.add_argument("--quick", action="store_true", help="sizes 64, 1024 and 4096 only")
    parser.add_argument("--full", action="store_true", help="every size for every family (eigh to 8192)")
    parser.add_argument("--sizes", help="comma-separated sizes instead of the default sweep")
    add_output_options(parser)
    args = parser.parse_args(argv)
    sections = args.only.split(",")
    if GPU and any(family in sections for family in ("matmul", "fft", "solve", "eigh")):
        _calibrate_now()
    print(f"gpmath {gpmath.__version__}, torch {getattr(torch, '__version__', 'n/a')}, "
          f"nvmath {getattr(nvmath, '__version__', 'not installed')}, GPUs {gpmath.device_count()}", flush=True)
    tables = []

    def add(table: Table) -> None:  # printed as it is made: a run cut short keeps the tables done
        tables.append(table)
        show(table)

    for family in ("matmul", "fft", "solve", "eigh"):
        if family in sections:
            sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [64, 1024, 4096] if args.quick else SIZES
            add(sweep(family, [n for n in sizes if args.full or n <= LIMITS[family]]))
    call_sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [16, 64, 256]
    if "host-calls" in sections:
        add(host_calls(call_sizes))
    if "torch-cpu" in sections and torch is not None:
        add(host_calls(call_sizes, _torch_cpu_pairs, "torch"))
    if "per-call" in sections and TORCH_CUDA and GPU:
        add(per_call())
    if "startup" in sections:
        add(startup())
    emit(tables, args, shown=True)


if __name__ == "__main__":
    main()
