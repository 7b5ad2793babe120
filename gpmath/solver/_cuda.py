"""What the solver planners' CUDA engines share: handles, workspaces, staging, ``info``, array ops.

cuSOLVER is column-major; gpmath's operands are C-order.  A C-order ``(N, N)`` buffer read
column-major is the transpose, which the engines use instead of copying: ``potrf``/``syevd`` on a
Hermitian ``A`` see ``conj(A)`` (flip ``uplo``), ``getrf``/``getrs`` solve ``Aᵀ`` systems with
``trans=T``, ``gesvd`` of ``Aᵀ`` returns ``Vh`` and ``U`` in C order.  Where a routine needs the
matrix itself (``lu_factor``, QR), the engine makes one transposed copy with the operand's package.

``info`` is written to a device buffer; it is read (a sync of the plan's stream only) when
``execute(check=True)`` or :meth:`CudaEngine.info` asks for it.
"""

from __future__ import annotations

import math

import numpy as np

from .._bindings import cusolver as cs
from .._core import runtime
from .._errors import LinAlgError
from .._core.handles import bind_stream, get_handle
from .._core.memory import DeviceBuffer, copy_async, mapped_empty
from .._core.streams import own_stream, resolve_stream, synchronize
from ._problem import check_index_range

__all__ = ["CudaEngine"]


