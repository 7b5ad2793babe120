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

import numpy as np

from .._errors import LinAlgError
from .._core.execution import check_same_space
from .._core.operand import locate
from .._core.packages import known_package, package_of
from .._core.planner import Planner
from .._core.staging import deliver
from .._core.stateless import ALIGNMENT
from ..solver import Cholesky, Eigh, SolveTriangular
from ..solver._plans import EIGH_DRIVERS
from ..solver._problem import check_dtype, check_eigh_type, check_same_dtype, square
from ._convert import referenced
from ._dispatch import run

__all__ = ["check_options", "generalized", "standard", "subset", "Steps", "PlanSteps", "GeneralizedEigh"]

_GENERALIZED_DRIVERS = ("gv", "gvd", "gvx")
_STANDARD_DRIVERS = ("ev", "evd", "evr", "evx")
_WHOLE_SPECTRUM = ("ev", "evd", "gv", "gvd")


def check_options(a, b, type: int, subset_by_index, subset_by_value, driver: str | None) -> None:
    """SciPy's ``ValueError`` for options that do not go together, and gpmath's for a *b* of
    another package or device than *a*'s."""
    if b is not None:
        check_same_space([locate(a, "a"), locate(b, "b")])
        if tuple(b.shape[-2:]) != tuple(a.shape[-2:]):
            raise ValueError(f"wrong b dimensions {tuple(b.shape)}, should be {tuple(a.shape)} (its last two)")
        check_eigh_type(type)
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
    result = Steps(where)(Eigh, (a,), options)
    return (result, None) if eigvals_only else result


def generalized(a, b, lower: bool, type: int, eigvals_only: bool, driver: str | None, step):
    """``(w, v)`` of the generalized problem of *type* (see the module's notes); only the triangles
    *lower* names of *a* and *b* are read.  *step* runs each planner of the reduction
    (:class:`Steps`: gpmath's cached plans; a :class:`GeneralizedEigh` plan: its own)."""
    from ..blas import Matmul  # (here: importing gpmath.linalg does not import gpmath.blas)

    pkg = known_package(a)
    complex_ = pkg.is_complex(a) or pkg.is_complex(b)
    a = referenced(a, "her" if complex_ else "sym", lower)
    try:
        c = step(Cholesky, (b,), {"lower": lower})
    except LinAlgError as exc:  # the planner names its operand "a"
        raise LinAlgError(re.sub(r"^a(\[[^\]]*\])?", r"b\1", str(exc))
                          + "; the generalized problem needs b positive definite") from None
    l = c if lower else pkg.swap(c, conjugate=True)  # b = L Lᴴ
    lh = pkg.swap(l, conjugate=True)
    if type == 1:
        left = step(SolveTriangular, (l, a), _LOWER)  # L⁻¹ a
        reduced = step(SolveTriangular, (l, pkg.swap(left, conjugate=True)), _LOWER)
    else:
        reduced = step(Matmul, (lh, step(Matmul, (a, l), {})), {})  # Lᴴ a L
    result = step(Eigh, (reduced,), {"lower": True, "eigvals_only": eigvals_only, "driver": driver})
    if eigvals_only:
        return result, None
    w, y = result
    if type == 3:
        return w, step(Matmul, (l, y), {})
    return w, step(SolveTriangular, (l, y), {"trans": 2, "lower": True})  # L⁻ᴴ y


_LOWER = {"lower": True}


class Steps:
    """The planners of :func:`generalized` run through gpmath's stateless paths (plans cached in
    the ``"linalg"`` and ``"matmul"`` caches), where *where* (``execution``, ``stream``,
    ``device_id``) says."""

    def __init__(self, where: dict[str, Any]):
        self.where = where

    def __call__(self, front, operands: tuple, options: dict):
        from ..blas import Matmul, matmul

        where = self.where
        if front is Matmul:
            return matmul(*operands, **where)
        return run(front, operands, options, where["execution"], where["stream"], device_id=where["device_id"])


class PlanSteps:
    """The planners of :func:`generalized` as plans of one :class:`GeneralizedEigh`: each made
    and planned on first use for its operands' layout (and alignment), rebound without checks on
    later calls, and freed with the owning plan (*hold* registers each ``free``)."""

    def __init__(self, where: dict[str, Any], hold):
        self.where, self.hold = where, hold
        self.plans: dict[tuple, Any] = {}

    @staticmethod
    def _layout(pkg, x) -> tuple:
        """What a plan of *x* relies on: its signature, and on a device its address modulo 256
        (host operands are read or staged whatever their alignment)."""
        return pkg.signature(x), None if pkg.device_id(x) is None else pkg.ptr(x) & ALIGNMENT

    def __call__(self, front, operands: tuple, options: dict):
        from ..blas import Matmul

        pkg = known_package(operands[0])
        key = (front, *options.values(), *(self._layout(pkg, x) for x in operands))
        plan = self.plans.get(key)
        if plan is None:
            plan = front(*operands, **options, **self.where).plan()
            self.hold(plan.free)
            self.plans[key] = plan
        else:
            plan.reset_operands_unchecked(*operands)
        try:
            return plan.execute() if front is Matmul else plan.execute(check=True)
        finally:
            plan.release_operands()


