"""The stateless FFT path: promote, normalise arguments, then run a cached :class:`FFT` plan.

Plans live in the ``"fft"`` :class:`~gpmath._core.cache.PlanCache`, keyed by the transform,
the input's layout (``signature``: shape, strides, dtype, device), the device and the resolved
stream (the cache adds the thread), so a plan and its work area are never shared by two streams,
devices or threads.  ``fft`` and ``ifft`` of the same input share one plan.

A call repeated on a device array with the same arguments skips even that: each thread keeps
its recent plans under a key made of the caller's own arguments and the array's layout, so the
repeat costs one dictionary lookup before ``execute`` (no promotion, axis parsing or cache lock).
"""

from __future__ import annotations

import threading

from .._core import runtime
from .._core.cache import PlanCache
from .._core.dtypes import DTYPES
from .._errors import OutOfMemoryError
from .._core.packages import as_array, known_package
from .._core.streams import resolve_stream
from ._args import c2r_lengths, check_norm, check_workers, many_axes, one_axis, promoted_name
from ._planner import FFT

__all__ = ["Call", "run_1d", "run_nd"]

_CACHE = PlanCache("fft")
_RECENT_MAX = 64  # repeated-call entries per thread; the plans themselves live in _CACHE
_recent = threading.local()


class Call:
    """One stateless call's options (everything but the array and its axes)."""

    __slots__ = ("kind", "direction", "norm", "overwrite_x", "workers", "execution", "stream", "conj_in", "conj_out",
                 "device_id")

    def __init__(self, kind, direction, norm, overwrite_x, workers, execution, stream, conj_in=False, conj_out=False,
                 device_id=None):
        self.kind, self.direction, self.norm = kind, direction, check_norm(norm)
        self.overwrite_x, self.workers = bool(overwrite_x), check_workers(workers)
        self.execution, self.stream = execution, stream
        self.conj_in, self.conj_out = conj_in, conj_out
        self.device_id = device_id


def _prepared(x):
    """``(x, package)`` with *x* in a dtype gpmath computes in (integers -> float64 ...)."""
    x, pkg = as_array(x)
    name = pkg.dtype_name(x)
    if name not in DTYPES:
        x = pkg.astype(x, promoted_name(name))
    return pkg.resolved(x), pkg


def _where(call: Call, pkg, x):
    """Cache-key part naming where the plan runs: execution, device, stream (and alignment)."""
    device_id = pkg.device_id(x)
    if device_id is None:
        gpu = call.device_id
        if gpu is None and runtime.device_count():
            gpu = runtime.get_device()
        return call.execution, call.stream, gpu
    # cuFFT reads device arrays in place only from pointers aligned to a complex element
    return call.execution, device_id, resolve_stream(call.stream, pkg, device_id), pkg.ptr(x) & 15, call.device_id


def _options(s, call: Call) -> dict:
    return dict(kind=call.kind, s=s, norm=call.norm, overwrite_x=call.overwrite_x, workers=call.workers,
                execution=call.execution, stream=call.stream, device_id=call.device_id)


def _repeat_key(x, geometry, call: Call):
    """Key of a call that may repeat an earlier one on a device array, else None.

    Made of the caller's arguments as given (*geometry*: ``n, axis`` or ``s, axes``), the
    array's layout, alignment and device, and the package's current stream; calls with an
    explicit stream or a conjugated input take the general path.
    """
    pkg = known_package(x)
    if pkg is None or pkg.host_only or call.stream is not None or call.conj_in:
        return None
    device_id = pkg.device_id(x)
    if device_id is None:
        return None
    return (geometry, call.kind, call.direction, call.norm, call.overwrite_x, call.workers, call.execution,
            call.device_id, pkg.signature(x), pkg.ptr(x) & 15, pkg.current_stream(device_id))


def _recent_plans() -> dict:
    try:
        return _recent.plans
    except AttributeError:
        _recent.plans = {}
        return _recent.plans


