"""How a stateless :mod:`gpmath.linalg` call runs: a plan built (GPU: cached) and executed once.

On the GPU the plan comes from the ``"linalg"`` plan cache, keyed by the planner, its options,
the device, the stream and the operands' signatures (shape, strides, dtype); the plan holds the
operands only for the call.  A call on CuPy or PyTorch arrays whose key is cached takes the fast
path: no DLPack export and no validation (the key fixes everything validation looked at), only
the operands rebound and the plan executed.  The stateless functions check ``info``
(``execute(check=True)``): that reads it after a sync of the call's stream only, never of the device.
"""

from __future__ import annotations

from .._core.cache import PlanCache
from .._core.engines import any_empty, build, choose
from .._core.packages import as_array, known_package
from .._core.streams import resolve_stream
from ..solver._base import SolverPlan

__all__ = ["run"]

_CACHE = PlanCache("linalg")


class _Slow(Exception):
    """Internal: the operands do not qualify for the cached fast path."""


def _fast_key(cls, operands: tuple, options: dict, execution, stream, requested) -> tuple:
    """The cache key of a call on device arrays of one package (raises :class:`_Slow` otherwise)."""
    pkg = known_package(operands[0])
    if pkg is None or pkg.host_only or execution == "cpu":
        raise _Slow
    device_id = pkg.device_id(operands[0])
    if device_id is None:
        raise _Slow
    signatures = []
    for x in operands:
        if known_package(x) is not pkg:
            raise _Slow
        signatures.append(pkg.signature(x))
    where = pkg.current_stream(device_id) if stream is None else stream
    return cls, device_id, where, execution, requested, tuple(signatures), tuple(options.items())


def _execute(plan: SolverPlan, operands: tuple, with_plan: bool):
    plan._rebind(dict(zip(plan._names, operands)))
    try:
        result = plan.execute(check=True)
    finally:
        plan.release_operands()
    return (result, plan) if with_plan else result


def run(cls: type[SolverPlan], operands: tuple, options: dict, execution, stream, with_plan: bool = False,
        device_id: int | None = None):
    """Execute planner *cls* on *operands* with *options*, raising on a numerical failure.

    Returns the result, or ``(result, plan)`` when *with_plan* (for plan properties such as
    :attr:`~gpmath.solver.Solve.refinement`).  *device_id* names the GPU for host operands (a
    device operand's own device is checked against it on the validating path).
    """
    requested = device_id
    if any(known_package(x) is None for x in operands):  # array-likes, read as NumPy reads them
        operands = tuple(as_array(x, name)[0] for name, x in zip(cls._names, operands))
    try:
        key = _fast_key(cls, operands, options, execution, stream, requested)
        plan = _CACHE.get(key)
    except (_Slow, TypeError):  # host or mixed operands, or an unhashable stream object
        key = plan = None
    if plan is not None:
        return _execute(plan, operands, with_plan)
    choice = choose(cls.__name__, execution, cls._located(operands), requested, any_empty(*operands))
    if choice.device_id is None:
        plan = build(choice, *operands, **options)
        result = plan.execute(check=True)
        return (result, plan) if with_plan else result
    handle = None if stream is None and choice.home is None else resolve_stream(stream, choice.package,
                                                                                  choice.device_id)
    if key is None:
        key = (cls.__name__, choice.device_id, handle, tuple(choice.package.signature(x) for x in operands),
               tuple(sorted(options.items())))
        plan = _CACHE.get(key)
    if plan is None:
        plan = build(choice, *operands, stream=handle, **options).plan()
        _CACHE.put(key, plan)
    else:
        plan.reset_operands(*operands)
    return _execute(plan, operands, with_plan)
