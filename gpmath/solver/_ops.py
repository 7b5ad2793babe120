"""Array operations that work alike on NumPy, CuPy and PyTorch arrays, given gpmath's package adapter.

The CUDA engines use them to shape cuSOLVER's column-major results into C-order results in the
operands' package (on the plan's stream, see :func:`gpmath.solver._cuda.on_stream`); the CPU
engines use the same formulas (pseudo-inverse least squares, determinants from LU) on NumPy.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "swap", "transpose", "triangle", "upper_copy", "inf_norms", "diagonal", "as_int", "assign", "copy", "zero",
    "amax", "lstsq_from_svd", "lstsq_result", "det_from_lu", "abs_max_ratio_rank", "first_zero_diagonal",
    "unpack_eigenvectors", "pinv_from_svd",
]


def swap(package, x, conjugate: bool = False):
    """A view of *x* with its last two axes swapped (conjugated: torch lazily, others by a copy)."""
    y = x.transpose(-1, -2) if package.name == "torch" else x.swapaxes(-1, -2)
    return y.conj() if conjugate else y


def transpose(package, x, conjugate: bool = False):
    """A C-order copy of *x* with its last two axes swapped (and conjugated)."""
    return copy(package, swap(package, x, conjugate))


def triangle(package, x, upper: bool):
    """*x* with the other triangle of each matrix set to zero (a new array)."""
    return (package.module.triu if upper else package.module.tril)(x)


def upper_copy(package, x):
    """A new C-order array with the upper triangle of each matrix of *x* and zeros below it
    (one kernel with torch; a copy and a masked fill with CuPy and NumPy)."""
    if package.name == "torch":
        out = package.module.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
        return package.module.triu(x, out=out)  # writes through a lazy conjugate or negation
    out = copy(package, x)
    device = None if package.host_only else out.device.id
    package.module.copyto(out, 0, where=_strictly_lower(package.module, x.shape[-2], x.shape[-1], device))
    return out


@functools.lru_cache(maxsize=32)
def _strictly_lower(module, rows: int, cols: int, device: int | None):
    """A boolean mask of the strictly lower triangle (NumPy, or CuPy on *device*), made once."""
    if device is None:
        return module.tri(rows, cols, -1, dtype=bool)
    with module.cuda.Device(device):
        return module.tri(rows, cols, -1, dtype=bool)


def inf_norms(package, x, transposed: bool = False):
    """``‖x‖∞`` (the largest absolute row sum) of each matrix of *x*; of ``xᵀ`` when *transposed*."""
    return amax(package, abs(x).sum(-2 if transposed else -1), -1)[..., 0]


def diagonal(package, x):
    """The diagonals of a batch of matrices, ``(..., N)`` (a view)."""
    if package.name == "torch":
        return package.module.diagonal(x, dim1=-2, dim2=-1)
    return x.diagonal(axis1=-2, axis2=-1)


def first_zero_diagonal(package, a):
    """LAPACK ``trtrs``'s ``info`` for each matrix of *a*: 1 + the index of its first diagonal entry
    that is exactly zero, or 0 (int32, *a*'s batch shape)."""
    zero = diagonal(package, a) == 0
    found = zero.any(-1)
    if zero.shape[-1] == 0:  # no diagonal: nothing to find (and no argmax of an empty axis)
        return as_int(package, found, 32)
    first = as_int(package, zero, 32).argmax(-1)  # torch has no argmax of booleans
    return as_int(package, found * (first + 1), 32)


def unpack_eigenvectors(package, v, w):
    """The complex eigenvectors of real matrices from LAPACK's real packing in *v* (``(..., N, N)``,
    a column per eigenvalue of *w*): for a complex conjugate pair ``w[j], w[j + 1]`` (positive
    imaginary part first), columns j and j + 1 hold the real and imaginary parts of ``v[:, j]``,
    and ``v[:, j + 1]`` is its conjugate."""
    module = package.module
    first, second = (w.imag > 0)[..., None, :], (w.imag < 0)[..., None, :]
    if package.name == "torch":
        following, preceding = module.roll(v, -1, -1), module.roll(v, 1, -1)
    else:
        following, preceding = module.roll(v, -1, axis=-1), module.roll(v, 1, axis=-1)
    real = module.where(second, preceding, v)
    imag = module.where(first, following, module.where(second, -v, 0))
    if package.name == "torch":
        return module.complex(real, imag)
    return (real + 1j * imag).astype(w.dtype, copy=False)


def as_int(package, x, bits: int):
    """*x* as an int32/int64 array of the package (a copy when the type changes)."""
    if package.name == "torch":
        module = package.module
        return x.to(module.int64 if bits == 64 else module.int32)
    return x.astype(np.int64 if bits == 64 else np.int32, copy=False)


def assign(package, destination, source) -> None:
    """``destination[...] = source`` (a view of a package array)."""
    if package.name == "torch":
        destination.copy_(source)
    else:
        destination[...] = source


def lstsq_from_svd(package, a, b, u, s, vh, vector: bool, cond: float | None, eps: float):
    """``(x, residues, rank, s)`` as :func:`scipy.linalg.lstsq` defines them, from the thin SVD of *a*.

    Singular values below ``cond * s[0]`` (default ``eps * s[0]``) count as zero.  *b* is
    ``(..., M)`` when *vector*, else ``(..., M, K)``; batch dimensions broadcast.  Residues are
    returned only when M > N and every matrix has rank N (else an empty array), as ``gelsd``.
    """
    keep, inv_s = _inverted_above(package, s, (eps if cond is None else cond) * s[..., :1])
    bm = b[..., None] if vector else b
    x = swap(package, vh, True) @ (inv_s[..., None] * (swap(package, u, True) @ bm))
    return lstsq_result(a, bm, x, keep.sum(-1), s, vector)


def pinv_from_svd(package, u, s, vh, atol: float, rtol: float):
    """``(b, rank)``: the pseudo-inverse ``V diag(1/s) Uᴴ`` from the thin SVD of a matrix (or a
    batch), singular values at most ``atol + rtol * max(s)`` counted as zero; *rank* a Python int
    for one matrix."""
    keep, inv_s = _inverted_above(package, s, atol + rtol * s[..., :1])  # s is descending; an empty s keeps nothing
    b = swap(package, vh, True) @ (inv_s[..., None] * swap(package, u, True))
    rank = keep.sum(-1)
    return b, (rank if rank.ndim else int(rank))


def _inverted_above(package, s, cutoff):
    """``(keep, 1 / s where kept, else 0)`` for singular values *s* above *cutoff*."""
    module = package.module
    keep = s > cutoff
    return keep, module.where(keep, 1 / module.where(keep, s, 1), 0)


def lstsq_result(a, bm, x, rank, s, vector: bool, empty=None):
    """``(x, residues, rank, s)`` from a least-squares solution ``x`` of ``a x = bm`` (``bm`` 2-D).

    Residues (squared column norms of ``bm - a x``) only when M > N and every matrix has rank
    N, else an empty array; 1-D results for a vector right-hand side; a Python int rank for one
    matrix.  *empty* is an empty array of the result's real dtype (default: from *s*).
    """
    m, n = a.shape[-2:]
    if m > n and bool((rank == n).all()):
        residues = (abs(bm - a @ x) ** 2).sum(-2)
    else:
        residues = (s if empty is None else empty).reshape(-1)[:0]
    if vector:
        x = x[..., 0]
        residues = residues[..., 0] if residues.shape[0] else residues
    return x, residues, (rank if rank.ndim else int(rank)), s


def det_from_lu(package, lu, pivots, first_pivot: int, log: bool):
    """The determinant, or ``(sign, logabsdet)``, from an LU factorisation's diagonal and pivots.

    *pivots* are row interchanges numbered from *first_pivot* (1 for LAPACK/cuSOLVER); each
    interchange flips the sign.  A singular matrix gives 0, or ``(0, -inf)``.  Few array
    operations (each is a kernel launch on the GPU).
    """
    module = package.module
    d = diagonal(package, lu)
    n = d.shape[-1]
    moved = pivots != module.arange(first_pivot, first_pivot + n, dtype=pivots.dtype, **_device(package, pivots))
    flips = module.where(moved, -1.0, 1.0)  # torch: float32, which promotes to d's precision
    if package.name != "torch":
        flips = flips.astype(d.real.dtype, copy=False)
    if not log:
        return (d * flips).prod(-1)
    absd = abs(d)
    is_complex = d.is_complex() if package.name == "torch" else d.dtype.kind == "c"
    with np.errstate(divide="ignore", invalid="ignore"):
        logabsdet = module.log(absd).sum(-1)
        unit = d / module.where(absd == 0, 1, absd) if is_complex else module.sign(d)
    return (unit * flips).prod(-1), logabsdet


def _device(package, like) -> dict:
    return {"device": like.device} if package.name == "torch" else {}


def copy(package, x):
    """A new C-order array with *x*'s values (never a view of *x*'s memory)."""
    if package.name == "torch":
        if not (x.is_conj() or x.is_neg()):
            return x.clone(memory_format=package.module.contiguous_format)
        out = package.module.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
        out.copy_(x)  # copy_ resolves a lazy conjugate or negation (clone would keep the bit)
        return out
    return package.module.array(x, copy=True, order="C")


def zero(package, x) -> None:
    """Set a view of a package array to zero."""
    if package.name == "torch":
        x.zero_()
    else:
        x[...] = 0


def amax(package, x, axis: int):
    """The maximum along *axis*, keeping it (torch's ``max`` returns indices too)."""
    if package.name == "torch":
        return package.module.amax(x, axis, keepdim=True)
    return x.max(axis, keepdims=True)


def abs_max_ratio_rank(package, d, cond: float):
    """How many entries of each row of *d* exceed ``cond`` times the row's largest, in modulus."""
    magnitude = abs(d)
    return (magnitude > cond * amax(package, magnitude, -1)).sum(-1)
