"""The CPU engines' SVD and least squares: LAPACK's ``gesdd`` (refused at once where 32-bit LAPACK
cannot index it, as SciPy refuses it) and ``gelsd``/``gelsy`` matrix by matrix, or small
problems through the SVD of the whole batch."""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from .._errors import LinAlgError
from .._core.packages import NUMPY
from . import _problem as P
from ._cpu_lapack import as_matrices, lapack_for, raise_not_converged, work_size
from ._ops import lstsq_from_svd, lstsq_result

__all__ = ["svd", "lstsq", "LAPACK_LSTSQ_ORDER"]

LAPACK_LSTSQ_ORDER = 12  # lstsq: LAPACK gelsd per matrix from this many rows and columns on, the batch SVD below
# (batches of 100 on the 2-core machine: equal at 12; one matrix: gelsd 1.3x faster from 2 on)


def _gesdd_work(m: int, n: int, jobz: str, is_complex: bool) -> int:
    """The largest work array (``lwork``, or ``lrwork`` for complex) LAPACK's ``gesdd`` needs at least,
    from its documented minima; computed in Python integers, since LAPACK's own 32-bit workspace
    query wraps around (it answers 2010000 for a 30000 x 30000 matrix)."""
    mn, mx = min(m, n), max(m, n)
    if not is_complex:
        if jobz == "N":
            return 3 * mn + max(mx, 7 * mn)
        if mx >= mn * 11 // 6:  # LAPACK's MNTHR: a QR of the long side first
            return 4 * mn * mn + 7 * mn if jobz == "S" else 4 * mn * mn + 6 * mn + mx
        return 3 * mn + max(mx, 3 * mn * mn + 4 * mn)
    lwork = {"N": 2 * mn + mx, "S": mn * mn + 3 * mn, "A": mn * mn + 2 * mn + mx}[jobz]
    lrwork = 7 * mn if jobz == "N" else max(5 * mn * mn + 5 * mn, 2 * mx * mn + 2 * mn * mn + mn)
    return max(lwork, lrwork)


def _check_svd_size(a: np.ndarray, full_matrices: bool, compute_uv: bool) -> None:
    """Refuse at once, as :func:`scipy.linalg.svd` does, an SVD that 32-bit LAPACK cannot index:
    factors of more than ``2**31 - 1`` elements, or a ``gesdd`` work array as large."""
    m, n = a.shape[-2:]
    big, small = max(m, n), min(m, n)
    elements = (big * big if full_matrices else big * small) if compute_uv else 0
    if elements > P.INT32_MAX:
        raise ValueError(f"a has matrices of shape ({m}, {n}): their SVD factors would have {elements} elements, "
                         "which overflows 32-bit LAPACK indexing (scipy.linalg.svd refuses it too); "
                         + ("pass full_matrices=False" if full_matrices else "compute it in parts"))
    jobz = ("A" if full_matrices else "S") if compute_uv else "N"
    if _gesdd_work(m, n, jobz, np.iscomplexobj(a)) > P.INT32_MAX:
        raise ValueError(f"a has matrices of shape ({m}, {n}): Too large work array required -- computation "
                         "cannot be performed with standard 32-bit LAPACK.")


def svd(a: np.ndarray, full_matrices: bool, compute_uv: bool):
    """``(U, s, Vh)`` or ``s`` (descending), through LAPACK's ``gesdd``."""
    _check_svd_size(a, full_matrices, compute_uv)
    try:
        result = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    except np.linalg.LinAlgError:
        raise_not_converged(a, "svd", lambda m: np.linalg.svd(m, compute_uv=False))
    return tuple(result) if compute_uv else result


