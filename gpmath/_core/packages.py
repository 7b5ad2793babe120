"""Array packages gpmath accepts (NumPy, CuPy, PyTorch): one small adapter each.

An input is classified by ``type(x).__module__``; torch and cupy are never imported by gpmath,
only looked up in ``sys.modules`` once the caller has imported them.  The adapters give the
fast attribute reads the per-call path needs (pointer, cache-key signature, current stream) and
create results in the caller's package on the caller's device.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .dtypes import DType

__all__ = ["Package", "package_of", "known_package", "NUMPY"]


class Package:
    """Adapter base: what gpmath needs from an array package."""

    name = ""
    host_only = False

    @property
    def module(self):
        return sys.modules[self.name]

    def signature(self, x) -> tuple:
        """A hashable description of *x* (shape, strides, dtype, device) without its address."""
        raise NotImplementedError

    def ptr(self, x) -> int:
        """Address of the first element."""
        raise NotImplementedError

    def device_id(self, x) -> int | None:
        """CUDA device ordinal of *x*, or None for host memory."""
        return None

    def exportable(self, x):
        """*x* in a form whose ``__dlpack__`` succeeds (torch: detached, conj/neg bits resolved)."""
        return x

    def device_query(self):
        """A zero-argument function returning the current CUDA device faster than a
        ``cuda.bindings`` call (the package's own compiled ``cudaGetDevice``), or None."""
        return None

    def element_strides(self, x, exported: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
        """*x*'s strides in elements, given those its DLPack export reported."""
        return exported

    def strides(self, x, itemsize: int) -> tuple[int, ...]:
        """*x*'s strides in elements, read from the array itself."""
        return tuple(s // itemsize for s in x.strides)

    def holds_plainly(self, x, dtype: DType) -> bool:
        """Whether *x*'s memory is C-contiguous and holds its values in *dtype* as they are (no lazy
        conjugation or negation): a byte copy of it is then a copy of its values."""
        return x.flags.c_contiguous and x.dtype == dtype.numpy

    def resolved(self, x):
        """*x* with any lazy conjugation or negation applied (torch's views), so that its memory
        holds its values; *x* itself otherwise."""
        return x

    def current_stream(self, device_id: int) -> int:
        """The package's current stream on *device_id*, as an integer handle."""
        raise NotImplementedError

    def empty(self, shape: tuple[int, ...], dtype: DType, device_id: int | None, stream: int):
        """A new uninitialised C-contiguous array of this package (``device_id=None``: host)."""
        raise NotImplementedError

    def empty_like(self, like, shape: tuple[int, ...], dtype: DType, device_id: int | None, stream: int):
        """Like :meth:`empty`, where *like* is an array of this package with *dtype* on *device_id*
        (lets a package allocate without parsing dtype and device again)."""
        return self.empty(shape, dtype, device_id, stream)

    def contiguous(self, x):
        """*x* as a C-contiguous array (no copy when it already is)."""
        raise NotImplementedError

    def copy_into(self, dst, src) -> None:
        """``dst[...] = src`` for two arrays of this package (same shape and dtype)."""
        dst[...] = src

    def to_numpy(self, x) -> np.ndarray:
        """A NumPy array with *x*'s values (bfloat16 becomes float32); blocks for device data."""
        raise NotImplementedError

    def from_numpy(self, array: np.ndarray, dtype: DType, device_id: int | None):
        """*array* converted to this package, dtype and device."""
        raise NotImplementedError


class _Numpy(Package):
    name = "numpy"
    host_only = True

    def signature(self, x):
        return (x.shape, x.strides, x.dtype)

    def ptr(self, x):
        return x.__array_interface__["data"][0]

    def empty(self, shape, dtype, device_id, stream):
        return np.empty(shape, dtype=dtype.numpy)

    def contiguous(self, x):
        return np.ascontiguousarray(x)

    def to_numpy(self, x):
        return x

    def from_numpy(self, array, dtype, device_id):
        return np.asarray(array, dtype=dtype.numpy)


class _Cupy(Package):
    name = "cupy"

    def signature(self, x):
        return (x.shape, x.strides, x.dtype, x.data.device_id)

    def ptr(self, x):
        return x.data.ptr

    def device_id(self, x):
        return x.data.device_id

    def device_query(self):
        return self.module.cuda.runtime.getDevice

    def element_strides(self, x, exported, itemsize):
        # CuPy exports a negative stride as an unsigned byte count divided by the item size
        # (2**60 - 72 for -72 complex128 elements), so read the byte strides it keeps itself.
        return self.strides(x, itemsize)

    def _on(self, device_id, make):
        """``make()`` with *device_id* current (the usual case, already current: no switch, 1.5 µs)."""
        cuda = self.module.cuda
        if cuda.runtime.getDevice() == device_id:
            return make()
        with cuda.Device(device_id):
            return make()

    def current_stream(self, device_id):
        return self._on(device_id, lambda: self.module.cuda.get_current_stream().ptr)

    def empty(self, shape, dtype, device_id, stream):
        return self._on(device_id, lambda: self.module.empty(shape, dtype=dtype.numpy))

    def contiguous(self, x):
        return self.module.ascontiguousarray(x)

    def to_numpy(self, x):
        return x.get()

    def from_numpy(self, array, dtype, device_id):
        return self._on(device_id, lambda: self.module.asarray(np.asarray(array, dtype=dtype.numpy)))


class _Torch(Package):
    name = "torch"

    def __init__(self):
        self._devices: dict[int | None, Any] = {}
        self._dtypes: dict[str, Any] = {}
        self._raw_stream = None

    def device(self, device_id: int | None):
        dev = self._devices.get(device_id)
        if dev is None:
            torch = self.module
            dev = torch.device("cpu") if device_id is None else torch.device("cuda", device_id)
            self._devices[device_id] = dev
        return dev

    def signature(self, x):
        return (x.shape, x.stride(), x.dtype, x.get_device(), x.is_conj(), x.is_neg())  # lazy conj/neg views differ

    def ptr(self, x):
        return x.data_ptr()

    def device_id(self, x):
        device = x.get_device()
        return device if device >= 0 else None

    def exportable(self, x):
        return x.detach().resolve_conj().resolve_neg()

    def strides(self, x, itemsize):
        return x.stride()

    def resolved(self, x):
        return x.resolve_conj().resolve_neg()

    def holds_plainly(self, x, dtype):
        return x.is_contiguous() and x.dtype == self.torch_dtype(dtype) and not (x.is_conj() or x.is_neg())

    def device_query(self):
        return getattr(self.module._C, "_cuda_getDevice", None)

    def current_stream(self, device_id):
        raw = self._raw_stream
        if raw is None:
            torch = self.module
            raw = getattr(torch._C, "_cuda_getCurrentRawStream", None) or (
                lambda d: torch.cuda.current_stream(d).cuda_stream
            )
            self._raw_stream = raw
        return raw(device_id)

    def torch_dtype(self, dtype: DType):
        found = self._dtypes.get(dtype.name)
        if found is None:
            found = self._dtypes[dtype.name] = getattr(self.module, dtype.name)
        return found

    def empty(self, shape, dtype, device_id, stream):
        out = self.module.empty(shape, dtype=self.torch_dtype(dtype), device=self.device(device_id))
        self._guard(out, device_id, stream)
        return out

    def empty_like(self, like, shape, dtype, device_id, stream):
        out = like.new_empty(shape)
        self._guard(out, device_id, stream)
        return out

    def _guard(self, out, device_id, stream):
        if device_id is not None and stream != self.current_stream(device_id):
            # torch's caching allocator must not hand this memory out again before our stream
            # has finished with it.
            out.record_stream(self.module.cuda.ExternalStream(stream, device=self.device(device_id)))

    def contiguous(self, x):
        return x.contiguous()

    def copy_into(self, dst, src):
        dst.copy_(src)

    def to_numpy(self, x):
        x = x.detach()
        if x.dtype == self.module.bfloat16:
            x = x.float()
        return x.cpu().numpy()

    def from_numpy(self, array, dtype, device_id):
        torch = self.module
        src = np.asarray(array, dtype=np.float32 if dtype.numpy is None else dtype.numpy)
        return torch.from_numpy(np.ascontiguousarray(src)).to(device=self.device(device_id), dtype=self.torch_dtype(dtype))


NUMPY = _Numpy()
_BY_MODULE = {"numpy": NUMPY, "cupy": _Cupy(), "torch": _Torch()}
_BY_TYPE: dict[type, Package] = {}


def package_of(x, argument: str) -> Package:
    """The adapter for *x*'s package, or a ``TypeError`` naming *argument*."""
    kind = type(x)
    pkg = _BY_TYPE.get(kind)
    if pkg is None:
        root = kind.__module__.partition(".")[0]
        pkg = _BY_MODULE.get(root)
        if pkg is None:
            raise TypeError(
                f"{argument} is a {kind.__module__}.{kind.__qualname__}; gpmath accepts NumPy arrays, "
                "CuPy arrays and PyTorch tensors"
            )
        _BY_TYPE[kind] = pkg
    return pkg


def known_package(x) -> Package | None:
    """The adapter of an array type already seen, else None (a dict lookup, for hot paths)."""
    return _BY_TYPE.get(type(x))
