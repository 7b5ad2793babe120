"""A table of bad and edge cases, each checked against NumPy/SciPy.

Every row calls one gpmath function on operands built for a package (NumPy and torch CPU here;
torch CUDA and CuPy rows are gpu-marked) and expects either

* ``VALUE``: the NumPy/SciPy reference on the same float64 data (dtype: what NumPy/SciPy
  return for the operands' dtype; shape, package, device and value as in ``test_oracle.compare``),
* ``Raises(T, fragment)``: ``T`` with a message matching ``fragment`` — and, where the row names
  a reference call, that NumPy/SciPy raise ``T`` (or a base class of it) for the same input,
* or a named check (package kept, 0-d results, ``plan.info()``).
"""

from __future__ import annotations

import functools

import multiprocessing
import re
import subprocess
import sys
import textwrap
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import gpmath
from gpmath import fft as gfft
from gpmath import linalg as gla
from gpmath.blas import Matmul

from test_oracle import Target, compare, where

ALL = ("numpy", "torch", "torch-cuda", "cupy")
TORCHES = ("torch", "torch-cuda")
DEVICE_PACKAGES = ("torch-cuda", "cupy")
FLOATS = ("float32", "float64", "complex64", "complex128")
FINITE = r"(?i)(inf|nan|finite)"

RNG = np.random.default_rng(20261202)


# ----------------------------------------------------------------------------------------------
# Rows

class Arg(NamedTuple):
    """An operand: float64 values, the dtype and layout (see test_oracle.Target) it is given in."""
    values: np.ndarray
    dtype: str = "float64"
    layout: str = "C"


class Raises(NamedTuple):
    type: type
    fragment: str


VALUE = "value"


class Row(NamedTuple):
    id: str
    gp: Callable  # gpmath call on the converted operands (and execution=)
    ref: Callable | None  # NumPy/SciPy call on NumPy operands
    args: tuple
    expect: Any = VALUE
    packages: tuple = ALL
    execution: str | None = None
    scale: float = 10.0
    isolated: bool = False  # run in a forked child: the call may never return (LAPACK on NaN/inf)
    same_nonfinite: bool = True  # False: where NumPy/SciPy give NaN or inf, any NaN or inf will do


def rand(shape, dtype="float64"):
    x = RNG.uniform(-1, 1, shape)
    return x + 1j * RNG.uniform(-1, 1, shape) if np.dtype(dtype).kind == "c" else x


def general(n, dtype="float64", batch=()):
    return rand(batch + (n, n), dtype) + 2 * max(n, 1) * np.eye(n)


def spd(n, dtype="float64", batch=()):
    a = rand(batch + (n, n), dtype)
    return a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)


def herm(n, dtype="float64", batch=()):
    a = rand(batch + (n, n), dtype)
    return (a + np.conj(np.swapaxes(a, -1, -2))) / 2


def with_value(a, value, index=(0, 0)):
    a = np.array(a, copy=True)
    a[index] = value
    return a


SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])


def plan_run(cls, *operands, execution=None, **options):
    """Build, plan and execute (check=True) a solver planner; return its result."""
    with cls(*operands, execution=execution, **options) as plan:
        plan.plan()
        return plan.execute(check=True)


# ---- 1. big-endian NumPy arrays give the right numbers ---------------------------------------

UNIQUE = {  # name: (gpmath call, reference call, operand makers (n, dtype) -> float64 values)
    "matmul": (gpmath.matmul, np.matmul, (lambda n, t: rand((n, 3), t), lambda n, t: rand((3, n), t))),
    "fft": (gfft.fft, scipy.fft.fft, (lambda n, t: rand((2, n), t),)),
    "ifft": (gfft.ifft, scipy.fft.ifft, (lambda n, t: rand((2, n), t),)),
    "fft2": (gfft.fft2, scipy.fft.fft2, (lambda n, t: rand((3, n), t),)),
    "ifftn": (gfft.ifftn, scipy.fft.ifftn, (lambda n, t: rand((2, 3, n), t),)),
    "irfft": (gfft.irfft, scipy.fft.irfft, (lambda n, t: rand((2, n), t),)),
    "hfft": (gfft.hfft, scipy.fft.hfft, (lambda n, t: rand((2, n), t),)),
    "fftshift": (lambda x, **kw: gfft.fftshift(x), scipy.fft.fftshift, (lambda n, t: rand((3, n), t),)),
    "solve": (gla.solve, np.linalg.solve, (general, lambda n, t: rand((n,), t))),
    "solve_triangular": (lambda a, b, **kw: gla.solve_triangular(a, b, lower=True, **kw),
                         lambda a, b: scipy.linalg.solve_triangular(a, b, lower=True),
                         (lambda n, t: np.tril(general(n, t)), lambda n, t: rand((n, 2), t))),
    "cho_solve": (lambda c, b, **kw: gla.cho_solve((c, True), b, **kw),
                  lambda c, b: scipy.linalg.cho_solve((c, True), b),
                  (lambda n, t: np.linalg.cholesky(spd(n, t)), lambda n, t: rand((n,), t))),
    "lu_solve": (lambda a, b, **kw: gla.lu_solve(gla.lu_factor(a, **kw), b, **kw),
                 lambda a, b: scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b), (general, lambda n, t: rand((n,), t))),
    "cholesky": (gla.cholesky, scipy.linalg.cholesky, (spd,)),
    "inv": (gla.inv, scipy.linalg.inv, (general,)),
    "det": (gla.det, scipy.linalg.det, (general,)),
    "slogdet": (gla.slogdet, np.linalg.slogdet, (general,)),
    "eigvalsh": (gla.eigvalsh, scipy.linalg.eigvalsh, (herm,)),
    "eigh-w": (lambda a, **kw: gla.eigh(a, **kw)[0], lambda a: scipy.linalg.eigh(a)[0], (herm,)),
    "svdvals": (gla.svdvals, scipy.linalg.svdvals, (lambda n, t: rand((n + 1, n), t),)),
    "pinv": (gla.pinv, scipy.linalg.pinv, (lambda n, t: rand((n + 1, n), t),)),
    "lstsq-x": (lambda a, b, **kw: gla.lstsq(a, b, **kw)[0], lambda a, b: scipy.linalg.lstsq(a, b)[0],
                (lambda n, t: rand((n + 2, n), t), lambda n, t: rand((n + 2,), t))),
}
REAL_ONLY = {"rfft": (gfft.rfft, scipy.fft.rfft, (lambda n, t: rand((2, n), t),)),
             "rfftn": (gfft.rfftn, scipy.fft.rfftn, (lambda n, t: rand((2, n), t),)),
             "ihfft": (gfft.ihfft, scipy.fft.ihfft, (lambda n, t: rand((3, n), t),))}


