"""gpmath._core.host_scan: check_finite's scan of large host arrays among threads, against
NumPy's ``isfinite(x).all()`` for a non-finite value at every kind of place."""

from __future__ import annotations

import numpy as np
import pytest

from gpmath._core import host_scan


@pytest.fixture(autouse=True)
def shared(monkeypatch):
    """Four threads and pieces of 1000 elements, so that small arrays cross every boundary."""
    monkeypatch.setattr(host_scan, "_THREADS", 4)
    monkeypatch.setattr(host_scan, "_PIECE", 1000)
    monkeypatch.setattr(host_scan, "SHARED_BYTES", 0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_place_is_read(dtype, order, bad):
    x = np.asarray(np.random.default_rng(0).standard_normal((77, 131)), dtype=dtype, order=order)
    assert host_scan.all_finite(x)
    flat_places = [0, 999, 1000, 77 * 131 // 4, 77 * 131 // 4 + 1, 77 * 131 // 2, 77 * 131 - 1]
    for place in flat_places:
        y = x.copy(order=order)
        y.reshape(-1, order="A")[place] = bad * (1j if np.dtype(dtype).kind == "c" and place % 2 else 1)
        assert host_scan.all_finite(y) is False and not np.isfinite(y).all(), place


def test_views_that_are_not_contiguous_and_empty_arrays():
    x = np.ones((40, 50))
    x[1, 3] = np.nan
    assert host_scan.all_finite(x[::2]) and not host_scan.all_finite(x[1::2]) and not host_scan.all_finite(x[:, 1::2])
    assert host_scan.all_finite(np.ones((0, 5))) and host_scan.all_finite(np.float64(2.0).reshape(()))
