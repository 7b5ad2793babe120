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

from .._core.execution import check_same_space
from .._core.operand import locate
from .._core.packages import as_array

__all__ = ["matrixwise"]


def matrixwise(compute: Callable[..., Any], a: Any, *others: Any) -> Any:
    """``compute(matrix, *other_matrices)`` for every ``(M, N)`` matrix of *a*'s ``(..., M, N)``
    values (and the matching ones of *others*, whose batch dimensions broadcast with *a*'s; a
    None among them is passed as None), as NumPy arrays on the host; each array of its (nested
    tuple) result gains the batch dimensions and goes to *a*'s package and device.

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> lu, piv = matrixwise(scipy.linalg.lu_factor, np.ones((2, 3, 4)))
    >>> lu.shape, piv.shape, piv.dtype
    ((2, 3, 4), (2, 3), dtype('int32'))
    """
    a, package = as_array(a, "a")
    if any(x is not None for x in others):  # (the others are named "b": eig's b is the only one)
        check_same_space([locate(a, "a"), *(locate(x, "b") for x in others if x is not None)])
    home = package.device_id(a)
    host = package.to_numpy(a)
    if not others and host.ndim == 2:  # one matrix: its results as _stack leaves one, without the batch's steps
        return _map(lambda x: package.asarray(np.ascontiguousarray(x), home), compute(host))
    values = [None if x is None else package.to_numpy(x) for x in others]
    batch = np.broadcast_shapes(host.shape[:-2], *(v.shape[:-2] for v in values if v is not None))
    count = math.prod(batch)
    stacks = [None if v is None else np.broadcast_to(v, batch + v.shape[-2:]).reshape(count, *v.shape[-2:])
              for v in (host, *values)]
    if not count:  # no matrices: the shapes and dtypes of one, repeated zero times
        template = compute(*(None if v is None else np.eye(*v.shape[-2:], dtype=v.dtype) for v in stacks))
        return _map(lambda x: package.asarray(np.zeros(batch + np.shape(x), np.asarray(x).dtype), home), template)
    results = [compute(*(None if v is None else v[i] for v in stacks)) for i in range(count)]
    return _stack(results, batch, package, home)


def _map(function: Callable, tree: Any) -> Any:
    return tuple(_map(function, item) for item in tree) if isinstance(tree, tuple) else function(tree)


def _stack(results: list, batch: tuple[int, ...], package, home: int | None) -> Any:
    """The arrays of *results* (one nested tuple per matrix) stacked position by position."""
    first = results[0]
    if isinstance(first, tuple):
        return tuple(_stack([r[i] for r in results], batch, package, home) for i in range(len(first)))
    stacked = np.asarray(first) if len(results) == 1 else np.stack([np.asarray(r) for r in results])  # (one: no copy)
    return package.asarray(np.ascontiguousarray(stacked.reshape(batch + np.shape(first))), home)
