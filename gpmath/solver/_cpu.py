"""The CPU engines of :mod:`gpmath.solver`: NumPy and SciPy (LAPACK) with leading batch dimensions.

The functions take NumPy arrays already validated by :mod:`gpmath.solver._problem` and return
what the matching GPU engine returns; the engine classes at the end (``CpuCholesky`` ...) are
the solver fronts with :class:`~gpmath.solver._base.CpuEngine` mixed in.  Batches run
through NumPy's stacked LAPACK gufuncs where NumPy has one, else matrix by matrix through
``scipy.linalg.lapack``; a matrix factors as it would in a batch (SciPy's batch tests compare
the two).  On a numerical failure the batch is searched, matrix by matrix, with the
LAPACK routine that reports ``info``, so the error names the matrix and its pivot or minor.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NoReturn

import numpy as np
from scipy.linalg import lapack

from .._errors import LinAlgError
from .._core.packages import NUMPY
from . import _problem as P
from ._base import CpuEngine
from ._condition import hermitian_one_norms, one_norms
from ._ops import first_zero_diagonal, lstsq_from_svd, lstsq_result, pinv_from_svd
from ._plans import (LU, QR, SVD, Cholesky, CholeskySolve, Det, Eig, Eigh, Inv, Lstsq, LUSolve, Pinv, Solve,
                             SolveTriangular)

__all__ = [
    "cholesky", "cho_solve", "lu_factor", "lu_solve", "solve", "solve_mixed", "qr", "eigh", "svd", "lstsq",
    "inv", "det", "slogdet", "solve_estimated", "one_norm",
]

_MAX_REFINE_ITERATIONS = 30  # LAPACK's dsgesv ITERMAX
LAPACK_CHOLESKY_ORDER = 64  # cholesky: SciPy's potrf per matrix from this order on, NumPy's gufunc below
LAPACK_INV_ORDER = 24  # inv: getrf + getri per matrix from this order on, NumPy's gufunc below (batches of
# 100 on the 2-core machine: equal at 24; one matrix: LAPACK's 1.2-1.5x faster from 2 to 31)
LAPACK_LSTSQ_ORDER = 12  # lstsq: LAPACK gelsd per matrix from this many rows and columns on, the batch SVD below
# (batches of 100 on the 2-core machine: equal at 12; one matrix: gelsd 1.3x faster from 2 on)
_QR_MODES = {"full": "complete", "economic": "reduced", "r": "r"}


def _lapack(name: str, x: np.ndarray):
    """The LAPACK routine *name* for *x*'s dtype (looked up once a dtype)."""
    return _lapack_for(name, x.dtype.char)


@functools.cache
def _lapack_for(name: str, char: str):
    return lapack.get_lapack_funcs(name, dtype=np.dtype(char))


def _read_transposed(m: np.ndarray) -> bool:
    """Whether LAPACK, given ``m.T``, reads *m*'s bytes without a copy: *m* is C-ordered (and not
    also Fortran-ordered), so its bytes are ``mᵀ`` in LAPACK's column-major layout."""
    return m.flags.c_contiguous and not m.flags.f_contiguous


def one_norm(m: np.ndarray) -> float:
    """``‖m‖₁`` of one matrix by LAPACK's ``lange`` on its bytes as LAPACK reads them (a C-ordered
    *m* is ``mᵀ``, whose ∞-norm it is); 0 for an empty matrix.

    Examples
    --------
    >>> one_norm(np.array([[1.0, -2.0], [3.0, 4.0]]))
    6.0
    """
    if not m.size:
        return 0.0
    lange = _lapack("lange", m)
    return float(lange("I", m.T) if _read_transposed(m) else lange("1", m))


def _raise_not_positive_definite(a: np.ndarray, lower: bool) -> NoReturn:
    """Raise for the first matrix of *a* (read from its *lower* or upper triangle) whose ``potrf``
    reports a leading minor that is not positive."""
    potrf = _lapack("potrf", a)
    for index in np.ndindex(*a.shape[:-2]):
        minor = potrf(a[index], lower=lower)[1]
        if minor > 0:
            raise LinAlgError(P.not_positive_definite("a", index, int(minor)))
    raise LinAlgError("LAPACK's potrf reported a failure that no single matrix of the batch reproduces")


