"""``gpmath.linalg.norm``: vector and matrix norms as :func:`scipy.linalg.norm` defines them.

The norm is computed where *a* lives, in *a*'s package: the sums and maxima by the package's
own ``linalg.norm``; the matrix 2-norm, its smallest counterpart and the nuclear norm from the
singular values of :func:`gpmath.linalg.svdvals`.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

from .._core.finite import require_finite
from .._core.host_scan import all_finite
from .._core.packages import as_array
from ._decompositions import svdvals

__all__ = ["norm"]

_SINGULAR = (2, -2, "nuc")  # matrix norms from the singular values
_MATRIX = (None, "fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))


def _axes(axis, ndim: int) -> tuple[int, ...] | None:
    """*axis* as a tuple of distinct non-negative axes (None: all, as NumPy takes it)."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if not all(isinstance(ax, numbers.Integral) and not isinstance(ax, bool) for ax in axes):
        raise TypeError(f"axis must be an int or a tuple of ints, not {axis!r}")
    normalised = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
        normalised.append(int(ax) % ndim)
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"duplicate axes in axis={axis!r}")
    return tuple(normalised)


def norm(a: Any, ord: Any = None, axis: int | tuple[int, ...] | None = None, keepdims: bool = False,
         check_finite: bool = True) -> Any:
    """A matrix or vector norm, as :func:`scipy.linalg.norm`.

    Parameters
    ----------
    a : array_like
        NumPy, CuPy or PyTorch array (array-likes are read as NumPy reads them).
    ord : {None, int, float, inf, -inf, "fro", "nuc"}, optional
        The norm (see :func:`numpy.linalg.norm`); None: the 2-norm of the flattened array, or
        the Frobenius norm over two axes.
    axis : int or tuple of two ints, optional
        One axis: vector norms along it; two: matrix norms over them; None: *a* is a vector or
        a matrix (with *ord*) or is flattened (without).
    keepdims : bool
        Keep the reduced axes, of length 1.
    check_finite : bool
        Raise ``ValueError`` when *a* holds an inf or a NaN.

    Returns
    -------
    scalar or array
        In *a*'s package and on its device (a 0-d array for a full reduction); integer and bool
        input is measured in float64, as NumPy does.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[3.0, 0.0], [0.0, -4.0]])
    >>> float(linalg.norm(a)), float(linalg.norm(a, 2)), float(linalg.norm(a, "nuc")), float(linalg.norm(a, 1))
    (5.0, 4.0, 7.0, 4.0)
    >>> linalg.norm(a, axis=0).tolist()
    [3.0, 4.0]
    """
    a, package = as_array(a, "a")
    if check_finite and axis is None and not keepdims and type(a) is np.ndarray and a.dtype in _HOST_NRM2:
        if ord is None or (ord == 2 and a.ndim == 1) or (ord == "fro" and a.ndim == 2):
            flat = _flat_euclidean(a)
            if flat is not None:
                return flat
    require_finite(check_finite, a=a)
    if package.dtype_name(a).startswith(("int", "uint", "bool")):
        a = package.astype(a, "float64")
    ndim = len(a.shape)
    axes = _axes(axis, ndim)
    if axes is None and ord is not None:
        if ndim not in (1, 2):
            raise ValueError("Improper number of dimensions to norm: give axis for an array of more than 2 dimensions")
        axes = tuple(range(ndim))
    if axes is not None and len(axes) == 2 and ord in _MATRIX and 0 in (a.shape[axes[0]], a.shape[axes[1]]):
        ord = _empty_matrix_order(ord, a.shape[axes[0]], a.shape[axes[1]])
    if axes is not None and len(axes) == 2 and ord in _SINGULAR:
        return _singular_norm(package, a, ord, axes, keepdims)
    if axes is not None and len(axes) == 2 and ord not in _MATRIX:
        raise ValueError(f"Invalid norm order {ord!r} for matrices")
    if axes is not None and len(axes) == 1 and isinstance(ord, str):
        raise ValueError(f"Invalid norm order {ord!r} for vectors")
    if axes is not None and len(axes) > 2:
        raise ValueError(f"Improper number of dimensions to norm: axis={axis!r}")
    axis_argument = axes if axes is None or len(axes) == 2 else axes[0]
    if ord in _EUCLIDEAN and (axes is None or len(axes) == 1 or ord != 2) and 0 not in tuple(a.shape):
        return _euclidean(package, a, ord, axes, axis_argument, keepdims)
    return package.norm(a, ord, axis_argument, keepdims)


_EUCLIDEAN = (None, 2, "fro")  # sqrt(sum |a|^2) (2 is the spectral norm for matrices)
_HOST_PLAIN = ("float32", "float64", "complex64", "complex128")  # host dtypes whose plain pass is tried first


