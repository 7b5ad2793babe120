"""The one cached-plan path behind the stateless functions (``gpmath.matmul``, ``gpmath.fft.*``,
``gpmath.linalg.*``).

A call becomes a key: the planner (its front), the options, where the call runs, and one
signature per operand and ``out`` (:meth:`Package.signature <gpmath._core.packages.Package.signature>`:
shape, strides, dtype, device and torch's lazy conj/neg flags; for device operands also the
address modulo 256, since a plan may rely on its alignment).  Where a call runs is, for device
operands, the stream (the package's current one when none is given), the requested device and
the execution; for host operands (the CPU engine, or staged through a GPU) the execution, the
stream as given, the GPU that would compute (``device_id``, else the current device where
there is one) and the placement mode (:func:`gpmath.get_placement`): where automatic placement
puts a plan depends only on these and the operands' shapes and dtypes.  The
:class:`~gpmath._core.cache.PlanCache` adds the calling thread.

The key fixes everything the plan validated, so a hit does no validation: ``execute_with`` binds
the operands unchecked, executes, and releases them, so a cached plan never keeps the caller's
arrays alive. A miss builds the plan through its front (which chooses the engine, CPU or CUDA),
plans it (after an out-of-memory failure: once more, having freed this thread's cached plans) and
caches it; where automatic placement put host operands on a side by a close call of its cost model
(:attr:`Verdict.close <gpmath._core.placement.Verdict.close>`) of at most :data:`TRIAL_MOST_S`, the
miss also makes the other side's plan, times both on the call's operands and caches the faster
(:meth:`Stateless._measured`), so a loop of calls runs where it is faster on this machine whatever
the model's noise. Operands of several packages, and streams or options that cannot be hashed, run
an uncached plan that is freed at once; so does every call when the cache's ``maxsize`` is 0.
Only the planner protocol of :class:`~gpmath._core.planner.Planner` is used.

A repeated call on device arrays with default options comes back by a *lane*
(:meth:`Stateless.lane`): its key, from :func:`lane_key` before the function processes its
arguments, is the function's own options (the *tag*), the package's current stream and each array's
signature and alignment.  The first such call passes the key on (``lane=``) and the plan it ran
through is kept for it in the cache's lanes; the next finds that plan at once and calls
``execute_with``.  A call records a lane only where it hands the arrays to the plan as they
came (no conversion), so the lane's plan is the one its full key would find.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

from .._errors import OutOfMemoryError
from . import runtime
from .cache import named_cache
from .packages import ALIGNMENT, as_array, known_package
from .placement import get_placement
from .planner import Planner

__all__ = ["Stateless", "ALIGNMENT", "lane_key", "host_where", "TRIALS", "TRIAL_MOST_S"]

_NO_ARGUMENTS: dict = {}  # execute() without arguments (never modified)
TRIALS = 3  # timed executions a side where the cost model's placement was a close call
TRIAL_MOST_S = 0.01  # the longest close call (its slower side by the model) measured: 2 (TRIALS + 1) runs
logger = logging.getLogger("gpmath")


def _worth_measuring(plan: Planner) -> bool:
    """Whether the stateless path measures *plan*'s side (:meth:`Stateless._measured`): automatic
    placement put it there by a close call of the model (:attr:`Verdict.close
    <gpmath._core.placement.Verdict.close>`) whose slower side takes at most :data:`TRIAL_MOST_S`
    by the model (past that, overheads weigh little and the model's noise with them, while the
    measurement's eight runs of the first call would cost the user seconds), and its executions do not write its
    operands (:attr:`Planner.writes_operands <gpmath._core.planner.Planner.writes_operands>`)."""
    verdict = plan.placement
    return (verdict is not None and verdict.close and max(verdict.cpu_seconds, verdict.gpu_seconds) <= TRIAL_MOST_S
            and not plan.writes_operands)


def _timed(plan: Planner, run: dict, best: list, results: list, side: int) -> None:
    """*plan* run once and then :data:`TRIALS` times, timed: its fastest time in ``best[side]``,
    its result in ``results[side]``."""
    execute = plan.execute
    results[side] = execute(**run)  # (untimed: what runs once, and the switch from the other side)
    for _ in range(TRIALS):
        start = time.perf_counter()
        results[side] = execute(**run)
        best[side] = min(best[side], time.perf_counter() - start)


def _key(front, operands: tuple, out, options: dict, execution, stream, device_id) -> tuple | None:
    """The cache key of a call, or None when its operands are not all arrays of one known package."""
    first = operands[0]
    pkg = known_package(first)
    if pkg is None:
        return None
    home = pkg.device_id(first)
    on_device = home is not None and execution != "cpu"
    if on_device:
        where = (execution, pkg.current_stream(home) if stream is None else stream, device_id)
    else:
        where = host_where(execution, stream, device_id)
    key = [front, where, *options.values()]
    signature = pkg.keyed if on_device else pkg.signature
    for x in (*operands, out):
        if x is None:
            key.append(None)
        elif x is not first and known_package(x) is not pkg:
            return None
        else:
            key.append(signature(x))
    return tuple(key)


def host_where(execution, stream, device_id) -> tuple:
    """Where a call on host operands runs, as its key names it: the *execution* and *stream* as
    given, the GPU that would compute (*device_id*, else the current device where there is one)
    and the placement mode.

    Examples
    --------
    >>> import gpmath
    >>> host_where("cpu", None, None) == ("cpu", None, None, gpmath.get_placement())
    True
    """
    if device_id is None and execution != "cpu" and runtime.device_count():
        device_id = runtime.current_device()  # the GPU that computes on host operands
    return execution, stream, device_id, get_placement()


def lane_key(tag, x, y=None) -> tuple | None:
    """The lane key of a call with options *tag* on the device array *x* (and *y*, of the same
    package): *tag*, the package's current stream on *x*'s device and each array's
    :meth:`~gpmath._core.packages.Package.keyed`; None for host arrays, arrays of packages not
    seen yet and mixed packages.

    Examples
    --------
    >>> import numpy as np
    >>> lane_key("matmul", np.ones(2)) is None  # host arrays take the full path
    True
    """
    pkg = known_package(x)
    if pkg is None:
        return None
    home = pkg.device_id(x)
    if home is None:
        return None
    if y is None:
        return tag, pkg.current_stream(home), pkg.keyed(x)
    if known_package(y) is not pkg:
        return None
    return tag, pkg.current_stream(home), pkg.keyed(x), pkg.keyed(y)


def _as_arrays(names: tuple[str, ...], operands: tuple) -> tuple:
    """*operands* with array-likes converted as NumPy converts them (None stays None)."""
    return tuple(x if x is None else as_array(x, name)[0] for name, x in zip(names, operands))


class Stateless:
    """The cached-plan path of one capability: its :class:`~gpmath._core.cache.PlanCache` and
    the call that uses it.

    Parameters
    ----------
    name : str
        The cache's name (``"matmul"``, ``"fft"``, ``"linalg"``), as in :func:`gpmath.cache_info`.

    Attributes
    ----------
    cache : PlanCache
        The plans.
    lane : callable
        ``lane(key)``: the plan this thread's calls of lane key *key* (:func:`lane_key`) ran
        through while it is cached, else None (:meth:`PlanCache.lane <gpmath._core.cache.PlanCache.lane>`).

    Examples
    --------
    ``gpmath.matmul`` is one call of its path (``_PATH`` in :mod:`gpmath.blas._functions`):

    >>> import numpy as np, gpmath
    >>> from gpmath.blas import Matmul, _functions
    >>> a = np.ones((2, 3))
    >>> _functions._PATH(Matmul, (a, a.T, None, None), {"alpha": 2.0}, execution="cpu").tolist()
    [[6.0, 6.0], [6.0, 6.0]]
    >>> hits = gpmath.cache_info()["matmul"].hits
    >>> _ = _functions._PATH(Matmul, (a.copy(), a.T, None, None), {"alpha": 2.0}, execution="cpu")
    >>> gpmath.cache_info()["matmul"].hits - hits
    1
    """

    def __init__(self, name: str):
        self.cache = named_cache(name)
        self.lane = self.cache.lane  # bound once: the lanes' lookup is on every lane call

    def __call__(self, front: Callable[..., Planner], operands: tuple, options: dict, execution=None, stream=None,
                 device_id=None, run: dict | None = None, *, out=None, with_plan: bool = False,
                 lane: tuple | None = None):
        """Execute planner *front* on *operands* through a cached plan.

        Parameters
        ----------
        front : Planner class
            Called as ``front(*operands, **options, execution=, stream=, device_id=[, out=])`` on a
            miss; its ``operand_names`` name array-likes in errors.
        operands : tuple
            The operands in the order of ``reset_operands_unchecked`` (None: absent, e.g. matmul's
            ``c``).  Array-likes are converted as NumPy converts them.
        options : dict
            The planner's options; their values (the same names in the same order on every call)
            enter the key, so they must be hashable (otherwise the call is not cached).
        execution, stream, device_id
            As the stateless functions take them.
        run : dict, optional
            Keyword arguments of ``execute`` (fft's ``direction``, the solvers' ``check``).
        out : array, optional
            An array ``execute`` writes (matmul's ``out=``): keyed like the operands, passed to the
            planner and to ``execute``.
        with_plan : bool
            Return ``(result, plan)`` (for plan properties; the plan may be cached or freed).
        lane : tuple, optional
            The call's :func:`lane_key`, where *operands* are the caller's device arrays as they
            came: the plan is kept for it once cached.

        Returns
        -------
        The result of ``execute``, or ``(result, plan)``.
        """
        key = _key(front, operands, out, options, execution, stream, device_id)
        if key is None:  # array-likes, types not seen yet, or several packages
            operands = _as_arrays(front.operand_names, operands)
            key = _key(front, operands, out, options, execution, stream, device_id)
        try:
            plan = None if key is None else self.cache.get(key)
        except TypeError:  # an unhashable stream or option: no caching
            key = plan = None
        if run is None:
            run = _NO_ARGUMENTS
        if out is not None:
            run = {**run, "out": out}
        if plan is None:  # a new plan is bound to the operands already
            plan = self._planned(front, operands, options, execution, stream, device_id, out)
            if key is not None and out is None and _worth_measuring(plan):
                plan, result = self._measured(plan, front, operands, options, stream, device_id, out, run)
                if not self.cache.put(key, plan):
                    plan.free()
                return (result, plan) if with_plan else result
            if key is None or not self.cache.put(key, plan):
                with plan:
                    result = plan.execute(**run)
                return (result, plan) if with_plan else result
            try:
                result = plan.execute(**run)
            finally:
                plan.release_operands()
        else:
            result = plan.execute_with(*operands, **run)
        if lane is not None:
            self.cache.keep_lane(lane, key, plan)
        return (result, plan) if with_plan else result

    def _measured(self, plan: Planner, front, operands: tuple, options: dict, stream, device_id, out,
                  run: dict) -> tuple[Planner, object]:
        """``(the faster plan, its result)``: *plan*, placed by a close call of the cost model
        (:attr:`Verdict.close <gpmath._core.placement.Verdict.close>`), and a plan of the same call
        on the other side (``execution`` ``"cuda"`` or ``"cpu"``), each run on the call's operands
        once and then :data:`TRIALS` times timed, one side's runs after the other's (host
        operands: each execution returns with its result on the host); the slower one is freed.
        A side's runs are not interleaved with the other's: a CPU product's BLAS threads spin for
        a while after it and slow a GPU call's host copies, and an H100 host's CPU ``eigh`` of
        order 128 took 6.1 ms right after the GPU's, 1.7 in a loop of its own; each side's first
        run, untimed, takes that switch as a loop of calls pays it once.  Where the
        other plan cannot be made or run (no memory, a library missing), *plan* stays; where
        *plan* fails, both are freed and its error raised.  Both sides
        compute the same values: the call's result is the faster one's.  The side measured is kept
        (:func:`~gpmath._core.calibration.settle`): later plans of the same estimate (another
        layout of the operands: another key) take it without measuring again, and where a
        stateless shortcut takes the problem (:attr:`Verdict.kept
        <gpmath._core.placement.Verdict.kept>`) a CPU side's calls take the shortcut, as a far
        verdict's do, and not the plans' path, whose key and lookup cost 15 µs more a call than the
        shortcut's on the H100's host."""
        other_side = "cpu" if plan.device_id is not None else "cuda"
        try:
            other = self._planned(front, operands, options, other_side, stream, device_id, out, retry=False)
        except Exception as exc:  # the model's plan runs the call anyway
            logger.info("placement: no %s plan to measure beside the model's close call (%s)", other_side, exc)
            try:
                return plan, plan.execute(**run)
            finally:
                plan.release_operands()
        plans, best, results = (plan, other), [math.inf, math.inf], [None, None]
        try:
            _timed(plan, run, best, results, 0)
        except BaseException:  # (neither is cached: the next call makes its plan again)
            other.free()
            plan.free()
            raise
        try:
            _timed(other, run, best, results, 1)
        except Exception as exc:  # (the model's side computed the call: no memory left for the other's, ...)
            logger.info("placement: the %s plan beside the model's close call failed (%s)", other_side, exc)
            other.free()
            plan.release_operands()
            return plan, results[0]
        except BaseException:
            other.free()
            plan.free()
            raise
        faster = int(best[1] < best[0])
        from . import calibration  # (the side measured: for later plans of the estimate and the shortcut)

        calibration.settle(plan.placement, plans[faster].device_id is None)
        logger.info("placement: %s measured %.0f µs on the model's side, %.0f on the other; keeping %s",
                    type(plan).__name__, best[0] * 1e6, best[1] * 1e6, "the other" if faster else "the model's")
        plans[1 - faster].free()
        plans[faster].release_operands()
        return plans[faster], results[faster]

    def _planned(self, front, operands: tuple, options: dict, execution, stream, device_id, out,
                 retry: bool = True) -> Planner:
        """A new plan, planned; after an out-of-memory failure, where *retry*, once more having freed
        this thread's cached plans."""
        arguments = dict(options, execution=execution, stream=stream, device_id=device_id)
        if out is not None:
            arguments["out"] = out
        try:
            return front(*operands, **arguments).plan()
        except OutOfMemoryError:
            if not retry:
                raise
            self.cache.release()
            return front(*operands, **arguments).plan()
