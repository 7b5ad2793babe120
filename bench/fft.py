"""FFT benchmark on the device: gpmath beside torch.fft and cupy.fft, measured in the same run.

Run: PYTHONPATH=$PWD python3 bench/fft.py [--quick] [--per-call] [--dct] [--json PATH] [--csv PATH] [--plot DIR]
Large cases: CUDA-event medians after warm-up (interleaved rounds), random data, effective
TB/s (bytes read + written per second) against a device-to-device copy measured in the same
run; ratios are peer time / gpmath time (> 1: gpmath is faster).  Small case: per-call cost of
a 1024-point complex64 FFT in a tight loop (FFT.execute, gpmath.fft.fft, torch, cupy).
DCT section (``--dct``): DCT/DST types 1-4 of 4096x4096 float32/float64 along the last axis
(stateless and ``DCT``/``DST`` plans) against cupyx.scipy.fft.dct (types 2, 3; target: ratio
>= 1.0) and against gpmath's rfft of the same array (types 1, 4; target: at most 2x); and types 1
of 4096 rows whose FFT is a power of two (DCT-I of 4097 points, DST-I of 4095), beside the rfft of
those rows;
every row also beside the bare cuFFT transform its algorithm needs (``cuFFT floor``).
Each timing covers 8 calls back to back (``DCT_CALLS``): these sub-millisecond transforms are
compared as a loop runs them, the host's launch work overlapping the device's.
Needs torch with CUDA; CuPy's columns are left out where it is not installed.
"""

from __future__ import annotations

import argparse
import sys

import scipy.fft
import torch

from gpmath import fft as gfft
from gpmath.fft import DCT, DST, FFT

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _cli import Table, add_output_options, emit, num, optional_module  # noqa: E402
from _timing import cuda_medians_ms, per_call_us  # noqa: E402

cupy = optional_module("cupy")
cupyx_fft = None if cupy is None else __import__("cupyx.scipy.fft", fromlist=["fft"])
DCT_CALLS = 8  # DCT/DST rows time throughput: sub-millisecond transforms, back to back as in a loop
QUICK = "--quick" in sys.argv  # (read before the cases are built; also an argparse option)
# label, input shape, dtype, function name (the same in torch.fft, cupy.fft and gpmath.fft), axes
CASES = [
    ("c64 1D 2^24", (2**24,), torch.complex64, "fft", (-1,)),
    ("c64 4096x4096 last axis", (4096, 4096), torch.complex64, "fft", (-1,)),
    ("c128 1D 2^23", (2**23,), torch.complex128, "fft", (-1,)),
    ("c64 512^3", (256,) * 3 if QUICK else (512,) * 3, torch.complex64, "fftn", (0, 1, 2)),
    ("f32 rfft 4096x8192", (4096, 8192), torch.float32, "rfft", (-1,)),
]


def _copy_tbps() -> float:
    """Device-to-device copy bandwidth (read + write), the ceiling for a memory-bound FFT."""
    src = torch.empty(2**28, dtype=torch.uint8, device="cuda").random_()
    dst = torch.empty_like(src)
    ms = cuda_medians_ms({"copy": lambda: dst.copy_(src)})["copy"]
    return 2 * src.numel() / ms / 1e9


def _peers(name, x, axes):
    """torch and cupy calls that, like gpmath's, return a new array (torch's ``out=`` adds a copy)."""
    if name == "fftn":
        peers = {"torch": lambda: torch.fft.fftn(x, dim=axes)}
        if cupy is not None:
            cx = cupy.asarray(x)
            peers["cupy"] = lambda: cupy.fft.fftn(cx, axes=axes)
        return peers
    torch_fn = getattr(torch.fft, name)
    peers = {"torch": lambda: torch_fn(x, dim=axes[0])}
    if cupy is not None:
        cx, cupy_fn = cupy.asarray(x), getattr(cupy.fft, name)
        peers["cupy"] = lambda: cupy_fn(cx, axis=axes[0])
    return peers


