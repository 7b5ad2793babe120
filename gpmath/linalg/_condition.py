"""SciPy's ``LinAlgWarning`` for ill-conditioned systems: the reciprocal condition numbers of the
structured routes the fronts solve themselves, and the warning.

:func:`scipy.linalg.solve` and :func:`scipy.linalg.inv` (SciPy 1.18) warn when LAPACK's
reciprocal condition estimate in the 1-norm (``?gecon``, ``?pocon``, ``?trcon``; exact for a
diagonal matrix) of a matrix is below the machine epsilon of the computing dtype, or NaN.  The
general and Cholesky solves estimate it in the :class:`~gpmath.solver.Solve` plan
(``condition=True``) from their own factors; the triangular solves here, by the same estimator
(:mod:`gpmath.solver._condition`) with triangular solves; an inverse has its ``‖A⁻¹‖₁`` exactly.

Only for SciPy's own inputs, host arrays (NumPy, torch CPU; :func:`estimated`): on device arrays
the estimate would be tens of small launches and syncs per call, and no GPU peer
(``torch.linalg.solve``, ``cupyx.scipy.linalg.solve``) estimates or warns; there
``Solve(condition=True)`` and ``plan.rcond()`` give it on request.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from .._core.callers import caller_stacklevel
from .._core.packages import known_package, package_of
from ..solver._condition import hermitian_one_norms, ill_conditioned, inverse_one_norms, one_norms, reciprocal

__all__ = ["warn_if_ill_conditioned", "triangular_rcond", "inverse_rcond", "estimated"]


def estimated(a) -> bool:
    """Whether the fronts estimate the condition of *a* (and may warn): for host arrays.

    Examples
    --------
    >>> import numpy as np
    >>> estimated(np.eye(2))
    True
    """
    return package_of(a, "a").device_id(a) is None


def _triangle(pkg, a, lower: bool):
    """The *lower* (or upper) triangle of each matrix of *a*, zeros elsewhere (a new array)."""
    return pkg.swap(pkg.upper_copy(pkg.swap(a))) if lower else pkg.upper_copy(a)


def triangular_rcond(a, route: str, solve):
    """The reciprocal condition numbers of the matrices *route* (``"diagonal"``, ``"upper
    triangular"``, ``"lower triangular"``) reads of *a*, as LAPACK's ``?trcon`` estimates them
    (exactly ``min|dᵢ| / max|dᵢ|`` for a diagonal), in *a*'s package; *solve(v, trans)* solves
    ``op(A) x = v`` for matrices *v* ``(..., N, 1)`` as :func:`~gpmath.linalg.solve_triangular` does.

    Examples
    --------
    >>> import numpy as np
    >>> float(triangular_rcond(np.diag([2.0, 1e-3]), "diagonal", None))
    0.0005
    """
    pkg = package_of(a, "a")
    if route == "diagonal":
        magnitudes = abs(pkg.diagonal(a))
        with np.errstate(divide="ignore"):
            return reciprocal(pkg, pkg.amax(magnitudes, -1)[..., 0], pkg.amax(1 / magnitudes, -1)[..., 0])
    triangle = _triangle(pkg, a, route == "lower triangular")
    solved = lambda v, adjoint: solve(pkg.expand_dims(v, -1), 2 if adjoint else 0)[..., 0]  # noqa: E731
    inverse = inverse_one_norms(pkg, solved, pkg.zeros(tuple(a.shape[:-1]), a))
    return reciprocal(pkg, one_norms(pkg, triangle), inverse)


def inverse_rcond(a, route: str, lower: bool, inverse):
    """The exact reciprocal condition numbers ``1 / (‖A‖₁ ‖A⁻¹‖₁)`` of the matrices *route* reads
    of *a* (the triangle *lower* names for ``"pos"``, a triangle, or *a* already referenced),
    given their *inverse*, in *a*'s package.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> round(float(inverse_rcond(a, "gen", False, np.linalg.inv(a))), 12)  # 1 / (6 * 3.5)
    0.047619047619
    """
    pkg = package_of(a, "a")
    if len(a.shape) == 2 and route not in _TRIANGLE_ROUTES and pkg.device_id(a) is None:  # one host matrix
        from ..solver._cpu_lapack import one_norm  # (SciPy's LAPACK: on the CPU path only)

        return _reciprocal(one_norm(pkg.to_numpy(a)), one_norm(pkg.to_numpy(inverse)))
    if route == "pos":
        norms = hermitian_one_norms(pkg, a, lower)
    elif route in ("upper triangular", "lower triangular"):
        norms = one_norms(pkg, _triangle(pkg, a, route == "lower triangular"))
    else:
        norms = one_norms(pkg, a)
    return reciprocal(pkg, norms, one_norms(pkg, inverse))


_TRIANGLE_ROUTES = ("pos", "upper triangular", "lower triangular")  # routes that read one triangle of a


def _reciprocal(norm: float, inverse_norm: float) -> float:
    """:func:`~gpmath.solver._condition.reciprocal` of one matrix's norms, in Python floats."""
    if norm == 0:
        return 0.0
    return (math.inf if inverse_norm == 0 else 1 / inverse_norm) / norm


@functools.cache
def _epsilon(dtype: str) -> float:
    """Machine epsilon of the computing dtype *dtype* (float32's for complex64)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def warn_if_ill_conditioned(rcond, batch: tuple[int, ...], dtype: str) -> None:
    """Warn as SciPy 1.18 does (:class:`scipy.linalg.LinAlgWarning`, its words, pointing at the
    caller's line: the first frame outside gpmath) when a reciprocal condition number of *rcond* (a float,
    or an array of any package broadcasting to *batch*) is below the machine epsilon of *dtype*
    or NaN, naming each such matrix by its index in the flattened *batch* ("slice").

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_ill_conditioned(np.array([1e-20, 0.5]), (2,), "float64")
    >>> str(caught[0].message)
    'An ill-conditioned matrix detected: slice 0 has rcond = 1e-20.'
    """
    if rcond is None:
        return
    eps = _epsilon(dtype)
    pkg = None if isinstance(rcond, float) else known_package(rcond)
    if not batch and pkg is not None:  # one matrix: its number
        rcond, pkg = float(pkg.to_numpy(rcond)), None
    if isinstance(rcond, float) and rcond >= eps:  # one well-conditioned matrix: the common case, at once
        return
    values = np.broadcast_to(rcond if pkg is None else pkg.to_numpy(rcond), batch).reshape(-1)
    slices = np.flatnonzero(ill_conditioned(values, eps))
    if slices.size:
        detail = ",".join(f"slice {i} has rcond = {float(values[i])}" for i in slices)
        from scipy.linalg import LinAlgWarning  # (here: importing gpmath.linalg does not import SciPy)

        warnings.warn(f"An ill-conditioned matrix detected: {detail}.", LinAlgWarning, stacklevel=caller_stacklevel())
