"""The operand record: what gpmath knows about one input or output array.

Built once, at plan time, through DLPack (``__dlpack__`` with the consumer stream, so the
producer orders its pending work before ours without a device-wide sync).  NumPy arrays are
read through ``__array_interface__``: they live on the host and need no stream handshake.
"""

from __future__ import annotations

from .._bindings import dlpack
from . import runtime
from .dtypes import DType, lookup
from .packages import NUMPY, Package, package_of

__all__ = ["Operand", "as_operand", "locate"]

_DLPACK_DTYPES = {
    (dlpack.CODE_FLOAT, 16): "float16",
    (dlpack.CODE_BFLOAT, 16): "bfloat16",
    (dlpack.CODE_FLOAT, 32): "float32",
    (dlpack.CODE_FLOAT, 64): "float64",
    (dlpack.CODE_COMPLEX, 64): "complex64",
    (dlpack.CODE_COMPLEX, 128): "complex128",
}
_DLPACK_KIND = {dlpack.CODE_INT: "int", dlpack.CODE_UINT: "uint", dlpack.CODE_BOOL: "bool"}
_HOST_DEVICES = (dlpack.DEVICE_CPU, dlpack.DEVICE_CUDA_HOST)
_CUDA_DEVICES = (dlpack.DEVICE_CUDA, dlpack.DEVICE_CUDA_MANAGED)


class Operand:
    """One array as gpmath sees it.

    Attributes
    ----------
    array : object
        The caller's array (kept alive while the record is).
    package : Package
        Its package adapter.
    ptr : int
        Address of element ``[0, ..., 0]``.
    shape, strides : tuple of int
        Extents and strides in elements (strides may be 0 or negative).
    dtype : DType
        The element type.
    device_id : int or None
        CUDA device ordinal, or None for host memory.
    """

    __slots__ = ("array", "package", "ptr", "shape", "strides", "dtype", "device_id", "_capsule")

    def __init__(self, array, package: Package, ptr, shape, strides, dtype: DType, device_id, capsule=None):
        self.array = array
        self.package = package
        self.ptr = ptr
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
        self.device_id = device_id
        self._capsule = capsule  # keeps a DLPack export alive as long as the record

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def on_host(self) -> bool:
        return self.device_id is None

    @property
    def size(self) -> int:
        n = 1
        for extent in self.shape:
            n *= extent
        return n

    def span(self) -> tuple[int, int]:
        """``(lowest, highest + 1)`` byte addresses this view touches (equal for an empty one)."""
        if self.size == 0:
            return self.ptr, self.ptr
        lo = hi = 0
        for extent, stride in zip(self.shape, self.strides):
            reach = (extent - 1) * stride
            if reach < 0:
                lo += reach
            else:
                hi += reach
        item = self.dtype.itemsize
        return self.ptr + lo * item, self.ptr + (hi + 1) * item

    def detach(self) -> "Operand":
        """Forget the array (and any DLPack export) but keep the layout; returns the record."""
        self.array = self._capsule = None
        return self

    def overlaps(self, other: "Operand") -> bool:
        """Whether the two views may share memory (same device, intersecting spans)."""
        return self.device_id == other.device_id and self.meets(*other.span())

    def meets(self, lo: int, hi: int) -> bool:
        """Whether this view's span intersects the byte addresses ``[lo, hi)`` (of its device)."""
        a0, a1 = self.span()
        return a0 < hi and lo < a1

    def __repr__(self) -> str:
        where = "host" if self.device_id is None else f"cuda:{self.device_id}"
        return f"<{self.package.name} {self.dtype.name}{list(self.shape)} strides={list(self.strides)} on {where}>"


def _numpy_operand(x, argument: str) -> Operand:
    dtype = lookup(NUMPY.dtype_name(x), argument)
    strides = tuple(s // x.itemsize for s in x.strides)
    if any(s % x.itemsize for s in x.strides):
        raise ValueError(f"{argument} has byte strides {x.strides} that are not multiples of its item size")
    return Operand(x, NUMPY, NUMPY.ptr(x), x.shape, strides, dtype, None)


def _dtype_name(code: int, bits: int, lanes: int) -> str:
    name = _DLPACK_DTYPES.get((code, bits))
    if name is None or lanes != 1:
        kind = _DLPACK_KIND.get(code, f"dlpack-code-{code}-")
        return "bool" if kind == "bool" else f"{kind}{bits}" + ("" if lanes == 1 else f"x{lanes}")
    return name


def as_operand(x, argument: str, stream: int | None = None) -> Operand:
    """Describe array *x* (named *argument* in errors) as an :class:`Operand`.

    Parameters
    ----------
    x : numpy.ndarray, cupy.ndarray or torch.Tensor
        The array.
    argument : str
        The caller-facing argument name, used in error messages.
    stream : int, optional
        The stream gpmath will use *x* on; device producers order their work before it.
    """
    package = package_of(x, argument)
    if package is NUMPY:
        return _numpy_operand(x, argument)
    source = package.exportable(x)
    device_type, exporter_device = source.__dlpack_device__()
    if device_type in _CUDA_DEVICES:
        capsule = _export(source, 1 if not stream else stream, exporter_device)
    elif device_type in _HOST_DEVICES:
        capsule = source.__dlpack__()
    else:
        raise TypeError(f"{argument} lives on DLPack device type {device_type}, which gpmath cannot use")
    ptr, shape, strides, (code, bits, lanes), (device_type, device_id) = dlpack.describe(capsule)
    dtype = lookup(_dtype_name(code, bits, lanes), argument)
    strides = package.element_strides(x, strides, dtype.itemsize)
    device = device_id if device_type in _CUDA_DEVICES else None
    return Operand(x, package, ptr, shape, strides, dtype, device, capsule)


def _export(source, stream: int, device_id: int):
    """``source.__dlpack__(stream=...)`` with *device_id* current where several devices are
    visible (torch refuses to export a tensor of another device than the current one)."""
    with runtime.on_device_if_several(device_id):
        return source.__dlpack__(stream=stream)


def locate(x, argument: str) -> tuple[str, Package, int | None]:
    """``(argument, package, device_id)`` of *x* without exporting it (``device_id`` None: host)."""
    package = package_of(x, argument)
    if package is NUMPY:
        return argument, package, None
    package.warn_if_differentiable(x, argument)
    device_type, device_id = x.__dlpack_device__()
    return argument, package, (int(device_id) if device_type in _CUDA_DEVICES else None)
