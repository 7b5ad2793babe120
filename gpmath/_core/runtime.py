"""The few CUDA runtime calls gpmath makes, through ``cuda.bindings.runtime``.

``cuda.bindings`` returns ``(error, value...)`` tuples; :func:`check` turns a failure into a
:class:`~gpmath._errors.GpmathError` that names the runtime function.  The module is
imported lazily, so ``import gpmath`` works where cuda-python or the driver is missing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import weakref
from typing import Callable

from .._errors import LibraryError, NoGPUError, OutOfMemoryError

__all__ = ["rt", "check", "device_count", "current_device", "no_gpu_reason", "driver_version", "runtime_version", "gpu_hardware_present",
           "get_device", "set_device", "device_name", "name_of", "sm_count", "on_device", "bind_thread", "call_on_device",
           "on_device_if_several", "on_device_of_stream", "stream_device", "capturing"]

# Stream handles that mean "the current device's default stream" (legacy, cudaStreamLegacy,
# cudaStreamPerThread): they belong to no one device.
DEVICE_NEUTRAL_STREAMS = (0, 1, 2)

# Fork safety: a process that has initialised CUDA cannot hand its CUDA state to a forked child
# (the driver's contexts, streams, handles and device memory belong to the parent).
_initialised = False  # this process has made a CUDA runtime call that succeeded
_forked_child = False  # this process is a fork of one that had (CUDA is off limits here)
FORK_REASON = ("forked child of a process that initialised CUDA: CUDA cannot be used after fork; "
               "use the 'spawn' start method")


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
    if not _initialised:
        _mark_initialised()
    if len(result) == 1:
        return None
    return result[1] if len(result) == 2 else result[1:]


def _mark_initialised() -> None:
    global _initialised
    _initialised = True


@functools.cache
def device_count() -> int:
    """Number of visible CUDA devices; 0 where there is no driver or device (never raises), and
    in a forked child of a process that had initialised CUDA (see :func:`no_gpu_reason`)."""
    if _forked_child:
        return 0
    try:
        err, count = _runtime().cudaGetDeviceCount()
    except Exception:
        return 0
    if int(err) != 0:
        return 0
    if count:
        _mark_initialised()  # cudaGetDeviceCount initialises the driver: a fork can no longer use it
    return count


_device_count = device_count  # the cached function itself (tests may monkeypatch the module name)


def _cuda_version(value: int) -> str:
    return f"{value // 1000}.{value % 1000 // 10}"


def driver_version() -> int:
    """The CUDA version the NVIDIA driver supports (``cudaDriverGetVersion``, e.g. 13000 for 13.0);
    0 where there is no driver (never raises)."""
    try:
        err, version = _runtime().cudaDriverGetVersion()
    except Exception:
        return 0
    return int(version) if int(err) == 0 else 0


def runtime_version() -> int:
    """The version of the CUDA runtime gpmath calls (``cudaRuntimeGetVersion``); 0 if unavailable."""
    try:
        err, version = _runtime().cudaRuntimeGetVersion()
    except Exception:
        return 0
    return int(version) if int(err) == 0 else 0


def gpu_hardware_present() -> bool:
    """Whether the NVIDIA kernel driver reports a GPU (``/proc/driver/nvidia/gpus``), usable or not."""
    try:
        return bool(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        return False


def no_gpu_reason() -> str:
    """Why :func:`device_count` is 0, in words (driver, device or package missing, a driver older
    than the CUDA runtime, or a fork)."""
    if _forked_child:
        return FORK_REASON
    try:
        runtime = _runtime()
    except NoGPUError as exc:
        return str(exc)
    err, _ = runtime.cudaGetDeviceCount()
    name = getattr(err, "name", err)
    driver, cuda = driver_version(), runtime_version()
    if name == "cudaErrorInsufficientDriver" and driver:
        return (f"the NVIDIA driver supports CUDA {_cuda_version(driver)} but the CUDA runtime installed is "
                f"{_cuda_version(cuda)} (cudaErrorInsufficientDriver): update the driver, or install "
                f"gpmath[cu{driver // 1000}]")
    return f"cudaGetDeviceCount returned {name} (no usable NVIDIA driver or device)"


def get_device() -> int:
    """``cudaGetDevice``."""
    return check(_runtime().cudaGetDevice(), "cudaGetDevice")


def current_device() -> int:
    """The current CUDA device where a GPU is visible: 0 where it is the only one (no runtime call:
    nothing else can be current), else ``cudaGetDevice``.

    Examples
    --------
    >>> import gpmath
    >>> from gpmath._core import runtime
    >>> runtime.current_device() if gpmath.device_count() else 0
    0
    """
    return get_device() if device_count() > 1 else 0


_sm_counts: dict[int, int] = {}


def sm_count(device_id: int) -> int:
    """The number of streaming multiprocessors of CUDA device *device_id* (asked once)."""
    count = _sm_counts.get(device_id)
    if count is None:
        rt = _runtime()
        attribute = rt.cudaDeviceAttr.cudaDevAttrMultiProcessorCount
        count = _sm_counts[device_id] = int(check(rt.cudaDeviceGetAttribute(attribute, device_id), "cudaDeviceGetAttribute"))
    return count


def device_name(device_id: int) -> str:
    """The name of CUDA device *device_id* (``cudaGetDeviceProperties``), e.g. ``"NVIDIA H200"``."""
    return name_of(check(_runtime().cudaGetDeviceProperties(device_id), "cudaGetDeviceProperties"))


def name_of(properties) -> str:
    """The device name in a ``cudaDeviceProp``."""
    return properties.name.decode(errors="replace").rstrip("\0")


def set_device(device_id: int) -> None:
    """``cudaSetDevice``."""
    check(_runtime().cudaSetDevice(device_id), "cudaSetDevice")


def capturing(stream: int) -> bool:
    """Whether *stream* is capturing a CUDA graph (``cudaStreamIsCapturing``)."""
    runtime = _runtime()
    status = check(runtime.cudaStreamIsCapturing(stream), "cudaStreamIsCapturing")
    return status != runtime.cudaStreamCaptureStatus.cudaStreamCaptureStatusNone


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


# -- fork safety ---------------------------------------------------------------------------------
def _detach_finalizers() -> None:
    """In a forked child: detach gpmath's finalizers (plans, library handles, page-locked host
    memory) so that no CUDA resource of the parent is released from the child, and mark the
    parent's GPU plans freed (executing one raises ``FreedPlanError``)."""
    registry = getattr(weakref.finalize, "_registry", {})
    for finalizer in list(registry):
        found = finalizer.peek()
        if found is None:
            continue
        obj, func = found[0], found[1]
        if not getattr(func, "__module__", "").startswith("gpmath."):
            continue
        if getattr(func, "__name__", "") == "_release" and getattr(obj, "device_id", None) is None:
            continue  # a CPU plan: nothing of CUDA to leak or guard
        finalizer.detach()
        if hasattr(obj, "_freed") and hasattr(obj, "_after_free"):  # a plan
            obj._freed = True
            try:
                obj._after_free()
            except Exception:
                pass


def _after_fork_in_child() -> None:
    """``os.register_at_fork(after_in_child=...)``: where the parent had initialised CUDA, the
    child sees no GPU (:func:`device_count` is 0, :func:`no_gpu_reason` says why) and forgets the
    parent's per-thread CUDA state, handles, streams and cached plans; otherwise nothing changes."""
    global _forked_child, _thread
    if not _initialised or _forked_child:
        return
    _forked_child = True
    _device_count.cache_clear()
    _thread = threading.local()
    _detach_finalizers()
    for name in ("gpmath._core.streams", "gpmath._core.handles", "gpmath._core.cache", "gpmath._core.transfer"):
        module = sys.modules.get(name)
        forget = getattr(module, "_forget", None)
        if forget is not None:
            try:
                forget()
            except Exception:
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
