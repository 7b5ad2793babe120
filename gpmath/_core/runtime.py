"""The few CUDA runtime calls gpmath makes, through ``cuda.bindings.runtime``.

``cuda.bindings`` returns ``(error, value...)`` tuples; :func:`check` turns a failure into a
:class:`~gpmath._errors.GpmathError` that names the runtime function.  The module is
imported lazily, so ``import gpmath`` works where cuda-python or the driver is missing.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Callable

from .._errors import LibraryError, NoGPUError, OutOfMemoryError

__all__ = ["rt", "check", "device_count", "no_gpu_reason", "get_device", "set_device", "on_device", "bind_thread",
           "call_on_device", "on_device_if_several", "on_device_of_stream", "stream_device"]

# Stream handles that mean "the current device's default stream" (legacy, cudaStreamLegacy,
# cudaStreamPerThread): they belong to no one device.
DEVICE_NEUTRAL_STREAMS = (0, 1, 2)


@functools.cache
def _runtime():
    try:
        from cuda.bindings import runtime
    except ImportError as exc:
        raise NoGPUError("the package 'cuda-bindings' (cuda-python) is not installed") from exc
    return runtime


def rt():
    """The ``cuda.bindings.runtime`` module (imported on first use)."""
    return _runtime()


def check(result, func: str):
    """Unpack a ``cuda.bindings`` result tuple, raising on a failure; return the value(s)."""
    err = result[0]
    if err != 0:
        code = int(err)
        name = getattr(err, "name", str(code))
        cls = OutOfMemoryError if code == 2 else LibraryError  # 2: cudaErrorMemoryAllocation
        raise cls(code, name, func)
    if len(result) == 1:
        return None
    return result[1] if len(result) == 2 else result[1:]


@functools.cache
def device_count() -> int:
    """Number of visible CUDA devices; 0 where there is no driver or device (never raises)."""
    try:
        err, count = _runtime().cudaGetDeviceCount()
    except Exception:
        return 0
    return count if int(err) == 0 else 0


def no_gpu_reason() -> str:
    """Why :func:`device_count` is 0, in words (driver, device or package missing)."""
    try:
        runtime = _runtime()
    except NoGPUError as exc:
        return str(exc)
    err, _ = runtime.cudaGetDeviceCount()
    return f"cudaGetDeviceCount returned {getattr(err, 'name', err)} (no usable NVIDIA driver or device)"


def get_device() -> int:
    """``cudaGetDevice``."""
    return check(_runtime().cudaGetDevice(), "cudaGetDevice")


def set_device(device_id: int) -> None:
    """``cudaSetDevice``."""
    check(_runtime().cudaSetDevice(device_id), "cudaSetDevice")


def stream_device(stream: int) -> int | None:
    """The device ordinal *stream* (an integer handle) belongs to; None for the device-neutral
    handles 0, 1 and 2, or where the runtime cannot say (``cudaStreamGetDevice`` is CUDA 12.8+)."""
    if stream in DEVICE_NEUTRAL_STREAMS:
        return None
    query = getattr(_runtime(), "cudaStreamGetDevice", None)
    if query is None:
        return None
    return check(query(stream), "cudaStreamGetDevice")


_thread = threading.local()  # .bound: this thread has called cudaSetDevice


class on_device:
    """Context manager making *device_id* current, restoring the previous device on exit.

    Costs one runtime call when the device is already current, two when it changes (three to
    restore).  A thread's first ``cudaGetDevice`` reports device 0 without binding a context,
    and libraries such as cuFFT then fail to launch, so the first use in each thread always
    calls ``cudaSetDevice`` (which binds the device's primary context).  Plans use it at plan
    time, and in ``execute`` only on machines with several devices.
    """

    __slots__ = ("device_id", "previous", "query")

    def __init__(self, device_id: int, query: Callable[[], int] | None = None):
        self.device_id = device_id
        self.previous = None
        self.query = query  # a cheaper cudaGetDevice (an array package's own), for execute paths

    def __enter__(self):
        current = get_device() if self.query is None else self.query()
        if current != self.device_id:
            set_device(self.device_id)
            self.previous = current
        elif not getattr(_thread, "bound", False):
            set_device(current)
        _thread.bound = True
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            set_device(self.previous)
            self.previous = None


def bind_thread(device_id: int) -> None:
    """Bind this thread to *device_id*'s primary context unless it has bound one already.

    For execute paths on a machine with one device, which skip :class:`on_device`: a plan made
    in another thread (or taken from a plan cache that a thread now ended filled) may be this
    thread's first CUDA work, and cuFFT, cuBLASLt or a kernel launch would then find no context.
    Once bound it costs one thread-local lookup.
    """
    if not getattr(_thread, "bound", False):
        with on_device(device_id):
            pass


def call_on_device(device_id: int, query: Callable[[], int] | None, fn: Callable, *args):
    """``fn(*args)`` run with *device_id* current, for execute paths.

    With several devices visible, inside :class:`on_device` (with *query* as its
    ``cudaGetDevice``); with one, that device is current already and only an unbound thread is
    bound first (:func:`bind_thread`).
    """
    if device_count() > 1:
        with on_device(device_id, query):
            return fn(*args)
    bind_thread(device_id)
    return fn(*args)


def on_device_if_several(device_id: int | None):
    """:class:`on_device` where several devices are visible and *device_id* is known; else a
    context that does nothing (with one device, that device is the current one)."""
    if device_id is None or device_count() < 2:
        return contextlib.nullcontext()
    return on_device(device_id)


def on_device_of_stream(stream: int):
    """:func:`on_device_if_several` for the device stream *stream* belongs to."""
    if device_count() < 2:
        return contextlib.nullcontext()
    return on_device_if_several(stream_device(stream))
