"""SciPy on the host for what the planners do not compute: one LAPACK call per matrix of a
batch, the results stacked and returned in the operand's package on its device.

Used for SciPy's forms that cuSOLVER has no routine for (rectangular ``lu_factor``, ``qr`` with
column pivoting or ``mode="raw"``) and for SciPy's own forms of empty and 1x1 matrices.  It costs
a copy each way for device operands; the results are SciPy's, bit for bit.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._core.packages import as_array

__all__ = ["matrixwise"]


def matrixwise(a: Any, compute: Callable[[np.ndarray], Any]) -> Any:
    """``compute(matrix)`` for every ``(M, N)`` matrix of *a*'s ``(..., M, N)`` values, as NumPy
    arrays on the host; each array of its (nested tuple) result gains *a*'s batch dimensions and
    goes to *a*'s package and device.

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> lu, piv = matrixwise(np.ones((2, 3, 4)), scipy.linalg.lu_factor)
    >>> lu.shape, piv.shape, piv.dtype
    ((2, 3, 4), (2, 3), dtype('int32'))
    """
    a, package = as_array(a, "a")
    home = package.device_id(a)
    shape = tuple(a.shape)
    batch = shape[:-2]
    values = package.to_numpy(a).reshape(math.prod(batch), *shape[-2:])
    if not len(values):  # no matrices: the shapes and dtypes of one, repeated zero times
        template = compute(np.eye(*shape[-2:], dtype=values.dtype))
        return _map(lambda x: package.asarray(np.zeros(batch + x.shape, x.dtype), home), template)
    return _stack([compute(matrix) for matrix in values], batch, package, home)


def _map(function: Callable, tree: Any) -> Any:
    return tuple(_map(function, item) for item in tree) if isinstance(tree, tuple) else function(tree)


def _stack(results: list, batch: tuple[int, ...], package, home: int | None) -> Any:
    """The arrays of *results* (one nested tuple per matrix) stacked position by position."""
    first = results[0]
    if isinstance(first, tuple):
        return tuple(_stack([r[i] for r in results], batch, package, home) for i in range(len(first)))
    stacked = np.stack([np.asarray(r) for r in results]).reshape(batch + np.shape(first))
    return package.asarray(np.ascontiguousarray(stacked), home)
