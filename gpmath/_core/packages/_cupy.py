"""The CuPy adapter: device arrays with NumPy's API."""

from __future__ import annotations

import contextlib

import numpy as np

from ._base import Package, allocation_failed

__all__ = ["CupyPackage"]


class CupyPackage(Package):
    name = "cupy"

    def __init__(self):
        self._streams: dict[tuple[int, int], object] = {}

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
        if device_id is None or cuda.runtime.getDevice() == device_id:
            return make()
        with cuda.Device(device_id):
            return make()

    def current_stream(self, device_id):
        return self._on(device_id, lambda: self.module.cuda.get_current_stream().ptr)

    @contextlib.contextmanager
    def _device_stream(self, stream: int, device_id: int):
        cuda = self.module.cuda
        external = self._streams.get((stream, device_id))
        if external is None:
            external = self._streams[(stream, device_id)] = cuda.ExternalStream(stream, device_id)
        with cuda.Device(device_id), external:
            yield

    def on_stream(self, stream, device_id):
        if stream is None or device_id is None or stream == self.current_stream(device_id):
            return contextlib.nullcontext()  # already current: no device switch or stream wrapper
        return self._device_stream(stream, device_id)

    def recorder(self, stream, device_id):
        from ..capture import StreamCapture

        return StreamCapture(stream, keep=lambda: _Kept(self.module))

    def empty(self, shape, dtype, device_id, stream):
        try:
            return self._on(device_id, lambda: self.module.empty(shape, dtype=dtype.numpy))
        except self.module.cuda.memory.OutOfMemoryError as exc:
            raise allocation_failed(self.name, shape, dtype, device_id, exc) from exc

    def zeros(self, shape, like):
        return self._on(like.data.device_id, lambda: self.module.zeros(shape, dtype=like.dtype))

    def to_numpy(self, x):
        return x.get()

    def from_numpy(self, array, dtype, device_id):
        return self._on(device_id, lambda: self.module.asarray(np.asarray(array, dtype=dtype.numpy)))

    def over_device_memory(self, interface, device_id):
        return self._on(device_id, lambda: self.module.asarray(interface))

    def asarray(self, array, device_id):
        return self._on(device_id, lambda: self.module.asarray(array))


class _Kept:
    """A context in which CuPy's allocations (of this thread) go through the current allocator and
    stay held by this object: a graph's recording keeps the memory its executions used."""

    def __init__(self, cupy):
        self._cupy = cupy
        self.held: list = []
        self._using = None

    def __enter__(self):
        allocate, held = self._cupy.cuda.get_allocator(), self.held

        def keep(size: int):
            memory = allocate(size)
            held.append(memory)
            return memory

        self._using = self._cupy.cuda.using_allocator(keep)
        self._using.__enter__()
        return self

    def __exit__(self, *exc):
        self._using.__exit__(*exc)
