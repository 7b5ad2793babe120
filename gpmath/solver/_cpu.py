"""The CPU engines of :mod:`gpmath.solver`: NumPy and SciPy (LAPACK) with leading batch dimensions.

The engine classes (``CpuCholesky`` ...) are the solver fronts with
:class:`~gpmath.solver._base.CpuEngine` mixed in; they call functions that take NumPy arrays
already validated by :mod:`gpmath.solver._problem` and return what the matching GPU engine
returns: the factorisations (:mod:`._cpu_factor`), the solves (:mod:`._cpu_solve`), the SVD and
least squares (:mod:`._cpu_svd`), and here QR, the eigensolvers, the inverse and the determinant.
Batches run through NumPy's stacked LAPACK gufuncs where NumPy has one, else matrix by matrix
through ``scipy.linalg.lapack`` (:mod:`._cpu_lapack`); a matrix factors as it would in a batch
(SciPy's batch tests compare the two).  On a numerical failure the batch is searched, matrix by
matrix, with the LAPACK routine that reports ``info``, so the error names the matrix and its pivot
or minor.
"""

from __future__ import annotations

import functools

import numpy as np

from .._errors import LinAlgError
from .._core.packages import NUMPY
from . import _problem as P
from ._base import CpuEngine
from ._cpu_factor import cho_solve, cholesky, lu_factor, lu_solve, solve_triangular
from ._cpu_lapack import lapack_for, lapack_routine, raise_not_converged
from ._cpu_solve import detected_structure, solve, solve_estimated, solve_mixed
from ._cpu_svd import lstsq, svd
from ._ops import pinv_from_svd
from ._plans import (LU, QR, SVD, Cholesky, CholeskySolve, Det, Eig, Eigh, Inv, Lstsq, LUSolve, Pinv, Solve,
                     SolveTriangular)

__all__ = ["qr", "eigh", "eig", "inv", "det", "slogdet", "LAPACK_INV_ORDER"]

LAPACK_DET_ORDER = 64  # det: getrf per matrix from this order on, NumPy's gufunc below (the 2-core machine: one
# matrix 24.1 vs 21.8 µs at 64², 7.2 vs 8.1 at 32²; batches of 100 equal at 64²)
LAPACK_INV_ORDER = 24  # inv: getrf + getri per matrix from this order on, NumPy's gufunc below (batches of
# 100 on the 2-core machine: equal at 24; one matrix: LAPACK's 1.2-1.5x faster from 2 to 31)
_QR_MODES = {"full": "complete", "economic": "reduced", "r": "r"}


@functools.cache
def _native_qr():
    """``scipy.linalg.qr`` where SciPy computes it in compiled code over a batch (1.18 on), else None.

    Measured on the 2-core machine (float64): SciPy 1.18's takes 0.40× NumPy's gufunc for one 16×16
    matrix, 0.71× at 64², 0.85× at 256² and 0.79× for 100 of 16² (the same Householder factors within
    rounding); SciPy 1.17's takes 1.1-1.2× NumPy's for one small matrix and 4.4× for 100 of 16² (a
    Python loop over the batch), and NumPy's then."""
    import scipy
    from scipy import linalg

    return linalg.qr if tuple(int(part) for part in scipy.__version__.split(".")[:2]) >= (1, 18) else None


def qr(a: np.ndarray, mode: str) -> tuple[np.ndarray, ...]:
    """``(Q, R)``, or ``(R,)`` for ``mode="r"`` (R is then ``(..., M, N)``, as in SciPy): SciPy's
    where its batches are compiled (:func:`_native_qr`), else NumPy's gufunc."""
    native = _native_qr()
    if native is not None:
        return tuple(native(a, mode=mode, check_finite=False))
    if mode != "r":
        return tuple(np.linalg.qr(a, mode=_QR_MODES[mode]))
    r = np.linalg.qr(a, mode="r")
    full = np.zeros(a.shape, dtype=a.dtype)
    full[..., : r.shape[-2], :] = r
    return (full,)


def eigh(a: np.ndarray, lower: bool, eigvals_only: bool):
    """Eigenvalues ``w`` (ascending), and eigenvectors ``v`` unless *eigvals_only*."""
    uplo = "L" if lower else "U"
    try:
        return np.linalg.eigvalsh(a, UPLO=uplo) if eigvals_only else tuple(np.linalg.eigh(a, UPLO=uplo))
    except np.linalg.LinAlgError:
        raise_not_converged(a, "eigh", lambda m: np.linalg.eigvalsh(m, UPLO=uplo))