def _raise_not_converged(a: np.ndarray, routine: str, decompose: Callable[[np.ndarray], object]) -> NoReturn:
    for index in np.ndindex(*a.shape[:-2]):
        if not np.isfinite(a[index]).all():  # (check_finite=False let it through) SciPy's ValueError
            raise ValueError(f"{routine}: {P.matrix_name('a', index)} holds NaN or infinite entries, for which it "
                             "is undefined (LAPACK reports an illegal value)")
        try:
            decompose(a[index])
        except np.linalg.LinAlgError:
            raise LinAlgError(P.not_converged(routine, "a", index, 1)) from None
    raise LinAlgError(f"{routine} did not converge")


def _as_matrices(a: np.ndarray, b: np.ndarray, rhs: P.Rhs) -> tuple[np.ndarray, np.ndarray]:
    """*a* and *b* broadcast to ``(*batch, n, n)`` and ``(*batch, n, k)``."""
    b = b[..., None] if rhs.vector else b
    if a.ndim == b.ndim == 2 and not rhs.batch_shape:  # one matrix: nothing to broadcast
        return a, b
    a = np.broadcast_to(a, rhs.batch_shape + a.shape[-2:])
    return a, np.broadcast_to(b, rhs.batch_shape + b.shape[-2:])


def _per_matrix(func: Callable, out_shape: tuple[int, ...], dtype, *arrays: np.ndarray) -> np.ndarray:
    """``out[i] = func(*(x[i] for x in arrays))`` over the leading batch axes of ``out_shape``
    (one matrix: *func*'s own result, in LAPACK's layout)."""
    if len(out_shape) == 2 and out_shape[0] * out_shape[1]:
        return np.asarray(func(*arrays), dtype=dtype)
    out = np.empty(out_shape, dtype=dtype)
    for index in np.ndindex(*out_shape[:-2]) if out.size else ():  # LAPACK rejects empty matrices
        out[index] = func(*(x[index] for x in arrays))
    return out


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
        potrf = _lapack("potrf", a)

        def factor_of(m: np.ndarray) -> np.ndarray:  # the lower factor, as NumPy's
            # a C-ordered m is mᵀ to LAPACK: the upper factor of that (its upper triangle is m's lower
            # one, and names conj(M)) is the transpose of M's lower factor; no transposing copy.  The
            # unread triangle is zeroed here (one pass), not by potrf's wrapper (3x the factorisation at 512)
            flipped = _read_transposed(m)
            factor, info = potrf(m.T, lower=False, clean=False) if flipped else potrf(m, lower=True, clean=False)
            if info:
                _raise_not_positive_definite(a, lower)
            return _lower_in_place(factor.T if flipped else factor)
        factor = _per_matrix(factor_of, a.shape, a.dtype, source)
    return factor if lower else np.swapaxes(factor, -1, -2)


def cho_solve(c: np.ndarray, lower: bool, b: np.ndarray, rhs: P.Rhs) -> np.ndarray:
    """Solve ``A x = b`` given the Cholesky factor *c* of A."""
    c, b = _as_matrices(c, b, rhs)
    potrs = _lapack("potrs", c)
    x = _per_matrix(lambda cm, bm: potrs(cm, bm, lower=lower)[0], b.shape, c.dtype, c, b)
    return x.reshape(rhs.out_shape)


