"""Copies between host arrays and device memory: the one path staged operands and results take.

Small copies go straight from (or to) the caller's pageable memory with ``cudaMemcpyAsync``.
Large ones are pipelined through a ring of page-locked (pinned) host slots per device: the copy is
cut into chunks of a slot, the ring's copy threads (its crew, handed the whole copy at once) fill
chunk *i + 1* while the DMA engine moves chunk *i*, and an event per slot orders each slot's reuse
after its DMA.  The pageable path moves data through the driver's own small staging buffers one
piece at a time; the pinned ring runs the host copies in parallel and the DMA at the link's pinned
rate (bench/RESULTS.md holds the H200's figures and the crossover behind :data:`PIPELINE_BYTES`).
An upload may be cut into parts with work started as each part lands (``to_device(parts=,
after=)``): the pipelined product of host matrices multiplies a's first rows while the rest of a is
still being copied.

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
import itertools
import math
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import runtime, settings
from .streams import order_after, synchronize

__all__ = ["to_device", "to_host", "through_blocks", "enqueue_to_pinned", "is_pinned", "host_empty", "release", "PIPELINE_BYTES", "SLOT_BYTES",
           "SLOTS", "POOL_BYTES"]

PIPELINE_BYTES = settings.integer("GPMATH_PINNED_MIN_BYTES", 4 << 20)  # smaller copies: pageable, direct
SLOT_BYTES = settings.integer("GPMATH_PINNED_SLOT_BYTES", 16 << 20, least=4096)  # a chunk of a pipelined copy
POOL_BYTES = settings.integer("GPMATH_PINNED_POOL_BYTES", 1 << 30)
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
    """The pinned slots of one device, their events, the lock of the threads sharing them and
    the copy threads (its crew) that fill and empty them."""

    def __init__(self, device_id: int):
        rt = runtime.rt()
        self.device_id = device_id
        self.lock = threading.Lock()
        self.slots = []
        self.turn = 0  # the slot the next upload fills: uploads rotate through the ring across calls
        self.crew: ThreadPoolExecutor | None = None
        with runtime.on_device(device_id):
            for _ in range(SLOTS):
                ptr = int(runtime.check(rt.cudaHostAlloc(SLOT_BYTES, rt.cudaHostAllocPortable), "cudaHostAlloc"))
                event = runtime.check(rt.cudaEventCreateWithFlags(rt.cudaEventDisableTiming), "cudaEventCreateWithFlags")
                self.slots.append(_Slot(ptr, SLOT_BYTES, event))

    def hire(self) -> ThreadPoolExecutor:
        """The ring's copy threads (made on first use; the caller holds :attr:`lock`)."""
        if self.crew is None:
            self.crew = ThreadPoolExecutor(_COPY_THREADS, thread_name_prefix="gpmath-copy")
        return self.crew

    def free(self) -> None:
        rt = runtime.rt()
        for slot in self.slots:
            rt.cudaEventSynchronize(slot.event)
            rt.cudaEventDestroy(slot.event)
            rt.cudaFreeHost(slot.ptr)
        self.slots = []
        if self.crew is not None:
            self.crew.shutdown(wait=False)
            self.crew = None


