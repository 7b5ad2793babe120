"""The CPU engines' linear solves: ``solve`` with SciPy's structures (general, triangular, symmetric,
Hermitian, positive definite), its condition estimates from the solve's own factors, and the
mixed-precision solve (an LU in single precision refined in double)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .._errors import LinAlgError
from .._core.packages import NUMPY
from . import _problem as P
from ._condition import hermitian_one_norms, one_norms
from ._cpu_factor import cho_solve, cholesky, lu_factor, lu_solve
from ._cpu_lapack import as_matrices, lapack_routine, one_norm, raise_not_positive_definite, read_transposed

__all__ = ["solve", "solve_estimated", "solve_mixed", "detected_structure"]

_MAX_REFINE_ITERATIONS = 30  # LAPACK's dsgesv ITERMAX
# from this order one matrix is solved by SciPy's LAPACK (getrf/getrs): NumPy's solve took 1.5-2x as long on
# the H100's 16-core host (f32 192: 1229 µs against 651; 512: 6389 against 3236; session 33)
LAPACK_SOLVE_ORDER = 64


def solve(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, assume_a: str, lower: bool, transposed: bool) -> np.ndarray:
    """Solve ``A x = b`` for each matrix (``Aᵀ x = b`` when *transposed*; a positive definite A,
    read from the triangle *lower* names, is its own transpose, as SciPy's ``posv`` path has it):
    one matrix from order :data:`LAPACK_SOLVE_ORDER` by LAPACK's ``getrf``/``getrs`` as SciPy calls
    them, batches and smaller ones by NumPy's vectorised ``solve``."""
    if assume_a == "pos":
        return cho_solve(cholesky(a, lower), lower, b, rhs)
    if a.ndim == 2 and not rhs.batch_shape and a.shape[-1] >= LAPACK_SOLVE_ORDER:
        x, _, _ = _lu_solved(a, b[..., None] if rhs.vector else b, (), transposed)
        return x.reshape(rhs.out_shape)
    if transposed:
        a = np.swapaxes(a, -1, -2)
    a, bm = as_matrices(a, b, rhs)
    try:
        x = np.linalg.solve(a, bm)
    except np.linalg.LinAlgError:  # NumPy's own LU met an exactly zero pivot: SciPy's LAPACK names the
        x = _solved_by_gesv(a, bm)  # matrix, or (its LU rounded otherwise, as SciPy's solve) solves them all
    return x.reshape(rhs.out_shape)


def _solved_by_gesv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A x = b`` for the ``(..., n, n)`` and ``(..., n, k)`` matrices of *a* and *b* (one batch
    shape) by LAPACK's ``gesv``, matrix by matrix, raising for the first singular one."""
    gesv = lapack_routine("gesv", a)
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
        rcond = _each_rcond(c, hermitian_one_norms(NUMPY, a, lower), lambda m, norm: lapack_routine("pocon", m)(
            m, norm, uplo="L" if lower else "U")[0])
        return cho_solve(c, lower, b, rhs), np.broadcast_to(rcond, rhs.batch_shape)
    gecon = lapack_routine("gecon", a)

    def solved(m, bm, index, norm):
        """``(x, rcond)`` of one matrix of 1-norm *norm* (None: taken here); the 1-norm condition
        of *m* is the ∞-norm one of ``mᵀ``, where its LU is ``mᵀ``'s (:func:`_lu_solved`)."""
        x, lu, flipped = _lu_solved(m, bm, index, transposed)
        return x, gecon(lu, one_norm(m) if norm is None else norm, norm="I" if flipped else "1")[0]

    if not rhs.batch_shape:  # one matrix: no batch arrays to fill
        x, rcond = solved(a, b[..., None] if rhs.vector else b, (), None)
        return x.reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)
    norms = one_norms(NUMPY, a)
    norms = norms if norms.shape == rhs.batch_shape else np.broadcast_to(norms, rhs.batch_shape)
    a, bm = as_matrices(a, b, rhs)
    x, rcond = np.empty(bm.shape, a.dtype), np.empty(rhs.batch_shape, np.finfo(a.dtype).dtype)
    for index in np.ndindex(*rhs.batch_shape):  # the factors stay in LAPACK's layout: one copy in, as gesv's
        x[index], rcond[index] = solved(a[index], bm[index], index, norms[index])
    return x.reshape(rhs.out_shape), rcond


