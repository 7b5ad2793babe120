"""General solves and Cholesky factors of small matrices (N <= 32) in one launch of gpmath's kernels.

cuBLAS's ``getrfBatched`` + ``getrsBatched`` take 2.4x as long as MAGMA's batched LU for
10 000 matrices of 32 x 32 (H100), and no NVIDIA library has a faster batched LU; so where the
``SOLVE`` crossover row says ``"kernel"`` and NVRTC is available, :class:`SmallSolve` (mixed into
the Solve engine) runs ``kernels/small_lu_solve.cu``: one warp factors a matrix with partial
pivoting in registers and solves every right-hand side, reading ``a`` and ``b`` where they lie
(any strides that step through the batch with one stride, broadcasting included) and writing
``x`` and ``info`` only.  Its pivots are LAPACK's, so results match getrf/getrs to rounding.
:class:`SmallCholesky` (the Cholesky engine, where the ``CHOLESKY`` row says ``"kernel"``) runs
``kernels/small_cholesky.cu`` alike: one warp a matrix, the named triangle read where it lies,
the factor (zeros in the other triangle) and ``info`` written.
"""

from __future__ import annotations

import functools
import os

from .._core import kernels
from .._core.kernels import Kernel, Launch
from .._core.shapes import broadcast_strides, compact_strides, fold_batches

__all__ = ["KernelOperands", "SmallCholesky", "SmallSolve", "KERNEL_PATH", "CHOLESKY_KERNEL_PATH", "serves"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "small_lu_solve.cu")
CHOLESKY_KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "small_cholesky.cu")
_TYPE = {"float32": 0, "float64": 1, "complex64": 2, "complex128": 3}
_PARAMETERS = 15  # a (4), b (4), x (4), info, count, nrhs
_A, _B, _X, _INFO, _COUNT, _NRHS = 0, 4, 8, 12, 13, 14
_CHOLESKY_PARAMETERS = 8  # a (4), f, info, count, lower
_F, _CHOLESKY_INFO, _CHOLESKY_COUNT, _LOWER = 4, 5, 6, 7
MAX_N = 32  # a matrix row a lane


def serves(n: int) -> bool:
    """Whether the one-warp kernels can take matrices of order *n* here (1 <= n <= 32, NVRTC)."""
    return 1 <= n <= MAX_N and kernels.compiler_available()


@functools.cache
def _kernel(n: int, dtype_name: str, path: str = KERNEL_PATH, function: str = "small_lu_solve") -> Kernel:
    return Kernel(path, function, {"GPM_N": n, "GPM_TYPE": _TYPE[dtype_name]})