def solve_triangular(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, trans: int, lower: bool,
                     unit_diagonal: bool) -> np.ndarray:
    """Solve ``op(A) x = b`` for triangular A (LAPACK ``trtrs``), raising for a zero diagonal entry
    (a batch is checked first, so that the error names its first such matrix; one matrix by
    ``trtrs``'s own ``info``, the same test)."""
    a, b = _as_matrices(a, b, rhs)
    if not unit_diagonal and a.ndim > 2:
        info = first_zero_diagonal(NUMPY, a)
        if info.any():
            index = tuple(int(i) for i in np.argwhere(info)[0])
            raise LinAlgError(P.zero_diagonal("a", index, int(info[index])))
    trtrs = _lapack("trtrs", a)

    def solve(am: np.ndarray, bm: np.ndarray) -> np.ndarray:
        if am.flags.c_contiguous and trans != 2:  # read column-major as it lies: Aᵀ, the other triangle
            x, info = trtrs(am.T, bm, lower=not lower, trans=1 - trans, unitdiag=unit_diagonal)
        else:
            x, info = trtrs(am, bm, lower=lower, trans=trans, unitdiag=unit_diagonal)
        if info > 0:  # a zero diagonal entry (one matrix: a batch was checked above)
            raise LinAlgError(P.zero_diagonal("a", (), int(info)))
        return x
    return _per_matrix(solve, b.shape, a.dtype, a, b).reshape(rhs.out_shape)