def unique_rows(prefix, table, dtypes, layout, packages, n=4, execution=None):
    return [Row(f"{prefix}-{name}-{dtype}", gp, ref, tuple(Arg(make(n, dtype), dtype, layout) for make in makers),
                packages=packages, execution=execution)
            for name, (gp, ref, makers) in table.items() for dtype in dtypes]


BIG_ENDIAN = (unique_rows("bigendian", {k: v for k, v in UNIQUE.items() if k != "det"}, FLOATS, "bigendian", ("numpy",))
              + unique_rows("bigendian", {"det": UNIQUE["det"]}, ("float64", "complex128"), "bigendian", ("numpy",))
              + unique_rows("bigendian", REAL_ONLY, ("float32", "float64"), "bigendian", ("numpy",)))


# ---- 2. torch CPU tensors keep their package, for every linalg function and planner ----------

def keeps_package(target: Target, result) -> None:
    """Every array in *result* is of the operands' package and on their device."""
    arrays = [x for x in (result if isinstance(result, tuple) else (result,)) if hasattr(x, "shape")]
    assert arrays, f"no array in {result!r}"
    for x in arrays:
        assert where(x) == (target.module, target.device), f"{type(x).__module__} on {where(x)[1]}, wanted {target}"


LINALG_CALLS = {
    "solve": (gla.solve, (general, lambda n: rand((n,)))),
    "solve_triangular": (gla.solve_triangular, (lambda n: np.triu(general(n)), lambda n: rand((n, 2)))),
    "lu_factor": (gla.lu_factor, (general,)),
    "lu_solve": (lambda a, b, **kw: gla.lu_solve(gla.lu_factor(a, **kw), b, **kw), (general, lambda n: rand((n,)))),
    "cholesky": (gla.cholesky, (spd,)),
    "cho_factor": (gla.cho_factor, (spd,)),
    "cho_solve": (lambda a, b, **kw: gla.cho_solve(gla.cho_factor(a, **kw), b, **kw), (spd, lambda n: rand((n,)))),
    "qr": (gla.qr, (lambda n: rand((n + 1, n)),)),
    "eig": (gla.eig, (general,)),
    "eigvals": (gla.eigvals, (general,)),
    "eigh": (gla.eigh, (herm,)),
    "eigvalsh": (gla.eigvalsh, (herm,)),
    "svd": (gla.svd, (lambda n: rand((n + 1, n)),)),
    "svdvals": (gla.svdvals, (lambda n: rand((n + 1, n)),)),
    "lstsq": (gla.lstsq, (lambda n: rand((n + 1, n)), lambda n: rand((n + 1,)))),
    "pinv": (gla.pinv, (lambda n: rand((n + 1, n)),)),
    "inv": (gla.inv, (general,)),
    "det": (gla.det, (general,)),
    "slogdet": (gla.slogdet, (general,)),
    "Cholesky": (lambda a, **kw: plan_run(gla.Cholesky, a, **kw), (spd,)),
    "Solve": (lambda a, b, **kw: plan_run(gla.Solve, a, b, **kw), (general, lambda n: rand((n, 3)))),
    "Eigh": (lambda a, **kw: plan_run(gla.Eigh, a, **kw), (herm,)),
}

def stacked(x, batch):
    """*batch* copies of matrix *x* (a vector stays one: it broadcasts against the batch)."""
    return x if batch == 1 or x.ndim < 2 else np.stack([x] * batch)


KEEPS_PACKAGE = [Row(f"keeps-package-{name}-{execution or 'default'}-batch{batch}", gp, None,
                     tuple(Arg(stacked(make(4), batch)) for make in makers),
                     expect=keeps_package, packages=("torch",), execution=execution)
                 for name, (gp, makers) in LINALG_CALLS.items() for execution in (None, "cpu", "cuda")
                 for batch in (1,) + ((2,) if execution != "cuda" else ())]


# ---- 3. torch conj and neg bits ------------------------------------------------------------

