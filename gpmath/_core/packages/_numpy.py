"""The NumPy adapter: host arrays."""

from __future__ import annotations

import numpy as np

from ..host_scan import all_finite
from ._base import Package

__all__ = ["NumpyPackage", "NUMPY"]


class NumpyPackage(Package):
    name = "numpy"
    host_only = True

    def signature(self, x):
        return (x.shape, x.strides, x.dtype)  # the dtype keeps its byte order

    def ptr(self, x):
        return x.__array_interface__["data"][0]

    def host_values(self, x):
        return x if x.dtype.isnative else x.astype(x.dtype.newbyteorder("="))

    to_numpy = host_values

    def from_numpy(self, array, dtype, device_id):
        return np.asarray(array, dtype=dtype.numpy)

    def asarray(self, array, device_id):
        return np.asarray(array)

    def empty(self, shape, dtype, device_id, stream):
        return np.empty(shape, dtype=dtype.numpy)

    def finite_probe(self, arrays):
        """0.0 when every element is finite, else NaN: on the host ``isfinite`` reads at once and,
        unlike a sum, never overflows (nor warns); large arrays are shared among threads."""
        for x in arrays:
            if not all_finite(x):
                return np.nan
        return 0.0


NUMPY = NumpyPackage()
