"""Distributed FFT against SciPy, run on every rank: ``mpirun -n N python tests/distributed_fft_check.py``.

Each rank builds the same random global array (NumPy, seeded), takes its part, transforms it with
gpmath.distributed.fft (cuFFTMp), and rank 0 gathers the parts and compares the assembled result
with ``scipy.fft`` in float64 (relative error, max norm: below 1e-5 in single and 1e-12 in double
precision).  CuPy and torch parts, complex64/complex128 and float32/float64, 2-D and 3-D, sizes
not divisible by the rank count, slabs and boxes, both directions, plans reused through
``reset_operands``, and an argument error that must reach every rank.

It prints what a failed run needs to be understood from its log alone: versions, library paths,
the NVSHMEM environment, each step on each rank (``[rank r] ...``), and one line per case on rank
0; a case that hangs longer than ``GPMATH_CHECK_TIMEOUT`` seconds (default 240) dumps every
thread's stack and exits.  Ends with ``distributed FFT: all cases passed on N rank(s)``.
Used by tests/test_distributed_gpu.py (1 rank, and 2 ranks where two GPUs are visible).
"""

from __future__ import annotations

import faulthandler
import os
import platform
import sys
import time
import traceback

import numpy as np
import scipy.fft
from mpi4py import MPI

import gpmath.distributed as gd

TOL = {"complex64": 1e-5, "float32": 1e-5, "complex128": 1e-12, "float64": 1e-12}
COMM = MPI.COMM_WORLD
TIMEOUT = float(os.environ.get("GPMATH_CHECK_TIMEOUT", "240"))


def say(message: str, everyone: bool = False) -> None:
    if everyone or COMM.rank == 0:
        print(f"[rank {COMM.rank}] {message}" if everyone else message, flush=True)


def diagnostics() -> bool:
    """Versions, paths and environment; False where a library cannot be loaded."""
    say(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"mpi4py {sys.modules['mpi4py'].__version__}, {COMM.size} rank(s)")
    say("MPI: " + MPI.Get_library_version().splitlines()[0].strip())
    for name in ("cupy", "torch"):
        try:
            module = __import__(name)
            say(f"{name} {module.__version__}")
        except ImportError:
            say(f"{name}: not installed (its cases are skipped)")
    names = ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "GPMATH_NVSHMEM_BOOTSTRAP")
    env = {k: v for k, v in os.environ.items() if k.startswith("NVSHMEM_") or k in names}
    say(f"environment: {env}")
    from gpmath._bindings import cufftmp, nvshmem

    ok = True
    for label, library, version in (("NVSHMEM host", nvshmem.library, nvshmem.version),
                                    ("cuFFTMp", cufftmp.library, cufftmp.get_version)):
        try:
            say(f"{label}: {library.cdll._name}, version {version()}")
        except Exception as exc:  # say what is missing, on every rank
            say(f"{label} cannot be loaded: {exc}", everyone=True)
            ok = False
    return ok


def random(rng, shape, dtype: str) -> np.ndarray:
    x = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def to_device(x: np.ndarray, package: str, device: int, layout: str = "C"):
    """*x* on the GPU; ``layout="F"`` gives a non-contiguous (column-major) part."""
    if package == "cupy":
        import cupy

        with cupy.cuda.Device(device):
            return cupy.asfortranarray(cupy.asarray(x)) if layout == "F" else cupy.asarray(x)
    import torch

    if layout == "F":
        return torch.from_numpy(np.ascontiguousarray(x.T)).to(f"cuda:{device}").T
    return torch.from_numpy(np.ascontiguousarray(x)).to(f"cuda:{device}")


def to_host(x) -> np.ndarray:
    return x.get() if type(x).__module__.startswith("cupy") else x.cpu().numpy()


def gather(part, box: gd.Box, shape) -> np.ndarray | None:
    """The global array on rank 0 from every rank's part and box."""
    parts = COMM.gather((box.lower, box.upper, to_host(part)), root=0)
    if COMM.rank != 0:
        return None
    out = None
    for lower, upper, data in parts:
        out = np.zeros(shape, data.dtype) if out is None else out
        out[gd.Box(lower, upper).slices] = data
    return out


def compare(name: str, part, box: gd.Box, shape, reference: np.ndarray, dtype: str) -> bool:
    whole = gather(part, box, shape)
    ok = True
    if COMM.rank == 0:
        if whole.shape != reference.shape:
            say(f"{name}: shape {whole.shape} but SciPy's is {reference.shape} FAILED")
            ok = False
        else:
            error = np.abs(whole - reference).max() / max(np.abs(reference).max(), 1e-300)
            ok = bool(error < TOL[dtype])
            say(f"{name}: relative error {error:.2e} (tolerance {TOL[dtype]:.0e}) {'ok' if ok else 'FAILED'}")
    return COMM.bcast(ok, root=0)


