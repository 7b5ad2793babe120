"""Core memory on the GPU: a round trip through a stream-ordered device buffer into page-locked host memory."""

from __future__ import annotations

import numpy as np
import pytest

from gpmath._core.memory import DeviceBuffer, copy_async, pinned_empty
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