def eig(a: np.ndarray, right: bool):
    """Eigenvalues (and right eigenvectors) of each general matrix, complex (LAPACK ``geev``)."""
    complex_dtype = np.result_type(a.dtype, np.complex64)
    try:
        if not right:
            return np.linalg.eigvals(a).astype(complex_dtype, copy=False)
        w, v = np.linalg.eig(a)
    except np.linalg.LinAlgError:
        raise_not_converged(a, "geev", np.linalg.eigvals)
    return w.astype(complex_dtype, copy=False), v.astype(complex_dtype, copy=False)


def inv(a: np.ndarray) -> np.ndarray:
    """The inverse of each matrix: from order :data:`LAPACK_INV_ORDER` on, matrix by matrix by
    LAPACK's ``getrf`` and ``getri`` (as SciPy's ``inv``; NumPy's gufunc solves against the
    identity, 1.7x longer at 64² on the 2-core machine), below by NumPy's stacked gufunc; a matrix
    is inverted alike alone and in a batch."""
    if a.shape[-1] < LAPACK_INV_ORDER or not a.size:
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            pass  # NumPy's own LU met an exactly zero pivot: SciPy's LAPACK below names the matrix, or
            # (where its LU, rounded otherwise, meets none, as SciPy's inv would) inverts them all
    if a.ndim == 2:  # one matrix: its inverse as LAPACK leaves it (a C-ordered view), no copy
        return _inverse(a, ())
    out = np.empty(a.shape, a.dtype)
    for index in np.ndindex(*a.shape[:-2]):
        out[index] = _inverse(a[index], index)
    return out


def _inverse(a: np.ndarray, index: tuple[int, ...]) -> np.ndarray:
    """The inverse of one matrix (batch *index*, for errors), as the transpose of ``aᵀ``'s (a
    C-ordered *a* is ``aᵀ`` in Fortran order: LAPACK reads it without a transposing copy); a
    triangular one (:func:`detected_structure`, as SciPy's inv looks) by ``?trtri``, the LU's
    ``getrf``/``getri`` otherwise."""
    t = a.T
    found = detected_structure(a)
    if found.endswith("triangular"):  # aᵀ is triangular the other way
        inverse, info = lapack_routine("trtri", t)(t, lower=found == "upper triangular")
        if info > 0:
            raise LinAlgError(P.zero_diagonal("a", index, int(info)))
        return inverse.T
    lu, pivots, info = lapack_routine("getrf", t)(t)
    if info == 0:
        inverse, info = lapack_routine("getri", lu)(lu, pivots, lwork=_getri_work(lu.dtype.char, a.shape[-1]),
                                              overwrite_lu=1)
    if info > 0:
        raise LinAlgError(P.singular("a", index, int(info)))
    if info < 0:
        raise LinAlgError(f"LAPACK's getrf/getri refused argument {-info} for a of shape {a.shape}")
    return inverse.T


@functools.cache
def _getri_work(char: str, n: int) -> int:
    """LAPACK's optimal work size of ``getri`` for order *n*."""
    work, info = lapack_for("getri_lwork", char)(n)
    return max(int(np.real(work)), 1)


def det(a: np.ndarray) -> np.ndarray:
    """The determinant of each matrix (0 for a singular one): from order :data:`LAPACK_DET_ORDER`
    on, matrix by matrix from LAPACK's ``getrf`` (as SciPy's ``det``; NumPy's gufunc takes 1.1x
    as long at 64² and 1.27x at 128² on the 2-core machine), below by NumPy's stacked gufunc; a
    matrix's determinant is computed alike alone and in a batch."""
    if a.shape[-1] < LAPACK_DET_ORDER or not a.size:
        return np.linalg.det(a)
    if a.ndim == 2:
        return _determinant(a)
    out = np.empty(a.shape[:-2], a.dtype)
    for index in np.ndindex(*a.shape[:-2]):
        out[index] = _determinant(a[index])
    return out


def _determinant(a: np.ndarray):
    """The determinant of one matrix, a NumPy scalar: the product of the diagonal of ``aᵀ``'s LU
    factors (``det(aᵀ) = det(a)``: a C-ordered *a* reaches LAPACK without a transposing copy),
    negated for an odd number of row interchanges; 0 where ``getrf`` meets an exactly zero pivot."""
    t = a.T
    lu, pivots, info = lapack_routine("getrf", t)(t)
    if info < 0:
        raise LinAlgError(f"LAPACK's getrf refused argument {-info} for a of shape {a.shape}")
    d = np.prod(lu.diagonal())
    return -d if np.count_nonzero(pivots != np.arange(pivots.size)) % 2 else d