def bit_rows():
    rows = []
    for dtype in ("complex64", "complex128", "float32", "float64"):
        bits = ("neg", "conj") if dtype.startswith("complex") else ("neg",)
        for bit in bits:
            a, b, c = rand((3, 4), dtype), rand((4, 5), dtype), rand((3, 5), dtype)
            sq, rhs, pos, x = general(4, dtype), rand((4, 2), dtype), spd(4, dtype), rand((2, 8), dtype)
            cases = {
                "matmul-a": (gpmath.matmul, np.matmul, (Arg(a, dtype, bit), Arg(b, dtype))),
                "matmul-b": (gpmath.matmul, np.matmul, (Arg(a, dtype), Arg(b, dtype, bit))),
                "matmul-ab": (gpmath.matmul, np.matmul, (Arg(a, dtype, bit), Arg(b, dtype, bit))),
                "matmul-c": (gpmath.matmul, lambda a, b, c: a @ b + c, (Arg(a, dtype), Arg(b, dtype), Arg(c, dtype, bit))),
                "Matmul": (lambda a, b, **kw: Matmul(a, b, **kw).plan().execute(), np.matmul,
                           (Arg(a, dtype, bit), Arg(b, dtype))),
                "fft": (gfft.fft, scipy.fft.fft, (Arg(x, dtype, bit),)),
                "ifft2": (gfft.ifft2, scipy.fft.ifft2, (Arg(x, dtype, bit),)),
                "FFT": (lambda x, **kw: gfft.FFT(x, **kw).plan().execute(),  # real input: r2c by default
                        scipy.fft.fftn if dtype.startswith("complex") else scipy.fft.rfftn, (Arg(x, dtype, bit),)),
                "solve-a": (gla.solve, np.linalg.solve, (Arg(sq, dtype, bit), Arg(rhs, dtype))),
                "solve-b": (gla.solve, np.linalg.solve, (Arg(sq, dtype), Arg(rhs, dtype, bit))),
                "Solve": (lambda a, b, **kw: plan_run(gla.Solve, a, b, **kw), np.linalg.solve,
                          (Arg(sq, dtype, bit), Arg(rhs, dtype))),
                "inv": (gla.inv, np.linalg.inv, (Arg(sq, dtype, bit),)),
                "cholesky": (gla.cholesky, scipy.linalg.cholesky, (Arg(pos, dtype, bit),)),
                "eigvalsh": (gla.eigvalsh, scipy.linalg.eigvalsh, (Arg(pos, dtype, bit),)),
            }
            if not dtype.startswith("complex"):
                cases["rfft"] = (gfft.rfft, scipy.fft.rfft, (Arg(x, dtype, bit),))
            if dtype in ("float64", "complex128"):  # (SciPy's det returns these for every input dtype)
                cases["det"] = (gla.det, scipy.linalg.det, (Arg(sq, dtype, bit),))
            rows += [Row(f"{bit}-bit-{name}-{dtype}", gp, ref, args, packages=TORCHES)
                     for name, (gp, ref, args) in cases.items()]
    return rows


BITS = bit_rows()


# ---- 4. zero sizes ------------------------------------------------------------------------

