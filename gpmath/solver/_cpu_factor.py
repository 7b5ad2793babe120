"""The CPU engines' factorisations and their solves: Cholesky, LU and triangular systems, with leading
batch dimensions (NumPy's stacked gufuncs where the order is small, SciPy's LAPACK matrix by matrix
otherwise; a matrix factors alike alone and in a batch)."""

from __future__ import annotations

import functools

import numpy as np

from .._errors import LinAlgError
from .._core.packages import NUMPY
from . import _problem as P
from ._cpu_lapack import as_matrices, lapack_routine, per_matrix, raise_not_positive_definite, read_transposed
from ._ops import first_zero_diagonal

__all__ = ["cholesky", "cho_solve", "solve_triangular", "lu_factor", "lu_solve", "LAPACK_CHOLESKY_ORDER"]

LAPACK_CHOLESKY_ORDER = 64  # cholesky: SciPy's potrf per matrix from this order on, NumPy's gufunc below


_MASKED_ORDER = 2048  # orders whose triangle masks are kept (4 MiB each at most)


@functools.lru_cache(maxsize=4)
def _strictly_upper(n: int) -> np.ndarray:
    """The (read-only) mask of the entries above the diagonal of a matrix of order *n*."""
    mask = ~np.tri(n, n, 0, dtype=bool)
    mask.flags.writeable = False
    return mask


def _lower_in_place(m: np.ndarray) -> np.ndarray:
    """*m* (a new matrix of this module's own) with the entries above its diagonal zeroed: in place
    through a kept mask (3x faster than ``np.tril`` at 64, 2x at 1024) up to :data:`_MASKED_ORDER`,
    else ``np.tril``'s new matrix.

    Examples
    --------
    >>> _lower_in_place(np.arange(1.0, 5.0).reshape(2, 2)).tolist()
    [[1.0, 0.0], [3.0, 4.0]]
    """
    if m.shape[-1] > _MASKED_ORDER:
        return np.tril(m)
    np.copyto(m, 0, where=_strictly_upper(m.shape[-1]))
    return m


def cholesky(a: np.ndarray, lower: bool) -> np.ndarray:
    """The Cholesky factor of each matrix, read from its *lower* (or upper) triangle.

    The routine depends on the order only, so a matrix factors as it would in a batch (SciPy's
    batch tests compare the two): from :data:`LAPACK_CHOLESKY_ORDER` on, SciPy's LAPACK ``potrf``
    matrix by matrix (at 256, 1.4x faster than NumPy's gufunc on the 2-core machine); below, NumPy's
    gufunc over the batch.  a's upper triangle is aᵀ's lower one, which names conj(A), whose
    lower factor is the transpose of A's upper one (transposed views, no copies of our own).
    """
    source = a if lower else np.swapaxes(a, -1, -2)
    by_lapack = a.shape[-1] >= LAPACK_CHOLESKY_ORDER
    if not by_lapack:
        try:
            factor = np.linalg.cholesky(source)
        except np.linalg.LinAlgError:  # SciPy's potrf names the matrix, or (rounded otherwise, as SciPy's
            by_lapack = True  # cholesky) factors them all
    if by_lapack:
        potrf = lapack_routine("potrf", a)

        def factor_of(m: np.ndarray) -> np.ndarray:  # the lower factor, as NumPy's
            # a C-ordered m is mᵀ to LAPACK: the upper factor of that (its upper triangle is m's lower
            # one, and names conj(M)) is the transpose of M's lower factor; no transposing copy.  The
            # unread triangle is zeroed here (one pass), not by potrf's wrapper (3x the factorisation at 512)
            flipped = read_transposed(m)
            factor, info = potrf(m.T, lower=False, clean=False) if flipped else potrf(m, lower=True, clean=False)
            if info:
                raise_not_positive_definite(a, lower)
            return _lower_in_place(factor.T if flipped else factor)
        factor = per_matrix(factor_of, a.shape, a.dtype, source)
    return factor if lower else np.swapaxes(factor, -1, -2)


def cho_solve(c: np.ndarray, lower: bool, b: np.ndarray, rhs: P.Rhs) -> np.ndarray:
    """Solve ``A x = b`` given the Cholesky factor *c* of A."""
    c, b = as_matrices(c, b, rhs)
    potrs = lapack_routine("potrs", c)
    x = per_matrix(lambda cm, bm: potrs(cm, bm, lower=lower)[0], b.shape, c.dtype, c, b)
    return x.reshape(rhs.out_shape)


def solve_triangular(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, trans: int, lower: bool,
                     unit_diagonal: bool) -> np.ndarray:
    """Solve ``op(A) x = b`` for triangular A (LAPACK ``trtrs``), raising for a zero diagonal entry
    (a batch is checked first, so that the error names its first such matrix; one matrix by
    ``trtrs``'s own ``info``, the same test)."""
    a, b = as_matrices(a, b, rhs)
    if not unit_diagonal and a.ndim > 2:
        info = first_zero_diagonal(NUMPY, a)
        if info.any():
            index = tuple(int(i) for i in np.argwhere(info)[0])
            raise LinAlgError(P.zero_diagonal("a", index, int(info[index])))
    trtrs = lapack_routine("trtrs", a)

    def solve(am: np.ndarray, bm: np.ndarray) -> np.ndarray:
        if am.flags.c_contiguous and trans != 2:  # read column-major as it lies: Aᵀ, the other triangle
            x, info = trtrs(am.T, bm, lower=not lower, trans=1 - trans, unitdiag=unit_diagonal)
        else:
            x, info = trtrs(am, bm, lower=lower, trans=trans, unitdiag=unit_diagonal)
        if info > 0:  # a zero diagonal entry (one matrix: a batch was checked above)
            raise LinAlgError(P.zero_diagonal("a", (), int(info)))
        return x
    return per_matrix(solve, b.shape, a.dtype, a, b).reshape(rhs.out_shape)


def lu_factor(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lu, piv)`` of each matrix, pivots 0-based as in :func:`scipy.linalg.lu_factor`."""
    getrf = lapack_routine("getrf", a)

    def factored(index: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        lu, piv, info = getrf(a[index])
        if info > 0:
            raise LinAlgError(P.singular("a", index, info))
        return lu, piv
    if a.ndim == 2 and a.size:  # one matrix: LAPACK's column-major factors as they come
        return factored(())
    lu = np.empty_like(a)
    piv = np.empty(a.shape[:-1], dtype=np.int32)
    for index in np.ndindex(*a.shape[:-2]) if a.size else ():  # LAPACK rejects empty matrices
        lu[index], piv[index] = factored(index)
    return lu, piv


def lu_solve(lu: np.ndarray, piv: np.ndarray, b: np.ndarray, rhs: P.Rhs, trans: int = 0) -> np.ndarray:
    """Solve ``A x = b`` (``trans`` 0), ``Aᵀ x = b`` (1) or ``Aᴴ x = b`` (2) from an LU factorisation."""
    lu, b = as_matrices(lu, b, rhs)
    if rhs.batch_shape:
        piv = np.broadcast_to(piv, rhs.batch_shape + piv.shape[-1:])
    getrs = lapack_routine("getrs", lu)
    x = per_matrix(lambda m, p, bm: getrs(m, p, bm, trans=trans)[0], b.shape, lu.dtype, lu, piv, b)
    return x.reshape(rhs.out_shape)