class GeneralizedEigh(Planner):
    """Plan the generalized Hermitian eigenproblem of a batch: what ``Eigh(a, b)`` returns.

    The reduction of :func:`generalized` (Cholesky of *b*, triangular solves or products, a
    standard :class:`~gpmath.solver.Eigh`, the back-transformation) runs as plans of this plan's
    own, each planned on the first :meth:`execute` (the intermediate arrays' layouts are known
    then) and rebound on every later one, so a loop over new operands plans nothing again.

    Parameters
    ----------
    a, b : array, (..., N, N)
        Hermitian (*b* positive definite), of one package, device and dtype (float32, float64,
        complex64 or complex128); only the triangles named by *lower* are read.
    lower : bool, default True
        Read the lower triangles (else the upper).
    eigvals_only : bool, default False
        Return ``w`` only.
    driver : {None, "syevd", "syevj", "syevjBatched", "syevBatched"}
        The standard :class:`~gpmath.solver.Eigh`'s routine.
    type : {1, 2, 3}, default 1
        ``a v = w b v``, ``a b v = w v`` or ``b a v = w v``.
    execution, stream, device_id
        As every solver plan takes them; every step runs there.

    Notes
    -----
    :meth:`execute` always checks: a *b* that is not positive definite raises
    :class:`~gpmath.LinAlgError` naming its matrix (the reduction needs its Cholesky factor).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Eigh
    >>> a, b = np.array([[2.0, 1.0], [1.0, 2.0]]), np.diag([2.0, 2.0])
    >>> with Eigh(a, b, eigvals_only=True) as plan:
    ...     first = plan.plan().execute()
    ...     plan.reset_operands(a, np.eye(2))  # new operands: nothing is planned again
    ...     second = plan.execute()
    >>> first.round(6).tolist(), second.round(6).tolist()
    ([0.5, 1.5], [1.0, 3.0])
    """

    operand_names = ("a", "b")

    def __init__(self, a, b, *, lower: bool = True, eigvals_only: bool = False, driver: str | None = None,
                 type: int = 1, execution: str | None = None, stream=None, device_id: int | None = None):
        super().__init__()
        pkg = package_of(a, "a")
        self._planned = self._layout(pkg, a, b)
        check_options(a, b, type, None, None, driver)
        if driver not in EIGH_DRIVERS:
            raise ValueError(f"driver must be one of {', '.join(map(repr, EIGH_DRIVERS))}, not {driver!r}")
        self.lower, self.eigvals_only, self.driver, self.type = bool(lower), bool(eigvals_only), driver, type
        self._where = {"execution": execution, "stream": stream, "device_id": device_id}
        self._steps: PlanSteps | None = None
        self._arrays: tuple | None = (a, b)

    @staticmethod
    def _layout(pkg, a, b) -> tuple:
        """``(package, device, dtype, a's shape)`` after checking that *a* and *b* agree in them."""
        if package_of(b, "b") is not pkg or pkg.device_id(b) != pkg.device_id(a):
            raise ValueError(f"a and b must be arrays of one package on one device; got {type(a).__name__} "
                             f"and {type(b).__name__}")
        dtype = pkg.dtype_name(a)
        check_dtype("a", dtype)
        check_same_dtype(dtype, pkg.dtype_name(b))
        square("a", tuple(a.shape))
        if tuple(b.shape) != tuple(a.shape):
            raise ValueError(f"b must have a's shape {tuple(a.shape)}; got {tuple(b.shape)}")
        return pkg, pkg.device_id(a), dtype, tuple(a.shape)

    def plan(self) -> "GeneralizedEigh":
        """Prepare the plan (its steps are planned on the first :meth:`execute`); returns it."""
        self._check_alive()
        if self._steps is None:
            self._steps = PlanSteps(self._where, self._holder())
        return self

    def execute(self, *, check: bool = True) -> Any:
        """``(w, v)`` (``w`` alone with *eigvals_only*) for the bound operands, in their package.

        *check* is accepted for the solver plans' signature: the reduction always checks.
        """
        self._check_alive()
        if self._arrays is None:
            raise ValueError("this GeneralizedEigh plan has no operands; pass them with reset_operands()")
        self.plan()
        a, b = self._arrays
        w, v = generalized(a, b, self.lower, self.type, self.eigvals_only, self.driver, self._steps)
        return w if self.eigvals_only else (w, v)

    def info(self) -> Any:
        """Zeros, as the solver plans' ``info()`` reports success: this plan's failures (a *b*
        that is not positive definite, an eigensolver that did not converge) raise at once.

        Returns
        -------
        int or array
            0 for one matrix; for a batch, int32 zeros of the batch's shape in the operands'
            package and on their device.
        """
        self._check_alive()
        pkg, device, _, shape = self._planned
        if len(shape) == 2:
            return 0
        return deliver(pkg, np.zeros(shape[:-2], dtype=np.int32), device)

    def reset_operands(self, a, b) -> None:
        """Bind new operands of the planned package, device, dtype and shape (``ValueError`` naming
        the difference otherwise)."""
        self._check_alive()
        pkg = self._planned[0]
        if known_package(a) is not pkg:
            raise ValueError(f"a must stay a {pkg.name} array on the device the plan was built for")
        layout = self._layout(pkg, a, b)
        if layout != self._planned:
            raise ValueError(f"a and b must keep the planned device, dtype and shape {self._planned[1:]}; got {layout[1:]}")
        self._arrays = (a, b)

    def reset_operands_unchecked(self, a, b) -> None:
        """:meth:`reset_operands` without validation."""
        self._arrays = (a, b)

    def release_operands(self) -> None:
        """Drop the plan's references to its operands."""
        self._arrays = None

    def _after_free(self) -> None:
        self._arrays = self._steps = None

    def __repr__(self) -> str:
        pkg, device, dtype, shape = self._planned
        return f"<GeneralizedEigh type={self.type} a, b: {dtype}{list(shape)} of {pkg.name}>"


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