def lu_factor(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lu, piv)`` of each matrix, pivots 0-based as in :func:`scipy.linalg.lu_factor`."""
    getrf = _lapack("getrf", a)

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
    lu, b = _as_matrices(lu, b, rhs)
    if rhs.batch_shape:
        piv = np.broadcast_to(piv, rhs.batch_shape + piv.shape[-1:])
    getrs = _lapack("getrs", lu)
    x = _per_matrix(lambda m, p, bm: getrs(m, p, bm, trans=trans)[0], b.shape, lu.dtype, lu, piv, b)
    return x.reshape(rhs.out_shape)


def solve(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, assume_a: str, lower: bool, transposed: bool) -> np.ndarray:
    """Solve ``A x = b`` for each matrix (``Aᵀ x = b`` when *transposed*; a positive definite A,
    read from the triangle *lower* names, is its own transpose, as SciPy's ``posv`` path has it)."""
    if assume_a == "pos":
        return cho_solve(cholesky(a, lower), lower, b, rhs)
    if transposed:
        a = np.swapaxes(a, -1, -2)
    a, bm = _as_matrices(a, b, rhs)
    try:
        x = np.linalg.solve(a, bm)
    except np.linalg.LinAlgError:  # NumPy's own LU met an exactly zero pivot: SciPy's LAPACK names the
        x = _solved_by_gesv(a, bm)  # matrix, or (its LU rounded otherwise, as SciPy's solve) solves them all
    return x.reshape(rhs.out_shape)


def _solved_by_gesv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A x = b`` for the ``(..., n, n)`` and ``(..., n, k)`` matrices of *a* and *b* (one batch
    shape) by LAPACK's ``gesv``, matrix by matrix, raising for the first singular one."""
    gesv = _lapack("gesv", a)
    x = np.empty(b.shape, np.result_type(a.dtype, b.dtype))
    for index in np.ndindex(*a.shape[:-2]):
        _, _, x[index], info = gesv(a[index], b[index])
        if info > 0:
            raise LinAlgError(P.singular("a", index, int(info)))
    return x


def solve_estimated(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, assume_a: str, lower: bool,
                    transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve`, and the reciprocal condition number in the 1-norm of each matrix of the
    broadcast batch (of *a*, whatever *transposed* says), from the factors of the solve by LAPACK's
    ``?gecon`` (LU) or ``?pocon`` (Cholesky), as :func:`scipy.linalg.solve` estimates it (1 where
    the solution is empty)."""
    if not math.prod(rhs.out_shape):
        return solve(a, b, rhs, assume_a, lower, transposed), np.ones(rhs.batch_shape, np.finfo(a.dtype).dtype)
    if assume_a == "pos" and a.ndim == 2 and not rhs.batch_shape:
        return _positive_solved(a, b, rhs, lower)
    if assume_a == "auto" and a.ndim == 2 and not rhs.batch_shape:
        assume_a = detected_structure(a)
        if assume_a.endswith("triangular"):
            return _triangular_solved(a, b, rhs, assume_a == "lower triangular", transposed)
    if assume_a in ("sym", "her") and a.ndim == 2 and not rhs.batch_shape:
        return _symmetric_solved(a, b, rhs, assume_a == "her" and np.iscomplexobj(a))
    if assume_a == "pos":
        c = cholesky(a, lower)
        rcond = _each_rcond(c, hermitian_one_norms(NUMPY, a, lower), lambda m, norm: _lapack("pocon", m)(
            m, norm, uplo="L" if lower else "U")[0])
        return cho_solve(c, lower, b, rhs), np.broadcast_to(rcond, rhs.batch_shape)
    getrf, getrs, gecon = (_lapack(name, a) for name in ("getrf", "getrs", "gecon"))

    def solved(m, bm, index, norm):
        """``(x, rcond)`` of one matrix of 1-norm *norm* (None: taken here): the LU of ``mᵀ`` where
        *m* is C-ordered (its bytes are ``mᵀ`` in LAPACK's layout, as SciPy's solve reads them: no
        transposing copy), else of *m*; the 1-norm condition of *m* is the ∞-norm one of ``mᵀ``."""
        flipped = _read_transposed(m)
        lu, piv, info = getrf(m.T if flipped else m)
        if info > 0:  # name the zero pivot of m's own LU
            raise LinAlgError(P.singular("a", index, int((getrf(m)[2] if flipped else 0) or info)))
        x = getrs(lu, piv, bm, trans=int(transposed != flipped))[0]
        return x, gecon(lu, one_norm(m) if norm is None else norm, norm="I" if flipped else "1")[0]

    if not rhs.batch_shape:  # one matrix: no batch arrays to fill
        x, rcond = solved(a, b[..., None] if rhs.vector else b, (), None)
        return x.reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)
    norms = one_norms(NUMPY, a)
    norms = norms if norms.shape == rhs.batch_shape else np.broadcast_to(norms, rhs.batch_shape)
    a, bm = _as_matrices(a, b, rhs)
    x, rcond = np.empty(bm.shape, a.dtype), np.empty(rhs.batch_shape, np.finfo(a.dtype).dtype)
    for index in np.ndindex(*rhs.batch_shape):  # the factors stay in LAPACK's layout: one copy in, as gesv's
        x[index], rcond[index] = solved(a[index], bm[index], index, norms[index])
    return x.reshape(rhs.out_shape), rcond


def detected_structure(a: np.ndarray) -> str:
    """The structure SciPy's solve finds in one square matrix with ``assume_a=None``: ``"upper
    triangular"`` or ``"lower triangular"`` (a diagonal matrix is upper), ``"sym"``, ``"her"`` (a
    complex Hermitian one), else ``"gen"``.  Corner entries decide a general matrix at once; only
    a matrix they leave possible is read whole (exact comparisons: a NaN makes it general).

    Examples
    --------
    >>> detected_structure(np.triu(np.ones((3, 3)))), detected_structure(np.ones((3, 3)))
    ('upper triangular', 'sym')
    >>> detected_structure(np.arange(9.0).reshape(3, 3))
    'gen'
    """
    n = a.shape[-1]
    if n < 2:
        return "gen"
    corner_low, corner_high = a[n - 1, 0], a[0, n - 1]
    if corner_low == 0 and not np.tril(a, -1).any():
        return "upper triangular"
    if corner_high == 0 and not np.triu(a, 1).any():
        return "lower triangular"
    if corner_low == corner_high and np.array_equal(a, a.T):
        return "sym"
    if np.iscomplexobj(a) and corner_low == np.conj(corner_high) and np.array_equal(a, a.conj().T):
        return "her"
    return "gen"


def _triangular_solved(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, lower: bool,
                       transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(x, rcond)`` of one triangular matrix by ``?trtrs`` and ``?trcon`` on *a*'s bytes as LAPACK
    reads them (a C-ordered *a* is ``aᵀ``: the other triangle, the other transposition, the other norm)."""
    flipped = _read_transposed(a)
    m, low = (a.T, not lower) if flipped else (a, lower)
    bm = b[..., None] if rhs.vector else b
    x, info = _lapack("trtrs", m)(m, bm, lower=low, trans=int(transposed != flipped))
    if info > 0:
        raise LinAlgError(P.zero_diagonal("a", (), int(info)))
    rcond = _lapack("trcon", m)(m, norm="I" if flipped else "1", uplo="L" if low else "U")[0]
    return x.reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)


def _positive_solved(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(x, rcond)`` of one positive definite matrix, read from its *lower* (or upper) triangle,
    by ``potrf``, ``potrs`` and ``pocon`` on *a*'s bytes as LAPACK reads them: where *a* is
    C-ordered they are ``aᵀ``, whose other triangle holds the same entries and names ``conj(A)``
    (``conj(A) conj(x) = conj(b)``), so nothing is copied transposed."""
    flipped = _read_transposed(a)
    m, low = (a.T, not lower) if flipped else (a, lower)
    factor, info = _lapack("potrf", m)(m, lower=low, clean=False)  # (potrs and pocon read one triangle)
    if info:
        _raise_not_positive_definite(a, lower)
    conjugated = flipped and np.iscomplexobj(a)
    bm = b[..., None] if rhs.vector else b
    x = _lapack("potrs", factor)(factor, bm.conj() if conjugated else bm, lower=low)[0]
    rcond = _lapack("pocon", factor)(factor, hermitian_one_norms(NUMPY, a, lower), uplo="L" if low else "U")[0]
    return (x.conj() if conjugated else x).reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)


def _symmetric_solved(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, hermitian: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(x, rcond)`` of one symmetric (or, *hermitian*, Hermitian) matrix, whole (its triangle
    mirrored by the front), by LAPACK's Bunch-Kaufman ``?sytrf``/``?hetrf``, ``?sytrs``/``?hetrs``
    and ``?sycon``/``?hecon``, as SciPy's solve: half the work of an LU.  Where *a* is C-ordered its
    bytes are ``aᵀ`` in LAPACK's layout: the same matrix, or for a Hermitian one ``conj(A)``
    (``conj(A) conj(x) = conj(b)``), so nothing is copied transposed."""
    flipped = _read_transposed(a)
    m = a.T if flipped else a
    kind = "he" if hermitian else "sy"
    work = int(np.real(_lapack(f"{kind}trf_lwork", m)(m.shape[-1])[0]))
    factor, pivots, info = _lapack(f"{kind}trf", m)(m, lwork=max(work, 1))
    if info > 0:
        raise LinAlgError(P.singular_symmetric("a", (), int(info)))
    conjugated = flipped and hermitian
    bm = b[..., None] if rhs.vector else b
    x = _lapack(f"{kind}trs", factor)(factor, pivots, bm.conj() if conjugated else bm)[0]
    rcond = _lapack(f"{kind}con", factor)(factor, pivots, np.abs(a).sum(-2).max())[0]
    return (x.conj() if conjugated else x).reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)


def _each_rcond(factors: np.ndarray, norms: np.ndarray, con: Callable) -> np.ndarray:
    """``con(factor, norm)`` of each matrix of *factors* (1 for matrices of order 0), in their real dtype."""
    rcond = np.ones(factors.shape[:-2], dtype=np.finfo(factors.dtype).dtype)
    for index in np.ndindex(*rcond.shape) if factors.size else ():
        rcond[index] = con(factors[index], norms[index])
    return rcond


def _refined_in(a, b, lu, piv, rhs) -> tuple[np.ndarray, int, np.ndarray]:
    """Iterative refinement of an LU solve: ``(x, iterations, converged per matrix)``."""
    low = lu.dtype
    x = lu_solve(lu, piv, b.astype(low), rhs).astype(a.dtype)
    a_norm = np.abs(a).sum(axis=-1).max(axis=-1)  # ‖A‖∞ per matrix
    tol = np.finfo(a.dtype).eps * P.MIXED_TOLERANCE
    vector_axes = (-1,) if rhs.vector else (-2, -1)
    for iteration in range(_MAX_REFINE_ITERATIONS + 1):
        r = b - (a @ x[..., None])[..., 0] if rhs.vector else b - a @ x
        converged = np.abs(r).max(axis=vector_axes) <= np.abs(x).max(axis=vector_axes) * a_norm * tol
        if converged.all() or iteration == _MAX_REFINE_ITERATIONS:
            return x, iteration, converged
        x = x + lu_solve(lu, piv, r.astype(low), rhs).astype(a.dtype)


def solve_mixed(a: np.ndarray, b: np.ndarray, rhs: P.Rhs) -> tuple[np.ndarray, P.Refinement]:
    """Solve ``A x = b`` with an LU factorisation in single precision refined in double.

    Matrices that do not converge in 30 iterations (or are singular in single precision) are
    solved again in double precision, and the fallback is reported.  Single-precision inputs
    have nothing lower to factor in on the CPU and are solved directly.
    """
    if a.dtype in (np.float32, np.complex64):
        return solve(a, b, rhs, "gen", False, False), P.Refinement(0, 0, False)
    a_full = np.broadcast_to(a, rhs.batch_shape + a.shape[-2:])
    b_full = np.broadcast_to(b, rhs.out_shape)
    low = np.complex64 if a.dtype == np.complex128 else np.float32
    try:
        lu, piv = lu_factor(a_full.astype(low))
    except LinAlgError:
        return solve(a, b, rhs, "gen", False, False), P.Refinement(0, 0, True)
    x, iterations, converged = _refined_in(a_full, b_full, lu, piv, rhs)
    if converged.all():
        return x, P.Refinement(iterations, iterations, False)
    stuck = ~converged
    sub = P.Rhs(a_full[stuck].shape[:-2], rhs.rows, rhs.nrhs, rhs.vector)
    x[stuck] = solve(a_full[stuck], b_full[stuck], sub, "gen", False, False)
    return x, P.Refinement(iterations, iterations, True)


def qr(a: np.ndarray, mode: str) -> tuple[np.ndarray, ...]:
    """``(Q, R)``, or ``(R,)`` for ``mode="r"`` (R is then ``(..., M, N)``, as in SciPy)."""
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
        _raise_not_converged(a, "eigh", lambda m: np.linalg.eigvalsh(m, UPLO=uplo))


def eig(a: np.ndarray, right: bool):
    """Eigenvalues (and right eigenvectors) of each general matrix, complex (LAPACK ``geev``)."""
    complex_dtype = np.result_type(a.dtype, np.complex64)
    try:
        if not right:
            return np.linalg.eigvals(a).astype(complex_dtype, copy=False)
        w, v = np.linalg.eig(a)
    except np.linalg.LinAlgError:
        _raise_not_converged(a, "geev", np.linalg.eigvals)
    return w.astype(complex_dtype, copy=False), v.astype(complex_dtype, copy=False)


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
        _raise_not_converged(a, "svd", lambda m: np.linalg.svd(m, compute_uv=False))
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
    a, bm = _as_matrices(a, b, rhs)
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
    routine, query = _lapack_for(driver, char), _lapack_for(driver + "_lwork", char)
    cutoff = float(np.finfo(char).eps) if cond is None else cond
    sizes = [_work_size(size) for size in query(max(m, 1), max(n, 1), nrhs, cutoff)[:-1]]  # lwork[, lrwork], liwork
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


def _work_size(value) -> int:
    """A LAPACK work-size answer (a float, possibly rounded down in single precision) as an int
    large enough."""
    return max(int(np.real(value) * (1 + 2 ** -20)) + 1, 1)


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
        inverse, info = _lapack("trtri", t)(t, lower=found == "upper triangular")
        if info > 0:
            raise LinAlgError(P.zero_diagonal("a", index, int(info)))
        return inverse.T
    lu, pivots, info = _lapack("getrf", t)(t)
    if info == 0:
        inverse, info = _lapack("getri", lu)(lu, pivots, lwork=_getri_work(lu.dtype.char, a.shape[-1]),
                                              overwrite_lu=1)
    if info > 0:
        raise LinAlgError(P.singular("a", index, int(info)))
    if info < 0:
        raise LinAlgError(f"LAPACK's getrf/getri refused argument {-info} for a of shape {a.shape}")
    return inverse.T


@functools.cache
def _getri_work(char: str, n: int) -> int:
    """LAPACK's optimal work size of ``getri`` for order *n*."""
    work, info = _lapack_for("getri_lwork", char)(n)
    return max(int(np.real(work)), 1)


def det(a: np.ndarray) -> np.ndarray:
    """The determinant of each matrix (0 for a singular one)."""
    return np.linalg.det(a)


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

