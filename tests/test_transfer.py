"""The host side of gpmath._core.transfer without a GPU: the threaded copy into and out of pinned
slots splits any size into pieces that together are the whole."""

from __future__ import annotations

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
