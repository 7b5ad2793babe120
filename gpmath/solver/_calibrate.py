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
which the loop was faster.  ``MIXED``, the inner precision ``solve(refine="mixed")`` takes by
default: ``"f32"``, ``"tf32"`` and ``"bf16"`` each solve one float64 system of order
``mixed_order``, and the fastest whose refinement converged without falling back, to a backward
error within 10x the direct solve's, is kept (the built-in ``"tf32"`` unless another is 10 % faster:
at 8192 they run within 5 % of each other on an H100, and host copies, the same in each, blur smaller
differences; the row holds for every order).  ``"f16"`` is never chosen: its LU
overflows for entries beyond 65504.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence

import numpy as np

from .._core import runtime, wisdom
from .._core.cache import cache_clear
from . import _device
from ._crossover import FACTOR, MIXED, overriding
from ._plans import Solve

__all__ = ["calibrate", "SIZES", "MIXED_CANDIDATES"]

SIZES = (48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
MIXED_CANDIDATES = ("tf32", "f32", "bf16")  # the inner precisions calibrate() times (the built-in one first)
_MIXED_MARGIN = 0.10  # another precision replaces the built-in one where it is this much faster: at n = 8192
# every inner precision runs within 5 % of the others on an H100, and the host copies (the same in each)
# blur it further, while a GPU whose float64 is slow (f32 3-30x faster) clears it by far
logger = logging.getLogger("gpmath")


def calibrate(device_id: int | None = None, *, batch: int = 8, sizes: Sequence[int] = SIZES,
              repeats: int = 3, mixed_order: int | None = 8192) -> dict[str, Any]:
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
    mixed_order : int or None, default 8192
        The order of the float64 system whose mixed-precision solves choose ``MIXED`` (a host
        matrix of ``8 mixed_order²`` bytes); None leaves ``MIXED`` as it is.

    Returns
    -------
    dict
        ``{"FACTOR": {"rows": [...], "ms": {n: {"batched": ms, "looped": ms}}, "machine": ...},
        "MIXED": {"rows": [...], "runs": {precision: {"ms": ..., "fell_back": ..., "backward_error": ...}},
        "direct_backward_error": ..., "machine": ...}}``: the rows now in use on such GPUs and what
        they were decided from (no ``"MIXED"`` for ``mixed_order=None``).

    Raises
    ------
    ValueError
        For a *batch* below 2, *sizes* not ascending or not above 32, or a *mixed_order* below 1.
    gpmath.NoGPUError
        Without a usable GPU.

    Examples
    --------
    >>> import gpmath
    >>> if gpmath.device_count():
    ...     rows = gpmath.solver.calibrate(batch=2, sizes=(48, 64), mixed_order=None)["FACTOR"]["rows"]
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
    if mixed_order is not None and int(mixed_order) < 1:
        raise ValueError(f"mixed_order must be at least 1 (or None), not {mixed_order}")
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
    found = {FACTOR.name: {"rows": _factor_rows(timings), "ms": timings, "machine": where}}
    if mixed_order is not None:
        found[MIXED.name] = _mixed(int(mixed_order), device_id, repeats, rng) | {"machine": where}
    # (recorded once everything is measured: a failure on the way leaves the wisdom as it was)
    wisdom.record("solver", where, FACTOR.name, {"rows": found[FACTOR.name]["rows"], "batch": batch,
                                                 "ms": {str(n): t for n, t in timings.items()}})
    if mixed_order is not None:
        wisdom.record("solver", where, MIXED.name, {key: found[MIXED.name][key] for key in ("rows", "runs", "order")})
    cache_clear()  # stateless calls plan again, by the new rows
    logger.info("solver crossovers calibrated on %s: %s", where, {name: entry["rows"] for name, entry in found.items()})
    return found


def _best_ms(a, b, route: str, device_id: int, repeats: int) -> float:
    """The fastest of *repeats* synchronised solves of the batch through *route*, in ms."""
    with overriding(FACTOR, device_id, ((1, None, route),)):
        plan = Solve(a, b, execution="cuda", device_id=device_id).plan()
    try:
        plan.execute(check=True)  # the first call pays for what is done once
        return _fastest_ms(plan, repeats)
    finally:
        plan.free()


def _fastest_ms(plan, repeats: int) -> float:
    """The fastest of *repeats* synchronised executions of *plan*, in ms."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        plan.execute(check=True)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def _mixed(n: int, device_id: int, repeats: int, rng) -> dict[str, Any]:
    """MIXED's rows from solves of one float64 system of order *n* in each of
    :data:`MIXED_CANDIDATES`, with what they were decided from."""
    a = rng.standard_normal((n, n)) + n ** 0.5 * np.eye(n)
    b = rng.standard_normal((n, 1))
    with Solve(a, b, execution="cuda", device_id=device_id) as plan:
        direct = _backward_error(a, plan.execute(check=True), b)
    runs = {}
    for precision in MIXED_CANDIDATES:
        with Solve(a, b, refine="mixed", precision=precision, execution="cuda", device_id=device_id) as plan:
            x = plan.execute(check=True)  # the first call pays for what is done once
            runs[precision] = {"ms": _fastest_ms(plan, repeats), "fell_back": bool(plan.refinement.fell_back),
                               "backward_error": _backward_error(a, x, b)}
    return {"rows": _mixed_rows(runs, direct), "runs": runs, "direct_backward_error": direct, "order": n}


def _backward_error(a: np.ndarray, x: np.ndarray, b: np.ndarray) -> float:
    """The normwise backward error ``‖b - a x‖∞ / (‖a‖∞ ‖x‖∞)`` of a solution *x*."""
    scale = float(np.abs(a).sum(-1).max() * np.abs(x).max())
    return float(np.abs(b - a @ x).max()) / scale if scale else 0.0


def _mixed_rows(runs: dict[str, dict[str, Any]], direct: float) -> list[list]:
    """MIXED's rows from the *runs* of each precision: the fastest whose refinement converged
    without falling back, to a backward error within 10x the direct solve's (*direct*), the
    built-in choice unless another is :data:`_MIXED_MARGIN` faster; the built-in rows where none
    qualifies."""
    bound = 10 * max(direct, float(np.finfo(np.float64).eps))
    fine = {p: run["ms"] for p, run in runs.items() if not run["fell_back"] and run["backward_error"] <= bound}
    built_in = MIXED[-1][2]
    if not fine:
        return [list(row) for row in MIXED]
    fastest = min(fine, key=fine.get)
    if built_in in fine and fine[fastest] > (1 - _MIXED_MARGIN) * fine[built_in]:
        fastest = built_in
    return [[1, None, fastest]]


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
