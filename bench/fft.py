"""FFT benchmark on the device: gpmath beside torch.fft and cupy.fft, measured in the same run.

Run: PYTHONPATH=$PWD python3 bench/fft.py [--quick] [--per-call] [--dct]
Large cases: CUDA-event medians after warm-up (interleaved rounds), random data, effective
TB/s (bytes read + written per second) against a device-to-device copy measured in the same
run; ratios are peer time / gpmath time (> 1: gpmath is faster).  Small case: per-call cost of
a 1024-point complex64 FFT in a tight loop (FFT.execute, gpmath.fft.fft, torch, cupy).
DCT section (``--dct``): DCT/DST types 1-4 of 4096x4096 float32/float64 along the last axis
(stateless and ``DCT``/``DST`` plans) against cupyx.scipy.fft.dct (types 2, 3; target: ratio
>= 1.0) and against gpmath's rfft of the same array (types 1, 4; target: at most 2x).
"""

from __future__ import annotations

import sys

import cupy
import cupyx.scipy.fft
import scipy.fft
import torch

from gpmath import fft as gfft
from gpmath.fft import DCT, DST, FFT

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _timing import cuda_medians_ms, fmt, per_call_us, table  # noqa: E402

QUICK = "--quick" in sys.argv
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
    cx = cupy.asarray(x)
    if name == "fftn":
        return {"torch": lambda: torch.fft.fftn(x, dim=axes), "cupy": lambda: cupy.fft.fftn(cx, axes=axes)}
    torch_fn, cupy_fn = getattr(torch.fft, name), getattr(cupy.fft, name)
    return {"torch": lambda: torch_fn(x, dim=axes[0]), "cupy": lambda: cupy_fn(cx, axis=axes[0])}


def large() -> tuple[list[list], float]:
    copy = _copy_tbps()
    rows = []
    for label, shape, dtype, name, axes in CASES:
        x = torch.randn(*shape, dtype=dtype, device="cuda")
        plan = FFT(x, axes=axes).plan()
        stateless = getattr(gfft, name)
        out = plan.execute()
        kwargs = {"axes": axes} if name == "fftn" else {"axis": axes[0]}
        fns = {**_peers(name, x, axes), "plan": plan.execute, "stateless": lambda: stateless(x, **kwargs)}
        err = (out - fns["torch"]()).abs().max() / out.abs().max()
        t = cuda_medians_ms(fns)
        plan.free()
        moved = x.numel() * x.element_size() + out.numel() * out.element_size()
        tbps = moved / t["plan"] / 1e9
        rows.append([label, fmt(t["torch"]), fmt(t["cupy"]), fmt(t["plan"]), fmt(t["stateless"]), fmt(tbps),
                     fmt(tbps / copy), fmt(t["torch"] / t["plan"]), fmt(t["cupy"] / t["plan"]), fmt(float(err))])
        cupy.get_default_memory_pool().free_all_blocks()
    return rows, copy


def small_loop() -> list[list]:
    x = torch.randn(1024, dtype=torch.complex64, device="cuda")
    cx = cupy.asarray(x)
    plan = FFT(x).plan()
    results = per_call_us({
        "torch.fft.fft(x)": lambda: torch.fft.fft(x),
        "cupy.fft.fft(x)": lambda: cupy.fft.fft(cx),
        "gpmath FFT.execute()": plan.execute,
        "gpmath reset_unchecked+execute()": lambda: (plan.reset_operands_unchecked(x), plan.execute()),
        "gpmath.fft.fft(x)": lambda: gfft.fft(x),
    })
    plan.free()
    base = results["torch.fft.fft(x)"]
    return [[name, fmt(us), fmt(base / us)] for name, us in results.items()]


def dct_rows() -> list[list]:
    """DCT/DST of 4096x4096 along the last axis: gpmath (plan and stateless) vs cupyx and vs rfft."""
    rows = []
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(4096, 4096, dtype=dtype, device="cuda")
        cx = cupy.asarray(x)
        rfft_ms = cuda_medians_ms({"rfft": lambda: gfft.rfft(x)})["rfft"]
        for family, planner in (("dct", DCT), ("dst", DST)):
            for kind in (1, 2, 3, 4):
                plan = planner(x, type=kind, axes=-1).plan()
                fn = getattr(gfft, family)
                fns = {"plan": plan.execute, "stateless": lambda: fn(x, type=kind)}
                if kind in (2, 3):
                    fns["cupyx"] = lambda: getattr(cupyx.scipy.fft, family)(cx, type=kind)
                t = cuda_medians_ms(fns)
                # SciPy on the host is the reference (CuPy has no types 1 and 4): 64 rows are enough
                reference = getattr(scipy.fft, family)(x[:64].double().cpu().numpy(), type=kind)
                got = plan.execute()[:64].double().cpu().numpy()
                err = abs(got - reference).max() / abs(reference).max()
                plan.free()
                cupyx_ratio = fmt(t["cupyx"] / t["plan"]) if "cupyx" in t else "-"
                rows.append([f"{family.upper()}-{kind} {str(dtype)[6:]}", fmt(t["plan"]), fmt(t["stateless"]),
                             fmt(t.get("cupyx", float("nan"))), cupyx_ratio, fmt(rfft_ms),
                             fmt(t["plan"] / rfft_ms), fmt(float(err))])
        cupy.get_default_memory_pool().free_all_blocks()
    return rows


def main() -> None:
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  cupy {cupy.__version__}", flush=True)
    print(table("1024-pt c64 FFT per call (us; ratio = torch's / this)", ["call", "us/call", "torch/this"], small_loop()),
          flush=True)
    if "--per-call" in sys.argv:  # the per-call table alone (e.g. with several GPUs visible)
        return
    if "--dct" in sys.argv:  # the DCT/DST table alone
        print(table("DCT/DST 4096x4096 last axis (ms; targets: cupyx/plan >= 1 for types 2, 3; plan/rfft <= 2 "
                    "for types 1, 4)", ["case", "gpmath plan", "gpmath fn", "cupyx", "cupyx/plan", "rfft",
                                         "plan/rfft", "rel err vs SciPy"], dct_rows()), flush=True)
        return
    rows, copy = large()
    print(table(f"large FFTs (ms; device copy {copy:.2f} TB/s; ratios = peer/gpmath plan)",
                ["case", "torch", "cupy", "gpmath plan", "gpmath fn", "TB/s", "of copy", "torch/plan", "cupy/plan",
                 "rel err vs torch"], rows), flush=True)


if __name__ == "__main__":
    main()
