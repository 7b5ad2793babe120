"""Core memory on the GPU: a round trip through a stream-ordered device buffer into page-locked host
memory, and host memory that the device writes directly."""

from __future__ import annotations

import numpy as np
import pytest

from gpmath._core.memory import DeviceBuffer, copy_async, mapped_empty, pinned_empty
from gpmath._core.streams import synchronize

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("shape, dtype", [((1000,), np.float64), ((7, 3), np.int32), ((5,), np.complex64)])
def test_pinned_array_receives_a_device_copy(shape, dtype):
    rng = np.random.default_rng(5)
    source = (rng.standard_normal(shape) * 1000).astype(dtype)
    host = pinned_empty(shape, dtype)
    assert host.shape == shape and host.dtype == dtype and host.flags.writeable
    host[...] = 0
    device = DeviceBuffer(source.nbytes, 0, 0)
    try:
        copy_async(device.ptr, source.ctypes.data, source.nbytes, 0)
        copy_async(host.ctypes.data, device.ptr, source.nbytes, 0)
        synchronize(0)
    finally:
        device.release()
    np.testing.assert_array_equal(host, source)


def test_mapped_array_is_written_by_the_device_in_place():
    rng = np.random.default_rng(6)
    source = rng.integers(-1000, 1000, 37).astype(np.int32)
    host, address = mapped_empty((37,), np.int32)
    host[...] = 0
    device = DeviceBuffer(source.nbytes, 0, 0)
    try:
        copy_async(device.ptr, source.ctypes.data, source.nbytes, 0)
        copy_async(address, device.ptr, source.nbytes, 0)  # a device-to-device copy into the mapping
        synchronize(0)
    finally:
        device.release()
    np.testing.assert_array_equal(host, source)