def _remember(repeat_key, plan) -> None:
    """Let the next call with *repeat_key* in this thread go straight to *plan*."""
    recent = _recent_plans()
    if len(recent) >= _RECENT_MAX:
        recent.clear()
    try:
        recent[repeat_key] = plan
    except TypeError:
        pass


def _run_repeat(x, repeat_key, call: Call):
    """The result of re-running the plan an identical earlier call used, or None."""
    try:
        plan = _recent_plans().get(repeat_key)
    except TypeError:  # an argument that cannot be a key (unhashable); the general path decides
        return None
    if plan is None or plan._freed:  # freed: evicted from (or cleared out of) the plan cache
        return None
    return _conj_out(plan._run(x, call.direction), plan, call)


def _execute(x, pkg, axes, s, call: Call, repeat_key=None):
    if call.conj_in:
        with pkg.on_stream(*_stream_of(call, pkg, x)):
            x = pkg.conj(x)
    key = (call.kind, axes, s, call.norm, call.overwrite_x, call.workers, pkg.signature(x), _where(call, pkg, x))
    try:
        plan = _CACHE.get(key)
    except TypeError:  # an unhashable stream object: run uncached
        with FFT(x, axes, **_options(s, call)) as plan:
            return _conj_out(plan.execute(call.direction), plan, call)
    if plan is None:
        try:
            plan = FFT(x, axes, **_options(s, call)).plan()
        except OutOfMemoryError:  # cuFFT's own allocations failed: free this thread's cached plans, retry once
            _CACHE.release()
            plan = FFT(x, axes, **_options(s, call)).plan()
        _CACHE.put(key, plan)
    if repeat_key is not None:
        _remember(repeat_key, plan)
    return _conj_out(plan._run(x, call.direction), plan, call)


def _conj_out(result, plan, call: Call):
    if call.conj_out:
        pkg = known_package(result)
        with pkg.on_stream(plan.stream, pkg.device_id(result)):  # a host result: no stream
            pkg.conj_inplace(result)
    return result


def _stream_of(call: Call, pkg, x):
    device_id = pkg.device_id(x)
    if device_id is None:
        return None, None
    return resolve_stream(call.stream, pkg, device_id), device_id


def run_1d(x, n, axis, call: Call):
    """A 1-D transform of *x* along *axis* (SciPy's ``n`` rules; c2r: output length)."""
    repeat_key = _repeat_key(x, (n, axis), call)
    if repeat_key is not None:
        result = _run_repeat(x, repeat_key, call)
        if result is not None:
            return result
    given = x
    x, pkg = _prepared(x)
    axes, s = one_axis(tuple(x.shape), n, axis)
    if call.kind == "c2r":
        s = c2r_lengths(tuple(x.shape), axes, s, given=n is not None)
    return _execute(x, pkg, axes, s, call, repeat_key if x is given else None)


def run_nd(x, s, axes, call: Call):
    """An n-D transform of *x* (SciPy's ``s``/``axes`` rules; c2r: output lengths)."""
    repeat_key = _repeat_key(x, (_hashable(s), _hashable(axes)), call)
    if repeat_key is not None:
        result = _run_repeat(x, repeat_key, call)
        if result is not None:
            return result
    given = x
    x, pkg = _prepared(x)
    shape = tuple(x.shape)
    axes, lengths = many_axes(shape, s, axes)
    if not axes:
        if call.kind != "c2c":
            raise ValueError("axes must name at least one axis to transform")
        return pkg.astype(x, promoted_name(pkg.dtype_name(x)))
    if call.kind == "c2r":
        lengths = c2r_lengths(shape, axes, lengths, given=s is not None)
    return _execute(x, pkg, axes, lengths, call, repeat_key if x is given else None)


def _hashable(value):
    """*value* for a dictionary key: sequences (lists ...) as tuples, anything else as it is."""
    if value is None or isinstance(value, int):
        return value
    try:
        return tuple(value)
    except TypeError:
        return value
