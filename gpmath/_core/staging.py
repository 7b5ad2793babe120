"""Host operands computed on a GPU: the one place where they go in and their results come out.

A call whose operands live in host memory (NumPy arrays, torch CPU tensors) but runs on a GPU is
*staged*.  Every operand is replaced, before any engine sees it, by its values as a native
byte-order NumPy array (:meth:`~gpmath._core.packages.Package.host_values`: a view of the
caller's memory where it already holds them plainly; a copy for big-endian data, torch's lazy
conjugate or negative views, and bfloat16).  The CUDA engines' host path therefore handles NumPy
arrays only, and every result leaves through :meth:`HostStaging.outward`, which delivers it in the
caller's own package.
"""

from __future__ import annotations

import numpy as np

from .dtypes import DTYPES
from .packages import NUMPY, Package

__all__ = ["HostStaging", "deliver"]


class HostStaging:
    """The staging of one plan's host operands, whose package is *package*."""

    __slots__ = ("package", "bfloat16")

    def __init__(self, package: Package):
        self.package = package
        self.bfloat16 = False  # an operand was bfloat16 (NumPy has none: staged as float32)

    def inward(self, x):
        """*x*'s values as a native NumPy array (None stays None)."""
        if x is None:
            return None
        if self.package.dtype_name(x) == "bfloat16":
            self.bfloat16 = True
        return self.package.host_values(x)

    def outward(self, value):
        """A result of the engine (NumPy arrays, a tuple of them, scalars) in the caller's package;
        float32 results of bfloat16 operands are bfloat16 again."""
        result = deliver(self.package, value, None)
        if self.bfloat16 and getattr(result, "dtype", None) is not None and self.package.dtype_name(result) == "float32":
            result = self.package.astype(result, "bfloat16")
        return result

    def written(self, original, mirror):
        """*original* (an ``out`` array the caller passed) once the engine wrote *mirror*, its
        :meth:`inward` values: copied back where the mirror is not *original*'s own memory."""
        if mirror is not original and self.package.ptr(original) != NUMPY.ptr(mirror):
            self.package.copy_into(original, self.package.from_numpy(mirror, DTYPES[mirror.dtype.name], None))
        return original


def deliver(package: Package, value, device_id: int | None):
    """A host result (NumPy array, tuple of them, NumPy or Python scalar) in *package* on
    *device_id* (None: host); NumPy scalars become 0-d arrays of device packages."""
    if isinstance(value, tuple):
        return tuple(deliver(package, v, device_id) for v in value)
    if package is NUMPY:
        return value
    if isinstance(value, np.generic):  # a NumPy scalar: a 0-d array, as the GPU gives
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        return value
    dtype = DTYPES.get(NUMPY.dtype_name(value))
    if dtype is None:  # integer pivots and ranks
        return package.asarray(value, device_id)
    return package.from_numpy(value, dtype, device_id)