def _free_cupy_pool() -> None:
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()


def large() -> Table:
    copy = _copy_tbps()
    t = Table(f"large FFTs (ms; device copy {copy:.2f} TB/s; ratios = peer/gpmath plan)",
              ["case", "torch", "cupy", "gpmath plan", "gpmath fn", "TB/s", "of copy", "torch/plan", "cupy/plan",
               "rel err vs torch"], times=("torch", "cupy", "gpmath plan", "gpmath fn"))
    for label, shape, dtype, name, axes in CASES:
        x = torch.randn(*shape, dtype=dtype, device="cuda")
        plan = FFT(x, axes=axes).plan()
        stateless = getattr(gfft, name)
        out = plan.execute()
        kwargs = {"axes": axes} if name == "fftn" else {"axis": axes[0]}
        fns = {**_peers(name, x, axes), "plan": plan.execute, "stateless": lambda: stateless(x, **kwargs)}
        err = (out - fns["torch"]()).abs().max() / out.abs().max()
        ms = cuda_medians_ms(fns)
        plan.free()
        moved = x.numel() * x.element_size() + out.numel() * out.element_size()
        tbps = moved / ms["plan"] / 1e9
        t.rows.append([label, num(ms["torch"]), num(ms.get("cupy")), num(ms["plan"]), num(ms["stateless"]), num(tbps),
                       num(tbps / copy), num(ms["torch"] / ms["plan"]),
                       num(ms["cupy"] / ms["plan"] if "cupy" in ms else None), num(float(err))])
        _free_cupy_pool()
    return t


def small_loop() -> Table:
    x = torch.randn(1024, dtype=torch.complex64, device="cuda")
    plan = FFT(x).plan()
    calls = {
        "torch.fft.fft(x)": lambda: torch.fft.fft(x),
        "gpmath FFT.execute()": plan.execute,
        "gpmath reset_unchecked+execute()": lambda: (plan.reset_operands_unchecked(x), plan.execute()),
        "gpmath.fft.fft(x)": lambda: gfft.fft(x),
    }
    if cupy is not None:
        cx = cupy.asarray(x)
        calls["cupy.fft.fft(x)"] = lambda: cupy.fft.fft(cx)
    results = per_call_us(calls)
    plan.free()
    base = results["torch.fft.fft(x)"]
    return Table("1024-pt c64 FFT per call (us; ratio = torch's / this)", ["call", "us/call", "torch/this"],
                 [[name, num(us), num(base / us)] for name, us in results.items()], times=("us/call",), unit="us")


def _floor_ms(family: str, kind: int, x) -> float:
    """The time of the cuFFT transform that *family* of *kind* along the last axis of *x* cannot do
    without, by torch.fft on an array of the same rows: an rfft of N points for types 2 and 3, a
    complex FFT of N/2 points for type 4 (N even), an rfft of 2(N - 1) points for DCT-I and of
    2(N + 1) for DST-I."""
    rows, n = x.shape
    if kind == 4:
        z = torch.randn(rows, n // 2, dtype=torch.complex64 if x.dtype == torch.float32 else torch.complex128,
                        device="cuda")
        return cuda_medians_ms({"floor": lambda: torch.fft.fft(z)}, calls=DCT_CALLS)["floor"]
    length = {1: 2 * (n - 1) if family == "dct" else 2 * (n + 1)}.get(kind, n)
    z = torch.randn(rows, length, dtype=x.dtype, device="cuda")
    return cuda_medians_ms({"floor": lambda: torch.fft.rfft(z)}, calls=DCT_CALLS)["floor"]