def slogdet(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, logabsdet)`` of each matrix (``(0, -inf)`` for a singular one)."""
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


# -- engines ------------------------------------------------------------------------------------
class CpuCholesky(CpuEngine, Cholesky):
    """:class:`~gpmath.solver.Cholesky` on the CPU."""

    def _compute_cpu(self, arrays):
        return cholesky(arrays["a"], self.lower)


class CpuCholeskySolve(CpuEngine, CholeskySolve):
    """:class:`~gpmath.solver.CholeskySolve` on the CPU."""

    def _compute_cpu(self, arrays):
        return cho_solve(arrays["c"], self.lower, arrays["b"], self.problem.rhs)


class CpuSolveTriangular(CpuEngine, SolveTriangular):
    """:class:`~gpmath.solver.SolveTriangular` on the CPU."""

    def _compute_cpu(self, arrays):
        return solve_triangular(arrays["a"], arrays["b"], self.problem.rhs, self.trans, self.lower, self.unit_diagonal)


class CpuLU(CpuEngine, LU):
    """:class:`~gpmath.solver.LU` on the CPU."""

    def _compute_cpu(self, arrays):
        return lu_factor(arrays["a"])


class CpuLUSolve(CpuEngine, LUSolve):
    """:class:`~gpmath.solver.LUSolve` on the CPU."""

    def _compute_cpu(self, arrays):
        piv = arrays["piv"].astype(np.int32, copy=False)
        return lu_solve(arrays["lu"], piv, arrays["b"], self.problem.rhs, self.trans)


class CpuSolve(CpuEngine, Solve):
    """:class:`~gpmath.solver.Solve` on the CPU (``refine="mixed"``: an f32 LU refined in f64)."""

    _rcond: np.ndarray | None = None

    def _configure(self, *args, **options) -> None:
        super()._configure(*args, **options)
        self.inner_precision = "f32" if self.refine == "mixed" else None  # the CPU's LU is float32

    def _compute_cpu(self, arrays):
        a, b, rhs = arrays["a"], arrays["b"], self.problem.rhs
        if self.refine == "mixed":
            x, self.refinement = solve_mixed(a, b, rhs)
            return x
        if self.condition:
            x, self._rcond = solve_estimated(a, b, rhs, self.assume_a, self.lower, self.transposed)
            return x
        return solve(a, b, rhs, self.assume_a, self.lower, self.transposed)

    def _rcond_values(self) -> np.ndarray | None:
        return self._rcond


class CpuQR(CpuEngine, QR):
    """:class:`~gpmath.solver.QR` on the CPU."""

    def _compute_cpu(self, arrays):
        return qr(arrays["a"], self.mode)


class CpuEigh(CpuEngine, Eigh):
    """:class:`~gpmath.solver.Eigh` on the CPU (LAPACK ``evd`` whatever the driver)."""

    def _compute_cpu(self, arrays):
        return eigh(arrays["a"], self.lower, self.eigvals_only)


class CpuEig(CpuEngine, Eig):
    """:class:`~gpmath.solver.Eig` on the CPU."""

    def _compute_cpu(self, arrays):
        return eig(arrays["a"], self.right)


class CpuSVD(CpuEngine, SVD):
    """:class:`~gpmath.solver.SVD` on the CPU (LAPACK ``gesdd`` whatever the driver)."""

    def _compute_cpu(self, arrays):
        return svd(arrays["a"], self.full_matrices, self.compute_uv)


class CpuLstsq(CpuEngine, Lstsq):
    """:class:`~gpmath.solver.Lstsq` on the CPU."""

    def _compute_cpu(self, arrays):
        return lstsq(arrays["a"], arrays["b"], self.problem.rhs, self.cond, self.lapack_driver)


class CpuPinv(CpuEngine, Pinv):
    """:class:`~gpmath.solver.Pinv` on the CPU."""

    def _compute_cpu(self, arrays):
        return pinv_from_svd(NUMPY, *svd(arrays["a"], False, True), *self.cutoff)


class CpuInv(CpuEngine, Inv):
    """:class:`~gpmath.solver.Inv` on the CPU."""

    def _compute_cpu(self, arrays):
        return inv(arrays["a"])


class CpuDet(CpuEngine, Det):
    """:class:`~gpmath.solver.Det` on the CPU."""

    def _compute_cpu(self, arrays):
        return slogdet(arrays["a"]) if self.log else det(arrays["a"])