def _lu_solved(m: np.ndarray, bm: np.ndarray, index: tuple, transposed: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(x, lu, flipped)``: ``m x = bm`` (``mᵀ x = bm`` when *transposed*) for one matrix *m*
    (number *index* of its batch, for the message of a singular one) by LAPACK's ``getrf`` and
    ``getrs``, and the factors: of ``mᵀ`` where *m* is C-ordered (*flipped*: its bytes are ``mᵀ`` in
    LAPACK's layout, as SciPy's solve reads them, with no transposing copy), else of *m*."""
    getrf, getrs = lapack_routine("getrf", m), lapack_routine("getrs", m)
    flipped = read_transposed(m)
    lu, piv, info = getrf(m.T if flipped else m)
    if info > 0:  # name the zero pivot of m's own LU
        raise LinAlgError(P.singular("a", index, int((getrf(m)[2] if flipped else 0) or info)))
    return getrs(lu, piv, bm, trans=int(transposed != flipped))[0], lu, flipped


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
    flipped = read_transposed(a)
    m, low = (a.T, not lower) if flipped else (a, lower)
    bm = b[..., None] if rhs.vector else b
    x, info = lapack_routine("trtrs", m)(m, bm, lower=low, trans=int(transposed != flipped))
    if info > 0:
        raise LinAlgError(P.zero_diagonal("a", (), int(info)))
    rcond = lapack_routine("trcon", m)(m, norm="I" if flipped else "1", uplo="L" if low else "U")[0]
    return x.reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)


def _positive_solved(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(x, rcond)`` of one positive definite matrix, read from its *lower* (or upper) triangle,
    by ``potrf``, ``potrs`` and ``pocon`` on *a*'s bytes as LAPACK reads them: where *a* is
    C-ordered they are ``aᵀ``, whose other triangle holds the same entries and names ``conj(A)``
    (``conj(A) conj(x) = conj(b)``), so nothing is copied transposed."""
    flipped = read_transposed(a)
    m, low = (a.T, not lower) if flipped else (a, lower)
    factor, info = lapack_routine("potrf", m)(m, lower=low, clean=False)  # (potrs and pocon read one triangle)
    if info:
        raise_not_positive_definite(a, lower)
    conjugated = flipped and np.iscomplexobj(a)
    bm = b[..., None] if rhs.vector else b
    x = lapack_routine("potrs", factor)(factor, bm.conj() if conjugated else bm, lower=low)[0]
    rcond = lapack_routine("pocon", factor)(factor, hermitian_one_norms(NUMPY, a, lower), uplo="L" if low else "U")[0]
    return (x.conj() if conjugated else x).reshape(rhs.out_shape), np.asarray(rcond, np.finfo(a.dtype).dtype)


def _symmetric_solved(a: np.ndarray, b: np.ndarray, rhs: P.Rhs, hermitian: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(x, rcond)`` of one symmetric (or, *hermitian*, Hermitian) matrix, whole (its triangle
    mirrored by the front), by LAPACK's Bunch-Kaufman ``?sytrf``/``?hetrf``, ``?sytrs``/``?hetrs``
    and ``?sycon``/``?hecon``, as SciPy's solve: half the work of an LU.  Where *a* is C-ordered its
    bytes are ``aᵀ`` in LAPACK's layout: the same matrix, or for a Hermitian one ``conj(A)``
    (``conj(A) conj(x) = conj(b)``), so nothing is copied transposed."""
    flipped = read_transposed(a)
    m = a.T if flipped else a
    kind = "he" if hermitian else "sy"
    work = int(np.real(lapack_routine(f"{kind}trf_lwork", m)(m.shape[-1])[0]))
    factor, pivots, info = lapack_routine(f"{kind}trf", m)(m, lwork=max(work, 1))
    if info > 0:
        raise LinAlgError(P.singular_symmetric("a", (), int(info)))
    conjugated = flipped and hermitian
    bm = b[..., None] if rhs.vector else b
    x = lapack_routine(f"{kind}trs", factor)(factor, pivots, bm.conj() if conjugated else bm)[0]
    rcond = lapack_routine(f"{kind}con", factor)(factor, pivots, np.abs(a).sum(-2).max())[0]
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
