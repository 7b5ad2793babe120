"""Copies between host arrays and device memory: the one path staged operands and results take.

Small copies go straight from (or to) the caller's pageable memory with ``cudaMemcpyAsync``.
Large ones are pipelined through a ring of page-locked (pinned) host slots per device: the
host side of chunk *i* is copied into a free slot by a few threads while the DMA engine moves
chunk *i - 1*, and an event per slot orders each slot's reuse after its copy.  The pageable path
moves data through the driver's own small staging buffers one piece at a time; the pinned ring
runs the host copies in parallel and the DMA at the link's pinned rate (bench/RESULTS.md holds
the H200's figures and the crossover behind :data:`PIPELINE_BYTES`).

The ring is allocated on the first large copy for a device (:data:`SLOTS` slots of
:data:`SLOT_BYTES`), reused by every later one, and held until :func:`release` or the end of the
process; one lock per device orders the threads that share it.

Large results are delivered in pinned memory from a bounded pool (:func:`host_empty`): the copy
back is then one direct DMA at the pinned rate, and the result's pages are already mapped (a
fresh NumPy array of 64 MiB costs ~12 ms of page faults on first write).  A block returns to the
pool when the array over it (and every view of it) is garbage collected; past
:data:`POOL_BYTES` (``GPMATH_PINNED_POOL_BYTES``, default 1 GiB) in blocks, idle blocks are freed,
and where the pool is still full, results are ordinary NumPy arrays.  A forked child forgets its
parent's rings and pool.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import runtime
from .streams import synchronize

__all__ = ["to_device", "to_host", "enqueue_to_pinned", "is_pinned", "host_empty", "release", "PIPELINE_BYTES", "SLOT_BYTES",
           "SLOTS", "POOL_BYTES"]

PIPELINE_BYTES = int(os.environ.get("GPMATH_PINNED_MIN_BYTES", 4 << 20))  # smaller copies: pageable, direct
SLOT_BYTES = 16 << 20
POOL_BYTES = int(os.environ.get("GPMATH_PINNED_POOL_BYTES", 1 << 30))
SLOTS = 3
_COPY_THREADS = max(1, min(8, (os.cpu_count() or 1) // 2))
_PIECE = 1 << 20  # a thread copies at least this many bytes

_H2D, _D2H = 1, 2  # cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost


class _Slot:
    __slots__ = ("ptr", "view", "event")

    def __init__(self, ptr: int, nbytes: int, event):
        self.ptr = ptr
        self.view = np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype=np.uint8)
        self.event = event


class _Ring:
    """The pinned slots of one device, their events and the lock of the threads sharing them."""

    def __init__(self, device_id: int):
        rt = runtime.rt()
        self.device_id = device_id
        self.lock = threading.Lock()
        self.slots = []
        self.turn = 0  # the slot the next upload fills: uploads rotate through the ring across calls
        with runtime.on_device(device_id):
            for _ in range(SLOTS):
                ptr = int(runtime.check(rt.cudaHostAlloc(SLOT_BYTES, rt.cudaHostAllocPortable), "cudaHostAlloc"))
                event = runtime.check(rt.cudaEventCreateWithFlags(rt.cudaEventDisableTiming), "cudaEventCreateWithFlags")
                self.slots.append(_Slot(ptr, SLOT_BYTES, event))

    def next_slot(self) -> _Slot:
        """The slot an upload fills next (the caller holds :attr:`lock` and waits for its event):
        consecutive uploads, one call's or successive calls' (blocks of a pipeline), take the
        slots in turn, so that filling one overlaps the DMA out of the previous one."""
        slot = self.slots[self.turn % len(self.slots)]
        self.turn += 1
        return slot

    def free(self) -> None:
        rt = runtime.rt()
        for slot in self.slots:
            rt.cudaEventSynchronize(slot.event)
            rt.cudaEventDestroy(slot.event)
            rt.cudaFreeHost(slot.ptr)
        self.slots = []


_rings: dict[int, _Ring] = {}
_rings_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _ring(stream: int) -> _Ring:
    device_id = runtime.stream_device(stream)
    if device_id is None:
        device_id = runtime.current_device()
    ring = _rings.get(device_id)
    if ring is None:
        with _rings_lock:
            ring = _rings.get(device_id)
            if ring is None:
                ring = _rings[device_id] = _Ring(device_id)
    return ring


def _parallel_copy(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[:] = src`` for flat uint8 arrays, split over the copy threads (NumPy releases the GIL)."""
    global _pool
    n = src.size
    parts = min(_COPY_THREADS, max(1, n // _PIECE))
    if parts == 1:
        np.copyto(dst, src)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(_COPY_THREADS, thread_name_prefix="gpmath-copy")
    step = -(-n // parts)
    done = [_pool.submit(np.copyto, dst[i:i + step], src[i:i + step]) for i in range(step, n, step)]
    np.copyto(dst[:step], src[:step])
    for future in done:
        future.result()


def _host_bytes(ptr: int, nbytes: int) -> np.ndarray:
    """*nbytes* of host memory at *ptr* as a flat uint8 array (a view, no copy)."""
    return np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype=np.uint8)


def _copy(dst: int, src: int, nbytes: int, kind: int, stream: int) -> None:
    runtime.check(runtime.rt().cudaMemcpyAsync(dst, src, nbytes, kind, stream), "cudaMemcpyAsync")


def to_device(dst: int, src: int, nbytes: int, stream: int) -> None:
    """Copy *nbytes* of host memory at *src* to device address *dst* on *stream*.

    When it returns, the host memory may be modified (its values are in pinned slots or already
    moved); the device copy completes in stream order.
    """
    if not nbytes:
        return
    rt = runtime.rt()
    with runtime.on_device_of_stream(stream):
        if nbytes < PIPELINE_BYTES:
            _copy(dst, src, nbytes, _H2D, stream)
            return
        ring, source = _ring(stream), _host_bytes(src, nbytes)
        with ring.lock:
            for start in range(0, nbytes, SLOT_BYTES):
                slot = ring.next_slot()
                size = min(SLOT_BYTES, nbytes - start)
                runtime.check(rt.cudaEventSynchronize(slot.event), "cudaEventSynchronize")  # its last DMA is done
                _parallel_copy(slot.view[:size], source[start:start + size])
                _copy(dst + start, slot.ptr, size, _H2D, stream)
                runtime.check(rt.cudaEventRecord(slot.event, stream), "cudaEventRecord")


class _Pool:
    """Pinned blocks for large host results: idle ones by size, and the bytes of all of them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle: dict[int, list[int]] = {}
        self.blocks: set[int] = set()
        self.nbytes = 0

    def take(self, nbytes: int) -> int | None:
        """An idle block of *nbytes*, or a new one (freeing idle blocks to stay within
        :data:`POOL_BYTES`), or None where the pool is full of blocks in use."""
        with self.lock:
            idle = self.idle.get(nbytes)
            if idle:
                return idle.pop()
            rt = runtime.rt()
            while self.nbytes + nbytes > POOL_BYTES and any(self.idle.values()):
                size, ptrs = next((size, ptrs) for size, ptrs in self.idle.items() if ptrs)
                self._drop(ptrs.pop(), size, rt)
            if self.nbytes + nbytes > POOL_BYTES:
                return None
            ptr = int(runtime.check(rt.cudaHostAlloc(nbytes, rt.cudaHostAllocPortable), "cudaHostAlloc"))
            self.blocks.add(ptr)
            self.nbytes += nbytes
            return ptr

    def give_back(self, ptr: int, nbytes: int) -> None:
        with self.lock:
            if ptr in self.blocks:  # not after a fork or a release
                self.idle.setdefault(nbytes, []).append(ptr)

    def _drop(self, ptr: int, nbytes: int, rt) -> None:
        self.blocks.discard(ptr)
        self.nbytes -= nbytes
        rt.cudaFreeHost(ptr)

    def free_idle(self) -> None:
        rt = runtime.rt()
        with self.lock:
            for size, ptrs in self.idle.items():
                while ptrs:
                    self._drop(ptrs.pop(), size, rt)


_results = _Pool()


def host_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A new C-contiguous NumPy array for a result copied from a device: in a pinned block of the
    pool when it is large (:data:`PIPELINE_BYTES` or more) and the pool has room, else ``numpy.empty``."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    ptr = _results.take(nbytes) if nbytes >= PIPELINE_BYTES else None
    if ptr is None:
        return np.empty(shape, dtype)
    raw = (ctypes.c_char * nbytes).from_address(ptr)
    weakref.finalize(raw, _results.give_back, ptr, nbytes)  # when the array and its views are gone
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def to_host(dst: int, src: int, nbytes: int, stream: int) -> None:
    """Copy *nbytes* from device address *src* to host memory at *dst* after the work on
    *stream*, and wait for it: when it returns, the host memory holds the values (and *stream*'s
    earlier work is done)."""
    rt = runtime.rt()
    with runtime.on_device_of_stream(stream):
        if nbytes < PIPELINE_BYTES or dst in _results.blocks:  # small, or pinned already: one direct copy
            if nbytes:
                _copy(dst, src, nbytes, _D2H, stream)
            synchronize(stream)
            return
        ring, target = _ring(stream), _host_bytes(dst, nbytes)
        starts = range(0, nbytes, SLOT_BYTES)
        with ring.lock:
            def enqueue(index: int) -> None:
                slot, start = ring.slots[index % SLOTS], starts[index]
                runtime.check(rt.cudaStreamWaitEvent(stream, slot.event, 0), "cudaStreamWaitEvent")  # its last use
                _copy(slot.ptr, src + start, min(SLOT_BYTES, nbytes - start), _D2H, stream)
                runtime.check(rt.cudaEventRecord(slot.event, stream), "cudaEventRecord")

            for index in range(min(SLOTS, len(starts))):  # as many DMAs in flight as slots
                enqueue(index)
            for index, start in enumerate(starts):
                slot = ring.slots[index % SLOTS]
                size = min(SLOT_BYTES, nbytes - start)
                runtime.check(rt.cudaEventSynchronize(slot.event), "cudaEventSynchronize")
                _parallel_copy(target[start:start + size], slot.view[:size])
                if index + SLOTS < len(starts):
                    enqueue(index + SLOTS)
            synchronize(stream)


def is_pinned(ptr: int) -> bool:
    """Whether *ptr* starts a pinned block of the result pool (:func:`host_empty`)."""
    return ptr in _results.blocks


def enqueue_to_pinned(dst: int, src: int, nbytes: int, stream: int) -> None:
    """Enqueue a copy of *nbytes* from device address *src* into pinned host memory at *dst* (inside
    a :func:`host_empty` block, see :func:`is_pinned`) on *stream*, without waiting: the caller
    synchronizes *stream* before reading *dst*."""
    if nbytes:
        _copy(dst, src, nbytes, _D2H, stream)


def release() -> None:
    """Free every device's pinned ring (the next large copy allocates one again) and the idle
    blocks of the result pool."""
    with _rings_lock:
        rings = list(_rings.values())
        _rings.clear()
    for ring in rings:
        with ring.lock:
            ring.free()
    _results.free_idle()


def _forget() -> None:
    """In a forked child: drop the parent's rings and copy threads without touching them."""
    global _pool, _results
    _rings.clear()
    _pool = None
    _results = _Pool()
