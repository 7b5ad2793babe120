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

import contextlib
import ctypes

import numpy as np

from .._bindings import cusolver as cs
from .._core import runtime
from .._core.errors import LinAlgError
from .._core.handles import get_handle
from .._core.memory import DeviceBuffer, copy_async
from .._core.streams import own_stream, resolve_stream, synchronize

__all__ = ["CudaEngine", "on_stream", "transpose", "triangle"]


def on_stream(package, stream: int, device_id: int | None):
    """A context making *stream* the package's current stream (array ops then run on it)."""
    if device_id is None or package.host_only or stream == package.current_stream(device_id):
        return contextlib.nullcontext()  # already current: no stream switch (and no external-stream wrapper)
    module = package.module
    if package.name == "torch":
        return module.cuda.stream(module.cuda.ExternalStream(stream, device=package.device(device_id)))
    return module.cuda.ExternalStream(stream, device_id)


def transpose(package, x, conjugate: bool = False):
    """A C-order copy of *x* with its last two axes swapped (and conjugated)."""
    y = x.transpose(-1, -2) if package.name == "torch" else x.swapaxes(-1, -2)
    if conjugate:
        y = y.conj()
    return package.contiguous(y.resolve_conj() if package.name == "torch" and conjugate else y)


def triangle(package, x, upper: bool):
    """*x* with the other triangle of each matrix set to zero."""
    return (package.module.triu if upper else package.module.tril)(x)


class CudaEngine:
    """The CUDA engine mixin: mixed in before a solver front (``class CudaCholesky(CudaEngine, Cholesky)``).

    Engines implement ``_plan_cuda()`` (workspace queries and allocations through
    :meth:`_buffer`) and ``_run(arrays)`` (the launches; returns the result).
    """

    _engine_kind = "cuda"

    def __init__(self, *operands, execution=None, stream=None, **options):
        super().__init__(*operands, execution=execution, stream=stream, **options)
        self.staged = self._home is None  # host operands computed on the GPU
        if self.staged and stream is None:
            self.stream = own_stream(self.device_id)
        else:
            self.stream = resolve_stream(stream, self.package, self.device_id)
        self.handle = 0
        self._planned = False
        self._staging: dict[str, int] = {}
        self._pointer_arrays: dict[tuple[int, int], list] = {}

    # -- planning --------------------------------------------------------------------------------
    def plan(self):
        """Create the cuSOLVER parameters, query and allocate the workspace; returns the plan."""
        self._check_alive()
        self._release_held()
        self.nbytes = 0
        self._staging.clear()
        self._pointer_arrays.clear()
        with runtime.on_device(self.device_id):
            self.handle = get_handle("cusolverDn", self.device_id, cs.create, cs.destroy)
            cs.set_stream(self.handle, self.stream)
            self.params = cs.create_params()
            self._hold(cs.destroy_params, self.params)
            self._info = self._buffer(4 * max(self.problem.batch_count, 1))
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
    def _work(self, name: str, shape: tuple[int, ...], dtype) -> tuple[object, int]:
        """A new result array *name* on the device, and its address (a plan buffer when staged)."""
        if self.staged:
            staging = self._staging
            if name not in staging:
                staging[name] = self._buffer(dtype.itemsize * int(np.prod(shape)))
            return (shape, dtype, staging[name]), staging[name]
        array = self.package.empty(shape, dtype, self.device_id, self.stream)
        return array, self.package.ptr(array)

    def _load(self, name: str, x, dtype, shape: tuple[int, ...]) -> tuple[object, int]:
        """A device copy of operand *x* (C order, broadcast to *shape*) to factor in place."""
        pkg = self.package
        source = np.broadcast_to(x, shape) if self.staged else x
        if tuple(source.shape) != shape:
            source = source.expand(*shape) if pkg.name == "torch" else pkg.module.broadcast_to(source, shape)
        source = np.ascontiguousarray(source) if self.staged else pkg.contiguous(source)
        work, ptr = self._work(name, shape, dtype)
        # a pageable host source may be freed once cudaMemcpyAsync returns (it is staged by then)
        copy_async(ptr, pkg.ptr(source), dtype.itemsize * int(np.prod(shape)), self.stream)
        return work, ptr

    def _pointers(self, base: int, step: int, count: int) -> int:
        """A device array of *count* pointers ``base + i * step`` (rebuilt only when *base* moves)."""
        cache = self._pointer_arrays
        key = (step, count)
        entry = cache.get(key)
        if entry is None:
            entry = cache[key] = [self._buffer(8 * count), None]
        if entry[1] != base:
            host = (ctypes.c_uint64 * count)(*(base + i * step for i in range(count)))
            copy_async(entry[0], ctypes.addressof(host), 8 * count, self.stream)
            entry[1] = base
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
            :class:`~gpmath._core.errors.LinAlgError` naming the matrix and its pivot or minor.
        """
        arrays = self._operands_or_raise()
        if not self._planned:
            self.plan()
        cs.set_stream(self.handle, self.stream)  # the handle is shared by this thread's plans
        if runtime.device_count() > 1:
            with runtime.on_device(self.device_id):
                result = self._run(arrays)
        else:
            result = self._run(arrays)
        if check:
            self.check()
        return result

    def info(self) -> np.ndarray:
        """cuSOLVER's per-matrix ``info`` of the last execution (syncs the plan's stream only)."""
        count = max(self.problem.batch_count, 1)
        host = (ctypes.c_int32 * count)()
        copy_async(ctypes.addressof(host), self._info, 4 * count, self.stream)
        synchronize(self.stream)
        return np.frombuffer(host, dtype=np.int32).reshape(self.problem.batch_shape).copy()

    def check(self) -> None:
        """Raise :class:`LinAlgError` for the first matrix whose ``info`` reports a failure."""
        info = self.info()
        failed = np.flatnonzero(info.reshape(-1) > 0)
        if failed.size:
            index = tuple(int(i) for i in np.unravel_index(failed[0], info.shape))
            raise LinAlgError(self._failure_message(index, int(info[index])))
        if (info < 0).any():
            raise LinAlgError(f"cuSOLVER rejected argument {-int(info.min())} of {type(self).__name__} (info < 0)")

    def _failure_message(self, index: tuple[int, ...], info: int) -> str:
        raise NotImplementedError
