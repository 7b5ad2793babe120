"""Stream resolution and stream-to-stream ordering.

gpmath never synchronises the device: work is ordered with the caller's through the stream it
runs on (by default the input package's current stream) and, when a plan moves between
streams, through an event recorded on one and waited on by the other.
"""

from __future__ import annotations

import threading

from . import runtime
from .packages import Package

__all__ = ["resolve_stream", "check_stream_device", "own_stream", "side_stream", "order_after", "synchronize"]


def resolve_stream(stream, package: Package, device_id: int) -> int:
    """The integer handle of *stream*; ``None`` means *package*'s current stream on *device_id*.

    Accepts a torch stream (``.cuda_stream``), a CuPy stream (``.ptr``), an object with
    ``__cuda_stream__`` (cuda.core), a ``cuda.bindings`` stream or an integer handle.  Where
    several devices are visible, a stream of another device than *device_id* raises
    ``ValueError`` naming both.
    """
    if stream is None:
        if package.host_only:
            return own_stream(device_id)
        return package.current_stream(device_id)
    handle = _handle(stream)
    if runtime.device_count() > 1:
        check_stream_device(handle, device_id)
    return handle


def check_stream_device(handle: int, device_id: int) -> None:
    """Raise ``ValueError`` when stream *handle* belongs to another device than *device_id*."""
    owner = runtime.stream_device(handle)
    if owner is not None and owner != device_id:
        raise ValueError(f"stream {handle:#x} is on cuda:{owner} but the operands are on cuda:{device_id}; "
                         f"pass a stream of cuda:{device_id}")


def _handle(stream) -> int:
    if isinstance(stream, int):
        return stream
    for attribute in ("cuda_stream", "ptr"):
        value = getattr(stream, attribute, None)
        if isinstance(value, int):
            return value
    protocol = getattr(stream, "__cuda_stream__", None)
    if protocol is not None:
        return int(protocol()[1])
    try:
        return int(stream)  # cuda.bindings CUstream / cudaStream_t
    except (TypeError, ValueError):
        raise TypeError(
            f"stream must be a torch or CuPy stream, a cuda.bindings stream or an integer handle, "
            f"not {type(stream).__name__}"
        ) from None


_local = threading.local()


def _forget() -> None:
    """In a forked child (called by :mod:`.runtime`): drop the parent's stream handles."""
    global _local
    _local = threading.local()


def own_stream(device_id: int) -> int:
    """gpmath's own non-blocking stream for this thread on *device_id* (for NumPy inputs)."""
    return side_stream(device_id, "work")


def side_stream(device_id: int, purpose: str) -> int:
    """A non-blocking stream of this thread on *device_id*, one per *purpose*: ``"work"`` is
    :func:`own_stream`'s; copies on ``"upload"`` and ``"download"`` overlap its work."""
    streams = getattr(_local, "streams", None)
    if streams is None:
        streams = _local.streams = {}
    handle = streams.get((device_id, purpose))
    if handle is None:
        rt = runtime.rt()
        with runtime.on_device(device_id):
            handle = int(runtime.check(rt.cudaStreamCreateWithFlags(rt.cudaStreamNonBlocking), "cudaStreamCreateWithFlags"))
        streams[(device_id, purpose)] = handle
    return handle


def order_after(waiting: int, producer: int) -> None:
    """Make stream *waiting* wait for the work enqueued so far on stream *producer*."""
    if waiting == producer:
        return
    with runtime.on_device_of_stream(producer):  # the event must be created on the producer's device
        _order_after(waiting, producer)


def _order_after(waiting: int, producer: int) -> None:
    rt = runtime.rt()
    event = runtime.check(rt.cudaEventCreateWithFlags(rt.cudaEventDisableTiming), "cudaEventCreateWithFlags")
    try:
        runtime.check(rt.cudaEventRecord(event, producer), "cudaEventRecord")
        runtime.check(rt.cudaStreamWaitEvent(waiting, event, 0), "cudaStreamWaitEvent")
    finally:
        rt.cudaEventDestroy(event)


def synchronize(stream: int) -> None:
    """Block the host until *stream* is idle (that stream only)."""
    runtime.check(runtime.rt().cudaStreamSynchronize(stream), "cudaStreamSynchronize")