def pencils(shape, axes=(0, 1)) -> list[gd.Box]:
    """Every rank's box of a most-square process grid over two axes."""
    p0, p1 = gd.process_grid(COMM.size)
    boxes = []
    for r in range(COMM.size):
        a, b = gd.Slab(axes[0]).box(shape, r // p1, p0), gd.Slab(axes[1]).box(shape, r % p1, p1)
        boxes.append(a.intersect(b))
    return boxes


def case_slab_c2c(ctx, rng, package, dtype, shape, axis, norm=None, layout="C") -> bool:
    X = random(rng, shape, dtype)
    dist = gd.Slab(axis)
    box = dist.box(shape, ctx.rank, ctx.size)
    x = to_device(X[box.slices], package, ctx.device_id, layout)
    name = f"{package} {dtype} {shape} {dist!r}{' ' + layout + '-order' if layout != 'C' else ''} norm={norm}"
    say(f"{name}: fftn", everyone=True)
    y = gd.fft.fftn(x, dist, norm=norm)
    out = gd.Slab(1 - axis)
    ok = compare(f"{name} fftn", y, out.box(shape, ctx.rank, ctx.size), shape,
                 scipy.fft.fftn(X.astype(np.complex128), norm=norm), dtype)
    say(f"{name}: ifftn back", everyone=True)
    z = gd.fft.ifftn(y, out, norm=norm)
    return compare(f"{name} ifftn(fftn)", z, box, shape, X.astype(np.complex128), dtype) and ok


def case_boxes_c2c(ctx, rng, package, dtype, shape, norm=None) -> bool:
    X = random(rng, shape, dtype)
    ins = pencils(shape, (0, 1))
    outs = pencils(shape, (1, 2)) if len(shape) == 3 else ins
    name = f"{package} {dtype} {shape} boxes {ins[ctx.rank]} -> {outs[ctx.rank]} norm={norm}"
    x = to_device(X[ins[ctx.rank].slices], package, ctx.device_id)
    say(f"{name}: FFT plan", everyone=True)
    with gd.fft.FFT(x, ins[ctx.rank], out_box=outs[ctx.rank], norm=norm) as plan:
        plan.plan()
        assert plan.out_box == outs[ctx.rank] and plan.shape == shape, plan
        y = plan.execute()
        ok = compare(f"{name} forward", y, outs[ctx.rank], shape, scipy.fft.fftn(X.astype(np.complex128), norm=norm),
                     dtype)
        z = plan.execute(direction="inverse")
        ok &= compare(f"{name} inverse", z, outs[ctx.rank], shape, scipy.fft.ifftn(X.astype(np.complex128), norm=norm),
                      dtype)
    return ok


def case_plan_reuse(ctx, rng, package, dtype, shape) -> bool:
    X1, X2 = random(rng, shape, dtype), random(rng, shape, dtype)
    box = gd.Slab(0).box(shape, ctx.rank, ctx.size)
    name = f"{package} {dtype} {shape} Slab(0) plan reuse"
    say(f"{name}: plan", everyone=True)
    with gd.fft.FFT(to_device(X1[box.slices], package, ctx.device_id), gd.Slab(0)) as plan:
        plan.plan()
        first = plan.execute()
        plan.reset_operands(to_device(X2[box.slices], package, ctx.device_id, "F"))
        second = plan.execute()
        back = plan.execute(direction="inverse")
        out = plan.out_box
    ok = compare(f"{name} execute 1", first, out, shape, scipy.fft.fftn(X1.astype(np.complex128)), dtype)
    ok &= compare(f"{name} reset_operands, execute 2", second, out, shape, scipy.fft.fftn(X2.astype(np.complex128)),
                  dtype)
    return compare(f"{name} execute inverse", back, out, shape, scipy.fft.ifftn(X2.astype(np.complex128)), dtype) and ok


def case_symmetric_operand(ctx, rng, package, dtype, shape) -> bool:
    """Operands filled in the plan's symmetric buffer and results read there (no copies)."""
    box = gd.Slab(0).box(shape, ctx.rank, ctx.size)
    name = f"{package} {dtype} {shape} Slab(0) operand in symmetric memory, copy=False"
    say(f"{name}: plan", everyone=True)
    ok = True
    with gd.fft.FFT(to_device(np.zeros(box.shape, dtype), package, ctx.device_id), gd.Slab(0)) as plan:
        buffer = plan.operand
        plan.reset_operands(buffer)
        for step in range(2):  # in place: refilled before each execution
            X = random(rng, shape, dtype)
            part = to_device(X[box.slices], package, ctx.device_id)
            if package == "cupy":
                buffer[...] = part
            else:
                buffer.copy_(part)
            y = plan.execute(copy=False)
            ok &= compare(f"{name}, execute {step + 1}", y, plan.out_box, shape,
                          scipy.fft.fftn(X.astype(np.complex128)), dtype)
    return ok


def case_real(ctx, rng, package, dtype, shape, dist_kind) -> bool:
    U = random(rng, shape, dtype)
    if dist_kind == "slab":
        dist, box = gd.Slab(0), gd.Slab(0).box(shape, ctx.rank, ctx.size)
    else:  # rows as a Box spanning the last axis: the default output box keeps the rows
        box = gd.Slab(0).box(shape, ctx.rank, ctx.size)
        dist = box
    name = f"{package} {dtype} {shape} {dist_kind} rfftn/irfftn"
    say(f"{name}: rfftn", everyone=True)
    with gd.fft.FFT(to_device(U[box.slices], package, ctx.device_id), dist) as plan:
        k = plan.plan().execute()
        k_box, k_dist, k_shape = plan.out_box, plan.out_distribution, plan.out_shape
    ok = compare(f"{name} rfftn", k, k_box, k_shape, scipy.fft.rfftn(U.astype(np.float64)), dtype)
    say(f"{name}: irfftn", everyone=True)
    u = gd.fft.irfftn(k, k_dist, s=shape, out_box=None if dist_kind == "slab" else box)
    return compare(f"{name} irfftn(rfftn)", u, box, shape, U.astype(np.float64), dtype) and ok


def case_errors(ctx, package) -> bool:
    """Wrong arguments on one rank must raise a ValueError on every rank, not hang."""
    last = ctx.rank == ctx.size - 1
    shape = (9, 6)
    box = gd.Slab(0).box(shape, ctx.rank, ctx.size)
    trials = [("float32 part on the last rank", "dtype",
               np.zeros(box.shape, np.float32 if last else np.complex64))]
    if ctx.size > 1:  # one column too many on the last rank
        trials.append(("7 columns on the last rank", "every other axis",
                       np.zeros((box.shape[0], 7 if last else 6), np.complex64)))
    ok = True
    for label, expected, part in trials:
        try:
            gd.fft.fftn(to_device(part, package, ctx.device_id), gd.Slab(0))
        except ValueError as exc:
            say(f"{label}: ValueError here: {exc}", everyone=True)
            ok &= expected in str(exc)
        else:
            say(f"{label}: no error raised", everyone=True)
            ok = False
    return bool(COMM.allreduce(ok, op=MPI.LAND))


def cases(packages: list[str]):
    p0, p1 = (packages + packages)[:2]
    yield "slab c2c 3-D", case_slab_c2c, (p0, "complex64", (17, 14, 9), 0)
    yield "slab c2c 2-D", case_slab_c2c, (p1, "complex128", (19, 11), 1, "ortho")
    yield "slab c2c 2-D strided", case_slab_c2c, (p1, "complex64", (13, 10), 0, None, "F")
    yield "slab c2c 3-D axis 1", case_slab_c2c, (p0, "complex128", (7, 11, 6), 1, "forward")
    yield "boxes c2c 3-D", case_boxes_c2c, (p1, "complex128", (11, 9, 7), "forward")
    yield "boxes c2c 2-D", case_boxes_c2c, (p0, "complex64", (15, 13))
    yield "plan reuse", case_plan_reuse, (p0, "complex128", (9, 10, 11))
    yield "plan reuse torch", case_plan_reuse, (p1, "complex64", (12, 7))
    yield "symmetric operand", case_symmetric_operand, (p0, "complex64", (10, 6, 5))
    yield "symmetric operand torch", case_symmetric_operand, (p1, "complex128", (9, 8))
    yield "real slab 3-D", case_real, (p0, "float64", (12, 10, 9), "slab")
    yield "real box 2-D", case_real, (p1, "float32", (15, 8), "box")
    yield "errors", lambda ctx, rng, package: case_errors(ctx, package), (p0,)


def main() -> int:
    faulthandler.enable()
    if not diagnostics():
        say("cannot run: see the lines above (LD_LIBRARY_PATH must reach libcufftMp.so.12 and libnvshmem_host.so.3)")
        return 2
    packages = [p for p in ("cupy", "torch") if p in sys.modules]
    if not packages:
        say("cannot run: neither cupy nor torch is installed")
        return 2
    ctx = gd.initialize(COMM)
    say(f"initialize: {ctx!r}", everyone=True)
    for package in packages:  # the packages' current device: this rank's GPU
        module = sys.modules[package]
        module.cuda.Device(ctx.device_id).use() if package == "cupy" else module.cuda.set_device(ctx.device_id)
    rng = np.random.default_rng(2024)  # the same global arrays on every rank
    ok, failed = True, []
    for label, run, args in cases(packages):
        faulthandler.dump_traceback_later(TIMEOUT, exit=True)
        start = time.perf_counter()
        try:
            passed = bool(run(ctx, rng, *args))
        except Exception:  # one rank's traceback; the others raise too (the calls are collective)
            say(f"{label}: exception\n{traceback.format_exc()}", everyone=True)
            passed = False
        faulthandler.cancel_dump_traceback_later()
        passed = bool(COMM.allreduce(passed, op=MPI.LAND))
        say(f"== {label}: {'passed' if passed else 'FAILED'} ({time.perf_counter() - start:.1f} s)")
        ok &= passed
        if not passed:
            failed.append(label)
    gd.finalize()
    say("finalize: ok", everyone=True)
    if COMM.rank == 0:
        verdict = "all cases passed" if ok else f"FAILURES in {failed}"
        print(f"distributed FFT: {verdict} on {COMM.size} rank(s)", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
