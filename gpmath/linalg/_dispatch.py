"""How a stateless :mod:`gpmath.linalg` call runs: through a cached plan of the ``"linalg"``
plan cache (:mod:`gpmath._core.stateless`), on the GPU or the CPU.

The stateless functions check ``info`` (``execute(check=True)``): that reads it after a sync of
the call's stream only, never of the device.

``cholesky`` and ``solve`` on device arrays come back by a *lane* (as ``gpmath.matmul`` does:
:meth:`~gpmath._core.stateless.Stateless.lane`): their options and the arrays' keys name the plan
their last such call ran, which runs at once, before any argument is processed.  ``cholesky`` and
``det`` of NumPy arrays take a *host lane* (:func:`host_lane_for`) the same way: what the front
does besides running the plan is the finite test, which :func:`by_lane` makes for them.
"""

from __future__ import annotations

from .._core.finite import require_finite
from .._core.packages import NUMPY
from .._core.stateless import Stateless, host_where, lane_key
from ..solver._base import SolverPlan
from ._convert import host_ready

__all__ = ["run", "lane_for", "host_lane_for", "by_lane"]

_PATH = Stateless("linalg")
_CHECKED, _UNCHECKED = {"check": True}, {"check": False}  # execute's arguments (never modified)
_HOST = ("host",)  # the mark of a host lane key (a device lane key holds a stream there)


def run(cls: type[SolverPlan], operands: tuple, options: dict, execution, stream, with_plan: bool = False,
        device_id: int | None = None, lane: tuple | None = None, check: bool = True):
    """Execute planner *cls* on *operands* with *options*, raising on a numerical failure (unless
    not *check*: ``lu``'s singular ``U`` is a result).

    Returns the result, or ``(result, plan)`` when *with_plan* (for plan properties such as
    :attr:`~gpmath.solver.Solve.refinement`).  *device_id* names the GPU for host operands (a
    device operand's own device is checked against it when the plan is built).  *lane*: the call's
    :func:`lane_for`, where *operands* are the caller's arrays as they came (the plan is kept for it).
    """
    return _PATH(cls, operands, options, execution, stream, device_id, _CHECKED if check else _UNCHECKED,
                 with_plan=with_plan, lane=lane)


def lane_for(tag: tuple, execution, stream, device_id, *arrays) -> tuple | None:
    """The lane key of a call with options *tag* on the device arrays *arrays* (one or two) that
    runs where they are (no *execution*, *stream* or *device_id* given); else None.

    Examples
    --------
    >>> import numpy as np
    >>> lane_for(("cholesky", False, True), None, None, None, np.eye(2)) is None  # host arrays: no lane
    True
    """
    if execution is None and stream is None and device_id is None:
        return lane_key(tag, *arrays)
    return None


def host_lane_for(tag: tuple, execution, stream, device_id, *arrays) -> tuple | None:
    """The host lane key of a call with options *tag* on the NumPy arrays *arrays* (one or two, of
    one LAPACK dtype in native byte order: those the front hands to its plan as they came) with no
    *execution*, *stream* or *device_id* given; else None.

    It holds all that the call's full key is made of: *tag* (the options), where host operands run
    (the placement mode and the GPU that would compute them,
    :func:`~gpmath._core.stateless.host_where`) and the arrays' signatures.

    Examples
    --------
    >>> import numpy as np
    >>> host_lane_for(("det", True), None, None, None, np.eye(2)) is not None
    True
    >>> host_lane_for(("det", True), "cpu", None, None, np.eye(2)) is None  # as the full path keys it
    True
    """
    if execution is None and stream is None and device_id is None and host_ready(arrays):
        return (tag, _HOST, host_where(None, None, None), *map(NUMPY.signature, arrays))
    return None


def by_lane(lane: tuple | None, *arrays, check_finite: bool = False):
    """The checked result of the plan kept for *lane* on *arrays*, or None (no lane, none kept).

    A host lane serves plans of the CPU engine only; its arrays (named ``a`` and ``b``) are first
    tested for infs and NaNs when *check_finite*, as :func:`~gpmath.linalg._convert.prepared` tests
    them on the full path.  A device lane's plan tests its own (``check_finite`` is in its options)."""
    plan = None if lane is None else _PATH.lane(lane)
    if plan is None:
        return None
    if lane[1] is _HOST:
        if plan.device_id is not None:  # host operands staged through a GPU: the full path (a lane saves
            return None  # a few µs of a call that moves them both ways)
        if check_finite:
            require_finite(True, **dict(zip(("a", "b"), arrays)))
    return plan.execute_with(*arrays, **_CHECKED)
