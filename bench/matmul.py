"""Matmul benchmark on the device: gpmath beside torch and cupy, measured in the same run.

Run: PYTHONPATH=$PWD python3 bench/matmul.py [--quick] [--per-call]
Prints ratio tables (time of the peer / time of gpmath: > 1 means gpmath is faster).
"""

from __future__ import annotations

import sys

import cupy
import torch

import gpmath
from gpmath.blas import Matmul

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _timing import cuda_medians_ms, fmt, per_call_us, table  # noqa: E402

QUICK = "--quick" in sys.argv
TORCH_DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32, "tf32": torch.float32, "f64": torch.float64}


def _tf32(on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on


def _operands(m, k, n, dtype, batch=None):
    lead = (batch,) if batch else ()
    a = torch.randn(*lead, m, k, device="cuda").to(dtype)
    b = torch.randn(*lead, k, n, device="cuda").to(dtype)
    return a, b, torch.empty(*lead, m, n, device="cuda", dtype=dtype)


def _plans(a, b, compute=None):
    """A heuristic plan and an autotuned plan of the same problem."""
    plan = Matmul(a, b, compute=compute).plan()
    tuned = Matmul(a, b, compute=compute).plan()
    tuned.autotune(iterations=5)
    return plan, tuned


def large(size: int) -> list[list]:
    rows = []
    for name, dtype in TORCH_DTYPES.items():
        a, b, c = _operands(size, size, size, dtype)
        plan, tuned = _plans(a, b, "tf32" if name == "tf32" else None)

        def torch_mm():
            _tf32(name == "tf32")
            torch.matmul(a, b, out=c)
            _tf32(False)

        fns = {"torch": torch_mm, "plan": lambda: plan.execute(out=c), "tuned": lambda: tuned.execute(out=c)}
        if name in ("f16", "f32", "f64"):
            ca, cb, cc = (cupy.asarray(x) for x in (a, b, c))
            fns["cupy"] = lambda: cupy.matmul(ca, cb, out=cc)
        t = cuda_medians_ms(fns)
        plan.free(), tuned.free()
        best = min(t["plan"], t["tuned"])
        rows.append([f"{size}^3 {name}", fmt(2 * size**3 / best / 1e9), fmt(t["torch"]), fmt(t.get("cupy")), fmt(t["plan"]),
                     fmt(t["tuned"]), fmt(t["torch"] / t["plan"]), fmt(t["torch"] / t["tuned"]),
                     fmt(t["cupy"] / best if "cupy" in t else None)])
    return rows


ODD = [(8192, 64, 8192), (64, 8192, 8192), (4097, 4097, 4097), (1000, 1000, 1000), (16384, 16384, 128), (128, 128, 65536)]


def odd() -> list[list]:
    rows = []
    cases = [(s, None) for s in ODD] + [((128, 128, 128), 512)]
    for (m, k, n), batch in cases:
        for name in ("f32", "bf16"):
            a, b, c = _operands(m, k, n, TORCH_DTYPES[name], batch)
            plan, tuned = _plans(a, b)
            t = cuda_medians_ms({"torch": lambda: torch.matmul(a, b, out=c), "plan": lambda: plan.execute(out=c),
                                 "tuned": lambda: tuned.execute(out=c)})
            plan.free(), tuned.free()
            label = f"{batch}x{m}x{k}x{n}" if batch else f"{m}x{k}x{n}"
            rows.append([f"{label} {name}", fmt(t["torch"]), fmt(t["plan"]), fmt(t["tuned"]),
                         fmt(t["torch"] / t["plan"]), fmt(t["torch"] / t["tuned"])])
    return rows


def small_loop() -> list[list]:
    a, b, c = _operands(64, 64, 64, torch.float32)
    ca, cb, cc = (cupy.asarray(x) for x in (a, b, c))
    plan = Matmul(a, b).plan()
    results = per_call_us({
        "torch.matmul(a, b, out=c)": lambda: torch.matmul(a, b, out=c),
        "torch.matmul(a, b)": lambda: torch.matmul(a, b),
        "cupy.matmul(a, b, out=c)": lambda: cupy.matmul(ca, cb, out=cc),
        "gpmath Matmul.execute(out=c)": lambda: plan.execute(out=c),
        "gpmath Matmul.execute()": lambda: plan.execute(),
        "gpmath reset_unchecked+execute(out=c)": lambda: (plan.reset_operands_unchecked(a=a), plan.execute(out=c)),
        "gpmath.matmul(a, b)": lambda: gpmath.matmul(a, b),
        "gpmath.matmul(a, b, out=c)": lambda: gpmath.matmul(a, b, out=c),
    })
    plan.free()
    base, stateless = results["torch.matmul(a, b, out=c)"], results["torch.matmul(a, b)"]
    return [[name, fmt(us), fmt(base / us), fmt(stateless / us)] for name, us in results.items()]


def main() -> None:
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  cupy {cupy.__version__}", flush=True)
    print(table("64x64 f32 per call (us; ratios = torch's / this)", ["call", "us/call", "torch out=/this", "torch/this"],
                small_loop()), flush=True)
    if "--per-call" in sys.argv:  # the per-call table alone
        return
    print(table("large GEMM (ms; ratios = peer/gpmath)", ["case", "TFLOP/s", "torch", "cupy", "gpmath plan", "gpmath tuned",
                                                          "torch/plan", "torch/tuned", "cupy/tuned"], large(4096 if QUICK else 8192)), flush=True)
    print(table("odd shapes (ms; ratios = torch/gpmath)", ["case", "torch", "plan", "tuned", "torch/plan", "torch/tuned"], odd()), flush=True)


if __name__ == "__main__":
    main()
