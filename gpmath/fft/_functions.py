"""The stateless FFT path: promote, normalise arguments, then run a cached :class:`FFT` plan.

Plans live in the ``"fft"`` :class:`~gpmath._core.cache.PlanCache`, keyed by the transform,
the input's layout (``signature``: shape, strides, dtype, device), the device and the resolved
stream (the cache adds the thread), so a plan and its work area are never shared by two streams,
devices or threads.  ``fft`` and ``ifft`` of the same input share one plan.
"""

from __future__ import annotations

from .._core import runtime
from .._core.cache import PlanCache
from .._core.dtypes import DTYPES
from .._core.errors import OutOfMemoryError
from .._core.streams import resolve_stream
from ._args import c2r_lengths, check_norm, check_workers, many_axes, one_axis, promoted_name
from ._arrays import as_array, ops_for
from ._planner import FFT

__all__ = ["Call", "run_1d", "run_nd"]

_CACHE = PlanCache("fft")


class Call:
    """One stateless call's options (everything but the array and its axes)."""

    __slots__ = ("kind", "direction", "norm", "overwrite_x", "workers", "execution", "stream", "conj_in", "conj_out")

    def __init__(self, kind, direction, norm, overwrite_x, workers, execution, stream, conj_in=False, conj_out=False):
        self.kind, self.direction, self.norm = kind, direction, check_norm(norm)
        self.overwrite_x, self.workers = bool(overwrite_x), check_workers(workers)
        self.execution, self.stream = execution, stream
        self.conj_in, self.conj_out = conj_in, conj_out


def _prepared(x):
    """``(x, package, ops)`` with *x* in a dtype gpmath computes in (integers -> float64 ...)."""
    x, pkg = as_array(x)
    ops = ops_for(pkg)
    name = ops.dtype_name(x)
    if name not in DTYPES:
        x = ops.astype(x, promoted_name(name))
    return ops.plain(x), pkg, ops


def _where(call: Call, pkg, x):
    """Cache-key part naming where the plan runs: execution, device, stream (and alignment)."""
    device_id = pkg.device_id(x)
    if device_id is None:
        return call.execution, call.stream, runtime.get_device() if runtime.device_count() else None
    # cuFFT reads device arrays in place only from pointers aligned to a complex element
    return call.execution, device_id, resolve_stream(call.stream, pkg, device_id), pkg.ptr(x) & 15


def _options(s, call: Call) -> dict:
    return dict(kind=call.kind, s=s, norm=call.norm, overwrite_x=call.overwrite_x, workers=call.workers,
                execution=call.execution, stream=call.stream)


def _execute(x, pkg, ops, axes, s, call: Call):
    if call.conj_in:
        with ops.on_stream(*_stream_of(call, pkg, x)):
            x = ops.conj(x)
    key = (call.kind, axes, s, call.norm, call.overwrite_x, call.workers, pkg.signature(x), _where(call, pkg, x))
    try:
        plan = _CACHE.get(key)
    except TypeError:  # an unhashable stream object: run uncached
        with FFT(x, axes, **_options(s, call)) as plan:
            return _conj_out(plan.execute(call.direction), plan, ops, call)
    if plan is not None:
        return _conj_out(plan._run(x, call.direction), plan, ops, call)
    try:
        plan = FFT(x, axes, **_options(s, call)).plan()
    except OutOfMemoryError:  # cuFFT's own allocations failed: free cached plans, retry once
        _CACHE.clear()
        plan = FFT(x, axes, **_options(s, call)).plan()
    _CACHE.put(key, plan)
    return _conj_out(plan.execute(call.direction), plan, ops, call)


def _conj_out(result, plan, ops, call: Call):
    if call.conj_out:
        with ops.on_stream(getattr(plan, "stream", None), plan.device_id):
            ops.conj_inplace(result)
    return result


def _stream_of(call: Call, pkg, x):
    device_id = pkg.device_id(x)
    if device_id is None:
        return None, None
    return resolve_stream(call.stream, pkg, device_id), device_id


def run_1d(x, n, axis, call: Call):
    """A 1-D transform of *x* along *axis* (SciPy's ``n`` rules; c2r: output length)."""
    x, pkg, ops = _prepared(x)
    axes, s = one_axis(tuple(x.shape), n, axis)
    if call.kind == "c2r":
        s = c2r_lengths(tuple(x.shape), axes, s, given=n is not None)
    return _execute(x, pkg, ops, axes, s, call)


def run_nd(x, s, axes, call: Call):
    """An n-D transform of *x* (SciPy's ``s``/``axes`` rules; c2r: output lengths)."""
    x, pkg, ops = _prepared(x)
    shape = tuple(x.shape)
    axes, lengths = many_axes(shape, s, axes)
    if not axes:
        if call.kind != "c2c":
            raise ValueError("axes must name at least one axis to transform")
        return ops.astype(x, promoted_name(ops.dtype_name(x)))
    if call.kind == "c2r":
        lengths = c2r_lengths(shape, axes, lengths, given=s is not None)
    return _execute(x, pkg, ops, axes, lengths, call)
