"""How a stateless :mod:`gpmath.linalg` call runs: a plan built (GPU: cached) and executed once.

On the GPU the plan comes from the ``"linalg"`` plan cache, keyed by the planner, its options,
the device, the stream and the operands' signatures (shape, strides, dtype); the plan holds the
operands only for the call.  The stateless functions check ``info`` (``execute(check=True)``):
that reads it after a sync of the call's stream only, never of the device.
"""

from __future__ import annotations

from .._core.cache import PlanCache
from .._core.execution import resolve_execution
from .._core.operand import locate
from .._core.streams import resolve_stream
from ..solver._base import SolverPlan, library_ready

__all__ = ["run"]

_CACHE = PlanCache("linalg")


def run(cls: type[SolverPlan], operands: tuple, options: dict, execution, stream, with_plan: bool = False):
    """Execute planner *cls* on *operands* with *options*, raising on a numerical failure.

    Returns the result, or ``(result, plan)`` when *with_plan* (for plan properties such as
    :attr:`~gpmath.solver.Solve.refinement`).
    """
    located = cls._located(operands)
    device_id = resolve_execution(execution, located, library_ready)
    if device_id is None:
        plan = cls(*operands, execution="cpu", **options)
        result = plan.execute(check=True)
        return (result, plan) if with_plan else result
    package = located[0][1]
    handle = None if stream is None and package.host_only else resolve_stream(stream, package, device_id)
    key = (cls.__name__, device_id, handle, tuple(package.signature(x) for x in operands), tuple(sorted(options.items())))
    plan = _CACHE.get_or_create(
        key, lambda: cls(*operands, execution="cuda", stream=handle, **options).plan()
    )
    plan.reset_operands(*operands)
    try:
        result = plan.execute(check=True)
    finally:
        plan.release_operands()
    return (result, plan) if with_plan else result