def zero_rows():
    ones = np.ones
    cases = [
        ("matmul-m0", gpmath.matmul, np.matmul, (ones((0, 4)), ones((4, 5)))),
        ("matmul-k0", gpmath.matmul, np.matmul, (ones((3, 0)), ones((0, 5)))),
        ("matmul-n0", gpmath.matmul, np.matmul, (ones((3, 4)), ones((4, 0)))),
        ("matmul-all0", gpmath.matmul, np.matmul, (ones((0, 0)), ones((0, 0)))),
        ("matmul-k0-vectors", gpmath.matmul, np.matmul, (ones(0), ones(0))),
        ("matmul-k0-c", gpmath.matmul, lambda a, b, c: a @ b + c, (ones((3, 0)), ones((0, 5)), rand((3, 5)))),
        ("matmul-k0-beta", lambda a, b, c, **kw: gpmath.matmul(a, b, c, beta=0.5, **kw), lambda a, b, c: a @ b + 0.5 * c,
         (ones((3, 0)), ones((0, 5)), rand((3, 5)))),
        ("matmul-k0-batch", gpmath.matmul, np.matmul, (ones((2, 3, 0)), ones((2, 0, 5)))),
        ("matmul-batch0", gpmath.matmul, np.matmul, (ones((0, 3, 4)), ones((4, 5)))),
        ("matmul-batch0-b", gpmath.matmul, np.matmul, (ones((3, 4)), ones((0, 4, 5)))),
        ("matmul-batch0-vector", gpmath.matmul, np.matmul, (ones((0, 3, 4)), ones(4))),
        ("matmul-batch0-broadcast", gpmath.matmul, np.matmul, (ones((3, 0, 2, 2)), ones((2, 4)))),
        ("matmul-batch0-both", gpmath.matmul, np.matmul, (ones((0, 1, 3, 4)), ones((5, 4, 2)))),
        ("Matmul-k0", lambda a, b, **kw: Matmul(a, b, **kw).plan().execute(), np.matmul, (ones((3, 0)), ones((0, 5)))),
        ("Matmul-batch0", lambda a, b, **kw: Matmul(a, b, **kw).plan().execute(), np.matmul,
         (ones((0, 3, 4)), ones((4, 5)))),
        ("solve-batch0-vector", gla.solve, np.linalg.solve, (general(3, batch=(0,)), ones(3))),
        ("solve-batch0-matrix", gla.solve, np.linalg.solve, (general(3, batch=(0,)), ones((0, 3, 1)))),
        ("solve-batch0-b2d", gla.solve, np.linalg.solve, (general(3, batch=(0,)), ones((3, 2)))),
        ("solve-batch0-broadcast", gla.solve, np.linalg.solve, (ones((3, 0, 2, 2)), ones((2, 4)))),
        ("solve-0x0", gla.solve, np.linalg.solve, (ones((0, 0)), ones(0))),
        ("solve-k0", gla.solve, np.linalg.solve, (general(3), ones((3, 0)))),
        ("Solve-batch0", lambda a, b, **kw: plan_run(gla.Solve, a, b, **kw), np.linalg.solve,
         (general(3, batch=(0,)), ones((3, 2)))),
        ("solve_triangular-batch0", gla.solve_triangular, np.linalg.solve, (np.triu(general(3, batch=(0,))), ones((3, 2)))),
        ("inv-batch0", gla.inv, np.linalg.inv, (ones((0, 3, 3)),)),
        ("inv-0x0", gla.inv, np.linalg.inv, (ones((0, 0)),)),
        ("det-batch0", gla.det, np.linalg.det, (ones((0, 3, 3)),)),
        ("det-0x0", gla.det, np.linalg.det, (ones((0, 0)),)),
        ("slogdet-batch0", gla.slogdet, np.linalg.slogdet, (ones((0, 3, 3)),)),
        ("slogdet-0x0", gla.slogdet, np.linalg.slogdet, (ones((0, 0)),)),
        ("cholesky-batch0", lambda a, **kw: gla.cholesky(a, lower=True, **kw), np.linalg.cholesky, (ones((0, 3, 3)),)),
        ("eigvalsh-batch0", gla.eigvalsh, np.linalg.eigvalsh, (ones((0, 3, 3)),)),
        ("eigvalsh-0x0", gla.eigvalsh, np.linalg.eigvalsh, (ones((0, 0)),)),
        ("svdvals-batch0", gla.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), (ones((0, 3, 4)),)),
        ("svdvals-m0", gla.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), (ones((0, 3)),)),
        ("pinv-batch0", gla.pinv, np.linalg.pinv, (ones((0, 3, 4)),)),
        ("pinv-m0", gla.pinv, np.linalg.pinv, (ones((0, 3)),)),
        ("fft-batch0", gfft.fft, scipy.fft.fft, (ones((0, 4)),)),
        ("rfft-batch0", gfft.rfft, scipy.fft.rfft, (ones((0, 4)),)),
        ("irfft-batch0", gfft.irfft, scipy.fft.irfft, (ones((0, 4)),)),
        ("fft2-batch0", gfft.fft2, scipy.fft.fft2, (ones((0, 4, 4)),)),
        ("ifftn-batch0-middle", lambda x, **kw: gfft.ifftn(x, axes=(-1,), **kw), lambda x: scipy.fft.ifftn(x, axes=(-1,)),
         (ones((3, 0, 4)),)),
        ("FFT-batch0", lambda x, **kw: gfft.FFT(x, axes=(-1,), **kw).plan().execute(), lambda x: scipy.fft.rfftn(x, axes=(-1,)),
         (ones((0, 8)),)),
        ("fftshift-0", lambda x, **kw: gfft.fftshift(x), scipy.fft.fftshift, (ones(0),)),
        ("fftshift-0x3", lambda x, **kw: gfft.fftshift(x), scipy.fft.fftshift, (ones((0, 3)),)),
        ("ifftshift-3x0", lambda x, **kw: gfft.ifftshift(x), scipy.fft.ifftshift, (ones((3, 0)),)),
        ("fftshift-axis0-len0", lambda x, **kw: gfft.fftshift(x, axes=0), lambda x: scipy.fft.fftshift(x, axes=0),
         (ones((0, 5)),)),
    ]
    rows = [Row(f"zero-{name}", gp, ref, tuple(Arg(a) for a in args)) for name, gp, ref, args in cases]
    raising = [  # NumPy/SciPy refuse these: gpmath must raise the same type
        ("solve-batch0-b-mismatch", gla.solve, np.linalg.solve, (general(3, batch=(0,)), ones((0, 3))), ValueError, "b|shape"),
        ("fft-axis-len0", gfft.fft, scipy.fft.fft, (ones((4, 0)),), ValueError, "(?i)data points|length|n must"),
        ("rfft-axis-len0", gfft.rfft, scipy.fft.rfft, (ones((4, 0)),), ValueError, "(?i)data points|length|n must"),
    ]
    rows += [Row(f"zero-{name}", gp, ref, tuple(Arg(a) for a in args), expect=Raises(t, m))
             for name, gp, ref, args, t, m in raising]
    return rows


ZERO = zero_rows()


# ---- 6. singular and non-finite input ---------------------------------------------------------

