"""Stream-ordered device memory: workspaces, temporaries and host staging buffers.

Allocations come from the device's default CUDA memory pool (``cudaMallocAsync`` on the stream
that uses them), so no allocation or free synchronises the host.  The pool keeps freed memory
for reuse (its release threshold is raised once per device), as the frameworks' caching
allocators do.  A failed allocation trims the pool and retries once before raising
:class:`~gpmath._errors.OutOfMemoryError`.
"""

from __future__ import annotations

import ctypes
import logging
import weakref
from typing import Callable

import numpy as np

from . import runtime
from .._errors import OutOfMemoryError

__all__ = ["DeviceBuffer", "copy_async", "pinned_empty", "mapped_empty"]

logger = logging.getLogger("gpmath")
_CUDA_MEMCPY_DEFAULT = 4
_pools_configured: set[int] = set()


def _configure_pool(device_id: int) -> None:
    if device_id in _pools_configured:
        return
    rt = runtime.rt()
    pool = runtime.check(rt.cudaDeviceGetDefaultMemPool(device_id), "cudaDeviceGetDefaultMemPool")
    from cuda.bindings import driver

    threshold = driver.cuuint64_t(2**64 - 1)
    runtime.check(
        rt.cudaMemPoolSetAttribute(pool, rt.cudaMemPoolAttr.cudaMemPoolAttrReleaseThreshold, threshold),
        "cudaMemPoolSetAttribute",
    )
    _pools_configured.add(device_id)


def _trim_pool(device_id: int) -> None:
    rt = runtime.rt()
    pool = runtime.check(rt.cudaDeviceGetDefaultMemPool(device_id), "cudaDeviceGetDefaultMemPool")
    runtime.check(rt.cudaMemPoolTrimTo(pool, 0), "cudaMemPoolTrimTo")


class DeviceBuffer:
    """*nbytes* of device memory, allocated and freed in the order of *stream*.

    Parameters
    ----------
    nbytes : int
        Size; 0 gives a null pointer and allocates nothing.
    stream : int
        The stream the memory is used on.
    device_id : int
        The device (made current for the allocation and the release where several are visible).
    """

    __slots__ = ("ptr", "nbytes", "stream", "device_id")

    def __init__(self, nbytes: int, stream: int, device_id: int):
        self.nbytes = nbytes
        self.stream = stream
        self.device_id = device_id
        self.ptr = 0
        if nbytes:
            _configure_pool(device_id)
            self.ptr = self._allocate()

    def _allocate(self) -> int:
        with runtime.on_device_if_several(self.device_id):
            return self._allocate_here()

    def _allocate_here(self) -> int:
        rt = runtime.rt()
        try:
            return int(runtime.check(rt.cudaMallocAsync(self.nbytes, self.stream), "cudaMallocAsync"))
        except OutOfMemoryError:
            logger.info("allocation of %d bytes failed on device %d; trimming the pool and retrying", self.nbytes, self.device_id)
            runtime.check(rt.cudaStreamSynchronize(self.stream), "cudaStreamSynchronize")
            _trim_pool(self.device_id)
            return int(runtime.check(rt.cudaMallocAsync(self.nbytes, self.stream), "cudaMallocAsync"))

    def release(self) -> None:
        """Return the memory to the pool, ordered after the work on the buffer's stream (idempotent)."""
        if self.ptr:
            ptr, self.ptr = self.ptr, 0
            with runtime.on_device_if_several(self.device_id):
                runtime.check(runtime.rt().cudaFreeAsync(ptr, self.stream), "cudaFreeAsync")

    def __repr__(self) -> str:
        return f"<DeviceBuffer {self.nbytes} bytes at {self.ptr:#x} on cuda:{self.device_id}>"


def copy_async(dst: int, src: int, nbytes: int, stream: int) -> None:
    """``cudaMemcpyAsync`` of *nbytes* in either direction (``cudaMemcpyDefault``), with the
    stream's device current where several devices are visible (the runtime rejects a stream of
    another device)."""
    if nbytes:
        with runtime.on_device_of_stream(stream):
            runtime.check(runtime.rt().cudaMemcpyAsync(dst, src, nbytes, _CUDA_MEMCPY_DEFAULT, stream), "cudaMemcpyAsync")


def pinned_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A NumPy array in page-locked host memory (``cudaMallocHost``), freed with the array.

    Copies from the device into it are direct and asynchronous (no staging through the
    driver's pageable-memory path): read it after a sync of the copying stream.
    """
    rt = runtime.rt()
    return _host_array(lambda nbytes: runtime.check(rt.cudaMallocHost(nbytes), "cudaMallocHost"), shape, dtype)


def mapped_empty(shape: tuple[int, ...], dtype) -> tuple[np.ndarray, int]:
    """A NumPy array in page-locked host memory that kernels write directly (zero copy), and the
    address kernels use for it (``cudaHostAlloc`` mapped and portable: every device's).

    For small results such as ``info``: the library writes them in place, and the host reads
    them after a sync of the writing stream, with no copy to enqueue.
    """
    rt = runtime.rt()
    flags = rt.cudaHostAllocMapped | rt.cudaHostAllocPortable
    array = _host_array(lambda nbytes: runtime.check(rt.cudaHostAlloc(nbytes, flags), "cudaHostAlloc"), shape, dtype)
    return array, int(runtime.check(rt.cudaHostGetDevicePointer(array.ctypes.data, 0), "cudaHostGetDevicePointer"))


def _host_array(allocate: Callable[[int], int], shape: tuple[int, ...], dtype) -> np.ndarray:
    """A NumPy array over the host memory ``allocate(nbytes)`` returns, which ``cudaFreeHost``
    frees with the array."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    nbytes = max(count * dtype.itemsize, 1)
    ptr = int(allocate(nbytes))
    raw = (ctypes.c_char * nbytes).from_address(ptr)
    weakref.finalize(raw, _free_host, ptr)
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)


def _free_host(ptr: int) -> None:
    try:
        runtime.rt().cudaFreeHost(ptr)
    except Exception:  # a finalizer must not raise (the runtime may be gone at exit)
        pass
