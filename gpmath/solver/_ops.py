"""The solvers' array formulas, written once for NumPy, CuPy and PyTorch through the package adapter.

The CUDA engines use them to shape cuSOLVER's column-major results into C-order results in the
operands' package (on the plan's stream, inside ``package.on_stream``); the CPU engines use the
same formulas (pseudo-inverse least squares, determinants from LU) on NumPy.  Every difference
between the packages is the adapter's (:mod:`gpmath._core.packages`); none is spelled here.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "transpose", "triangle", "inf_norms", "lstsq_from_svd", "lstsq_result", "det_from_lu", "abs_max_ratio_rank",
    "first_zero_diagonal", "unpack_eigenvectors", "pinv_from_svd", "finite_matrices", "nan_free_matrices",
]


def transpose(package, x, conjugate: bool = False):
    """A C-order copy of *x* with its last two axes swapped (and conjugated)."""
    return package.copy(package.swap(x, conjugate))


def triangle(package, x, upper: bool):
    """*x* with the other triangle of each matrix set to zero (a new array)."""
    return (package.module.triu if upper else package.module.tril)(x)


def inf_norms(package, x, transposed: bool = False):
    """``‖x‖∞`` (the largest absolute row sum) of each matrix of *x*; of ``xᵀ`` when *transposed*."""
    return package.amax(abs(x).sum(-2 if transposed else -1), -1)[..., 0]


def first_zero_diagonal(package, a):
    """LAPACK ``trtrs``'s ``info`` for each matrix of *a*: 1 + the index of its first diagonal entry
    that is exactly zero, or 0 (int32, *a*'s batch shape)."""
    zero = package.diagonal(a) == 0
    found = zero.any(-1)
    if zero.shape[-1] == 0:  # no diagonal: nothing to find (and no argmax of an empty axis)
        return package.as_int(found, 32)
    first = package.as_int(zero, 32).argmax(-1)  # torch has no argmax of booleans
    return package.as_int(found * (first + 1), 32)


def unpack_eigenvectors(package, v, w):
    """The complex eigenvectors of real matrices from LAPACK's real packing in *v* (``(..., N, N)``,
    a column per eigenvalue of *w*): for a complex conjugate pair ``w[j], w[j + 1]`` (positive
    imaginary part first), columns j and j + 1 hold the real and imaginary parts of ``v[:, j]``,
    and ``v[:, j + 1]`` is its conjugate."""
    module = package.module
    first, second = (w.imag > 0)[..., None, :], (w.imag < 0)[..., None, :]
    following, preceding = package.roll(v, -1, -1), package.roll(v, 1, -1)
    real = module.where(second, preceding, v)
    imag = module.where(first, following, module.where(second, -v, 0))
    return package.complex(real, imag)


def lstsq_from_svd(package, a, b, u, s, vh, vector: bool, cond: float | None, eps: float):
    """``(x, residues, rank, s)`` as :func:`scipy.linalg.lstsq` defines them, from the thin SVD of *a*.

    Singular values below ``cond * s[0]`` (default ``eps * s[0]``) count as zero.  *b* is
    ``(..., M)`` when *vector*, else ``(..., M, K)``; batch dimensions broadcast.  Residues as
    SciPy 1.18's ``gelsd`` gives them (:func:`lstsq_result`).
    """
    bm = b[..., None] if vector else b
    x, rank = svd_solution(package, bm, u, s, vh, cond, eps)
    return lstsq_result(package, a, bm, x, rank, s, vector)


def svd_solution(package, bm, u, s, vh, cond: float | None, eps: float):
    """``(x, rank)``: the minimum-norm least-squares solution of ``a x = bm`` (``bm`` 2-D) from the
    thin SVD of ``a``, singular values below ``cond * s[0]`` (default ``eps * s[0]``) counted as
    zero, and how many were kept (an array, 0-d for one matrix)."""
    keep, inv_s = _inverted_above(package, s, (eps if cond is None else cond) * s[..., :1])
    return package.swap(vh, True) @ (inv_s[..., None] * (package.swap(u, True) @ bm)), keep.sum(-1)


def pinv_from_svd(package, u, s, vh, atol: float, rtol: float):
    """``(b, rank)``: the pseudo-inverse ``V diag(1/s) Uᴴ`` from the thin SVD of a matrix (or a
    batch), singular values at most ``atol + rtol * max(s)`` counted as zero; *rank* a Python int
    for one matrix."""
    keep, inv_s = _inverted_above(package, s, atol + rtol * s[..., :1])  # s is descending; an empty s keeps nothing
    b = package.swap(vh, True) @ (inv_s[..., None] * package.swap(u, True))
    rank = keep.sum(-1)
    return b, (rank if rank.ndim else int(rank))


def _inverted_above(package, s, cutoff):
    """``(keep, 1 / s where kept, else 0)`` for singular values *s* above *cutoff*."""
    module = package.module
    keep = s > cutoff
    return keep, module.where(keep, 1 / module.where(keep, s, 1), 0)


def lstsq_result(package, a, bm, x, rank, s, vector: bool, residues: bool = True):
    """``(x, residues, rank, s)`` from a least-squares solution ``x`` of ``a x = bm`` (``bm`` 2-D).

    Residues by SciPy 1.18's rules (real, in ``a``'s precision): for N = 0, the squared column
    norms of ``bm``; else, where the driver gives *residues* (``gelsd``, ``gelss``) and M > N,
    the squared column norms of ``bm - a x`` per matrix, NaN for a matrix of rank below N
    (LAPACK's are then meaningless); else (``gelsy``, M <= N) an empty ``(..., 0)``.  A vector
    right-hand side gives a 1-D ``x`` and drops the residues' K axis (when there are any); a
    Python int rank for one matrix.
    """
    m, n = a.shape[-2:]
    if n == 0:  # no unknowns: x is empty and the residues are b's squared norms, as SciPy has them
        norms = (abs(bm) ** 2).sum(-2)
    elif residues and m > n:
        norms = package.module.where(rank[..., None] < n, float("nan"), (abs(bm - a @ x) ** 2).sum(-2))
    else:
        norms = abs(x[..., 0, :0])  # (..., 0), real
    if vector:
        x = x[..., 0]
        norms = norms[..., 0] if math.prod(norms.shape) else norms
    return x, norms, (rank if rank.ndim else int(rank)), s


def det_from_lu(package, lu, pivots, first_pivot: int, log: bool, defined):
    """The determinant, or ``(sign, logabsdet)``, from an LU factorisation's diagonal and pivots.

    *pivots* are row interchanges numbered from *first_pivot* (1 for LAPACK/cuSOLVER); each
    interchange flips the sign.  A singular matrix gives 0, or ``(0, -inf)``.  *defined* says which
    factored matrices held no NaN (:func:`nan_free_matrices`): the others give NaN, as NumPy's do
    (cuSOLVER's LU of a matrix holding a NaN can be finite); the sign of such a matrix is NaN for
    complex ones, as NumPy's, and 1 for real ones (NumPy's follows the NaNs in its LU).  Few array operations (each is a kernel launch on the GPU).
    """
    module = package.module
    d = package.diagonal(lu)
    n = d.shape[-1]
    moved = pivots != package.arange_like(first_pivot, first_pivot + n, pivots)  # each flips the sign
    nan = float("nan")
    if not log:
        return module.where(defined, module.where(moved, -d, d).prod(-1), nan)
    absd = abs(d)
    complex_ = package.is_complex(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        logabsdet = module.log(absd).sum(-1)
        unit = d / module.where(absd == 0, 1, absd) if complex_ else module.sign(d)
    sign = module.where(defined, module.where(moved, -unit, unit).prod(-1), complex(nan, nan) if complex_ else 1)
    return sign, module.where(defined, logabsdet, nan)


def finite_matrices(package, x, batch_ndim: int):
    """Whether each matrix (the entries under the leading *batch_ndim* axes) of *x* is all finite:
    a boolean array of the batch shape, in one reduction."""
    return _each_matrix_all(package.module.isfinite(x), batch_ndim)


def nan_free_matrices(package, x, batch_ndim: int):
    """Whether each matrix (the entries under the leading *batch_ndim* axes) of *x* holds no NaN."""
    return _each_matrix_all(~package.module.isnan(x), batch_ndim)


def _each_matrix_all(flags, batch_ndim: int):
    return flags.reshape(tuple(flags.shape[:batch_ndim]) + (-1,)).all(-1)


def abs_max_ratio_rank(package, d, cond: float):
    """How many entries of each row of *d* exceed ``cond`` times the row's largest, in modulus."""
    magnitude = abs(d)
    return (magnitude > cond * package.amax(magnitude, -1)).sum(-1)