def nonfinite_rows():
    rows = []
    for dtype in ("float64", "complex64"):
        sing = SINGULAR.astype(dtype)
        singular = [
            ("solve", gla.solve, scipy.linalg.solve, (sing, np.ones(3)), "singular"),
            ("solve-mixed", lambda a, b, **kw: gla.solve(a, b, refine="mixed", **kw), scipy.linalg.solve,
             (sing, np.ones(3)), "singular") if dtype == "float64" else None,
            ("solve-batch", gla.solve, np.linalg.solve, (np.stack([general(3), SINGULAR]), np.ones((2, 3, 1))), "singular"),
            ("solve-pos", lambda a, b, **kw: gla.solve(a, b, assume_a="pos", **kw),
             lambda a, b: scipy.linalg.solve(a, b, assume_a="pos"), (-spd(3), np.ones(3)), "positive definite|singular"),
            ("Solve", lambda a, b, **kw: plan_run(gla.Solve, a, b, **kw), scipy.linalg.solve, (sing, np.ones(3)),
             "singular"),
            ("inv", gla.inv, scipy.linalg.inv, (sing,), "singular"),
            ("cholesky", gla.cholesky, scipy.linalg.cholesky, (-spd(3),), "positive definite"),
            ("Cholesky", lambda a, **kw: plan_run(gla.Cholesky, a, **kw), scipy.linalg.cholesky, (-spd(3),),
             "positive definite"),
            ("solve_triangular", gla.solve_triangular, scipy.linalg.solve_triangular,
             (np.diag([1.0, 0.0, 1.0]), np.ones(3)), "(?i)singular|zero"),
        ]
        singular = [case for case in singular if case is not None]
        rows += [Row(f"singular-{name}-{dtype}", gp, ref, tuple(Arg(a, dtype) for a in args),
                     expect=Raises(np.linalg.LinAlgError, fragment)) for name, gp, ref, args, fragment in singular]
        for bad in (np.nan, np.inf):
            tag = "nan" if np.isnan(bad) else "inf"
            a, pos, sym = with_value(general(3), bad), with_value(spd(3), bad), with_value(herm(3), bad)
            # check_finite=False: NumPy's NaN results, as the planners give
            scipy_det = functools.partial(scipy.linalg.det, check_finite=False)
            value_cases = [("det", functools.partial(gla.det, check_finite=False), scipy_det, (a,)),
                           ("det-batch", functools.partial(gla.det, check_finite=False), scipy_det,
                            (np.stack([general(3), a]),)),
                           ("slogdet", functools.partial(gla.slogdet, check_finite=False), np.linalg.slogdet, (a,)),
                           ("Det", lambda x, **kw: plan_run(gla.Det, x, **kw), np.linalg.det, (a,))]
            # a determinant of a matrix holding an infinity is inf or NaN (inf times a cofactor that
            # may be 0): NumPy's follows LAPACK's LU arithmetic, gpmath's the library's (NaN entries
            # keep NaN either way, as the NaN rows check)
            rows += [Row(f"{tag}-{name}-{dtype}", gp, ref, tuple(Arg(x, dtype) for x in args),
                         same_nonfinite=tag == "nan") for name, gp, ref, args in value_cases]
            checked = [("det-checked", gla.det, scipy.linalg.det, (a,)),
                       ("eig", gla.eig, scipy.linalg.eig, (a,)), ("eigvals", gla.eigvals, scipy.linalg.eigvals, (a,)),
                       ("eigh", gla.eigh, scipy.linalg.eigh, (sym,)),
                       ("eigvalsh", gla.eigvalsh, scipy.linalg.eigvalsh, (sym,)),
                       ("svd", gla.svd, scipy.linalg.svd, (a,)), ("svdvals", gla.svdvals, scipy.linalg.svdvals, (a,)),
                       ("cholesky", gla.cholesky, scipy.linalg.cholesky, (pos,)),
                       ("qr", gla.qr, scipy.linalg.qr, (a,)), ("lu_factor", gla.lu_factor, scipy.linalg.lu_factor, (a,)),
                       ("inv", gla.inv, scipy.linalg.inv, (a,)),
                       ("solve", gla.solve, scipy.linalg.solve, (a, np.ones(3))),
                       ("lstsq", gla.lstsq, scipy.linalg.lstsq, (a, np.ones(3))),
                       ("pinv", gla.pinv, scipy.linalg.pinv, (a,))]
            rows += [Row(f"{tag}-{name}-{dtype}", gp, ref, tuple(Arg(x, dtype) for x in args),
                         expect=Raises(ValueError, FINITE), isolated=True) for name, gp, ref, args in checked]
    return rows


NONFINITE = nonfinite_rows()


# ---- 7. 0-d results -------------------------------------------------------------------------

def info_is_int_or_package_array(target: Target, info, batch) -> None:
    if isinstance(info, int) and not batch:
        return
    assert where(info) == (target.module, target.device), f"plan.info() is a {type(info)}, wanted a {target} array"
    assert tuple(info.shape) == batch and not np.any(np.asarray(info.tolist()))


def info_rows():
    rows = []
    for name, cls, make in (("Cholesky", gla.Cholesky, spd), ("Eigh", gla.Eigh, herm)):
        for batch in ((), (2,)):
            def run(a, execution=None, cls=cls):
                plan = cls(a, execution=execution).plan()
                plan.execute(check=True)
                return plan, plan.info()

            def check(target, result, batch=batch):
                info_is_int_or_package_array(target, result[1], batch)

            rows.append(Row(f"0d-info-{name}-batch{batch}", run, None, (Arg(make(3, batch=batch)),), expect=check))
    return rows


def zero_d_rows():
    rows = []
    for dtype in FLOATS:
        v, w = rand(4, dtype), rand(4, dtype)
        rows += [Row(f"0d-matmul-vectors-{dtype}-{execution or 'default'}", gpmath.matmul, np.matmul,
                     (Arg(v, dtype), Arg(w, dtype)), execution=execution) for execution in ("cpu", None)]
    for dtype in ("float64", "complex128"):  # (SciPy's det returns float64/complex128 for every input)
        a = general(3, dtype)
        rows += [Row(f"0d-{name}-{dtype}-{execution or 'default'}", gp, ref, (Arg(a, dtype),), execution=execution)
                 for name, gp, ref in (("det", gla.det, scipy.linalg.det), ("slogdet", gla.slogdet, np.linalg.slogdet),
                                       ("Det", lambda a, **kw: plan_run(gla.Det, a, **kw), scipy.linalg.det))
                 for execution in ("cpu", None)]
    return rows + info_rows()


ZERO_D = zero_d_rows()


# ---- 8. contracts ---------------------------------------------------------------------------

def matmul_planner_out(which):
    def run(a, b, execution=None):
        with Matmul(a, b, execution="cpu") as mm:
            mm.plan()
            return mm.execute(out={"a": a, "b": b}[which])
    return run


def matmul_cached_out(which):
    def run(a, b, execution=None):
        gpmath.matmul(a, b, execution=execution)
        return gpmath.matmul(a, b, out={"a": a, "b": b}[which], execution=execution)
    return run


