"""The one door of the solver engines to the world outside Python: libraries, memory, streams, kernels.

The CUDA engines and their routes call cuSOLVER and cuBLAS, allocate device memory, copy, sync,
bind handles to streams and launch gpmath's kernels only through a :class:`SolverLibraries`
object (the engine's ``lib``, taken from :data:`LIBRARIES` when the engine is built), never
through module globals.  A test that models the GPU on the CPU swaps that one object.
"""

from __future__ import annotations

import functools

from .._bindings import cublas, cusolver
from .._core import handles, kernels, memory, runtime, streams, transfer
from .._core.kernels import Kernel, Launch

__all__ = ["SolverLibraries", "LIBRARIES", "LETTER"]

_D2D = 3  # cudaMemcpyDeviceToDevice
LETTER = {"float32": "S", "float64": "D", "complex64": "C", "complex128": "Z"}  # <t> of the legacy routines


@functools.cache
def _kernel(path: str, function: str, defines: tuple[tuple[str, int], ...]) -> Kernel:
    return Kernel(path, function, dict(defines))


class SolverLibraries:
    """cuSOLVER, cuBLAS, the CUDA runtime, device memory, streams and gpmath's kernels, as the
    solver engines use them.

    Attributes
    ----------
    cs, cublas : module
        The ctypes bindings of cuSOLVER (dense) and cuBLAS.
    runtime : module
        :mod:`gpmath._core.runtime` (device context, graph capture).
    copy_async, synchronize, mapped_empty, own_stream, resolve_stream, bind_stream : callable
        :mod:`gpmath._core.memory`'s, :mod:`~gpmath._core.streams`'s and
        :mod:`~gpmath._core.handles`' functions of those names.
    to_device, to_host, host_empty : callable
        :mod:`gpmath._core.transfer`'s: host operands in and results out (pinned and pipelined
        when large; ``to_host`` waits for the stream; large results in pooled pinned memory).
    """

    cs = cusolver
    cublas = cublas
    runtime = runtime
    copy_async = staticmethod(memory.copy_async)
    synchronize = staticmethod(streams.synchronize)
    mapped_empty = staticmethod(memory.mapped_empty)
    to_device = staticmethod(transfer.to_device)
    host_empty = staticmethod(transfer.host_empty)
    to_host = staticmethod(transfer.to_host)
    own_stream = staticmethod(streams.own_stream)
    resolve_stream = staticmethod(streams.resolve_stream)
    bind_stream = staticmethod(handles.bind_stream)

    def buffer(self, nbytes: int, stream: int, device_id: int) -> memory.DeviceBuffer:
        """*nbytes* of device memory in the order of *stream* (``.ptr``, ``.release()``)."""
        return memory.DeviceBuffer(nbytes, stream, device_id)

    def identity(self, ptr: int, n: int, count: int, itemsize: int, ones: int, stream: int) -> None:
        """Write *count* consecutive ``n × n`` identity matrices of *itemsize*-byte elements at
        device address *ptr* on *stream*, from the device vector of *n* ones at *ones*: zeros,
        the first matrix's diagonal in one pitched copy, then copies of the matrices written so
        far, doubling (device to device only: no identity crosses the link, and a graph
        capture records every step)."""
        rt, matrix = runtime.rt(), n * n * itemsize
        if not matrix or not count:
            return
        self.zero(ptr, count * matrix, stream)
        runtime.check(rt.cudaMemcpy2DAsync(ptr, (n + 1) * itemsize, ones, itemsize, itemsize, n, _D2D, stream),
                      "cudaMemcpy2DAsync")
        done = 1
        while done < count:
            more = min(done, count - done)
            runtime.check(rt.cudaMemcpyAsync(ptr + done * matrix, ptr, more * matrix, _D2D, stream), "cudaMemcpyAsync")
            done += more

    @staticmethod
    def zero(ptr: int, nbytes: int, stream: int) -> None:
        """Write *nbytes* zero bytes at device address *ptr* on *stream*."""
        runtime.check(runtime.rt().cudaMemsetAsync(ptr, 0, nbytes, stream), "cudaMemsetAsync")

    def solver_handle(self, device_id: int) -> int:
        """This thread's cuSOLVER (dense) handle on *device_id*."""
        return handles.get_handle("cusolverDn", device_id, self.cs.create, self.cs.destroy)

    def blas_handle(self, device_id: int) -> int:
        """This thread's cuBLAS handle on *device_id*."""
        return handles.get_handle("cublas", device_id, self.cublas.create, self.cublas.destroy)

    def compiler_available(self) -> bool:
        """Whether gpmath's kernels can be compiled here (NVRTC loads)."""
        return kernels.compiler_available()

    def kernel(self, path: str, function: str, **defines: int) -> Kernel:
        """The kernel *function* of the source *path* compiled with ``-D`` *defines* (one object
        per variant, so each is compiled and loaded once)."""
        return _kernel(path, function, tuple(sorted(defines.items())))

    def launch(self, kernel: Kernel, device_id: int, count: int, grid: int, block: int, shared: int = 0) -> Launch:
        """A :class:`~gpmath._core.kernels.Launch` of *kernel* on *device_id* with *count* parameters."""
        return Launch(kernel.function(device_id), count, grid=grid, block=block, shared=shared)


LIBRARIES = SolverLibraries()
