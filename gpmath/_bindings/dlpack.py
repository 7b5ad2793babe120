"""Reading a DLPack capsule (``dlpack.h``, the unversioned ``DLManagedTensor`` ABI).

``describe(capsule)`` returns the tensor's data pointer, shape, strides (in elements), dtype
code/bits/lanes and device.  The capsule is not consumed: whoever holds it keeps the memory
alive, and its destructor releases the tensor.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_int32, c_int64, c_uint8, c_uint16, c_uint64, c_void_p

__all__ = ["describe", "DEVICE_CPU", "DEVICE_CUDA", "DEVICE_CUDA_HOST", "DEVICE_CUDA_MANAGED"]

DEVICE_CPU = 1
DEVICE_CUDA = 2
DEVICE_CUDA_HOST = 3
DEVICE_CUDA_MANAGED = 13

# DLDataTypeCode
CODE_INT, CODE_UINT, CODE_FLOAT, CODE_BFLOAT, CODE_COMPLEX, CODE_BOOL = 0, 1, 2, 4, 5, 6


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", c_void_p),
        ("device", _DLDevice),
        ("ndim", c_int32),
        ("dtype", _DLDataType),
        ("shape", POINTER(c_int64)),
        ("strides", POINTER(c_int64)),
        ("byte_offset", c_uint64),
    ]


_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def describe(capsule) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, int, int], tuple[int, int]]:
    """``(ptr, shape, strides, (code, bits, lanes), (device_type, device_id))`` of a ``"dltensor"`` capsule."""
    tensor = _DLTensor.from_address(_get_pointer(capsule, b"dltensor"))
    ndim = tensor.ndim
    shape = tuple(tensor.shape[i] for i in range(ndim))
    if tensor.strides:
        strides = tuple(tensor.strides[i] for i in range(ndim))
    else:  # NULL strides: compact row-major
        strides, step = [], 1
        for extent in reversed(shape):
            strides.append(step)
            step *= max(extent, 1)
        strides = tuple(reversed(strides))
    ptr = (tensor.data or 0) + tensor.byte_offset
    dtype = (tensor.dtype.code, tensor.dtype.bits, tensor.dtype.lanes)
    return ptr, shape, strides, dtype, (tensor.device.device_type, tensor.device.device_id)
