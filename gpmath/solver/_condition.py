"""Reciprocal condition numbers in the 1-norm, ``rcond = 1 / (‖A‖₁ ‖A⁻¹‖₁)``, written once for
NumPy, CuPy and PyTorch through the package adapter.

``‖A⁻¹‖₁`` is estimated as LAPACK's ``xLACN2`` (Hager's method, Higham's refinement) estimates
it for ``?gecon``/``?pocon``, from solves with factors a route already holds, but batched and
in a fixed number of steps so that no step waits for the host: with ``x = (1/n, ..., 1/n)``,
``y = A⁻¹x`` gives the estimate ``‖y‖₁``; then twice ``z = A⁻ᴴ sign(y)`` names the column
``j = argmax|zᵢ|`` whose ``‖A⁻¹eⱼ‖₁`` may raise it; last, Higham's alternating vector
``xᵢ = (-1)ⁱ (1 + i/(n-1))`` raises it to ``2‖A⁻¹x‖₁ / (3n)`` where that is larger.  Every value
is the norm of ``A⁻¹`` applied to a vector of unit 1-norm, so the estimate never exceeds
``‖A⁻¹‖₁`` (and the rcond never falls below the exact one); it is exact for diagonal matrices
and within a small factor in practice.  Six solves of one right-hand side: ``O(n²)`` a matrix.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["one_norms", "hermitian_one_norms", "inverse_one_norms", "reciprocal", "ill_conditioned", "SOLVES"]

_ROUNDS = 2  # rounds of z = A⁻ᴴ sign(y), y = A⁻¹ e_j
SOLVES = 2 + 2 * _ROUNDS  # solves of one right-hand side an estimate takes (automatic placement counts them)


def one_norms(package, a, transposed: bool = False):
    """``‖a‖₁`` (the largest absolute column sum) of each matrix of *a*; of ``aᵀ`` when *transposed*."""
    return package.amax(abs(a).sum(-1 if transposed else -2), -1)[..., 0]


def hermitian_one_norms(package, a, lower: bool):
    """``‖A‖₁`` of the Hermitian matrices whose *lower* (or upper) triangle *a* holds (the other
    triangle is not read)."""
    upper = package.upper_copy(package.swap(a) if lower else a)
    magnitudes = abs(upper)
    return package.amax(magnitudes.sum(-2) + magnitudes.sum(-1) - abs(package.diagonal(upper)), -1)[..., 0]


def _signs(package, y):
    """``sign(y)`` elementwise, 1 where ``y = 0`` (``y/|y|`` for complex y)."""
    magnitude = abs(y)
    zero = magnitude == 0
    return package.where(zero, 1, y / package.where(zero, 1, magnitude))


def _unit_vectors(package, z):
    """The unit vector ``e_j``, ``j = argmax|zᵢ|``, of each vector of *z* (in *z*'s dtype)."""
    magnitude = abs(z)
    columns = package.arange_like(0, z.shape[-1], magnitude)
    return package.zeros(tuple(z.shape), z) + (columns == package.expand_dims(magnitude.argmax(-1), -1))


def _alternating(package, like):
    """Higham's ``xᵢ = (-1)ⁱ (1 + i/(n-1))`` in *like*'s dtype and shape."""
    n = like.shape[-1]
    i = package.arange_like(0, n, abs(like))
    return (1 - 2 * (i % 2)) * (1 + i / max(n - 1, 1)) + like


def inverse_one_norms(package, solve: Callable, like):
    """Estimates of ``‖A⁻¹‖₁`` for the matrices of a batch (see the module docstring).

    Parameters
    ----------
    package : Package
    solve : callable
        ``solve(v, adjoint)``: ``A⁻¹v`` (``A⁻ᴴv`` with *adjoint*) for each vector of *v*, an array
        shaped like *like*.
    like : array, (..., N)
        Zeros (nothing else) in the dtype, package and device of the solves, shaped as their vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath._core.packages import NUMPY
    >>> a = np.array([[[4.0, 0.0], [0.0, 0.5]], [[1.0, 2.0], [3.0, 4.0]]])
    >>> def solve(v, adjoint):
    ...     return np.linalg.solve(a.conj().swapaxes(-1, -2) if adjoint else a, v[..., None])[..., 0]
    >>> inverse_one_norms(NUMPY, solve, np.zeros((2, 2))).round(12).tolist()  # exact here
    [2.0, 3.5]
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # singular matrices: inf and NaN
        y = solve(like + 1 / like.shape[-1], False)
        estimate = abs(y).sum(-1)
        for _ in range(_ROUNDS):
            y = solve(_unit_vectors(package, solve(_signs(package, y), True)), False)
            estimate = package.where(estimate >= abs(y).sum(-1), estimate, abs(y).sum(-1))
        alternative = abs(solve(_alternating(package, like), False)).sum(-1) * (2 / (3 * like.shape[-1]))
        return package.where(estimate >= alternative, estimate, alternative)


def reciprocal(package, norms, inverse_norms):
    """``rcond = (1/‖A⁻¹‖₁) / ‖A‖₁`` as LAPACK forms it, 0 for a zero matrix (NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return package.where(norms == 0, 0, (1 / inverse_norms) / norms)


def ill_conditioned(rcond: np.ndarray, eps: float) -> np.ndarray:
    """SciPy's test, per matrix: ``rcond`` below machine epsilon *eps* of the computing dtype, or NaN."""
    return ~(rcond >= eps)
