"""The host side of gpmath._core.transfer without a GPU (the CUDA runtime stood in by host
copies): the crew's pieces of every chunk together are the whole copy, uploads take the ring's
slots in turn, an upload cut into parts reports each part once its bytes are enqueued, and a
failing copy raises instead of waiting for ever."""

from __future__ import annotations

import contextlib
import ctypes
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gpmath._core import transfer


@pytest.mark.parametrize("threads", [1, 3, 8])
@pytest.mark.parametrize("nbytes", [1, transfer._PIECE - 1, 5 * transfer._PIECE, 9 * transfer._PIECE + 3])
def test_the_crews_pieces_are_the_whole_copy(monkeypatch, threads, nbytes):
    monkeypatch.setattr(transfer, "SLOT_BYTES", 2 * transfer._PIECE)
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    target = np.zeros_like(source)
    copied = np.zeros(nbytes, np.int64)

    def piece(index, start, lo, hi):
        target[start + lo:start + hi] = source[start + lo:start + hi]
        copied[start + lo:start + hi] += 1

    copy = transfer._Copy(nbytes, threads, piece)
    with ThreadPoolExecutor(threads) as crew:
        shares = [crew.submit(copy.share, thread) for thread in range(threads)]
        for index in reversed(range(len(copy.starts))):  # in any order
            copy.open(index)
        for index in range(len(copy.starts)):
            copy.wait(index)
        for share in shares:
            share.result()
    np.testing.assert_array_equal(target, source)
    assert (copied == 1).all()


def test_a_failing_piece_raises_and_frees_the_other_threads():
    def piece(index, start, lo, hi):
        if index == 1 and lo == 0:
            raise MemoryError("piece")

    copy = transfer._Copy(3 * transfer.SLOT_BYTES, 4, piece)
    with ThreadPoolExecutor(4) as crew:
        shares = [crew.submit(copy.share, thread) for thread in range(4)]
        for index in range(3):
            copy.open(index)
        with pytest.raises(MemoryError, match="piece"):  # (at chunk 1, or at 0 where the failure came first)
            for index in range(3):
                copy.wait(index)
        copy.stop()
        for share in shares:
            share.result(timeout=10)


def test_host_bytes_views_the_memory_without_copying():
    array = np.arange(10, dtype=np.int64)
    view = transfer._host_bytes(array.ctypes.data, array.nbytes)
    view[:8] = 0xFF
    assert array[0] == -1 and view.size == 80


class _HostRuntime:
    """The CUDA runtime calls of ``to_device`` and ``to_host`` over host memory, and the list of
    ``(source, bytes)`` of each copy as it is enqueued.

    *lazy* False runs every copy as it is enqueued (as early as CUDA may: a slot refilled by a
    DMA before the copy threads have emptied it shows); True runs a stream's copies only when
    the host waits for them or another stream depends on them (as late as CUDA may: a slot
    refilled by the copy threads before its DMA has read it shows).
    """

    def __init__(self, lazy: bool = False):
        self.copies: list[tuple[int, int]] = []
        self.lazy = lazy
        self.queues: dict[int, list] = {}
        self.ran: dict[int, int] = {}
        self.marks: dict[int, tuple[int, int]] = {}

    def enqueue(self, stream, op) -> None:
        if self.lazy:
            self.queues.setdefault(stream, []).append(op)
        else:
            op()

    def run(self, stream, upto=None) -> None:
        """Run *stream*'s queued work (up to its first *upto* operations)."""
        queue = self.queues.get(stream, [])
        upto = len(queue) if upto is None else upto
        while self.ran.get(stream, 0) < upto:
            index = self.ran.get(stream, 0)
            self.ran[stream] = index + 1
            queue[index]()

    def depend(self, waiting, producer) -> None:
        """Stream *waiting*'s later work runs after *producer*'s work enqueued so far."""
        upto = len(self.queues.get(producer, []))
        self.enqueue(waiting, lambda: self.run(producer, upto))

    def cudaMemcpyAsync(self, dst, src, nbytes, kind, stream):
        self.copies.append((src, nbytes))
        self.enqueue(stream, lambda: ctypes.memmove(dst, src, nbytes))
        return (0,)

    def cudaEventRecord(self, event, stream):
        self.marks[event] = (stream, len(self.queues.get(stream, [])))
        return (0,)

    def cudaEventSynchronize(self, event):
        if event in self.marks:
            self.run(*self.marks[event])
        return (0,)

    def cudaStreamWaitEvent(self, stream, event, flags):
        if event in self.marks:
            producer, upto = self.marks[event]
            self.enqueue(stream, lambda: self.run(producer, upto))
        return (0,)


@pytest.fixture(params=[False, True], ids=["eager", "lazy"])
def host_ring(monkeypatch, request):
    """A ring of host slots of 64 KiB and a stand-in runtime, its copies run as early or as late
    as CUDA may run them: (ring, its slot buffers, runtime)."""
    fake = _HostRuntime(lazy=request.param)
    buffers = [np.zeros(1 << 16, np.uint8) for _ in range(transfer.SLOTS)]
    ring = transfer._Ring.__new__(transfer._Ring)
    ring.lock, ring.turn, ring.crew = threading.Lock(), 0, None
    ring.slots = [transfer._Slot(b.ctypes.data, b.nbytes, event=i) for i, b in enumerate(buffers)]
    monkeypatch.setattr(transfer, "SLOT_BYTES", 1 << 16)
    monkeypatch.setattr(transfer, "PIPELINE_BYTES", 1 << 10)
    monkeypatch.setattr(transfer, "_PIECE", 1 << 12)
    monkeypatch.setattr(transfer, "_ring", lambda stream: ring)
    monkeypatch.setattr(transfer.runtime, "rt", lambda: fake)
    monkeypatch.setattr(transfer.runtime, "check", lambda result, name: None)
    monkeypatch.setattr(transfer.runtime, "on_device_of_stream", lambda stream: contextlib.nullcontext())
    monkeypatch.setattr(transfer, "synchronize", fake.run)
    yield ring, buffers, fake
    ring.crew and ring.crew.shutdown()


