"""Host <-> device copies through gpmath._core.transfer on the GPU: every size class (direct
pageable copies, one pinned slot, several rounds of the ring, sizes that are no multiple of a
slot), interleaved streams and threads sharing the ring, and a host copy freed for reuse at once."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from gpmath._core import transfer
from gpmath._core.memory import DeviceBuffer
from gpmath._core.streams import own_stream
from gpmath.blas import Matmul

pytestmark = pytest.mark.gpu

SIZES = [0, 1, 4097, transfer.PIPELINE_BYTES - 8, transfer.PIPELINE_BYTES, transfer.SLOT_BYTES + 24,
         transfer.SLOTS * transfer.SLOT_BYTES + 3 * transfer.SLOT_BYTES // 2 + 5]


def round_trip(source: np.ndarray, stream: int) -> np.ndarray:
    device = DeviceBuffer(source.nbytes, stream, 0)
    back = np.zeros_like(source)
    try:
        transfer.to_device(device.ptr, source.ctypes.data, source.nbytes, stream)
        transfer.to_host(back.ctypes.data, device.ptr, source.nbytes, stream)
    finally:
        device.release()
    return back


@pytest.mark.parametrize("nbytes", SIZES)
def test_round_trip_is_exact(nbytes):
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    np.testing.assert_array_equal(round_trip(source, own_stream(0)), source)


def test_the_host_copy_may_be_reused_when_to_device_returns():
    nbytes = 2 * transfer.SLOT_BYTES + 1000
    source = np.random.default_rng(1).integers(0, 256, nbytes, dtype=np.uint8)
    expected = source.copy()
    stream = own_stream(0)
    device = DeviceBuffer(nbytes, stream, 0)
    back = np.zeros_like(source)
    try:
        transfer.to_device(device.ptr, source.ctypes.data, nbytes, stream)
        source[:] = 0  # the device copy must not see this
        transfer.to_host(back.ctypes.data, device.ptr, nbytes, stream)
    finally:
        device.release()
    np.testing.assert_array_equal(back, expected)


def test_threads_and_streams_share_the_ring():
    nbytes = transfer.SLOT_BYTES * 2 + 77
    failures = []

    def worker(seed):
        from cuda.bindings import runtime as rt
        rt.cudaSetDevice(0)
        stream = int(rt.cudaStreamCreate()[1])
        for round_ in range(3):
            source = np.random.default_rng(seed * 10 + round_).integers(0, 256, nbytes, dtype=np.uint8)
            if not np.array_equal(round_trip(source, stream), source):
                failures.append((seed, round_))
        rt.cudaStreamSynchronize(stream)
        rt.cudaStreamDestroy(stream)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.parametrize("parts", [[transfer.SLOT_BYTES // 2, transfer.SLOT_BYTES + 7, 2 * transfer.SLOT_BYTES - 7],
                                   [1000, transfer.PIPELINE_BYTES], [4096, 0, 4096]])
def test_work_after_a_part_sees_its_bytes(parts):
    """Device work enqueued by ``after(k)`` (here a device-to-device copy of part k on the same
    stream) reads part k as uploaded, while later parts are still being copied on the host."""
    from gpmath._core import runtime

    nbytes = sum(parts)
    source = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    expected = source.copy()
    stream = own_stream(0)
    device, snapshot = DeviceBuffer(nbytes, stream, 0), DeviceBuffer(nbytes, stream, 0)
    starts = np.concatenate([[0], np.cumsum(parts)]).tolist()
    told = []

    def after(index):
        start, size = starts[index], parts[index]
        if size:
            runtime.check(runtime.rt().cudaMemcpyAsync(snapshot.ptr + start, device.ptr + start, size, 3, stream), "copy")
        told.append(index)

    back = np.zeros_like(source)
    try:
        transfer.to_device(device.ptr, source.ctypes.data, nbytes, stream, parts=parts, after=after)
        source[:] = 0
        transfer.to_host(back.ctypes.data, snapshot.ptr, nbytes, stream)
    finally:
        device.release()
        snapshot.release()
    assert told == list(range(len(parts)))
    np.testing.assert_array_equal(back, expected)


@pytest.mark.parametrize("shape", [(1536, 1536), (3, 1100, 1100)])
def test_large_numpy_operands_compute_through_the_ring(shape):
    """Matmul, FFT and solve of host operands past the pinned threshold, against NumPy in float64."""
    import gpmath
    from gpmath import linalg

    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    assert a.nbytes >= transfer.PIPELINE_BYTES
    np.testing.assert_allclose(gpmath.matmul(a, b, execution="cuda"), a @ b, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(gpmath.fft.fft(a, execution="cuda"), np.fft.fft(a), rtol=1e-10, atol=1e-8)
    x = linalg.solve(a + shape[-1] * np.eye(shape[-1]), b, execution="cuda")
    np.testing.assert_allclose(x, np.linalg.solve(a + shape[-1] * np.eye(shape[-1]), b), rtol=1e-9, atol=1e-10)


def test_release_frees_the_rings_and_the_next_copy_makes_one():
    source = np.arange(transfer.PIPELINE_BYTES, dtype=np.uint8)
    round_trip(source, own_stream(0))
    transfer.release()
    assert transfer._rings == {}
    np.testing.assert_array_equal(round_trip(source, own_stream(0)), source)


def test_large_results_come_back_in_recycled_pinned_blocks():
    import gc

    shape = (transfer.PIPELINE_BYTES // 8,)
    first = transfer.host_empty(shape, np.float64)
    address = first.ctypes.data
    assert address in transfer._results.blocks
    view = first[::2]
    del first
    gc.collect()
    assert transfer.host_empty(shape, np.float64).ctypes.data != address  # a view keeps the block in use
    del view
    gc.collect()
    again = transfer.host_empty(shape, np.float64)
    assert again.ctypes.data == address  # back in the pool, taken again
    source = np.random.default_rng(4).standard_normal(shape)
    device = DeviceBuffer(source.nbytes, own_stream(0), 0)
    try:
        transfer.to_device(device.ptr, source.ctypes.data, source.nbytes, own_stream(0))
        transfer.to_host(again.ctypes.data, device.ptr, source.nbytes, own_stream(0))
    finally:
        device.release()
    np.testing.assert_array_equal(again, source)


def test_a_full_pool_gives_ordinary_arrays(monkeypatch):
    monkeypatch.setattr(transfer, "POOL_BYTES", 0)  # no room: idle blocks are freed, and still none fits
    shape = (transfer.PIPELINE_BYTES // 4 + 3,)
    result = transfer.host_empty(shape, np.float32)
    assert result.shape == shape and result.ctypes.data not in transfer._results.blocks
    assert transfer.host_empty((3,), np.float32).ctypes.data not in transfer._results.blocks  # small: always NumPy's


@pytest.mark.parametrize("m, k, n, epilog", [(3000, 4096, 1024, None), (2048, 4096, 4096, "bias_relu"),
                                             (4099, 2049, 515, None)])
def test_large_numpy_products_pipeline_their_rows(m, k, n, epilog, caplog):
    """a (larger than two pinned slots) goes up block by block, each block multiplied and its rows of
    the result sent back while the next is copied; the product is NumPy's."""
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    bias = rng.standard_normal(n, dtype=np.float32) if epilog else None
    with caplog.at_level(logging.INFO, logger="gpmath"):
        with Matmul(a, b, bias=bias, epilog=epilog, execution="cuda") as plan:
            plan.plan()
            first = plan.execute()
            a[:] = rng.standard_normal((m, k), dtype=np.float32)  # the plan reads a again at every call
            second = plan.execute()
    assert any("pipelines its host operands" in r.getMessage() for r in caplog.records)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    if epilog:
        expected = np.maximum(expected + bias, 0)
    np.testing.assert_allclose(second, expected, rtol=2e-4, atol=2e-3 * np.sqrt(k))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("function, shape, dtype, norm", [
    ("fft", (1100, 4096), np.complex64, None), ("ifft", (300, 8192), np.complex128, "ortho"),
    ("rfft", (600, 8193), np.float64, None), ("irfft", (700, 3001), np.complex128, "forward"),
    ("fft2", (90, 96, 512), np.complex64, "forward"),
])
def test_large_numpy_transforms_pipeline_their_batch(function, shape, dtype, norm, caplog):
    """A batch larger than two pinned slots goes up block by block (blocks of odd rows included),
    each transformed, scaled and sent back while the next is copied; the result is scipy.fft's."""
    import scipy.fft

    import gpmath

    rng = np.random.default_rng(shape[0])
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    x = x.astype(dtype)
    assert x.nbytes > 2 * transfer.SLOT_BYTES
    with caplog.at_level(logging.INFO, logger="gpmath"):
        result = getattr(gpmath.fft, function)(x, norm=norm, execution="cuda")
        x[:7] = 0  # a second call reads x again
        again = getattr(gpmath.fft, function)(x, norm=norm, execution="cuda")
    assert any("pipelines its host operand in" in r.getMessage() for r in caplog.records)
    expected = getattr(scipy.fft, function)(x, norm=norm)
    tolerance = 1e-4 if np.dtype(dtype).itemsize <= 8 else 1e-10
    assert np.abs(again - expected).max() <= tolerance * np.abs(expected).max()
    assert again.dtype == expected.dtype and not np.array_equal(result, again)