def contract_rows():
    x, sq = rand((2, 8)), rand((4, 4))
    rows = []
    for which in ("a", "b"):
        rows += [Row(f"contract-Matmul-cpu-out-is-{which}", matmul_planner_out(which), None, (Arg(sq), Arg(sq)),
                     expect=Raises(ValueError, "(?i)out|share|overlap|alias")),
                 Row(f"contract-matmul-cached-out-is-{which}", matmul_cached_out(which), None, (Arg(sq), Arg(sq)),
                     expect=Raises(ValueError, "(?i)out|share|overlap|alias"))]
    fft_args = [  # (name, gpmath call, scipy call, exception, fragment)
        ("fft-n-float", lambda x, **kw: gfft.fft(x, n=2.5, **kw), lambda x: scipy.fft.fft(x, n=2.5), TypeError, "n"),
        ("ifft-n-float", lambda x, **kw: gfft.ifft(x, n=2.5, **kw), lambda x: scipy.fft.ifft(x, n=2.5), TypeError, "n"),
        ("rfft-n-float", lambda x, **kw: gfft.rfft(x, n=2.5, **kw), lambda x: scipy.fft.rfft(x, n=2.5), TypeError, "n"),
        ("fft-n-str", lambda x, **kw: gfft.fft(x, n="4", **kw), lambda x: scipy.fft.fft(x, n="4"), TypeError, "n"),
        ("fft-axis-str", lambda x, **kw: gfft.fft(x, axis="0", **kw), lambda x: scipy.fft.fft(x, axis="0"), TypeError,
         "axis"),
        ("fft-axis-float", lambda x, **kw: gfft.fft(x, axis=1.0, **kw), lambda x: scipy.fft.fft(x, axis=1.0), TypeError,
         "axis"),
        ("irfft-axis-str", lambda x, **kw: gfft.irfft(x, axis="0", **kw), lambda x: scipy.fft.irfft(x, axis="0"),
         TypeError, "axis"),
        ("fft2-s-float", lambda x, **kw: gfft.fft2(x, s=(2.5, 2), **kw), lambda x: scipy.fft.fft2(x, s=(2.5, 2)),
         ValueError, "s"),
        ("fft-n0", lambda x, **kw: gfft.fft(x, n=0, **kw), lambda x: scipy.fft.fft(x, n=0), ValueError,
         "(?i)data points|n must"),
        ("fft-n-negative", lambda x, **kw: gfft.fft(x, n=-1, **kw), lambda x: scipy.fft.fft(x, n=-1), ValueError,
         "(?i)data points|n must"),
        ("rfft-complex", lambda x, **kw: gfft.rfft(x * 1j, **kw), lambda x: scipy.fft.rfft(x * 1j), TypeError,
         "(?i)real|complex"),
        ("fftn-axes-repeated", lambda x, **kw: gfft.fftn(x, axes=(0, 0), **kw), lambda x: scipy.fft.fftn(x, axes=(0, 0)),
         ValueError, "(?i)unique|repeat|duplicate"),
        ("fft-plan", lambda x, **kw: gfft.fft(x, plan=object(), **kw), lambda x: scipy.fft.fft(x, plan=object()),
         NotImplementedError, "plan"),
        ("fft-axis-3", lambda x, **kw: gfft.fft(x, axis=3, **kw), lambda x: scipy.fft.fft(x, axis=3), np.exceptions.AxisError,
         "axis"),
        ("fft-axis--3", lambda x, **kw: gfft.fft(x, axis=-3, **kw), lambda x: scipy.fft.fft(x, axis=-3),
         np.exceptions.AxisError, "axis"),
        ("fft2-axes-out-of-range", lambda x, **kw: gfft.fft2(x, axes=(0, 5), **kw), lambda x: scipy.fft.fft2(x, axes=(0, 5)),
         np.exceptions.AxisError, "ax"),
        ("rfftn-axes-out-of-range", lambda x, **kw: gfft.rfftn(x, axes=(2,), **kw), lambda x: scipy.fft.rfftn(x, axes=(2,)),
         np.exceptions.AxisError, "ax"),
        ("fftshift-axes-out-of-range", lambda x, **kw: gfft.fftshift(x, axes=5), lambda x: scipy.fft.fftshift(x, axes=5),
         np.exceptions.AxisError, "ax"),
        ("fft-longdouble", lambda x, **kw: gfft.fft(np.asarray(x, np.longdouble), **kw), None, TypeError,
         "(?i)longdouble|float128"),
    ]
    for norm_fn in ("fft", "ifft", "rfft", "irfft", "fftn", "hfft"):
        fft_args.append((f"{norm_fn}-norm-unknown", lambda x, f=norm_fn, **kw: getattr(gfft, f)(x, norm="bad", **kw),
                         lambda x, f=norm_fn: getattr(scipy.fft, f)(x, norm="bad"), ValueError, "norm"))
    rows += [Row(f"contract-{name}", gp, ref, (Arg(x),), expect=Raises(t, m),
                 packages=("numpy",) if "longdouble" in name else ALL) for name, gp, ref, t, m in fft_args]
    ragged = [[1.0, 2.0], [3.0]]
    rows += [Row("contract-fft-ragged", lambda **kw: gfft.fft(ragged, **kw), lambda: scipy.fft.fft(ragged), (),
                 expect=Raises(ValueError, "(?i)inhomogeneous|ragged|sequence|shape"), packages=("numpy",)),
             Row("contract-matmul-ragged", lambda **kw: gpmath.matmul(ragged, np.ones((2, 2)), **kw),
                 lambda: np.matmul(ragged, np.ones((2, 2))), (),
                 expect=Raises(ValueError, "(?i)inhomogeneous|ragged|sequence|shape"), packages=("numpy",)),
             Row("contract-solve-ragged", lambda **kw: gla.solve(ragged, np.ones(2), **kw),
                 lambda: scipy.linalg.solve(ragged, np.ones(2)), (),
                 expect=Raises(ValueError, "(?i)inhomogeneous|ragged|sequence|shape"), packages=("numpy",))]
    c3 = np.linalg.cholesky(spd(3))
    rows += [Row("contract-cho_solve-bare-array", lambda c, b, **kw: gla.cho_solve(c, b, **kw), scipy.linalg.cho_solve,
                 (Arg(c3), Arg(np.ones(3))), expect=Raises(ValueError, r"c_and_lower|\(c, lower\)")),
             Row("contract-lu_solve-bare-array", lambda lu, b, **kw: gla.lu_solve(lu, b, **kw), scipy.linalg.lu_solve,
                 (Arg(general(3)), Arg(np.ones(3))), expect=Raises(ValueError, r"lu_and_piv|\(lu, piv\)"))]
    shape = "(?i)shape|square|dimension|size|match|broadcast"
    shape_errors = [
        ("matmul-inner", gpmath.matmul, np.matmul, (rand((3, 4)), rand((3, 4)))),
        ("matmul-batch", gpmath.matmul, np.matmul, (rand((2, 3, 4)), rand((3, 4, 5)))),
        ("matmul-out-shape", lambda a, b, o, **kw: gpmath.matmul(a, b, out=o, **kw), lambda a, b, o: np.matmul(a, b, out=o),
         (rand((3, 4)), rand((4, 5)), np.zeros((3, 4)))),
        ("matmul-0d", gpmath.matmul, np.matmul, (np.array(2.0), rand((2, 2)))),
        ("solve-nonsquare", gla.solve, scipy.linalg.solve, (rand((3, 4)), rand(3))),
        ("solve-b-rows", gla.solve, scipy.linalg.solve, (general(3), rand(4))),
        ("inv-nonsquare", gla.inv, scipy.linalg.inv, (rand((3, 4)),)),
        ("det-nonsquare", gla.det, scipy.linalg.det, (rand((3, 4)),)),
        ("cholesky-nonsquare", gla.cholesky, scipy.linalg.cholesky, (rand((3, 4)),)),
        ("eigh-nonsquare", gla.eigh, scipy.linalg.eigh, (rand((3, 4)),)),
        ("eig-nonsquare", gla.eig, scipy.linalg.eig, (rand((3, 4)),)),
        ("eigvals-nonsquare", gla.eigvals, scipy.linalg.eigvals, (rand((3, 4)),)),
        ("solve_triangular-nonsquare", gla.solve_triangular, scipy.linalg.solve_triangular, (rand((3, 4)), rand(3))),
        ("inv-1d", gla.inv, scipy.linalg.inv, (rand(3),)),
        ("lstsq-rows", gla.lstsq, scipy.linalg.lstsq, (rand((4, 3)), rand(5))),
    ]
    options = [
        ("solve-assume-bad", lambda a, b, **kw: gla.solve(a, b, assume_a="bad", **kw),
         lambda a, b: scipy.linalg.solve(a, b, assume_a="bad"), (general(3), rand(3)), "recognized matrix structure"),
        ("qr-mode-bad", lambda a, **kw: gla.qr(a, mode="bad", **kw), lambda a: scipy.linalg.qr(a, mode="bad"),
         (general(3),), "mode"),
        ("lstsq-driver-bad", lambda a, b, **kw: gla.lstsq(a, b, lapack_driver="bad", **kw),
         lambda a, b: scipy.linalg.lstsq(a, b, lapack_driver="bad"), (general(3), rand(3)), "driver"),
    ]
    rows += [Row(f"contract-{name}", gp, ref, tuple(Arg(a) for a in args), expect=Raises(ValueError, fragment))
             for name, gp, ref, args, fragment in [case + (shape,) for case in shape_errors] + options]
    mixed = [("matmul-f32-f64", gpmath.matmul, (Arg(sq, "float32"), Arg(sq, "float64")), "float32|float64")]
    rows += [Row(f"contract-mixed-{name}", gp, None, args, expect=Raises(TypeError, m)) for name, gp, args, m in mixed]
    rows.append(Row("contract-mixed-solve-f32-c128", gla.solve, scipy.linalg.solve,
                    (Arg(sq, "float32"), Arg(rand(4), "complex128"))))
    linalg_rows = [("solve", gla.solve, scipy.linalg.solve, (general(3), np.ones(3))),
                   ("inv", gla.inv, scipy.linalg.inv, (general(3),)), ("eigvalsh", gla.eigvalsh, scipy.linalg.eigvalsh, (herm(3),)),
                   ("det", gla.det, scipy.linalg.det, (general(3),)),
                   ("cholesky", gla.cholesky, scipy.linalg.cholesky, (spd(3),)),
                   ("svd", lambda a, **kw: _unsigned(gla.svd(a, **kw)), lambda a: _unsigned(scipy.linalg.svd(a)),
                    (general(3),))]  # singular vectors are unique up to sign: compare |U|, s, |Vh|
    for dtype, packages in (("int8", ALL), ("int64", ALL), ("bool", ALL), ("float16", ALL)):  # SciPy's promotions
        rows += [Row(f"contract-dtype-{name}-{dtype}", gp, ref, tuple(Arg(_integral(a, dtype), dtype) for a in args),
                     packages=packages) for name, gp, ref, args in linalg_rows]
    rows += [Row(f"contract-dtype-{name}-longdouble", gp, None, tuple(Arg(a, "longdouble") for a in args),
                 expect=Raises(TypeError, "float128|longdouble"), packages=("numpy",))
             for name, gp, args in [("matmul", gpmath.matmul, (general(3), general(3)))]]
    rows += [Row(f"contract-dtype-matmul-{dtype}", gpmath.matmul, None, (Arg(general(3), dtype),) * 2,
                 expect=Raises(TypeError, dtype)) for dtype in ("int8", "int64", "bool")]
    rows += [Row(f"contract-fft-int-{dtype}", gfft.fft, scipy.fft.fft, (Arg(np.arange(6.0), dtype),))
             for dtype in ("int8", "int32", "int64", "bool")]
    return rows


