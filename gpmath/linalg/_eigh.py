"""The generalized and subset forms of :func:`gpmath.linalg.eigh`, as :func:`scipy.linalg.eigh`
defines them, built from gpmath's planners (each one batched, on the GPU where the operands are
or the placement puts them).

The generalized problem is reduced to a standard one by the Cholesky factor ``b = L Lᴴ`` (what
LAPACK's ``sygvd``/``hegvd`` do): type 1, ``a v = w b v``, solves ``C = L⁻¹ a L⁻ᴴ`` and returns
``v = L⁻ᴴ y``; type 2, ``a b v = w v``, and type 3, ``b a v = w v``, solve ``C = Lᴴ a L`` and
return ``v = L⁻ᴴ y`` and ``v = L y``.  The eigenvectors are normalized as LAPACK's are:
``vᴴ b v = I`` for types 1 and 2, ``vᴴ b⁻¹ v = I`` for type 3.  A subset is taken from the whole
spectrum (eigenvalues ascending), by index or by the half-open interval ``(low, high]``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .._errors import LinAlgError
from .._core.packages import known_package
from ..solver import Eigh
from ._convert import referenced
from ._dispatch import run

__all__ = ["check_options", "generalized", "standard", "subset"]

_GENERALIZED_DRIVERS = ("gv", "gvd", "gvx")
_STANDARD_DRIVERS = ("ev", "evd", "evr", "evx")
_WHOLE_SPECTRUM = ("ev", "evd", "gv", "gvd")


def check_options(a, b, type: int, subset_by_index, subset_by_value, driver: str | None) -> None:
    """SciPy's ``ValueError`` for options that do not go together."""
    if b is not None:
        if tuple(b.shape[-2:]) != tuple(a.shape[-2:]):
            raise ValueError(f"wrong b dimensions {tuple(b.shape)}, should be {tuple(a.shape)} (its last two)")
        if type not in (1, 2, 3):
            raise ValueError(f'"type" keyword only accepts 1, 2, and 3, not {type!r}')
        if driver in _STANDARD_DRIVERS:
            raise ValueError(f'"{driver}" does not accept input b array for standard eigenvalue problems.')
    elif driver in _GENERALIZED_DRIVERS:
        raise ValueError(f"{driver} requires input b array to be supplied for generalized eigenvalue problems.")
    if subset_by_index is not None and subset_by_value is not None:
        raise ValueError("Either index or value subset can be requested.")
    if (subset_by_index is not None or subset_by_value is not None) and driver in _WHOLE_SPECTRUM:
        raise ValueError(f'"{driver}" cannot compute subsets of eigenvalues')


def standard(a, lower: bool, eigvals_only: bool, driver: str | None, where: dict[str, Any]):
    """``(w, v)`` (``v`` None when *eigvals_only*) of the standard problem, by the Eigh planner."""
    options = {"lower": lower, "eigvals_only": eigvals_only, "driver": driver}
    result = run(Eigh, (a,), options, where["execution"], where["stream"], device_id=where["device_id"])
    return (result, None) if eigvals_only else result


def generalized(a, b, lower: bool, type: int, eigvals_only: bool, driver: str | None, where: dict[str, Any]):
    """``(w, v)`` of the generalized problem of *type* (see the module's notes); only the triangles
    *lower* names of *a* and *b* are read."""
    from ..blas import matmul  # (here: importing gpmath.linalg does not import gpmath.blas)
    from ._decompositions import cholesky
    from ._solvers import solve_triangular

    pkg = known_package(a)
    complex_ = pkg.is_complex(a) or pkg.is_complex(b)
    a = referenced(a, "her" if complex_ else "sym", lower)
    try:
        c = cholesky(b, lower=lower, check_finite=False, **where)
    except LinAlgError as exc:  # the planner names its operand "a"
        raise LinAlgError(re.sub(r"^a(\[[^\]]*\])?", r"b\1", str(exc))
                          + "; the generalized problem needs b positive definite") from None
    l = c if lower else pkg.swap(c, conjugate=True)  # b = L Lᴴ
    lh = pkg.swap(l, conjugate=True)
    if type == 1:
        left = solve_triangular(l, a, lower=True, check_finite=False, **where)  # L⁻¹ a
        reduced = solve_triangular(l, pkg.swap(left, conjugate=True), lower=True, check_finite=False, **where)
    else:
        reduced = matmul(lh, matmul(a, l, **where), **where)  # Lᴴ a L
    w, y = standard(reduced, True, eigvals_only, driver, where)
    if eigvals_only:
        return w, None
    if type == 3:
        return w, matmul(l, y, **where)
    return w, solve_triangular(l, y, trans=2, lower=True, check_finite=False, **where)  # L⁻ᴴ y


def subset(w, v, n: int, by_index, by_value):
    """The eigenpairs *by_index* (``(first, last)``, inclusive) or *by_value* (``(low, high]``)
    selects, from the whole ascending spectrum ``w`` (and ``v``'s columns; None stays None)."""
    if by_index is not None:
        first, last = (int(x) for x in by_index)
        if not 0 <= first <= last < n:
            raise ValueError(f"Requested eigenvalue indices are not valid. Valid range is [0, {n - 1}] and "
                             f"start <= end, but start={first}, end={last} is given")
    else:
        low, high = by_value
        if not -math.inf <= low < high <= math.inf:
            raise ValueError(f"Requested eigenvalue bounds are not valid. Valid range is (-inf, inf) and "
                             f"low < high, but low={low}, high={high} is given")
        values = known_package(w).to_numpy(w).reshape(-1, n)  # a sync: the counts decide the shape
        starts, stops = (values <= low).sum(axis=-1), (values <= high).sum(axis=-1)
        if len(set(starts.tolist())) > 1 or len(set(stops.tolist())) > 1:
            raise ValueError(f"subset_by_value=({low}, {high}] selects different eigenvalues in different "
                             "matrices of the batch; select by index or call per matrix")
        first, last = (int(starts[0]), int(stops[0]) - 1) if len(values) else (0, -1)
    return w[..., first:last + 1], None if v is None else v[..., first:last + 1]