class CudaEngine:
    """The CUDA engine mixin: mixed in before a solver front (``class CudaCholesky(CudaEngine, Cholesky)``).

    Engines implement ``_plan_cuda()`` (workspace queries and allocations through
    :meth:`_buffer`) and ``_run(arrays)`` (the launches; returns the result).
    """

    _engine_kind = "cuda"

    def __init__(self, *operands, execution=None, stream=None, **options):
        super().__init__(*operands, execution=execution, stream=stream, **options)
        self.staged = self.staging is not None  # host operands computed on the GPU
        if self.staged and stream is None:
            self.stream = own_stream(self.device_id)
        else:
            self.stream = resolve_stream(stream, self.package, self.device_id)
        self.handle = 0
        self._planned = False
        self._uploads: dict[str, int] = {}
        self._kept: dict[str, tuple[object, int]] = {}
        self._pointer_arrays: dict[tuple[int, int, int], list] = {}
        self._resolved_copies: dict[str, object] = {}
        self._device_query = self.package.device_query()
        self._executions = 0

    # -- planning --------------------------------------------------------------------------------
    def plan(self):
        """Create the cuSOLVER parameters, query and allocate the workspace; returns the plan."""
        self._check_alive()
        check_index_range(self.problem, type(self).__name__)
        self._release_held()
        self.nbytes = 0
        self._uploads.clear()
        self._kept.clear()
        self._pointer_arrays.clear()
        with runtime.on_device(self.device_id):
            self.handle = get_handle("cusolverDn", self.device_id, cs.create, cs.destroy)
            bind_stream(self.handle, self.stream, cs.set_stream)
            self.params = cs.create_params()
            self._hold(cs.destroy_params, self.params)
            count = max(self.problem.batch_count, 1)
            # the libraries write info into host memory directly: reading it is a sync, no copy
            self._info_host, self._info = mapped_empty((count,), np.int32)
            self._info_host[:] = 0  # routines that report nothing leave the zeros
            self._plan_cuda()
        self._planned = True
        return self

    def _buffer(self, nbytes: int) -> int:
        """Device memory held by the plan (stream-ordered); returns its address."""
        buffer = DeviceBuffer(nbytes, self.stream, self.device_id)
        self._hold(buffer.release)
        self.nbytes += nbytes
        return buffer.ptr

    def _plan_cuda(self) -> None:
        raise NotImplementedError

    # -- operands and results --------------------------------------------------------------------
    def _work(self, name: str, shape: tuple[int, ...], dtype, keep: bool = False) -> tuple[object, int]:
        """A result or scratch array *name* on the device, and its address.

        A new package array each call, or with *keep* one allocated once and reused by every
        execution (scratch that is never returned: its address, and so its pointer arrays, stay
        fixed).  Host operands use plan buffers (``(shape, dtype, address)``) either way.
        """
        if self.staged:
            staging = self._uploads
            if name not in staging:
                staging[name] = self._buffer(dtype.itemsize * int(np.prod(shape)))
            return (shape, dtype, staging[name]), staging[name]
        if keep:
            kept = self._kept.get(name)
            if kept is None:
                array = self.package.empty(shape, dtype, self.device_id, self.stream)
                kept = self._kept[name] = (array, self.package.ptr(array))
            return kept
        array = self.package.empty(shape, dtype, self.device_id, self.stream)
        return array, self.package.ptr(array)

    def _load(self, name: str, x, dtype, shape: tuple[int, ...], keep: bool = False, swapped: bool = False,
              conjugate: bool = False) -> tuple[object, int]:
        """A device copy of operand *x* (C order, broadcast to *shape*) to factor in place.

        *shape* is the copy's shape; with *swapped* the copy holds *x* with its last two axes
        swapped (and conjugated with *conjugate*), i.e. ``x`` itself read column-major.
        """
        pkg = self.package
        if self.staged:
            source = np.swapaxes(x, -1, -2) if swapped else x
            source = np.ascontiguousarray(np.broadcast_to(np.conj(source) if conjugate else source, shape))
            work, ptr = self._work(name, shape, dtype)
            copy_async(ptr, source.ctypes.data, source.nbytes, self.stream)  # pageable: staged before it returns
            return work, ptr
        if not (swapped or conjugate) and x.shape == shape and pkg.holds_plainly(x, dtype):
            work, ptr = self._work(name, shape, dtype, keep)  # a byte copy: less host time than a copy kernel
            copy_async(ptr, pkg.ptr(x), dtype.itemsize * math.prod(shape), self.stream)
            return work, ptr
        with pkg.on_stream(self.stream, self._home):  # one (strided, broadcasting) copy kernel
            source = pkg.swap(x, conjugate) if swapped else (x.conj() if conjugate else x)
            if not keep:
                fresh = pkg.copy(source if tuple(source.shape) == shape else pkg.broadcast(source, shape))
                return fresh, pkg.ptr(fresh)
            work, ptr = self._work(name, shape, dtype, keep)
            pkg.copy_into(work, source)
        return work, ptr

    def _pointers(self, base: int, step: int, count: int) -> int:
        """A device array of *count* pointers ``base + i * step`` (rebuilt only when *base* moves)."""
        cache = self._pointer_arrays
        key = (base, step, count)
        entry = cache.get(key)
        if entry is None:  # a new base: reuse an array of this size unused in this execution (stream order)
            spare = [k for k, e in cache.items() if k[1:] == key[1:] and e[2] != self._executions]
            device = cache.pop(spare[0])[0] if len(spare) >= 3 else self._buffer(8 * count)
            host = np.arange(count, dtype=np.uint64) * np.uint64(step) + np.uint64(base)
            entry = cache[key] = [device, host, 0]
            copy_async(device, host.ctypes.data, 8 * count, self.stream)
        entry[2] = self._executions
        return entry[0]

    def _deliver(self, work):
        """The caller's array for a work array (host arrays are copied back; one stream sync)."""
        if not self.staged:
            return work
        shape, dtype, ptr = work
        host = np.empty(shape, dtype=dtype.numpy)
        copy_async(host.ctypes.data, ptr, host.nbytes, self.stream)
        synchronize(self.stream)
        return host

    # -- execution -------------------------------------------------------------------------------
    def execute(self, *, check: bool = False):
        """Run on the GPU and return new arrays in the operands' package.

        Parameters
        ----------
        check : bool, default False
            Read ``info`` (a sync of the plan's stream only) and raise
            :class:`~gpmath._errors.LinAlgError` naming the matrix and its pivot or minor.
        """
        arrays = self._operands_or_raise()
        if not self._planned:
            self.plan()
        bind_stream(self.handle, self.stream, cs.set_stream)  # the handle is shared by this thread's plans
        self._executions += 1
        result = runtime.call_on_device(self.device_id, self._device_query, self._run, arrays)
        if check:
            self.check()
        return result if self.staging is None else self.staging.outward(result)

    def _capturing(self) -> bool:
        """Whether the plan's stream is capturing a CUDA graph now (one runtime call)."""
        return runtime.capturing(self.stream)

    def _read_info(self) -> np.ndarray:
        """``info``, written by the libraries into the plan's host array (after a sync of the plan's
        stream only)."""
        with self._on_own_device():  # a default-stream handle (0) means the current device's
            synchronize(self.stream)
        return self._info_host

    def _info_values(self) -> np.ndarray:
        """cuSOLVER's per-matrix ``info`` of the last execution (syncs the plan's stream only)."""
        return self._read_info().reshape(self.problem.batch_shape).copy()

    def check(self) -> None:
        """Raise :class:`LinAlgError` for the first matrix whose ``info`` reports a failure."""
        if not self._read_info().any():  # the common case: one memcpy, one sync, one scan
            return
        info = self._info_values()
        failed = np.flatnonzero(info.reshape(-1) > 0)
        if failed.size:
            index = tuple(int(i) for i in np.unravel_index(failed[0], info.shape))
            raise LinAlgError(self._failure_message(index, int(info[index])))
        raise LinAlgError(f"cuSOLVER rejected argument {-int(info.min())} of {type(self).__name__} (info < 0)")

    def _failure_message(self, index: tuple[int, ...], info: int) -> str:
        raise NotImplementedError