def _unsigned(factors: tuple) -> tuple:
    """Real SVD factors with the sign ambiguity of singular vectors removed (elementwise magnitudes)."""
    return tuple(abs(f) for f in factors)


def _integral(values: np.ndarray, dtype: str) -> np.ndarray:
    """Integral values near *values* for an integer or bool *dtype* (matrices made diagonally dominant,
    so that they stay regular, symmetric ones positive definite); *values* for other dtypes."""
    if dtype not in ("int8", "int64", "bool"):
        return values
    if values.ndim == 1:
        return np.ones_like(values) if dtype == "bool" else np.round(values)
    eye = np.eye(values.shape[-1])
    return eye if dtype == "bool" else np.round(values) + 4 * values.shape[-1] * eye


CONTRACTS = contract_rows()

ROWS = BIG_ENDIAN + KEEPS_PACKAGE + BITS + ZERO + NONFINITE + ZERO_D + CONTRACTS


def row_params(rows):
    params = []
    for row in rows:
        for package in row.packages:
            gpu = package in DEVICE_PACKAGES or row.execution == "cuda"
            params.append(pytest.param(row, package, id=f"{row.id}-{package}", marks=[pytest.mark.gpu] if gpu else []))
    return params


def raised_in_child(call, timeout: float = 3.0):
    """``(exception type or None, message)`` of *call* run in a forked child, which is killed
    if it has not finished within *timeout* seconds (a hang fails the test, not the suite)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child():
        try:
            call()
            send.send((None, "returned without raising"))
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            send.send((type(error), str(error)))

    process = context.Process(target=child)
    process.start()
    try:
        if receive.poll(timeout):
            return receive.recv()
        return None, f"did not return within {timeout:.0f} s"
    finally:
        process.kill()
        process.join()


def operands(target: Target, args):
    """The row's operands in *target*'s package, their float64 values and their native-dtype values."""
    converted, values, natives = [], [], []
    for arg in args:
        x, v = target.make(arg.values, arg.dtype, arg.layout)
        converted.append(x)
        values.append(v)
        natives.append(v.astype(arg.dtype))
    return converted, values, natives


def expected_of(ref, values, natives):
    """NumPy/SciPy's result on the float64 values and its dtype(s) on the operands' own dtype."""
    reference, native = ref(*values), ref(*natives)
    if isinstance(reference, tuple):
        return list(reference), [np.asarray(r).dtype for r in native]
    return [reference], [np.asarray(native).dtype]


@pytest.mark.parametrize("row, package", row_params(ROWS))
def test_edge(row: Row, package: str):
    target = Target(package, row.execution)
    converted, values, natives = operands(target, row.args)
    call = lambda: row.gp(*converted, execution=row.execution)
    if isinstance(row.expect, Raises):
        if row.ref is not None:
            with pytest.raises(Exception) as scipy_error:
                row.ref(*natives)
            assert issubclass(row.expect.type, type(scipy_error.value)), f"NumPy/SciPy raise {scipy_error.value!r}"
        if row.isolated and target.device == "cpu":  # a forked child cannot use the parent's CUDA context
            kind, message = raised_in_child(call)
            assert kind is not None and issubclass(kind, row.expect.type), f"{kind}: {message}"
            assert re.search(row.expect.fragment, message), f"{message!r} does not match {row.expect.fragment!r}"
            return
        with pytest.raises(row.expect.type, match=row.expect.fragment):
            call()
    elif row.expect == VALUE:
        result = call()
        references, dtypes = expected_of(row.ref, values, natives)
        results = list(result) if isinstance(result, tuple) else [result]
        assert len(results) == len(references), f"{len(results)} results, NumPy/SciPy return {len(references)}"
        for got, reference, dtype in zip(results, references, dtypes):  # to the operands' precision
            computed = row.args[0].dtype if np.dtype(row.args[0].dtype).kind in "fc" else None
            compare(got, reference, dtype, target, scale=row.scale, precision=computed,
                    same_nonfinite=row.same_nonfinite)
    else:
        row.expect(target, call())


def test_table_size():
    assert len(row_params(ROWS)) >= 300


# ---- 5. sizes past 32 bits ------------------------------------------------------------------

def test_svd_too_large_for_lapack_refuses_quickly():
    """SciPy refuses at once (LAPACK's 32-bit indexing); gpmath must too, not run for minutes.
    Run in a child process so a hang cannot stall the suite."""
    code = textwrap.dedent("""
        import time, numpy as np, gpmath.linalg as la
        a = np.zeros((4799, 53130), np.float32)
        start = time.perf_counter()
        try:
            la.svd(a, execution="cpu")
            print("RESULT none", time.perf_counter() - start)
        except Exception as error:
            print("RESULT", type(error).__name__, time.perf_counter() - start, str(error).replace("\\n", " ")[:200])
    """)
    with pytest.raises(ValueError, match="(?i)overflow|integer|index|work"):
        scipy.linalg.svd(np.zeros((1, 53130), np.float32))
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("gpmath.linalg.svd of a 4799x53130 matrix ran for over 20 s instead of refusing")
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT")), done.stderr[-500:])
    kind, seconds = line.split()[1], float(line.split()[2]) if len(line.split()) > 2 else float("nan")
    assert kind == "ValueError", f"gpmath: {line}"
    assert seconds < 5.0, f"gpmath took {seconds:.1f} s to refuse"  # (SciPy refuses at once; under a loaded parallel run, ~3 s)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["matmul", "det"])
def test_batch_past_int32_refuses_or_computes(name):
    """A batch of 2**31 + 1 1x1 matrices (8 GiB per float32 operand): a clear ValueError or the right numbers."""
    torch = pytest.importorskip("torch")
    count = 2**31 + 1
    a = torch.full((count, 1, 1), 2.0, device="cuda")
    try:
        result = gpmath.matmul(a, a) if name == "matmul" else gla.det(a)
    except ValueError:
        return
    want = 4.0 if name == "matmul" else 2.0
    for i in (0, count // 2, count - 1):
        assert float(result.reshape(-1)[i]) == want, f"entry {i}"
