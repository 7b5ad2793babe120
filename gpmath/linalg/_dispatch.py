"""How a stateless :mod:`gpmath.linalg` call runs: through a cached plan of the ``"linalg"``
plan cache (:mod:`gpmath._core.stateless`), on the GPU or the CPU.

The stateless functions check ``info`` (``execute(check=True)``): that reads it after a sync of
the call's stream only, never of the device.
"""

from __future__ import annotations

from .._core.stateless import Stateless
from ..solver._base import SolverPlan

__all__ = ["run"]

_PATH = Stateless("linalg")
_CHECKED = {"check": True}  # execute's arguments (never modified)


def run(cls: type[SolverPlan], operands: tuple, options: dict, execution, stream, with_plan: bool = False,
        device_id: int | None = None):
    """Execute planner *cls* on *operands* with *options*, raising on a numerical failure.

    Returns the result, or ``(result, plan)`` when *with_plan* (for plan properties such as
    :attr:`~gpmath.solver.Solve.refinement`).  *device_id* names the GPU for host operands (a
    device operand's own device is checked against it when the plan is built).
    """
    return _PATH(cls, operands, options, execution, stream, device_id, _CHECKED, with_plan=with_plan)
