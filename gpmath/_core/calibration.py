"""The placement model's numbers, measured on this machine once and kept on disk.

A family (:data:`~gpmath._core.placement.FAMILIES`) is calibrated the first time a call on host
operands needs it: its gpmath planner (:data:`PROBLEMS`) runs at a small, a middle and a moderate
square size, in float32 and float64, on the CPU engine and on the CUDA engine (host operands, timed
with the copies they include, which the measured link rates then take out; the GPU also at a
larger size, and between the two where its copies change from pageable to pipelined there), and
each side's time is taken straight between its points (a :class:`~gpmath._core.placement.Side`),
from its time of no flops.  Each point keeps
the fastest of two passes that interleave the sides (the GPU first, the second after a rest: its
copies measured right after the CPU's products are slowed by BLAS threads still spinning), and a
side whose larger problem ran at a lower
rate than a smaller one (a timing disturbed by other threads) is measured again after a rest.  The link's copy
rates are measured once, through :mod:`gpmath._core.transfer` (pageable copies below its
pipelining size, pinned buffers above).

The numbers are saved as JSON in the kernel cache directory (``$GPMATH_CACHE_DIR``), one file per
GPU name, CPU count and gpmath version, and reloaded by later processes.  Where a measurement
fails, the family runs on :data:`DEFAULT` (a rough model, logged, not saved) for this process.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

import numpy as np

from . import runtime
from .placement import FAMILIES, LARGEST, Model, Side, Verdict, Work, crossover, near

__all__ = ["Problem", "PROBLEMS", "DEFAULT", "model", "kept_model", "cpu_verdict", "settle", "measured_side",
           "calibrate", "saved", "path", "square_work", "crossovers", "host_flops"]

logger = logging.getLogger("gpmath")


@dataclass(frozen=True)
class Problem:
    """How a family is measured: its planner on square operands of size n.

    Attributes
    ----------
    front : str
        The planner, ``"module:Class"``.
    shapes : callable
        ``shapes(n)``: the operands' shapes.
    sizes : (int, int, int)
        The n measured: a small and a moderate one on both sides, and a larger one on the GPU
        (where copies and launches hide the arithmetic of moderate sizes), with sizes between
        them (:meth:`measured`).
    matrix : {"random", "dominant", "spd"}
        The first operand: uniform random, plus ``n I`` (well conditioned), or symmetric plus
        ``2n I`` (positive definite).
    options : dict
        The planner's options.
    complex : bool
        Complex operands (the FFT's), of the precision measured.
    pipelined : bool
        Whether the copies of the larger size are pipelined and the moderate one's are not
        (:data:`~gpmath._core.transfer.PIPELINE_BYTES`): the GPU is then measured between them too,
        where the link's model changes.
    """

    front: str
    shapes: Callable[[int], tuple[tuple[int, ...], ...]]
    sizes: tuple[int, int, int]
    matrix: str = "random"
    options: dict = field(default_factory=dict)
    complex: bool = False
    pipelined: bool = True

    def measured(self, on_gpu: bool) -> tuple[int, ...]:
        """The sizes measured on the GPU (*on_gpu*) or on the CPU, increasing.

        Examples
        --------
        >>> PROBLEMS["gemm"].measured(False), PROBLEMS["gemm"].measured(True)
        ((64, 192, 512), (64, 192, 512, 768, 1024))
        """
        small, moderate, larger = self.sizes
        sizes = (small, _between(small, moderate), moderate)
        return (sizes + (_between(moderate, larger),) * self.pipelined + (larger,)) if on_gpu else sizes


def _between(low: int, high: int) -> int:
    """A size between *low* and *high*: the one of the form 2^k or 3 * 2^k (a smooth FFT length)
    nearest their geometric middle where one lies strictly between them, else the middle itself."""
    middle = math.sqrt(low * high)
    smooth = [size for k in range(high.bit_length()) for size in (1 << k, 3 << k) if low < size < high]
    return min(smooth, key=lambda size: abs(math.log(size / middle))) if smooth else round(middle)


def _square(n: int) -> tuple[tuple[int, ...], ...]:
    return ((n, n),)


def _system(n: int) -> tuple[tuple[int, ...], ...]:
    return ((n, n), (n,))


def _pair(n: int) -> tuple[tuple[int, ...], ...]:
    return ((n, n), (n, n))


PROBLEMS: dict[str, Problem] = {
    "gemm": Problem("gpmath.blas:Matmul", _pair, (64, 512, 1024)),
    "fft": Problem("gpmath.fft:FFT", _square, (64, 512, 1024), options={"axes": -1}, complex=True),  # rows, as fft
    "lu": Problem("gpmath.solver:Solve", _system, (64, 512, 1024), "dominant"),
    "cholesky": Problem("gpmath.solver:Cholesky", _square, (64, 512, 1024), "spd"),
    "eigh": Problem("gpmath.solver:Eigh", _square, (64, 256, 512), "spd", pipelined=False),
    "svd": Problem("gpmath.solver:SVD", _square, (32, 192, 384), pipelined=False),
    "qr": Problem("gpmath.solver:QR", _square, (64, 512, 1024)),
    "eig": Problem("gpmath.solver:Eig", _square, (32, 128, 192), pipelined=False),
    "triangular": Problem("gpmath.solver:SolveTriangular", _pair, (64, 512, 1024), "dominant"),
}
# used where calibration fails: a few tens of GFLOP/s on the CPU, a TFLOP/s and 10 GB/s for the GPU
DEFAULT = Model(cpu=Side.line(20e-6, 2e10), gpu=Side.line(100e-6, 1e12), h2d_small=1e10, h2d_large=1e10, d2h_small=1e10,
                d2h_large=1e10, pipeline_bytes=1 << 62)
_PRECISIONS = ("float32", "float64")
_LINK_BYTES = (1 << 20, 32 << 20)  # a pageable and a pipelined copy
_BUDGET_S = 0.01  # repeat a timing while it has taken less than this
_SMALL_RUNS = 7  # runs of the small sizes (cheap, and their noise sets the overheads)
_PASSES = 2  # passes over a family's points, interleaving its CPU and GPU timings: each point keeps its fastest
_RETRIES = 2  # more passes while a side's points are not plausible (see _plausible)
_REST_S = 0.1  # before a later pass: OpenBLAS's threads spin for about that long after a call
# (a pass measures the GPU first: its pageable copies, right after the CPU's 512² product, measured
# a 1024² float32 GEMM with host operands at 0.55-1.45 ms in one H100 process's repeated calibrations)
_FORMAT = 2  # the record's layout: each side's points (1: an overhead and a rate)

_lock = threading.Lock()
_records: dict[str, dict[str, Any]] = {}  # file path -> the record loaded or measured
_failed: dict[tuple[str, str], Model] = {}  # (file path, family) -> DEFAULT, where measuring failed
_names: dict[int, str] = {}  # device ordinal -> GPU name
_kept: dict[tuple[str, str, int], Model] = {}  # (family, precision, device) -> model(), until calibrate()
_verdicts: dict[tuple, bool] = {}  # (family, precision, device, problem) -> cpu_verdict(), until calibrate()
_outcomes: dict[tuple, bool] = {}  # Verdict.outcome -> whether the CPU was measured faster, until calibrate()
_MOST_VERDICTS = 4096  # (a program cycling through more problems starts the table again)


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _dtype(problem: Problem, precision: str) -> str:
    return {"float32": "complex64", "float64": "complex128"}[precision] if problem.complex else precision


def square_work(family: str, n: int, precision: str) -> Work:
    """The :class:`~gpmath._core.placement.Work` of *family*'s calibration problem of size *n*."""
    problem = PROBLEMS[family]
    return _load(problem.front)._work(problem.shapes(n), _dtype(problem, precision), problem.options)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _gpu_name(device_id: int) -> str:
    name = _names.get(device_id)
    if name is None:
        name = _names[device_id] = runtime.device_name(device_id)
    return name


def path(device_id: int) -> str:
    """The calibration file of GPU *device_id* with this machine's CPUs and this gpmath."""
    from .. import __version__
    from .kernels import _cache_dir

    gpu = re.sub(r"[^A-Za-z0-9.]+", "_", _gpu_name(device_id)).strip("_")
    return os.path.join(_cache_dir(), f"placement-{gpu}-{_cpus()}cpu-{__version__}.json")


def _read(file: str) -> dict[str, Any]:
    try:
        with open(file) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {"families": {}}
    good = isinstance(record, dict) and isinstance(record.get("families"), dict) and "link" in record
    return record if good and record.get("cpus") == _cpus() and record.get("format") == _FORMAT else {"families": {}}


def _write(file: str, record: dict[str, Any]) -> None:
    """Save *record* (merged with families another process saved meanwhile) atomically."""
    merged = _read(file)
    record = {**record, "families": {**merged["families"], **record["families"]}}
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        temporary = f"{file}.{os.getpid()}.tmp"
        with open(temporary, "w") as handle:
            json.dump(record, handle, indent=1)
        os.replace(temporary, file)
    except OSError as exc:
        logger.info("placement: cannot save the calibration to %s (%s); it holds for this process", file, exc)


def saved(device_id: int) -> dict[str, Any]:
    """The calibration record of GPU *device_id* (in memory, else from disk; measures nothing)."""
    file = path(device_id)
    record = _records.get(file)
    if record is None:
        record = _records[file] = _read(file)
    return record


def model(family: str, precision: str, device_id: int) -> Model:
    """The model of *family* in *precision* on GPU *device_id*, calibrating the family first where
    it has not been (on this machine, with this gpmath)."""
    file = path(device_id)
    if family not in saved(device_id)["families"] and (file, family) not in _failed:
        with _lock:  # one thread measures; the others wait for its numbers
            if family not in saved(device_id)["families"] and (file, family) not in _failed:
                calibrate(device_id, (family,))
    failed = _failed.get((file, family))
    return failed if failed is not None else _model(saved(device_id), family, precision)


def kept_model(family: str, precision: str, device_id: int) -> Model:
    """:func:`model`, kept per family, precision and device until :func:`calibrate` measures again
    (the per-call shortcuts ask it: :func:`model` finds the file's path each time)."""
    key = (family, precision, device_id)
    found = _kept.get(key)
    if found is None:
        found = _kept[key] = model(family, precision, device_id)
    return found


def cpu_verdict(family: str, precision: str, device_id: int, flops: float | None,
                work: Callable[[], Work] | None = None, problem: Hashable = None) -> bool:
    """Whether the :func:`kept_model` of *family* in *precision* on GPU *device_id* puts a problem of
    *flops* (None: ``work().flops``, asked only where no verdict is kept) on the CPU, as
    :func:`~gpmath._core.placement.place` decides: at once under
    :func:`host_flops`, else by ``work()``, the problem's estimate (for a problem without dependent
    steps and not a close call, :attr:`~gpmath._core.placement.Verdict.close`; without *work*:
    False); the verdict is kept per *problem* where one is given (a hashable
    description of all that *flops* and ``work()`` depend on: shapes and dtype) until
    :func:`calibrate` measures again, and then given first, before any other lookup."""
    key = None if problem is None else (family, precision, device_id, problem)
    found = None if key is None else _verdicts.get(key)
    if found is None:
        rates = kept_model(family, precision, device_id)
        if flops is None:
            flops = work().flops
        if flops < host_flops(rates):
            found = True
        elif work is None:
            found = False
        else:  # (a close call is not sure: the stateless path measures both sides)
            estimate = work()
            cpu, gpu = rates.cpu_seconds(estimate), rates.gpu_seconds(estimate)
            found = not estimate.steps and cpu < gpu and not near(cpu, gpu)
        if key is not None:
            _keep(_verdicts, key, found)
    return found


def settle(verdict: Verdict, on_cpu: bool) -> None:
    """Keep *on_cpu*, the side the stateless path measured faster for a close call of *verdict*:
    :func:`~gpmath._core.placement.place` gives it to later plans of the same estimate
    (:attr:`Verdict.outcome <gpmath._core.placement.Verdict.outcome>`, through :func:`measured_side`),
    and :func:`cpu_verdict` to the shortcut of its problem (:attr:`Verdict.kept
    <gpmath._core.placement.Verdict.kept>`), until :func:`calibrate` measures again.

    Examples
    --------
    >>> from gpmath._core.placement import Verdict
    >>> kept, outcome = ("gemm", "float32", 0, ("float32", 300, 300, 300)), (0, "gemm", "float32", 5.4e7, 0, 0, ())
    >>> settle(Verdict(False, "model", 1e-4, 1.2e-4, kept, outcome), True)
    >>> cpu_verdict("gemm", "float32", 0, 5.4e7, None, ("float32", 300, 300, 300)), measured_side(outcome)
    (True, True)
    >>> _verdicts.clear(); _outcomes.clear()
    """
    if verdict.outcome is not None:
        _keep(_outcomes, verdict.outcome, on_cpu)
    if verdict.kept is not None:
        _keep(_verdicts, verdict.kept, on_cpu)


def measured_side(outcome: tuple) -> bool | None:
    """Whether the CPU was measured faster for estimate *outcome* (:func:`settle`); None where
    nothing was measured."""
    return _outcomes.get(outcome)


def _keep(table: dict, key: tuple, on_cpu: bool) -> None:
    if len(table) >= _MOST_VERDICTS:
        table.clear()
    table[key] = on_cpu


def host_flops(rates: Model) -> float:
    """The flops below which model *rates* puts every problem on the CPU, whatever it copies: the
    CPU side's whole time for them is below the GPU side's time of no flops alone
    (:meth:`Side.flops_within <gpmath._core.placement.Side.flops_within>`; 0 where the GPU's time
    of no flops is the smaller).

    Examples
    --------
    For :data:`DEFAULT` (20 µs and 20 GFLOP/s on the CPU, 100 µs of GPU overhead), 1.6 MFLOP:

    >>> round(host_flops(DEFAULT))
    1600000
    """
    return rates.cpu.flops_within(rates.gpu.overhead) if rates.gpu.overhead > rates.cpu.overhead else 0.0


def _model(record: dict[str, Any], family: str, precision: str) -> Model:
    entry, link = record["families"][family][precision], record["link"]
    sides = (Side(tuple(map(tuple, entry[side]))) for side in ("cpu", "gpu"))
    return Model(*sides, *link["h2d"], *link["d2h"], link["pipeline_bytes"])


def calibrate(device_id: int, families: tuple[str, ...] = FAMILIES) -> dict[str, Any]:
    """Measure *families* on GPU *device_id* now (and the link, where not measured yet), save and
    return the record.  A family whose measurement fails is logged and uses :data:`DEFAULT` in this
    process."""
    file = path(device_id)
    record = {**saved(device_id), "gpu": _gpu_name(device_id), "cpus": _cpus(), "format": _FORMAT}
    record["families"] = dict(record["families"])
    start = time.perf_counter()
    measured = []
    for family in families:
        try:
            if "link" not in record:
                record["link"] = _link(device_id)
            record["families"][family] = _family(family, device_id, record["link"])
            measured.append(family)
        except Exception as exc:  # the user's call must run anyway: on the rough model, saying why
            logger.warning("placement: calibrating %s on cuda:%d failed (%s); using a rough default model",
                           family, device_id, exc)
            _failed[file, family] = DEFAULT
    _records[file] = record
    _kept.clear()
    _verdicts.clear()
    _outcomes.clear()
    if measured:
        _write(file, record)
        logger.info("placement: calibrated %s on %s in %.2f s (%s)", ", ".join(measured), record["gpu"],
                    time.perf_counter() - start, file)
    return record


def _best_seconds(run: Callable[[], object], most: int = 3) -> float:
    """The fastest of *most* runs of *run*, or of two once they have taken :data:`_BUDGET_S` (the
    first run pays for what a process does once: imports, lazily loaded kernels)."""
    best, spent = math.inf, 0.0
    for count in range(most):
        start = time.perf_counter()
        run()
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
        if count and spent > _BUDGET_S:
            break
    return best


def _link(device_id: int) -> dict[str, Any]:
    """Copy rates (bytes per second) to the device and back: ``[pageable, pipelined]`` each."""
    from .streams import own_stream
    from .transfer import PIPELINE_BYTES

    stream = own_stream(device_id)
    h2d, d2h = zip(*(_copy_rates(nbytes, stream, device_id) for nbytes in _LINK_BYTES))
    return {"h2d": list(h2d), "d2h": list(d2h), "pipeline_bytes": PIPELINE_BYTES}


def _copy_rates(nbytes: int, stream: int, device_id: int) -> tuple[float, float]:
    """Bytes per second of *nbytes* copied to the device and back through :mod:`gpmath._core.transfer`."""
    from .memory import DeviceBuffer
    from .streams import synchronize
    from .transfer import to_device, to_host

    host = np.ones(nbytes, np.uint8)
    buffer = DeviceBuffer(nbytes, stream, device_id)

    def upload() -> None:
        to_device(buffer.ptr, host.ctypes.data, nbytes, stream)
        synchronize(stream)

    try:
        return (nbytes / _best_seconds(upload),
                nbytes / _best_seconds(lambda: to_host(host.ctypes.data, buffer.ptr, nbytes, stream)))
    finally:
        buffer.release()


def _operands(problem: Problem, n: int, precision: str) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(n)
    dtype = np.dtype(_dtype(problem, precision))
    operands = []
    for shape in problem.shapes(n):
        x = rng.random(shape, dtype=precision)
        operands.append((x + 1j * rng.random(shape, dtype=precision) if problem.complex else x).astype(dtype))
    a = operands[0]
    if problem.matrix == "dominant":
        a += n * np.eye(n, dtype=dtype)
    elif problem.matrix == "spd":
        operands[0] = a + a.T + 2 * n * np.eye(n, dtype=dtype)
    return tuple(operands)


class _Timed:
    """A plan of *problem*'s planner at size *n* in *precision* on GPU *device_id* (None: the CPU),
    made once for all the passes over a family: :meth:`seconds` times its execution."""

    def __init__(self, problem: Problem, n: int, precision: str, device_id: int | None):
        where = {"execution": "cpu"} if device_id is None else {"execution": "cuda", "device_id": device_id}
        self.plan = _load(problem.front)(*_operands(problem, n, precision), **problem.options, **where)
        try:
            self.plan.plan()
        except BaseException:
            self.plan.free()
            raise

    def seconds(self, most: int) -> float:
        """The fastest of up to *most* executions (:func:`_best_seconds`)."""
        return _best_seconds(self.plan.execute, most)

    def free(self) -> None:
        self.plan.free()


def _family(family: str, device_id: int, link: dict[str, Any]) -> dict[str, dict[str, list[list[float]]]]:
    """Per precision, ``{"cpu": corners, "gpu": corners}`` of *family*: each side's ``[flops,
    seconds]`` (:class:`~gpmath._core.placement.Side`), the GPU's without the copies the link's
    rates model for its problems.  Each pass measures the GPU's points of both precisions, then the
    CPU's; each point's plan is made once (:class:`_Timed`) and freed after the last pass."""
    problem = PROBLEMS[family]
    copies = Model(DEFAULT.cpu, DEFAULT.gpu, *link["h2d"], *link["d2h"], link["pipeline_bytes"]).copy_seconds
    works = {(n, p): square_work(family, n, p) for n in problem.measured(True) for p in _PRECISIONS}
    sides = {"gpu": [(n, device_id) for n in problem.measured(True)],  # (first: see _REST_S)
             "cpu": [(n, None) for n in problem.measured(False)]}
    timed: dict[tuple, _Timed] = {}

    def point(n: int, precision: str, on: int | None) -> tuple[float, float]:
        """``(flops, seconds)`` at size *n* on GPU *on* (None: the CPU), copies included; the small
        size, where noise weighs most, takes the best of more runs."""
        if (n, precision, on) not in timed:
            timed[n, precision, on] = _Timed(problem, n, precision, on)
        most = _SMALL_RUNS if n == problem.sizes[0] else 3
        return works[n, precision].flops, timed[n, precision, on].seconds(most)

    best = {(side, p): [(math.inf, math.inf)] * len(where) for side, where in sides.items() for p in _PRECISIONS}
    try:
        for attempt in range(_PASSES + _RETRIES):
            if attempt >= _PASSES and all(_plausible(points) for points in best.values()):
                break
            if attempt:  # let the threads of the pass before (and of the caller's work) go idle
                time.sleep(_REST_S)
            for (side, precision), held in best.items():  # each point keeps its fastest
                if attempt >= _PASSES and _plausible(held):
                    continue  # (a later pass measures only the sides still implausible)
                best[side, precision] = [min(h, point(n, precision, on), key=lambda p: p[1])
                                         for h, (n, on) in zip(held, sides[side])]
    finally:
        for plan in timed.values():
            plan.free()
    result = {}
    for p in _PRECISIONS:
        copying = [copies(works[n, p].bytes_in, works[n, p].bytes_out) for n, _ in sides["gpu"]]
        result[p] = {"cpu": _curve(best["cpu", p]), "gpu": _curve(best["gpu", p], copying)}
    return result


def _plausible(points: list[tuple[float, float]]) -> bool:
    """Whether each larger problem of the ``(flops, seconds)`` points ran at a rate no lower than the
    smaller one's before it, as every family's rate grows with its size.  Else a timing was disturbed (an
    OpenBLAS pool of another library spinning for 0.1 s after its call measured float32 GEMM at
    11 GFLOP/s on the H200's host, against 450 at n = 256), and the family is measured again."""
    return all(f2 * t1 >= f1 * t2 for (f1, t1), (f2, t2) in zip(points, points[1:]))


def _curve(points: list[tuple[float, float]], copying: list[float] | None = None) -> list[list[float]]:
    """The corners of a :class:`~gpmath._core.placement.Side` through measured ``(flops, seconds)``
    *points* (flops increasing), less the modelled seconds *copying* of each (the GPU's).

    No measured time falls below the one before it (noise where launches dominate), the last
    rises by a tenth of its own at least (the side follows the last segment past it: noise must
    not make its rate unbounded), and the first corner is the time of no flops along the first
    segment (0 at least).  The copies come off afterwards: where the link's model overstates
    them, a GPU corner may fall, and the model still gives each measured problem its measured
    time (:meth:`~gpmath._core.placement.Model.gpu_seconds`).

    Examples
    --------
    >>> [[flops, round(seconds * 1e6, 2)] for flops, seconds in _curve([(1e6, 2e-5), (8e6, 1e-5), (6.4e7, 2.1e-5)])]
    [[0.0, 20.0], [1000000.0, 20.0], [8000000.0, 20.02], [64000000.0, 22.24]]
    """
    times = [points[0][1]]
    for _, seconds in points[1:-1]:
        times.append(max(seconds, times[-1] * 1.001))
    times.append(max(points[-1][1], times[-1] / 0.9))
    copied = copying or [0.0] * len(times)
    corners = [[flops, seconds - copies] for (flops, _), seconds, copies in zip(points, times, copied)]
    (f1, t1), (f2, t2) = corners[:2]
    return [[0.0, max(t1 - f1 * (t2 - t1) / (f2 - f1), 0.0)]] + corners


def crossovers(device_id: int) -> dict[str, Any]:
    """Per family, from the saved calibration of GPU *device_id*: per precision, the smallest square
    size n from which the model puts the family's calibration problem on the GPU (or says it never
    does up to :data:`~gpmath._core.placement.LARGEST`); ``"not calibrated yet"`` for families not measured."""
    record = saved(device_id)
    table: dict[str, Any] = {}
    for family in FAMILIES:
        if family not in record["families"]:
            table[family] = "not calibrated yet"
            continue
        table[family] = {}
        for precision in _PRECISIONS:
            n = crossover(_model(record, family, precision), lambda n: square_work(family, n, precision))
            table[family][precision] = f"the CPU up to n = {LARGEST}" if n is None else n
    return table