def _euclidean(package, a, ord, axes, axis_argument, keepdims: bool):
    """``sqrt(sum |a|^2)`` over *axes* (all where None), divided by ``max |a|`` first and multiplied
    back (BLAS ``nrm2``'s guard, which SciPy's norm has): no overflow or underflow in the squares
    where the norm itself is representable.  Host arrays take one plain pass first and keep it
    where no square can have overflowed (a finite norm) or underflowed into the sum (a norm far
    above the square root of the smallest normal number); device arrays always scale (no read)."""
    if package.device_id(a) is None and package.dtype_name(a) in _HOST_PLAIN:
        with np.errstate(all="ignore"):  # an overflow or underflow here is the test, not a warning
            plain = package.norm(a, ord, axis_argument, keepdims)
        values = np.asarray(package.to_numpy(plain))
        real = np.finfo(values.dtype)
        if np.all(np.isfinite(values) & (values >= np.sqrt(real.tiny) / real.eps)):
            return plain
    scale = abs(a)
    for axis in axes if axes is not None else range(len(a.shape)):
        scale = package.amax(scale, axis)
    with np.errstate(invalid="ignore"):  # inf / inf where max |a| is inf: replaced below
        plain = package.norm(a / package.where(scale > 0, scale, 1), ord, axis_argument, keepdims)
    scale = scale.reshape(tuple(plain.shape))
    return package.where(scale == float("inf"), scale, scale * plain)


_HOST_NRM2 = frozenset(np.dtype(char) for char in "fdFD")  # native byte order
_NRM2_MOST = 2**31 - 1  # elements BLAS's 32-bit n counts


def _flat_euclidean(a: np.ndarray):
    """The Euclidean norm of the elements of a non-empty NumPy array whose elements lie
    contiguously, having checked that they are finite (in *a*'s real dtype, as NumPy's scalar);
    None where they are not all finite (or do not lie contiguously).

    Large arrays take a plain sum of squares first (BLAS ``dot``: a third of ``nrm2``'s time),
    kept where it is finite, which proves every element finite (a NaN or an inf would make it NaN
    or inf), and so large that no square can have underflowed into it; otherwise, and for smaller
    arrays, ``isfinite`` and BLAS ``nrm2``, which scales as it sums, so that no square overflows or
    underflows."""
    if not (a.flags.c_contiguous or a.flags.f_contiguous) or not 0 < a.size <= _NRM2_MOST:
        return None
    flat = a.reshape(-1, order="A")
    nrm2, real, smallest = _nrm2(a.dtype)
    if flat.size >= _DOT_FIRST:
        with np.errstate(over="ignore", invalid="ignore"):
            squares = float(np.vdot(flat, flat).real)
        if smallest <= squares < math.inf:
            return real(math.sqrt(squares))
    return real(nrm2(flat)) if all_finite(a) else None


_DOT_FIRST = 1 << 14  # elements from which the plain sum of squares is tried first


@functools.cache
def _nrm2(dtype: np.dtype):
    """BLAS's ``nrm2`` for *dtype*, the NumPy scalar type of its real result, and the smallest sum of
    squares into which no square can have underflowed (a norm of ``sqrt(tiny) / eps``)."""
    from scipy.linalg import blas  # (SciPy's BLAS: on the host path only)

    info = np.finfo(dtype)
    return blas.get_blas_funcs("nrm2", dtype=dtype), info.dtype.type, float(info.tiny / info.eps ** 2)


def _empty_matrix_order(ord, rows: int, columns: int):
    """The order that gives SciPy's norm of empty matrices: ``"fro"`` (every such norm is 0), or
    ``ValueError`` where SciPy's minimum runs over an empty axis (``-2``; ``-1`` without columns,
    ``-inf`` without rows)."""
    if ord == -2 or (ord == -1 and not columns) or (ord == float("-inf") and not rows):
        raise ValueError(f"the {ord} norm of an empty matrix is undefined (a minimum over no elements)")
    return "fro"


def _singular_norm(package, a, ord, axes: tuple[int, int], keepdims: bool):
    """The 2-norm (largest singular value), ``-2`` (smallest) or nuclear norm (their sum) of the
    (non-empty) matrices over *axes*."""
    matrices = package.moveaxis(a, axes, (-2, -1))
    s = svdvals(matrices, check_finite=False)
    if ord == "nuc":
        value = s.sum(-1)
    else:
        value = package.amax(s, -1)[..., 0][()] if ord == 2 else -package.amax(-s, -1)[..., 0]  # ([()]: NumPy's scalar)
    if keepdims:
        for ax in sorted(axes):
            value = package.expand_dims(value, ax)
    return value