def _dct_row(label: str, family: str, planner, kind: int, x, cx, rfft_ms: float) -> list:
    """One row of :func:`dct_table`: *family* of *kind* along the last axis of *x* (CuPy's copy
    *cx*) by a plan and statelessly, beside cupyx (types 2, 3), the rfft time *rfft_ms* and the
    cuFFT floor of the algorithm (:func:`_floor_ms`)."""
    floor = _floor_ms(family, kind, x)
    plan = planner(x, type=kind, axes=-1).plan()
    fn = getattr(gfft, family)
    fns = {"plan": plan.execute, "stateless": lambda: fn(x, type=kind)}
    if kind in (2, 3) and cupyx_fft is not None:
        fns["cupyx"] = lambda: getattr(cupyx_fft, family)(cx, type=kind)
    ms = cuda_medians_ms(fns, calls=DCT_CALLS)
    # SciPy on the host is the reference (CuPy has no types 1 and 4): 64 rows are enough
    reference = getattr(scipy.fft, family)(x[:64].double().cpu().numpy(), type=kind)
    got = plan.execute()[:64].double().cpu().numpy()
    err = abs(got - reference).max() / abs(reference).max()
    plan.free()
    return [label, num(ms["plan"]), num(ms["stateless"]), num(ms.get("cupyx")),
            num(ms["cupyx"] / ms["plan"] if "cupyx" in ms else None), num(rfft_ms), num(ms["plan"] / rfft_ms),
            num(floor), num(ms["plan"] / floor), num(float(err))]


def dct_table() -> Table:
    """DCT/DST of 4096x4096 along the last axis: gpmath (plan and stateless) vs cupyx, vs rfft and
    vs the bare cuFFT transform each algorithm needs (``cuFFT floor``: type 1's FFT at N = 4096 has
    8190 or 8194 points); then types 1 where their FFT has a power-of-two length (DCT-I of 4097
    points and DST-I of 4095: 8192), beside the rfft of their own rows (the issue's "rfft of the
    same array")."""
    t = Table(f"DCT/DST 4096x4096 last axis (ms a call, {DCT_CALLS} back to back a timing; targets: cupyx/plan >= 1 for types 2, 3; plan/rfft <= 2 for types 1, 4)",
              ["case", "gpmath plan", "gpmath fn", "cupyx", "cupyx/plan", "rfft", "plan/rfft", "cuFFT floor",
               "plan/floor", "rel err vs SciPy"],
              times=("gpmath plan", "gpmath fn", "cupyx", "rfft", "cuFFT floor"))
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(4096, 4096, dtype=dtype, device="cuda")
        cx = None if cupy is None else cupy.asarray(x)
        rfft_ms = cuda_medians_ms({"rfft": lambda: gfft.rfft(x)}, calls=DCT_CALLS)["rfft"]
        name = str(dtype)[6:]
        for family, planner in (("dct", DCT), ("dst", DST)):
            for kind in (1, 2, 3, 4):
                t.rows.append(_dct_row(f"{family.upper()}-{kind} {name}", family, planner, kind, x, cx, rfft_ms))
        for family, planner, n in (("dct", DCT, 4097), ("dst", DST, 4095)):  # an rfft of 8192 points
            y = torch.randn(4096, n, dtype=dtype, device="cuda")
            same_ms = cuda_medians_ms({"rfft": lambda: gfft.rfft(y)}, calls=DCT_CALLS)["rfft"]  # (the same array's)
            t.rows.append(_dct_row(f"{family.upper()}-1 {name} N={n}", family, planner, 1, y, None, same_ms))
        _free_cupy_pool()
    return t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="256^3 instead of 512^3 for the 3-D case")
    parser.add_argument("--per-call", action="store_true", help="the per-call table alone")
    parser.add_argument("--dct", action="store_true", help="the DCT/DST table (after the per-call one) alone")
    add_output_options(parser)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  "
          f"cupy {getattr(cupy, '__version__', 'not installed')}", flush=True)
    tables = [small_loop()]
    if args.dct:
        tables.append(dct_table())
    elif not args.per_call:
        tables.append(large())
    emit(tables, args)


if __name__ == "__main__":
    main()
