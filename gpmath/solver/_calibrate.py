"""``gpmath.solver.calibrate``: the solver's routing crossovers measured on this GPU, kept in wisdom.

The routing tables of :mod:`._crossover` were measured on an H100 and an H200.  :func:`calibrate`
times, on the GPU it is given, the routes a table chooses between, and records the rows the
timings give in :mod:`gpmath.wisdom` under the GPU's model, its compute capability and the
cuSOLVER version.  Plans made afterwards on such a GPU route by them, in this process and in any
process that loads the wisdom (:func:`gpmath.wisdom.load`, ``GPMATH_WISDOM``); a GPU of another
model or another cuSOLVER keeps the built-in rows (and logs once that it did not use the entry).

Calibrated: ``FACTOR``, which sends a batch of LU or Cholesky factorisations of order ``n`` through
the pointer-array batched routines or through a loop of the 64-bit API, one matrix at a time.  Both
are timed as solves of a batch of general float64 systems (host operands: the same copies in both),
and the batched routines keep the sizes up to the one before the first of two sizes in a row at
which the loop was faster.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence

import numpy as np

from .._core import runtime, wisdom
from .._core.cache import cache_clear
from . import _device
from ._crossover import FACTOR, overriding
from ._plans import Solve

__all__ = ["calibrate", "SIZES"]

SIZES = (48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
logger = logging.getLogger("gpmath")


def calibrate(device_id: int | None = None, *, batch: int = 8, sizes: Sequence[int] = SIZES,
              repeats: int = 3) -> dict[str, Any]:
    """Measure the solver's routing crossovers on a GPU and record them in :mod:`gpmath.wisdom`.

    Parameters
    ----------
    device_id : int, optional
        The GPU (default: the current device).
    batch : int, default 8
        Matrices in each timed batch (at least 2: one matrix always takes the loop).
    sizes : sequence of int
        The orders timed, ascending, each above 32 (below, gpmath's own kernels serve solves).
    repeats : int, default 3
        Timings of each route at each size; the fastest counts.

    Returns
    -------
    dict
        ``{"FACTOR": {"rows": [...], "ms": {n: {"batched": ms, "looped": ms}}, "machine": ...}}``:
        the rows now in use on such GPUs and what they were decided from.

    Raises
    ------
    ValueError
        For a *batch* below 2, or *sizes* not ascending or not above 32.
    gpmath.NoGPUError
        Without a usable GPU.

    Examples
    --------
    >>> import gpmath
    >>> if gpmath.device_count():
    ...     rows = gpmath.solver.calibrate(batch=2, sizes=(48, 64))["FACTOR"]["rows"]
    ... else:
    ...     rows = [[1, None, "looped"]]
    >>> rows[-1]
    [1, None, 'looped']
    """
    sizes = [int(n) for n in sizes]
    if int(batch) < 2:
        raise ValueError(f"batch must be at least 2 (one matrix always takes the loop), not {batch}")
    if not sizes or sizes != sorted(set(sizes)) or sizes[0] <= 32:
        raise ValueError(f"sizes must ascend and be above 32, not {tuple(sizes)}")
    device_id = runtime.current_device() if device_id is None else int(device_id)
    where = wisdom.machine(device_id, "cusolver", _device.LIBRARIES.cs.get_version())
    timings: dict[int, dict[str, float]] = {}
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((batch, n, n)) + n * np.eye(n)
        b = rng.standard_normal((batch, n, 1))
        timings[n] = {route: _best_ms(a, b, route, device_id, repeats) for route in ("batched", "looped")}
        if len(timings) >= 2 and all(timings[m]["looped"] < timings[m]["batched"] for m in list(timings)[-2:]):
            break  # the loop has won twice in a row: larger sizes go on looping
    rows = _factor_rows(timings)
    wisdom.record("solver", where, FACTOR.name, {"rows": rows, "batch": batch,
                                                 "ms": {str(n): t for n, t in timings.items()}})
    cache_clear()  # stateless calls plan again, by the new rows
    logger.info("solver crossovers calibrated on %s: FACTOR %s", where, rows)
    return {FACTOR.name: {"rows": rows, "ms": timings, "machine": where}}


def _best_ms(a, b, route: str, device_id: int, repeats: int) -> float:
    """The fastest of *repeats* synchronised solves of the batch through *route*, in ms."""
    with overriding(FACTOR, device_id, ((1, None, route),)):
        plan = Solve(a, b, execution="cuda", device_id=device_id).plan()
    try:
        plan.execute(check=True)  # the first call pays for what is done once
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            plan.execute(check=True)
            best = min(best, time.perf_counter() - start)
        return best * 1e3
    finally:
        plan.free()


def _factor_rows(timings: dict[int, dict[str, float]]) -> list[list]:
    """FACTOR's rows from the timings: the batched routines up to the size before the first of
    two in a row (or the last one) at which the loop was faster."""
    sizes = list(timings)
    slower = [timings[n]["looped"] < timings[n]["batched"] for n in sizes]
    last = len(sizes)
    for i, lost in enumerate(slower):
        if lost and (i + 1 == len(sizes) or slower[i + 1]):
            last = i
            break
    looped = [1, None, "looped"]
    return [[2, sizes[last - 1], "batched"], looped] if last else [looped]