class _Copy:
    """The host side of one pipelined copy, shared by the ring's crew: the copy is cut into
    chunks of at most a slot, and each of *threads* threads copies its own piece of every chunk
    in turn, once the chunk is :meth:`open` (its slot is free, or its DMA has landed), reporting
    each piece done.  The threads are handed the whole copy at once, so a chunk costs a signal
    per thread rather than a dispatch of tasks (bench/RESULTS.md: about 45 µs a dispatch on the
    H200, paid one after another)."""

    def __init__(self, nbytes: int, threads: int, piece):
        self.starts = range(0, nbytes, SLOT_BYTES)
        self.nbytes, self.threads, self.piece = nbytes, threads, piece
        self.opened = [threading.Event() for _ in self.starts]
        self.pieces_done = [threading.Semaphore(0) for _ in self.starts]
        self.stopped = False
        self.error: BaseException | None = None

    def size(self, index: int) -> int:
        return min(SLOT_BYTES, self.nbytes - self.starts[index])

    def open(self, index: int) -> None:
        self.opened[index].set()

    def wait(self, index: int) -> None:
        """Return once every thread has copied its piece of chunk *index*."""
        done = self.pieces_done[index]
        for _ in range(self.threads):
            done.acquire()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Let the threads go without copying what is left (the copy failed)."""
        self.stopped = True
        for event in self.opened:
            event.set()

    def share(self, thread: int) -> None:
        """One thread's part: its piece of each chunk, in order.  A failure is kept for
        :meth:`wait` to raise, and this thread's pieces are reported done so that it does not wait."""
        index = 0
        try:
            for index, start in enumerate(self.starts):
                self.opened[index].wait()
                if self.stopped:
                    return
                size = self.size(index)
                step = -(-size // self.threads)
                lo, hi = min(thread * step, size), min((thread + 1) * step, size)
                if lo < hi:
                    self.piece(index, start, lo, hi)
                self.pieces_done[index].release()
        except BaseException as error:
            self.error = error
            for done in self.pieces_done[index:]:
                done.release()


def _run(ring: _Ring, copy: _Copy, drive) -> None:
    """Run *copy* on the ring's crew while this thread *drive*s it (opens chunks, enqueues DMAs)."""
    crew = ring.hire()
    shares = [crew.submit(copy.share, thread) for thread in range(copy.threads)]
    try:
        drive()
    finally:
        copy.stop()
        for share in shares:
            share.result()


def _threads(nbytes: int) -> int:
    """How many threads copy a chunk: at least :data:`_PIECE` bytes each."""
    return max(1, min(_COPY_THREADS, min(nbytes, SLOT_BYTES) // _PIECE))


_rings: dict[int, _Ring] = {}
_rings_lock = threading.Lock()


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


def _host_bytes(ptr: int, nbytes: int) -> np.ndarray:
    """*nbytes* of host memory at *ptr* as a flat uint8 array (a view, no copy)."""
    return np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype=np.uint8)


def _wait(event) -> None:
    """Block until *event*'s work is done (a slot's last DMA)."""
    runtime.check(runtime.rt().cudaEventSynchronize(event), "cudaEventSynchronize")


def _copy(dst: int, src: int, nbytes: int, kind: int, stream: int) -> None:
    runtime.check(runtime.rt().cudaMemcpyAsync(dst, src, nbytes, kind, stream), "cudaMemcpyAsync")


def to_device(dst: int, src: int, nbytes: int, stream: int, parts: Sequence[int] = (),
              after: Callable[[int], None] | None = None) -> None:
    """Copy *nbytes* of host memory at *src* to device address *dst* on *stream*.

    When it returns, the host memory may be modified (its values are in pinned slots or already
    moved); the device copy completes in stream order.

    *parts* (byte counts adding up to *nbytes*) cut the copy into consecutive parts, and
    ``after(k)`` is called on this thread as soon as the copies of part *k* are enqueued on
    *stream*, while later parts are still being copied on the host: work enqueued there (after
    :func:`~gpmath._core.streams.order_after` *stream*) overlaps the rest of the upload.  *after*
    runs while this device's ring is held: it must not copy through :func:`to_device` or
    :func:`to_host` itself.
    """
    if not nbytes:
        return
    ends = list(itertools.accumulate(parts))
    if ends and ends[-1] != nbytes:
        raise ValueError(f"parts add up to {ends[-1]} bytes, not {nbytes}")
    told = 0

    def tell(upto: int) -> None:  # call after() for every part that ends by byte *upto*
        nonlocal told
        while told < len(ends) and ends[told] <= upto:
            after(told)
            told += 1

    rt = runtime.rt()
    with runtime.on_device_of_stream(stream):
        if nbytes < PIPELINE_BYTES:
            _copy(dst, src, nbytes, _H2D, stream)
            tell(nbytes)
            return
        ring, source = _ring(stream), _host_bytes(src, nbytes)
        with ring.lock:
            first = ring.turn
            slots = [ring.slots[(first + i) % SLOTS] for i in range(SLOTS)]
            copy = _Copy(nbytes, _threads(nbytes),
                         lambda index, start, lo, hi: np.copyto(slots[index % SLOTS].view[lo:hi],
                                                                source[start + lo:start + hi]))
            count = len(copy.starts)
            ring.turn += count

            def drive() -> None:
                # chunk i fills slot i % SLOTS once that slot's last DMA has landed; while chunk i
                # moves, the threads fill the next chunk and the one that reuses chunk i - 1's slot
                for index in range(min(SLOTS - 1, count)):
                    _wait(slots[index].event)
                    copy.open(index)
                for index, start in enumerate(copy.starts):
                    copy.wait(index)
                    slot = slots[index % SLOTS]
                    _copy(dst + start, slot.ptr, copy.size(index), _H2D, stream)
                    runtime.check(rt.cudaEventRecord(slot.event, stream), "cudaEventRecord")
                    tell(start + copy.size(index))
                    reuse = index + SLOTS - 1  # takes the slot of chunk index - 1
                    if reuse < count:
                        _wait(slots[reuse % SLOTS].event)
                        copy.open(reuse)

            _run(ring, copy, drive)


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
        with ring.lock:
            slots = ring.slots
            copy = _Copy(nbytes, _threads(nbytes),
                         lambda index, start, lo, hi: np.copyto(target[start + lo:start + hi],
                                                                slots[index % SLOTS].view[lo:hi]))
            count = len(copy.starts)

            def enqueue(index: int) -> None:
                slot, start = slots[index % SLOTS], copy.starts[index]
                runtime.check(rt.cudaStreamWaitEvent(stream, slot.event, 0), "cudaStreamWaitEvent")  # its last use
                _copy(slot.ptr, src + start, copy.size(index), _D2H, stream)
                runtime.check(rt.cudaEventRecord(slot.event, stream), "cudaEventRecord")

            def landed(index: int) -> None:  # chunk *index* is in its slot: the threads may copy it out
                _wait(slots[index % SLOTS].event)
                copy.open(index)

            def drive() -> None:
                for index in range(min(SLOTS, count)):  # as many DMAs in flight as slots
                    enqueue(index)
                landed(0)
                for index in range(count):
                    if index + 1 < count:
                        landed(index + 1)
                    copy.wait(index)
                    if index + SLOTS < count:
                        enqueue(index + SLOTS)

            _run(ring, copy, drive)
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


def through_blocks(dst: int, src: int, parts: Sequence[int], streams: tuple[int, int, int],
                   work: Callable[[int], tuple[int, int, int]], uploads: Sequence[tuple[int, int, int]] = ()) -> None:
    """Compute on host operands block by block, copies and work overlapping, into a pinned result.

    On the upload stream (``streams = (upload, compute, download)``), after the compute stream's
    earlier work: first each ``(device dst, host src, nbytes)`` of *uploads* (operands every block
    reads), then the *src* operand of ``sum(parts)`` bytes to *dst* in one pipelined copy.  As part
    *k* is enqueued, the compute stream is ordered after it and ``work(k)`` enqueues block *k*'s work
    there, returning ``(pinned host dst, device src, nbytes)`` of its result, which then goes back
    on the download stream while later parts are still being copied.  Returns when every result is
    in host memory.  *work* must not copy through this module itself (the device's ring is held).
    """
    upload, compute, download = streams

    def block(index: int) -> None:
        order_after(compute, upload)
        back = work(index)
        order_after(download, compute)
        enqueue_to_pinned(*back, download)

    order_after(upload, compute)  # the compute stream's earlier work may read the buffers
    for target, source, nbytes in uploads:
        to_device(target, source, nbytes, upload)
    to_device(dst, src, sum(parts), upload, parts=parts, after=block)
    synchronize(download)  # (it waited for every block's work, which waited for every upload)


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
    global _results
    _rings.clear()
    _results = _Pool()
