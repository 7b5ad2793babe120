"""``gpmath.linalg.lu``: ``a = P L U`` with explicit factors, as :func:`scipy.linalg.lu`.

On the GPU, square matrices factor through the :class:`~gpmath.solver.LU` planner (cuSOLVER's
``getrf``) and the factors are unpacked in the operand's package: ``U`` the upper triangle,
``L`` the strict lower one plus the identity, ``P`` (or its row indices) from the pivots, which
are read on the host (one small copy: a sync of the plan's stream).  Where the planner chooses
the CPU, and for rectangular and empty matrices, SciPy factors on the host and the factors go
to the operand's package and device.  Exactly singular matrices factor without error, as in SciPy.
Complex pivots can differ from LAPACK's where cuSOLVER's pivot search ranks candidates otherwise
(LAPACK ranks by ``|Re| + |Im|``); either way ``P L U`` is ``a`` and ``L`` is unit lower triangular.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._core.engines import on_cpu
from .._core.packages import as_array
from ..solver import LU
from ._convert import prepared
from ._dispatch import run
from ._host import matrixwise

__all__ = ["lu", "rectangular_lu_factor"]

_REAL = {"complex64": "float32", "complex128": "float64"}


def lu(a: Any, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True,
       p_indices: bool = False, *, execution: str | None = None, stream: Any = None,
       device_id: int | None = None) -> tuple:
    """LU factorisation with partial pivoting and explicit factors: ``a = P @ L @ U``.

    Parameters
    ----------
    a : array, (..., M, N)
        NumPy, CuPy or PyTorch array (array-likes are read as NumPy reads them).
    permute_l : bool
        Return ``(P @ L, U)``.
    overwrite_a : bool
        Accepted for SciPy's signature; *a* is never written.
    check_finite : bool
        Raise ``ValueError`` when *a* holds an inf or a NaN.
    p_indices : bool
        Return the permutation as row indices ``p`` (``a = L[p] @ U``) instead of a matrix.
    execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    (P, L, U), (p, L, U) or (PL, U)
        With K = min(M, N): ``P`` ``(..., M, M)`` in *a*'s real dtype, ``p`` int32 ``(..., M)``,
        ``L`` ``(..., M, K)`` unit lower triangular, ``U`` ``(..., K, N)`` upper triangular; in
        *a*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> p, l, u = linalg.lu(a)
    >>> bool(np.allclose(p @ l @ u, a)), l.round(4).tolist(), u.round(4).tolist()
    (True, [[1.0, 0.0], [0.3333, 1.0]], [[3.0, 4.0], [0.0, 0.6667]])
    >>> linalg.lu(a, p_indices=True)[0].tolist()
    [1, 0]
    """
    a, = prepared(check_finite, a=a)
    a, package = as_array(a, "a")
    if len(a.shape) < 2:
        raise ValueError(f"a must be at least two-dimensional, not of shape {tuple(a.shape)}")
    m, n = a.shape[-2:]
    home = package.device_id(a)
    if m != n or m < 2 or 0 in tuple(a.shape):  # SciPy's own forms for 1x1 and empty matrices
        return _on_host(a, permute_l, p_indices)
    shape, dtype = tuple(a.shape), package.dtype_name(a)
    if home is None and on_cpu("LU", execution, a, "a", device_id, lambda: LU._work((shape,), dtype, {})):
        return _on_host(a, permute_l, p_indices)  # no plan to build: SciPy's factors
    (packed, pivots), plan = run(LU, (a,), {}, execution, stream, with_plan=True, device_id=device_id, check=False)
    if plan.device_id is None:  # (a close call of the model, measured faster on the CPU: kept for the next calls)
        return _on_host(a, permute_l, p_indices)
    u = package.upper_copy(packed)
    rows = package.arange_like(0, n, pivots)
    eye = package.astype(rows[:, None] == rows[None, :], package.dtype_name(packed))
    l = packed - u + eye
    order = _row_order(package.to_numpy(pivots))
    if p_indices and not permute_l:
        return package.asarray(np.argsort(order, axis=-1).astype(np.int32), home), l, u
    chosen = rows[:, None] == package.asarray(order[..., None, :], home)  # P[r, c]: row r is order[c]
    if permute_l:
        return package.astype(chosen, package.dtype_name(l)) @ l, u
    return package.astype(chosen, _REAL.get(package.dtype_name(packed), package.dtype_name(packed))), l, u


def _row_order(pivots: np.ndarray) -> np.ndarray:
    """The rows of ``a`` in the order ``L U`` holds them (``a[order] = L @ U``), from LAPACK's
    0-based interchanges (row ``i`` swapped with row ``pivots[i]``, in turn), for each matrix."""
    order = np.broadcast_to(np.arange(pivots.shape[-1], dtype=np.int32), pivots.shape).copy()
    flat, swaps = order.reshape(-1, order.shape[-1]), pivots.reshape(-1, pivots.shape[-1])
    items = np.arange(flat.shape[0])
    for i in range(flat.shape[1]):
        j = swaps[:, i]
        flat[items, i], flat[items, j] = flat[items, j], flat[items, i].copy()
    return order


def _on_host(a, permute_l: bool, p_indices: bool) -> tuple:
    """SciPy's factors of *a*'s matrices, in *a*'s package on its device."""
    import scipy.linalg

    return matrixwise(functools.partial(scipy.linalg.lu, permute_l=permute_l, p_indices=p_indices, check_finite=False), a)


def rectangular_lu_factor(a) -> tuple:
    """:func:`scipy.linalg.lu_factor` of *a*'s ``(..., M, N)`` matrices, M != N (cuSOLVER's batched
    ``getrf`` is square): SciPy factors each on the host (warning, as SciPy does, where one is
    exactly singular) and ``(lu, piv)`` go to *a*'s package and device; ``piv`` is int32
    ``(..., min(M, N))``."""
    import scipy.linalg

    def factor(matrix: np.ndarray) -> tuple:
        if not matrix.size:
            return matrix.copy(), np.zeros(0, np.int32)
        return scipy.linalg.lu_factor(matrix, check_finite=False)

    return matrixwise(factor, a)
