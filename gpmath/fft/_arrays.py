"""The few array operations FFT needs beyond the core's package adapters, per package.

Element-wise work around cuFFT (casting copies into the plan's input buffer, zero padding,
normalisation, conjugation, rolls for ``fftshift``) runs as the caller's own package would run
it: NumPy on the host, CuPy and PyTorch on the device, inside :meth:`ArrayOps.on_stream` so it is
ordered on the plan's stream.  Array-likes (lists, scalars) become NumPy arrays.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

from .._core.packages import Package, package_of

__all__ = ["ArrayOps", "ops_for", "as_array"]


def as_array(x, argument: str = "x"):
    """``(x, package)``: *x* itself for NumPy/CuPy/PyTorch arrays, else ``numpy.asarray(x)``."""
    try:
        return x, package_of(x, argument)
    except TypeError:
        try:
            array = np.asarray(x)
        except ValueError as error:  # ragged nesting: NumPy's and SciPy's ValueError
            raise ValueError(f"{argument} is not a regular array: {error}") from None
        except Exception:
            raise TypeError(f"{argument} must be an array or array-like, not {type(x).__name__}") from None
        if array.dtype == object:
            raise TypeError(f"{argument} must hold numbers, not {type(x).__name__} of objects")
        return array, package_of(array, argument)


class ArrayOps:
    """NumPy's operations; CuPy shares them through its NumPy-compatible module."""

    def __init__(self, package: Package):
        self.package = package
        self._names: dict = {}

    @property
    def xp(self):
        return sys.modules[self.package.name]

    def dtype_name(self, x) -> str:
        """*x*'s dtype as a NumPy-style name (``"float32"``, ``"int64"``, ``"bfloat16"`` ...)."""
        name = self._names.get(x.dtype)
        if name is None:
            name = self._names[x.dtype] = self._name_of(x.dtype)
        return name

    def _name_of(self, dtype) -> str:
        return dtype.name

    def astype(self, x, name: str):
        """A copy of *x* converted to dtype *name*."""
        return x.astype(name)

    def plain(self, x):
        """*x* with any lazy view flags resolved (torch's conjugate and negative bits)."""
        return x

    def permuted(self, x, axes):
        return x.transpose(axes)

    def conj(self, x):
        return self.xp.conj(x)

    def conj_inplace(self, x) -> None:
        self.xp.conj(x, out=x)

    def scale_inplace(self, x, factor: float) -> None:
        x *= factor

    def zero(self, x) -> None:
        x.fill(0)

    def roll(self, x, shifts, axes):
        return self.xp.roll(x, shifts, axes)

    def on_stream(self, stream: int, device_id: int | None):
        """Context in which the package enqueues work on *stream* (host packages: no-op)."""
        return contextlib.nullcontext()


class _CupyOps(ArrayOps):
    def __init__(self, package: Package):
        super().__init__(package)
        self._streams: dict[tuple[int, int], object] = {}

    @contextlib.contextmanager
    def _device_stream(self, stream: int, device_id: int):
        cuda = self.xp.cuda
        external = self._streams.get((stream, device_id))
        if external is None:
            external = self._streams[(stream, device_id)] = cuda.ExternalStream(stream, device_id)
        with cuda.Device(device_id), external:
            yield

    def on_stream(self, stream, device_id):
        if stream is None or device_id is None:
            return contextlib.nullcontext()
        return self._device_stream(stream, device_id)


class _TorchOps(ArrayOps):
    def __init__(self, package: Package):
        super().__init__(package)
        self._streams: dict[tuple[int, int], object] = {}

    def _name_of(self, dtype) -> str:
        return str(dtype).rpartition(".")[2]

    def astype(self, x, name):
        return x.to(getattr(self.xp, name), copy=True)

    def plain(self, x):
        if x.is_conj():
            x = x.resolve_conj()
        return x.resolve_neg() if x.is_neg() else x

    def permuted(self, x, axes):
        return x.permute(*axes)

    def conj(self, x):
        return self.xp.conj_physical(x)

    def conj_inplace(self, x):
        x.conj_physical_()

    def scale_inplace(self, x, factor):
        x.mul_(factor)

    def zero(self, x):
        x.zero_()

    def roll(self, x, shifts, axes):
        return self.xp.roll(x, shifts, axes)

    def on_stream(self, stream, device_id):
        if stream is None or device_id is None or stream == self.package.current_stream(device_id):
            return contextlib.nullcontext()
        key = (stream, device_id)
        external = self._streams.get(key)
        if external is None:
            cuda = self.xp.cuda
            external = self._streams[key] = cuda.ExternalStream(stream, device=self.package.device(device_id))
        return self.xp.cuda.stream(external)


_OPS: dict[str, ArrayOps] = {}


def ops_for(package: Package) -> ArrayOps:
    """The :class:`ArrayOps` of *package*."""
    ops = _OPS.get(package.name)
    if ops is None:
        cls = {"torch": _TorchOps, "cupy": _CupyOps}.get(package.name, ArrayOps)
        ops = _OPS[package.name] = cls(package)
    return ops