def lstsq(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, cond: float | None, lapack_driver: str = "gelsd"):
    """``(x, residues, rank, s)`` as :func:`scipy.linalg.lstsq` defines them, per matrix.

    ``"gelsd"``: LAPACK's ``gelsd`` matrix by matrix (SciPy's own) for matrices of
    :data:`LAPACK_LSTSQ_ORDER` or more rows and columns, else through the SVD of the batch (the
    formulas the GPU engine shares; cheaper than a Python loop over small matrices); the routine
    depends on the shape only, so a matrix is solved as it would be in a batch.  ``"gelsy"``:
    LAPACK's pivoted-QR ``gelsy`` matrix by matrix (``s`` is None).
    """
    m, n = a.shape[-2:]
    if lapack_driver == "gelsy":
        return _lstsq_by_lapack(a, b, rhs, cond, "gelsy")
    if min(m, n) >= LAPACK_LSTSQ_ORDER:
        return _lstsq_by_lapack(a, b, rhs, cond, "gelsd")
    u, s, vh = svd(np.broadcast_to(a, rhs.batch_shape + (m, n)), False, True)
    return lstsq_from_svd(NUMPY, a, b, u, s, vh, rhs.vector, cond, np.finfo(s.dtype).eps)


def _lstsq_by_lapack(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, cond: float | None, driver: str):
    """:func:`lstsq` by LAPACK's *driver* (``"gelsd"``: with the singular values) per matrix."""
    a, bm = as_matrices(a, b, rhs)
    m, n = a.shape[-2:]
    k = rhs.nrhs
    solve = _least_squares(driver, a.dtype.char, m, n, max(k, 1), cond)  # (LAPACK refuses zero right-hand sides)
    x = np.empty(rhs.batch_shape + (n, k), dtype=a.dtype)
    rank = np.empty(rhs.batch_shape, dtype=np.int64)
    s = np.empty(rhs.batch_shape + (min(m, n),), dtype=np.finfo(a.dtype).dtype) if driver == "gelsd" else None
    for index in np.ndindex(*rhs.batch_shape):
        solution, rank[index], values = solve(a[index], bm[index], index)
        x[index] = solution[:, :k]
        if s is not None:
            s[index] = values
    return lstsq_result(NUMPY, a, bm, x, rank, s, rhs.vector, residues=driver == "gelsd")


@functools.lru_cache(maxsize=64)
def _least_squares(driver: str, char: str, m: int, n: int, nrhs: int, cond: float | None) -> Callable:
    """``solve(a, b, index) -> (x, rank, s)``: LAPACK's *driver* for one ``(m, n)`` matrix of dtype
    *char* and ``(m, <= nrhs)`` right-hand sides (``x`` ``(n, nrhs)``; ``s`` None for ``gelsy``),
    with SciPy's cutoff (*cond*, by default the dtype's epsilon) and work sizes queried once."""
    routine, query = lapack_for(driver, char), lapack_for(driver + "_lwork", char)
    cutoff = float(np.finfo(char).eps) if cond is None else cond
    sizes = [work_size(size) for size in query(max(m, 1), max(n, 1), nrhs, cutoff)[:-1]]  # lwork[, lrwork], liwork
    rows, dtype = max(m, n), np.dtype(char)

    def solve(a: np.ndarray, b: np.ndarray, index: tuple[int, ...]):
        if not (m and n):  # no equations or no unknowns: x = 0 of rank 0 (LAPACK refuses empty matrices)
            return np.zeros((n, nrhs), dtype), 0, np.zeros(0, np.finfo(dtype).dtype)
        extended = np.zeros((rows, nrhs), dtype=dtype, order="F")  # (LAPACK writes x, n rows, over b)
        extended[:m, :b.shape[-1]] = b
        if driver == "gelsd":
            x, s, rank, info = routine(a, extended, *sizes, cutoff, False, True)
        else:
            _, x, _, rank, info = routine(a, extended, np.zeros((n, 1), np.int32), cutoff, *sizes, False, True)
            s = None
        if info > 0:
            raise LinAlgError(P.not_converged(driver, "a", index, int(info)))
        if info < 0:
            raise ValueError(f"LAPACK's {driver} refused argument {-info} for a of shape {(m, n)}")
        return x[:n], rank, s
    return solve
