"""The host side of gpmath._core.transfer without a GPU: the threaded copy into and out of pinned
slots splits any size into pieces that together are the whole."""

from __future__ import annotations

import contextlib
import ctypes
import threading

import numpy as np
import pytest

from gpmath._core import transfer


@pytest.mark.parametrize("threads", [1, 3, 8])
@pytest.mark.parametrize("nbytes", [0, 1, transfer._PIECE - 1, 5 * transfer._PIECE, 9 * transfer._PIECE + 3])
def test_parallel_copy_is_the_whole_array(monkeypatch, threads, nbytes):
    monkeypatch.setattr(transfer, "_COPY_THREADS", threads)
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    target = np.zeros_like(source)
    transfer._parallel_copy(target, source)
    np.testing.assert_array_equal(target, source)


def test_host_bytes_views_the_memory_without_copying():
    array = np.arange(10, dtype=np.int64)
    view = transfer._host_bytes(array.ctypes.data, array.nbytes)
    view[:8] = 0xFF
    assert array[0] == -1 and view.size == 80


class _HostRuntime:
    """The CUDA runtime calls of ``to_device`` over host memory: copies at once, events record
    which slot each copy read."""

    def __init__(self):
        self.sources: list[int] = []

    def cudaMemcpyAsync(self, dst, src, nbytes, kind, stream):
        ctypes.memmove(dst, src, nbytes)
        self.sources.append(src)
        return (0,)

    def cudaEventSynchronize(self, event):
        return (0,)

    def cudaEventRecord(self, event, stream):
        return (0,)


def test_uploads_take_the_ring_slots_in_turn_across_calls(monkeypatch):
    """Successive uploads (the blocks of a pipelined product) fill the ring's slots in turn, so
    filling one overlaps the DMA out of the last; the device receives every byte."""
    fake = _HostRuntime()
    buffers = [np.zeros(1 << 16, np.uint8) for _ in range(transfer.SLOTS)]
    ring = transfer._Ring.__new__(transfer._Ring)
    ring.lock, ring.turn = threading.Lock(), 0
    ring.slots = [transfer._Slot(b.ctypes.data, b.nbytes, event=i) for i, b in enumerate(buffers)]
    monkeypatch.setattr(transfer, "SLOT_BYTES", 1 << 16)
    monkeypatch.setattr(transfer, "PIPELINE_BYTES", 1 << 10)
    monkeypatch.setattr(transfer, "_ring", lambda stream: ring)
    monkeypatch.setattr(transfer.runtime, "rt", lambda: fake)
    monkeypatch.setattr(transfer.runtime, "check", lambda result, name: None)
    monkeypatch.setattr(transfer.runtime, "on_device_of_stream", lambda stream: contextlib.nullcontext())
    source = np.random.default_rng(5).integers(0, 256, 5 << 16, dtype=np.uint8)
    device = np.zeros_like(source)
    block = 1 << 16
    for start in range(0, source.size, block):  # one slot's worth a call, as the pipeline's row blocks
        transfer.to_device(device.ctypes.data + start, source.ctypes.data + start, block, stream=1)
    np.testing.assert_array_equal(device, source)
    slots = [next(i for i, b in enumerate(buffers) if b.ctypes.data == src) for src in fake.sources]
    assert slots == [i % transfer.SLOTS for i in range(5)]