def _warp_launch(kernel: Kernel, parameters: int, problem, device_id: int) -> Launch:
    """A launch of a one-warp-a-matrix kernel: ``WARPS`` matrices a block (small_values.cuh),
    each staged through its part of the shared memory."""
    itemsize = problem.dtype.itemsize
    warps = 2 if itemsize > 8 else 4
    return Launch(kernel.function(device_id), parameters, grid=max(1, -(-problem.batch_count // warps)),
                  block=32 * warps, shared=warps * problem.n * (problem.n + 1) * itemsize)


def _batch_stride(batch: tuple[int, ...], shape: tuple[int, ...], strides: tuple[int, ...]) -> int | None:
    """The one stride (elements) stepping through the flattened *batch* of an array whose batch
    dimensions have *shape* and *strides* (broadcast to *batch*), or None if there is none."""
    _, (inner,), outer, _ = fold_batches(batch, [broadcast_strides("a", shape, strides, batch)])
    return None if outer else inner


class KernelOperands:
    """What the engines' routes through gpmath's kernels share: operands read where they lie."""

    _resolved_copies: dict  # name -> the resolved copy of a lazy view that a launch reads

    @staticmethod
    def _place(launch: Launch, first: int, ptr: int, batch: int, row: int, col: int) -> None:
        """Set parameters *first* to *first* + 3 of *launch*: an operand's address and strides."""
        launch.set(first, ptr)
        launch.set(first + 1, batch)
        launch.set(first + 2, row)
        launch.set(first + 3, col)

    def _operand(self, name: str, x) -> tuple[int, int, int, int]:
        """``(address, batch, row, column strides)`` of operand *x*, a ``(..., rows, cols)`` array
        or a vector b ``(rows,)``: where it lies, else (host data, or batch dimensions no one
        stride steps through) a C-order copy."""
        pkg, dtype, batch = self.package, self.problem.dtype, self.problem.batch_shape
        shape = tuple(x.shape)
        if self.staged:
            _, ptr = self._load(name, x, dtype, shape, keep=True)
            strides = compact_strides(shape)
        else:
            if pkg.resolved(x) is not x:  # a lazily conjugated or negated view: its memory is not its values
                with pkg.on_stream(self.stream, self._home):
                    x = pkg.resolved(x)
                self._resolved_copies[name] = x  # alive until the next execution has launched
            ptr, strides = pkg.ptr(x), pkg.strides(x, dtype.itemsize)
        if len(shape) == 1:  # the same b for every matrix
            return ptr, 0, strides[0], 0
        step = _batch_stride(batch, shape[:-2], strides[:-2])
        if step is None:  # a C-order copy of the whole batch
            shape = batch + shape[-2:]
            _, ptr = self._load(f"{name}, broadcast", x, dtype, shape, keep=True)
            step, strides = shape[-2] * shape[-1], compact_strides(shape)
        return ptr, step, strides[-2], strides[-1]


class SmallSolve(KernelOperands):
    """The kernel route of the Solve engine (mixed in before :class:`~._cuda.CudaEngine`)."""

    def _plan_small(self, positive: bool = False) -> None:
        """LU with partial pivoting, or (*positive*: ``assume_a="pos"``) Cholesky of the named triangle."""
        p = self.problem
        kernel = (_kernel(p.n, p.dtype.name, CHOLESKY_KERNEL_PATH, "small_cholesky_solve") if positive
                  else _kernel(p.n, p.dtype.name))
        launch = self._small = _warp_launch(kernel, _PARAMETERS + positive, p, self.device_id)
        launch.set(_INFO, self._info)
        launch.set(_COUNT, p.batch_count)
        launch.set(_NRHS, p.rhs.nrhs)
        if positive:
            launch.set(_PARAMETERS, int(self.lower))  # the Cholesky solve's last parameter
        self._small_positive = positive

    def _run_small(self, arrays):
        p = self.problem
        n, rhs = p.n, p.rhs
        a = self._operand("a", arrays["a"])
        if self.transposed and not self._small_positive:  # (a positive definite a is its transpose)
            a = (a[0], a[1], a[3], a[2])
        self._place(self._small, _A, *a)
        self._place(self._small, _B, *self._operand("b", arrays["b"]))
        x, x_ptr = self._work("x", rhs.out_shape, p.dtype)
        self._place(self._small, _X, x_ptr, n * rhs.nrhs, 1 if rhs.vector else rhs.nrhs, 0 if rhs.vector else 1)
        self._small(self.stream)
        return self._deliver(x)


class SmallCholesky(KernelOperands):
    """The kernel route of the Cholesky engine (mixed in before :class:`~._cuda.CudaEngine`)."""

    def _plan_small_cholesky(self) -> None:
        p = self.problem
        kernel = _kernel(p.n, p.dtype.name, CHOLESKY_KERNEL_PATH, "small_cholesky")
        launch = self._small_cholesky = _warp_launch(kernel, _CHOLESKY_PARAMETERS, p, self.device_id)
        launch.set(_CHOLESKY_INFO, self._info)
        launch.set(_CHOLESKY_COUNT, p.batch_count)
        launch.set(_LOWER, int(self.lower))

    def _run_small_cholesky(self, arrays):
        """The factor in C order, transposed: ``Lᵀ`` (lower) or ``U`` (upper), zeros below."""
        p, launch = self.problem, self._small_cholesky
        self._place(launch, _A, *self._operand("a", arrays["a"]))
        factor, ptr = self._work("factor", p.batch_shape + (p.n, p.n), p.dtype)
        launch.set(_F, ptr)
        launch(self.stream)
        return self._deliver(factor)
