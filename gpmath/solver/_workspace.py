"""A CUDA solver plan's workspace: what its routes compute with, passed to them explicitly.

C order and column-major are explained in :mod:`._cuda`.  The workspace holds the plan's
libraries object, stream, cuSOLVER handle and ``info`` array, and the device memory the plan
owns: buffers allocated at plan time, staging buffers for host operands, scratch arrays kept
from one execution to the next, and pointer arrays for cuBLAS's and cuSOLVER's batched routines.
"""

from __future__ import annotations

import ctypes
import math
import os
from typing import Callable

import numpy as np

from ._device import SolverLibraries

__all__ = ["Workspace", "DEVICE_SWAP_BYTES", "SWAP_PATH"]

SWAP_PATH = os.path.join(os.path.dirname(__file__), "kernels", "swap.cu")
DEVICE_SWAP_BYTES = 1 << 18  # host operands at least this large are swapped by the GPU (see Workspace.load)
_TILE = 32  # swap.cu's TILE (its block: TILE x 8 threads)
_MOST_BLOCKS = 1 << 16  # swap.cu loops over the tiles beyond


class Workspace:
    """The device side of one plan (made once by the engine; :meth:`reset` by every ``plan()``).

    Parameters
    ----------
    lib : SolverLibraries
        Everything outside Python.
    package : Package
        The operands' package (NumPy for host operands staged through the GPU).
    stream, device_id : int
        Where the plan runs.
    home : int or None
        The operands' device (None: host memory).
    staged : bool
        Host operands computed on the GPU: work arrays are plan buffers, ``(shape, dtype, address)``.
    hold : callable
        ``hold(release, *args)`` registers a release with the plan (run by ``free()`` or a re-plan).

    Attributes
    ----------
    handle, params : int
        The cuSOLVER handle (this thread's, bound to *stream* by every execution) and the 64-bit
        API's parameters (set by the engine at plan time).
    info, info_host : int, ndarray
        The int32 ``info`` array, one per matrix: its device address and its host view (mapped
        memory: read after a sync of the stream; set by the engine at plan time).
    nbytes : int
        Device memory held.
    executions : int
        Executions so far (a pointer array is reused only by a later one).
    resolved_copies : dict
        Resolved copies of lazily conjugated or negated views that a launch reads, by operand
        name: kept alive until the next execution has launched.
    """

    def __init__(self, lib: SolverLibraries, package, stream: int, device_id: int, home: int | None, staged: bool,
                 hold: Callable):
        self.lib, self.package, self.stream, self.device_id = lib, package, stream, device_id
        self.home, self.staged, self.hold = home, staged, hold
        self.handle = self.params = self.info = 0
        self.info_host: np.ndarray | None = None
        self.nbytes = 0
        self.executions = 0
        self.resolved_copies: dict[str, object] = {}
        self._uploads: dict[str, int] = {}
        self._kept: dict[str, tuple[object, int]] = {}
        self._pointer_arrays: dict[tuple[int, int, int], list] = {}
        self._swaps: dict[tuple, object] = {}

    def reset(self) -> None:
        """Forget the memory of the last plan (released by the plan) before planning again."""
        self.nbytes = 0
        self._uploads.clear()
        self._kept.clear()
        self._pointer_arrays.clear()
        self._swaps.clear()

    def buffer(self, nbytes: int) -> int:
        """Device memory held by the plan (stream-ordered); returns its address."""
        buffer = self.lib.buffer(nbytes, self.stream, self.device_id)
        self.hold(buffer.release)
        self.nbytes += nbytes
        return buffer.ptr

    def routine_work(self, device: int, host: int, allocate: int | None = None) -> tuple[int, int, object, int]:
        """The workspaces of a 64-bit API routine that asks for *device* and *host* bytes:
        ``(device address, device bytes, host buffer, host bytes)``; *allocate* bytes of device
        memory where a later routine shares the buffer (default *device*)."""
        return self.buffer(device if allocate is None else allocate), device, (ctypes.c_char * max(host, 1))(), host

    def work(self, name: str, shape: tuple[int, ...], dtype, keep: bool = False) -> tuple[object, int]:
        """A result or scratch array *name* on the device, and its address.

        A new package array each call, or with *keep* one allocated once and reused by every
        execution (scratch that is never returned: its address, and so its pointer arrays, stay
        fixed).  Host operands use plan buffers (``(shape, dtype, address)``) either way.
        """
        if self.staged:
            staging = self._uploads
            if name not in staging:
                staging[name] = self.buffer(dtype.itemsize * int(np.prod(shape)))
            return (shape, dtype, staging[name]), staging[name]
        if keep:
            kept = self._kept.get(name)
            if kept is None:
                array = self.package.empty(shape, dtype, self.device_id, self.stream)
                kept = self._kept[name] = (array, self.package.ptr(array))
            return kept
        array = self.package.empty(shape, dtype, self.device_id, self.stream)
        return array, self.package.ptr(array)

    def load(self, name: str, x, dtype, shape: tuple[int, ...], keep: bool = False, swapped: bool = False,
             conjugate: bool = False) -> tuple[object, int]:
        """A device copy of operand *x* (C order, broadcast to *shape*) to factor in place.

        *shape* is the copy's shape; with *swapped* the copy holds *x* with its last two axes
        swapped (and conjugated with *conjugate*), i.e. ``x`` itself read column-major.
        """
        pkg = self.package
        if self.staged:
            if swapped and self._swaps_on_device(x, dtype, shape):  # C-order bytes up, the swap on the GPU
                _, raw = self.work("raw " + name, x.shape, dtype)
                self.lib.to_device(raw, x.ctypes.data, x.nbytes, self.stream)
                work, ptr = self.work(name, shape, dtype)
                self.swap(raw, ptr, x.shape, dtype, conjugate)
                return work, ptr
            source = np.swapaxes(x, -1, -2) if swapped else x
            source = np.ascontiguousarray(np.broadcast_to(np.conj(source) if conjugate else source, shape))
            work, ptr = self.work(name, shape, dtype)
            self.lib.to_device(ptr, source.ctypes.data, source.nbytes, self.stream)
            return work, ptr
        if not (swapped or conjugate) and x.shape == shape and pkg.holds_plainly(x, dtype):
            work, ptr = self.work(name, shape, dtype, keep)  # a byte copy: less host time than a copy kernel
            self.lib.copy_async(ptr, pkg.ptr(x), dtype.itemsize * math.prod(shape), self.stream)
            return work, ptr
        with pkg.on_stream(self.stream, self.home):  # one (strided, broadcasting) copy kernel
            source = pkg.swap(x, conjugate) if swapped else (x.conj() if conjugate else x)
            if not keep:
                fresh = pkg.copy(source if tuple(source.shape) == shape else pkg.broadcast(source, shape))
                return fresh, pkg.ptr(fresh)
            work, ptr = self.work(name, shape, dtype, keep)
            pkg.copy_into(work, source)
        return work, ptr

    def _swaps_on_device(self, x, dtype, shape: tuple[int, ...]) -> bool:
        """Whether the swapped copy of host operand *x* is made on the device: *x* is C-ordered,
        not broadcast, at least :data:`DEVICE_SWAP_BYTES` large (below, NumPy's copy costs less
        than a launch), not already column-major, and gpmath's kernels load.  The plan then holds
        a second buffer of *x*'s size, the upload's."""
        return (isinstance(x, np.ndarray) and x.dtype == dtype.numpy and x.nbytes >= DEVICE_SWAP_BYTES
                and x.flags.c_contiguous and not x.flags.f_contiguous and x.shape[:-2] + x.shape[:-3:-1] == shape
                and self.lib.compiler_available())

    def swap(self, src: int, dst: int, shape: tuple[int, ...], dtype, conjugate: bool, order: int = 0) -> None:
        """Write at *dst* the matrices of *shape* at *src* (C order) with their last two axes
        swapped (and conjugated), by ``kernels/swap.cu`` on the plan's stream; with *order* (the
        address of ``shape[-2]`` int32 row numbers), row ``r`` of each source matrix read from its
        row ``order[r]``."""
        rows, cols, count = shape[-2], shape[-1], math.prod(shape[:-2])
        key = (shape, dtype.name, bool(conjugate), order)  # not the addresses: a result's changes every call
        launch = self._swaps.get(key)
        if launch is None:
            tiles = -(-rows // _TILE) * -(-cols // _TILE) * count
            kernel = self.lib.kernel(SWAP_PATH, "swap_last_two", GPM_REAL=np.finfo(dtype.numpy).dtype.itemsize,
                                     GPM_COMPLEX=int(dtype.is_complex))
            launch = self._swaps[key] = self.lib.launch(kernel, self.device_id, 7, grid=min(tiles, _MOST_BLOCKS),
                                                        block=_TILE * 8)
            for index, value in enumerate((rows, cols, count, int(conjugate), order), start=2):
                launch.set(index, value)
        launch.set(0, src)
        launch.set(1, dst)
        launch(self.stream)

    def ones(self, n: int, dtype) -> int:
        """A plan buffer of *n* ones of *dtype*, written now (at plan time, outside any graph
        capture); its address."""
        host = np.ones(n, dtype.numpy)
        ptr = self.buffer(max(host.nbytes, 1))
        self.lib.copy_async(ptr, host.ctypes.data, host.nbytes, self.stream)
        self.lib.synchronize(self.stream)  # (host is a temporary)
        return ptr

    def identity(self, name: str, shape: tuple[int, ...], dtype, ones: int) -> tuple[object, int]:
        """A work array *name* of *shape* (``(..., n, n)``) holding identity matrices, written on
        the device from the buffer of :meth:`ones` at *ones* (:meth:`SolverLibraries.identity`),
        and its address."""
        work, ptr = self.work(name, shape, dtype)
        self.lib.identity(ptr, shape[-1], math.prod(shape[:-2]), dtype.itemsize, ones, self.stream)
        return work, ptr

    def pointers(self, base: int, step: int, count: int) -> int:
        """A device array of *count* pointers ``base + i * step`` (rebuilt only when *base* moves)."""
        cache = self._pointer_arrays
        key = (base, step, count)
        entry = cache.get(key)
        if entry is None:  # a new base: reuse an array of this size unused in this execution (stream order)
            spare = [k for k, e in cache.items() if k[1:] == key[1:] and e[2] != self.executions]
            device = cache.pop(spare[0])[0] if len(spare) >= 3 else self.buffer(8 * count)
            host = np.arange(count, dtype=np.uint64) * np.uint64(step) + np.uint64(base)
            entry = cache[key] = [device, host, 0]
            self.lib.copy_async(device, host.ctypes.data, 8 * count, self.stream)
        entry[2] = self.executions
        return entry[0]

    def deliver(self, work):
        """The caller's array for a work array (host arrays are copied back; one stream sync)."""
        if not self.staged:
            return work
        shape, dtype, ptr = work
        host = self.lib.host_empty(shape, dtype.numpy)
        self.lib.to_host(host.ctypes.data, ptr, host.nbytes, self.stream)
        return host
