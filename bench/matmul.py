"""Matmul benchmark on the device: gpmath beside torch and cupy, measured in the same run.

Run: PYTHONPATH=$PWD python3 bench/matmul.py [--quick] [--per-call] [--json PATH] [--csv PATH] [--plot DIR]
Prints ratio tables (time of the peer / time of gpmath: > 1 means gpmath is faster).  Needs torch
with CUDA (the operands are torch tensors); CuPy's columns are left out where it is not installed.
"""

from __future__ import annotations

import argparse
import math
import sys

import torch

import gpmath
from gpmath.blas import Matmul

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _cli import Table, add_output_options, emit, num, optional_module  # noqa: E402
from _timing import cuda_medians_ms, per_call_us  # noqa: E402

cupy = optional_module("cupy")
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


def large(size: int) -> Table:
    t = Table("large GEMM (ms; ratios = peer/gpmath)", ["case", "TFLOP/s", "torch", "cupy", "gpmath plan", "gpmath tuned",
                                                        "torch/plan", "torch/tuned", "cupy/tuned"],
              times=("torch", "cupy", "gpmath plan", "gpmath tuned"))
    for name, dtype in TORCH_DTYPES.items():
        a, b, c = _operands(size, size, size, dtype)
        plan, tuned = _plans(a, b, "tf32" if name == "tf32" else None)

        def torch_mm():
            _tf32(name == "tf32")
            torch.matmul(a, b, out=c)
            _tf32(False)

        fns = {"torch": torch_mm, "plan": lambda: plan.execute(out=c), "tuned": lambda: tuned.execute(out=c)}
        if cupy is not None and name in ("f16", "f32", "f64"):
            ca, cb, cc = (cupy.asarray(x) for x in (a, b, c))
            fns["cupy"] = lambda: cupy.matmul(ca, cb, out=cc)
        ms = cuda_medians_ms(fns)
        plan.free(), tuned.free()
        best = min(ms["plan"], ms["tuned"])
        t.rows.append([f"{size}^3 {name}", num(2 * size**3 / best / 1e9), num(ms["torch"]), num(ms.get("cupy")),
                       num(ms["plan"]), num(ms["tuned"]), num(ms["torch"] / ms["plan"]), num(ms["torch"] / ms["tuned"]),
                       num(ms["cupy"] / best if "cupy" in ms else None)])
    return t


ODD = [(8192, 64, 8192), (64, 8192, 8192), (4097, 4097, 4097), (1000, 1000, 1000), (16384, 16384, 128), (128, 128, 65536),
       (3000, 5000, 70), (777, 1234, 4321)]  # m, k, n: issue 19's shapes (with batched 512 x 128^3 below)


def odd() -> Table:
    t = Table("odd shapes (ms; ratios = torch/gpmath)", ["case", "torch", "plan", "tuned", "torch/plan", "torch/tuned"],
              times=("torch", "plan", "tuned"))
    cases = [(s, None) for s in ODD] + [((128, 128, 128), 512)]
    for (m, k, n), batch in cases:
        for name in ("f32", "bf16"):
            a, b, c = _operands(m, k, n, TORCH_DTYPES[name], batch)
            plan, tuned = _plans(a, b)
            ms = cuda_medians_ms({"torch": lambda: torch.matmul(a, b, out=c), "plan": lambda: plan.execute(out=c),
                                  "tuned": lambda: tuned.execute(out=c)})
            plan.free(), tuned.free()
            label = f"{batch}x{m}x{k}x{n}" if batch else f"{m}x{k}x{n}"
            t.rows.append([f"{label} {name}", num(ms["torch"]), num(ms["plan"]), num(ms["tuned"]),
                           num(ms["torch"] / ms["plan"]), num(ms["torch"] / ms["tuned"])])
    tuned_ratios = [row[5] for row in t.rows if isinstance(row[5], float)]
    if tuned_ratios:  # issue 19's targets: geometric mean >= 1.05, none below 0.95
        geomean = math.exp(sum(math.log(r) for r in tuned_ratios) / len(tuned_ratios))
        t.rows += [["geometric mean", None, None, None, None, num(geomean)],
                   ["lowest", None, None, None, None, num(min(tuned_ratios))]]
    return t


def small_loop() -> Table:
    a, b, c = _operands(64, 64, 64, torch.float32)
    plan = Matmul(a, b).plan()
    calls = {
        "torch.matmul(a, b, out=c)": lambda: torch.matmul(a, b, out=c),
        "torch.matmul(a, b)": lambda: torch.matmul(a, b),
        "gpmath Matmul.execute(out=c)": lambda: plan.execute(out=c),
        "gpmath Matmul.execute()": lambda: plan.execute(),
        "gpmath reset_unchecked+execute(out=c)": lambda: (plan.reset_operands_unchecked(a=a), plan.execute(out=c)),
        "gpmath.matmul(a, b)": lambda: gpmath.matmul(a, b),
        "gpmath.matmul(a, b, out=c)": lambda: gpmath.matmul(a, b, out=c),
    }
    if cupy is not None:
        ca, cb, cc = (cupy.asarray(x) for x in (a, b, c))
        calls["cupy.matmul(a, b, out=c)"] = lambda: cupy.matmul(ca, cb, out=cc)
    results = per_call_us(calls)
    plan.free()
    base, stateless = results["torch.matmul(a, b, out=c)"], results["torch.matmul(a, b)"]
    return Table("64x64 f32 per call (us; ratios = torch's / this)", ["call", "us/call", "torch out=/this", "torch/this"],
                 [[name, num(us), num(base / us), num(stateless / us)] for name, us in results.items()],
                 times=("us/call",), unit="us")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4096^3 instead of 8192^3 for the large GEMMs")
    parser.add_argument("--per-call", action="store_true", help="the per-call table alone")
    add_output_options(parser)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  "
          f"cupy {getattr(cupy, '__version__', 'not installed')}", flush=True)
    tables = [small_loop()]
    if not args.per_call:
        tables += [large(4096 if args.quick else 8192), odd()]
    emit(tables, args)


if __name__ == "__main__":
    main()
