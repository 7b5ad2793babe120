"""Library handles: created lazily, one per thread per device per library.

A handle is not thread-safe in cuBLASLt/cuSOLVER/cuFFT when streams or workspaces are bound to
it, so each thread gets its own; each is created with its device current, and destroyed when
the thread's table is collected (never raising).
"""

from __future__ import annotations

import threading
import weakref
from typing import Callable

from . import runtime

__all__ = ["get_handle", "bind_stream"]

_local = threading.local()
_bound: dict[int, int] = {}  # handle -> the stream bind_stream last set on it


def _destroy_all(entries: list[tuple[Callable[[int], None], int]]) -> None:
    for destroy, handle in entries:
        _bound.pop(handle, None)  # a later handle may reuse the address
        try:
            destroy(handle)
        except Exception:  # a finalizer must not raise
            pass


class _Table:
    __slots__ = ("handles", "entries", "__weakref__")

    def __init__(self):
        self.handles: dict[tuple[str, int], int] = {}
        self.entries: list[tuple[Callable[[int], None], int]] = []
        weakref.finalize(self, _destroy_all, self.entries)


def _forget() -> None:
    """In a forked child (called by :mod:`.runtime`, after it detached the tables' finalizers):
    drop the parent's handles without destroying them (they belong to the parent's contexts)."""
    global _local
    _local = threading.local()
    _bound.clear()


def get_handle(library: str, device_id: int, create: Callable[[], int], destroy: Callable[[int], None]) -> int:
    """This thread's handle of *library* on *device_id*, created with ``create()`` on first use."""
    table = getattr(_local, "table", None)
    if table is None:
        table = _local.table = _Table()
    handle = table.handles.get((library, device_id))
    if handle is None:
        with runtime.on_device(device_id):
            handle = create()
        table.handles[(library, device_id)] = handle
        table.entries.append((destroy, handle))
    return handle


def bind_stream(handle: int, stream: int, set_stream: Callable[[int, int], None]) -> None:
    """``set_stream(handle, stream)`` unless *handle* is bound to *stream* already.

    Every stream change of a shared handle must come through here, so that the record of the
    bound stream stays true.
    """
    if _bound.get(handle) != stream:
        set_stream(handle, stream)
        _bound[handle] = stream
