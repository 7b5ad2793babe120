"""The package adapter's contract, with NumPy's API as the default (CuPy shares it)."""

from __future__ import annotations

import contextlib
import functools
import operator
import sys

import numpy as np

from ..._errors import OutOfMemoryError
from .. import runtime
from ..dtypes import DType

__all__ = ["Package", "allocation_failed", "ALIGNMENT"]

ALIGNMENT = 255  # device addresses enter plan keys modulo 256: the largest alignment a plan relies on

_DTYPE_NAMES: dict = {}  # NumPy dtype -> its name (``dtype.name`` is a slow Python property)


class Package:
    """What gpmath needs from an array package: one subclass per package, one instance each.

    The operations are written against NumPy's API here (``self.module`` is ``numpy`` or
    ``cupy``); the torch adapter overrides those torch spells differently.
    """

    name = ""
    host_only = False

    @property
    def module(self):
        return sys.modules[self.name]

    # -- reading arrays ----------------------------------------------------------------------
    def signature(self, x) -> tuple:
        """A hashable description of *x* (shape, strides, dtype, device, lazy flags) without its address."""
        raise NotImplementedError

    def ptr(self, x) -> int:
        """Address of the first element."""
        raise NotImplementedError

    def keyed(self, x) -> tuple:
        """What a plan of the device array *x* relies on, for cache keys: its :meth:`signature`
        and its address modulo 256 (:data:`ALIGNMENT`)."""
        return self.signature(x), self.ptr(x) & ALIGNMENT

    def device_id(self, x) -> int | None:
        """CUDA device ordinal of *x*, or None for host memory."""
        return None

    def exportable(self, x):
        """*x* in a form whose ``__dlpack__`` succeeds and describes its values (torch: detached,
        conjugate and negative bits resolved)."""
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

    def dtype_name(self, x) -> str:
        """*x*'s dtype as a NumPy-style name (``"float32"``, ``"int64"``, ``"bfloat16"`` ...)."""
        dtype = x.dtype
        name = _DTYPE_NAMES.get(dtype)
        if name is None:
            name = _DTYPE_NAMES[dtype] = dtype.name
        return name

    def holds_plainly(self, x, dtype: DType) -> bool:
        """Whether *x*'s memory is C-contiguous and holds its values in *dtype* as they are (no lazy
        conjugation or negation): a byte copy of it is then a copy of its values."""
        return x.flags.c_contiguous and x.dtype == dtype.numpy

    def overwritable(self, x) -> bool:
        """Whether a result of *x*'s shape and dtype may be written over *x* in place, as SciPy's
        ``overwrite_a`` does: *x* is writable and C- or F-contiguous in native byte order."""
        flags = x.flags
        return (flags.c_contiguous or flags.f_contiguous) and getattr(flags, "writeable", True) and x.dtype.isnative

    def resolved(self, x):
        """*x* with any lazy conjugation or negation applied (torch's views); *x* itself otherwise."""
        return x

    def warn_if_differentiable(self, x, argument: str) -> None:
        """Warn where *x* takes part in automatic differentiation (torch's ``requires_grad``):
        gpmath's results carry no gradient."""

    # -- host arrays ---------------------------------------------------------------------------
    def host_values(self, x) -> np.ndarray:
        """Host array *x* as a NumPy array holding its values in native byte order (a view of
        *x*'s memory where it already does; bfloat16 becomes float32)."""
        raise TypeError(f"{self.name} arrays on a device have no host values; use to_numpy")

    def plain_host_view(self, x) -> np.ndarray | None:
        """The NumPy view of *x*'s memory where *x* is a host array of another package than NumPy
        holding its values plainly (no lazy conjugation or negation, no autograd) in a LAPACK dtype
        (float32, float64, complex64, complex128); else None."""
        return None

    def to_numpy(self, x) -> np.ndarray:
        """A NumPy array with *x*'s values (bfloat16 becomes float32); blocks for device data."""
        raise NotImplementedError

    def from_numpy(self, array: np.ndarray, dtype: DType, device_id: int | None):
        """*array* converted to this package, *dtype* and device (a copy on a device)."""
        raise NotImplementedError

    def asarray(self, array: np.ndarray, device_id: int | None):
        """*array* (any dtype: integer pivots, ranks ...) as an array of this package on *device_id*."""
        raise NotImplementedError

    def over_device_memory(self, interface, device_id: int):
        """An array of this package over the device memory *interface* describes (an object with
        ``__cuda_array_interface__``), without a copy."""
        raise TypeError(f"{self.name} arrays cannot live in device memory")

    # -- streams -------------------------------------------------------------------------------
    def current_stream(self, device_id: int) -> int:
        """The package's current stream on *device_id*, as an integer handle."""
        raise NotImplementedError

    def on_stream(self, stream: int | None, device_id: int | None):
        """A context in which this package enqueues its work on *stream* of *device_id* (host
        packages, or a stream already current: a context that does nothing)."""
        return contextlib.nullcontext()

    def recorder(self, stream: int, device_id: int):
        """A recorder of the work enqueued on *stream* into a CUDA graph, with this package's
        allocations during the recording kept for the replays (``begin``, ``end``, ``abandon``,
        ``launch``, ``release``: :class:`~gpmath._core.capture.StreamCapture`'s interface)."""
        raise ValueError(f"{self.name} arrays live on the host; a graph records device work only")

    # -- creating arrays -------------------------------------------------------------------------
    def empty(self, shape: tuple[int, ...], dtype: DType, device_id: int | None, stream: int):
        """A new uninitialised C-contiguous array of this package (``device_id=None``: host)."""
        raise NotImplementedError

    def allocator(self, shape: tuple[int, ...], dtype: DType, device_id: int | None):
        """``new(stream)``: a function returning a new array as :meth:`empty` does, for the result
        an ``execute`` allocates at every call (a package may prepare what it can once)."""
        return lambda stream: self.empty(shape, dtype, device_id, stream)

    def arange_like(self, start: int, stop: int, like):
        """``arange(start, stop)`` with *like*'s dtype, on *like*'s device."""
        return self.module.arange(start, stop, dtype=like.dtype)

    # -- copies and views ------------------------------------------------------------------------
    def contiguous(self, x):
        """*x* as a C-contiguous array holding its values (no copy when it already is)."""
        return self.module.ascontiguousarray(x)

    def copy(self, x):
        """A new C-order array with *x*'s values (never a view of *x*'s memory)."""
        return self.module.array(x, copy=True, order="C")

    def copy_into(self, dst, src) -> None:
        """``dst[...] = src`` (*dst* a view of an array of this package)."""
        dst[...] = src

    def astype(self, x, name: str):
        """A copy of *x* converted to dtype *name*."""
        return x.astype(name)

    def as_int(self, x, bits: int):
        """*x* as an int32/int64 array (a copy when the type changes)."""
        return x.astype(np.int64 if bits == 64 else np.int32, copy=False)

    def permuted(self, x, axes):
        """A view of *x* with its axes in the order *axes*."""
        return x.transpose(axes)

    def swap(self, x, conjugate: bool = False):
        """*x* with its last two axes swapped: a view (conjugated: torch lazily, others by a copy)."""
        y = x.swapaxes(-1, -2)
        return y.conj() if conjugate else y

    def flip(self, x, axis: int):
        """*x* reversed along *axis* (a view where the package has negative strides, else a copy)."""
        return self.module.flip(x, axis)

    def concatenate(self, arrays, axis: int):
        """A new array joining *arrays* (of this package, on one device) along *axis*."""
        return self.module.concatenate(arrays, axis)

    def zeros(self, shape: tuple[int, ...], like):
        """A new zero-filled C-order array with *like*'s dtype, on *like*'s device."""
        return self.module.zeros(shape, dtype=like.dtype)

    def broadcast(self, x, shape: tuple[int, ...]):
        """A read-only view of *x* broadcast to *shape*."""
        return self.module.broadcast_to(x, shape)

    def diagonal(self, x):
        """The diagonals of a batch of matrices, ``(..., N)`` (a view)."""
        return x.diagonal(axis1=-2, axis2=-1)

    def upper_copy(self, x):
        """A new C-order array with the upper triangle of each matrix of *x* and zeros below it."""
        out = self.copy(x)
        mask = _strictly_lower(self.module, x.shape[-2], x.shape[-1], self.device_id(out))
        self.module.copyto(out, 0, where=mask)
        return out

    # -- arithmetic ------------------------------------------------------------------------------
    def is_complex(self, x) -> bool:
        return x.dtype.kind == "c"

    def complex(self, real, imag):
        """The complex array ``real + 1j * imag`` (of their precision)."""
        return (real + 1j * imag).astype(self.module.result_type(real.dtype, np.complex64), copy=False)

    def conj(self, x):
        """A new array holding the complex conjugate of *x*."""
        return self.module.conj(x)

    def imag_is_zero(self, x) -> bool:
        """Whether every imaginary part of the complex array *x* is zero (read now: for device
        arrays one reduction and a wait for it)."""
        return not bool(self.module.any(x.imag))

    def real_copy(self, x):
        """A new real array holding the real parts of the complex array *x*."""
        return x.real.copy()

    def conj_inplace(self, x) -> None:
        self.module.conj(x, out=x)

    def scale_inplace(self, x, factor: float) -> None:
        x *= factor

    def zero(self, x) -> None:
        """Set a view of an array of this package to zero."""
        x[...] = 0

    def roll(self, x, shifts, axes):
        return self.module.roll(x, shifts, axes)

    def norm(self, x, ord, axis, keepdims: bool):
        """NumPy's ``linalg.norm`` of *x* (vector norms for one axis, matrix norms for two)."""
        return self.module.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)

    def expand_dims(self, x, axis: int):
        """*x* with a new axis of length 1 at *axis* (a view)."""
        return self.module.expand_dims(x, axis)

    def moveaxis(self, x, source, destination):
        """*x* with axes *source* moved to *destination* (a view)."""
        return self.module.moveaxis(x, source, destination)

    def finite_flag(self, x):
        """Whether every element of *x* is finite, as a 0-d boolean of this package, not read yet
        (for device arrays: enqueued on the current stream; ``&`` combines flags)."""
        return self.module.isfinite(x).all()

    def finite_probe(self, arrays):
        """The sum of every element of *arrays* (of this package), a 0-d array not read yet (for
        device arrays: one reduction each, enqueued on the current stream).  A finite probe proves
        every element finite (an inf or a NaN propagates); a non-finite one may also come from
        overflow, which :meth:`finite_flag` tells apart."""
        return functools.reduce(operator.add, (x.sum() for x in arrays))

    def where(self, condition, x, y):
        """``x`` where *condition* holds, else ``y`` (arrays or Python scalars, broadcast)."""
        return self.module.where(condition, x, y)

    def amax(self, x, axis: int):
        """The maximum along *axis*, keeping it."""
        return x.max(axis, keepdims=True)


@functools.lru_cache(maxsize=32)
def _strictly_lower(module, rows: int, cols: int, device: int | None):
    """A boolean mask of the strictly lower triangle (NumPy, or CuPy on *device*), made once."""
    if device is None:
        return module.tri(rows, cols, -1, dtype=bool)
    with module.cuda.Device(device):
        return module.tri(rows, cols, -1, dtype=bool)


def allocation_failed(package: str, shape, dtype: DType, device_id: int | None, error: Exception) -> OutOfMemoryError:
    """gpmath's :class:`~gpmath.OutOfMemoryError` for a package allocation that failed with *error*."""
    status = runtime.rt().cudaError_t.cudaErrorMemoryAllocation
    return OutOfMemoryError(int(status), status.name, f"{package}.empty",
                            f"{dtype.name}{list(shape)} on cuda:{device_id}: {error}")