def test_uploads_take_the_ring_slots_in_turn_across_calls(host_ring):
    """Successive uploads fill the ring's slots in turn, so filling one overlaps the DMA out of
    the last; the device receives every byte."""
    ring, buffers, fake = host_ring
    source = np.random.default_rng(5).integers(0, 256, 5 << 16, dtype=np.uint8)
    device = np.zeros_like(source)
    block = 1 << 16
    for start in range(0, source.size, block):  # one slot's worth a call
        transfer.to_device(device.ctypes.data + start, source.ctypes.data + start, block, stream=1)
    fake.run(1)
    np.testing.assert_array_equal(device, source)
    slots = [next(i for i, b in enumerate(buffers) if b.ctypes.data == src) for src, _ in fake.copies]
    assert slots == [i % transfer.SLOTS for i in range(5)]


@pytest.mark.parametrize("nbytes", [(1 << 16) * 7 + 5, 3 << 16, 5000])
def test_round_trip_through_the_host_ring(host_ring, nbytes):
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    device, back = np.zeros_like(source), np.zeros_like(source)
    transfer.to_device(device.ctypes.data, source.ctypes.data, nbytes, stream=1)
    transfer.to_host(back.ctypes.data, device.ctypes.data, nbytes, stream=1)
    np.testing.assert_array_equal(back, source)


@pytest.mark.parametrize("parts", [[3 << 16, 1 << 16, 100, (1 << 16) - 100], [40000, 40000], [700, 0, 300], [1 << 20]])
def test_each_part_is_told_once_its_bytes_are_enqueued(host_ring, parts):
    ring, buffers, fake = host_ring
    nbytes = sum(parts)
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    device = np.zeros_like(source)
    told = []

    def after(index):
        end = sum(parts[:index + 1])
        assert sum(size for _, size in fake.copies) >= end  # its bytes are enqueued...
        fake.run(1)  # ...and land once the stream has run
        np.testing.assert_array_equal(device[:end], source[:end])
        told.append(index)

    transfer.to_device(device.ctypes.data, source.ctypes.data, nbytes, stream=1, parts=parts, after=after)
    assert told == list(range(len(parts)))
    fake.run(1)
    np.testing.assert_array_equal(device, source)


def test_parts_must_add_up_to_the_copy(host_ring):
    source = np.zeros(1 << 12, np.uint8)
    with pytest.raises(ValueError, match="parts add up to 100 bytes, not 4096"):
        transfer.to_device(source.ctypes.data, source.ctypes.data, source.nbytes, 1, parts=[100], after=print)


def test_a_failing_part_stops_the_upload(host_ring):
    fake = host_ring[2]
    source = np.zeros(5 << 16, np.uint8)
    device = np.zeros_like(source)

    def after(index):
        raise RuntimeError(f"part {index}")

    with pytest.raises(RuntimeError, match="part 0"):
        transfer.to_device(device.ctypes.data, source.ctypes.data, source.nbytes, 1, parts=[1 << 16, 4 << 16],
                           after=after)
    transfer.to_device(device.ctypes.data, source.ctypes.data, source.nbytes, 1)  # the ring still works
    fake.run(1)
    np.testing.assert_array_equal(device, source)


def test_through_blocks_works_on_each_part_as_it_lands(host_ring, monkeypatch):
    """The block pipeline: shared uploads first, then each part's work once its bytes are on the
    device (here: a byte-wise +1 into a device result), each result sent into the host result;
    the streams ordered upload -> compute -> download per block."""
    ring, buffers, fake = host_ring
    ordered = []

    def order_after(waiting, producer):
        ordered.append((waiting, producer))
        fake.depend(waiting, producer)

    monkeypatch.setattr(transfer, "order_after", order_after)
    parts = [3 << 16, 1 << 16, 12345]
    source = np.random.default_rng(7).integers(0, 255, sum(parts), dtype=np.uint8)
    shared = np.random.default_rng(8).integers(0, 256, 5000, dtype=np.uint8)
    device, device_shared, device_out = np.zeros_like(source), np.zeros_like(shared), np.zeros_like(source)
    result = np.zeros_like(source)
    starts = np.concatenate([[0], np.cumsum(parts)]).tolist()

    def work(index):
        lo, hi = starts[index], starts[index + 1]

        def compute():  # on the compute stream, in its order
            assert (device_shared == shared).all()  # the shared uploads came first
            device_out[lo:hi] = device[lo:hi] + 1  # reads only what has landed

        fake.enqueue(7, compute)
        return result.ctypes.data + lo, device_out.ctypes.data + lo, hi - lo

    transfer.through_blocks(device.ctypes.data, source.ctypes.data, parts, (8, 7, 9), work,
                            [(device_shared.ctypes.data, shared.ctypes.data, shared.nbytes)])
    np.testing.assert_array_equal(result, source + 1)
    assert ordered == [(8, 7)] + [(7, 8), (9, 7)] * len(parts)
