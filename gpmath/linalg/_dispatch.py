"""How a stateless :mod:`gpmath.linalg` call runs: through a cached plan of the ``"linalg"``
plan cache (:mod:`gpmath._core.stateless`), on the GPU or the CPU.

The stateless functions check ``info`` (``execute(check=True)``): that reads it after a sync of
the call's stream only, never of the device.

``cholesky`` and ``solve`` on device arrays come back by a *lane* (as ``gpmath.matmul`` does:
:meth:`~gpmath._core.stateless.Stateless.lane`): their options and the arrays' keys name the plan
their last such call ran, which runs at once, before any argument is processed.
"""

from __future__ import annotations

from .._core.stateless import Stateless, lane_key
from ..solver._base import SolverPlan

__all__ = ["run", "lane_for", "by_lane"]

_PATH = Stateless("linalg")
_CHECKED = {"check": True}  # execute's arguments (never modified)


def run(cls: type[SolverPlan], operands: tuple, options: dict, execution, stream, with_plan: bool = False,
        device_id: int | None = None, lane: tuple | None = None):
    """Execute planner *cls* on *operands* with *options*, raising on a numerical failure.

    Returns the result, or ``(result, plan)`` when *with_plan* (for plan properties such as
    :attr:`~gpmath.solver.Solve.refinement`).  *device_id* names the GPU for host operands (a
    device operand's own device is checked against it when the plan is built).  *lane*: the call's
    :func:`lane_for`, where *operands* are the caller's arrays as they came (the plan is kept for it).
    """
    return _PATH(cls, operands, options, execution, stream, device_id, _CHECKED, with_plan=with_plan, lane=lane)


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


def by_lane(lane: tuple | None, *arrays):
    """The checked result of the plan kept for *lane* on *arrays*, or None (no lane, none kept)."""
    plan = None if lane is None else _PATH.lane(lane)
    return None if plan is None else plan.execute_with(*arrays, **_CHECKED)
