"""General solves and Cholesky factors of small matrices (N <= 32) in one launch of gpmath's kernels.

cuBLAS's ``getrfBatched`` + ``getrsBatched`` take 2.4x as long as MAGMA's batched LU for
10 000 matrices of 32 x 32 (H100), and no NVIDIA library has a faster batched LU; so where the
``SOLVE`` crossover row says ``"kernel"`` and NVRTC is available, the Solve engine's route
:class:`SmallKernelSolve` runs ``kernels/small_lu_solve.cu``: one warp factors a matrix with partial
pivoting in registers and solves every right-hand side, reading ``a`` and ``b`` where they lie
(any strides that step through the batch with one stride, broadcasting included) and writing
``x`` and ``info`` only.  Its pivots are LAPACK's, so results match getrf/getrs to rounding.
:class:`SmallKernelCholesky` (the Cholesky engine's route where the ``CHOLESKY`` row says ``"kernel"``) runs
``kernels/small_cholesky.cu`` alike: one warp a matrix, the named triangle read where it lies,
the factor (zeros in the other triangle) and ``info`` written.  With ``check_finite`` both
kernels test every element they read for infs and NaNs and report them in ``info``
(:data:`~._cuda.NONFINITE`; ``tests_finite``): a plan's check costs no reduction or sync of its own.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import numpy as np

from .._core.shapes import broadcast_strides, compact_strides, fold_batches
from .._core.staging import deliver
from ._condition import hermitian_one_norms, one_norms
from ._cuda import NONFINITE
from ._cuda_condition import ConditionEstimate
from ._device import SolverLibraries
from ._problem import Problem
from ._workspace import Workspace

if TYPE_CHECKING:
    from .._core.kernels import Launch

__all__ = ["SmallKernelCholesky", "SmallKernelSolve", "kernel_operand", "place", "KERNEL_PATH",
           "CHOLESKY_KERNEL_PATH", "serves"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "small_lu_solve.cu")
CHOLESKY_KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "small_cholesky.cu")
_TYPE = {"float32": 0, "float64": 1, "complex64": 2, "complex128": 3}
_PARAMETERS = 16  # a (4), b (4), x (4), info, nonfinite, count, nrhs
_A, _B, _X, _INFO, _NONFINITE, _COUNT, _NRHS = 0, 4, 8, 12, 13, 14, 15
_CHOLESKY_PARAMETERS = 9  # a (4), f, info, nonfinite, count, lower
_F, _CHOLESKY_INFO, _CHOLESKY_NONFINITE, _CHOLESKY_COUNT, _LOWER = 4, 5, 6, 7, 8
MAX_N = 32  # a matrix row a lane


def serves(n: int, lib: SolverLibraries) -> bool:
    """Whether the one-warp kernels can take matrices of order *n* here (1 <= n <= 32, NVRTC)."""
    return 1 <= n <= MAX_N and lib.compiler_available()


def _warp_launch(ws: Workspace, path: str, function: str, parameters: int, problem: Problem) -> Launch:
    """A launch of a one-warp-a-matrix kernel: ``WARPS`` matrices a block (small_values.cuh),
    each staged through its part of the shared memory."""
    kernel = ws.lib.kernel(path, function, GPM_N=problem.n, GPM_TYPE=_TYPE[problem.dtype.name])
    itemsize = problem.dtype.itemsize
    warps = 2 if itemsize > 8 else 4
    return ws.lib.launch(kernel, ws.device_id, parameters, grid=max(1, -(-problem.batch_count // warps)),
                         block=32 * warps, shared=warps * problem.n * (problem.n + 1) * itemsize)


@functools.lru_cache(maxsize=256)
def _batch_stride(batch: tuple[int, ...], shape: tuple[int, ...], strides: tuple[int, ...]) -> int | None:
    """The one stride (elements) stepping through the flattened *batch* of an array whose batch
    dimensions have *shape* and *strides* (broadcast to *batch*), or None if there is none
    (remembered: every execution of a plan asks it of each operand, with the same layouts)."""
    _, (inner,), outer, _ = fold_batches(batch, [broadcast_strides("a", shape, strides, batch)])
    return None if outer else inner


def place(launch: Launch, first: int, ptr: int, batch: int, row: int, col: int) -> None:
    """Set parameters *first* to *first* + 3 of *launch*: an operand's address and strides."""
    launch.set(first, ptr)
    launch.set(first + 1, batch)
    launch.set(first + 2, row)
    launch.set(first + 3, col)


def kernel_operand(ws: Workspace, problem: Problem, name: str, x) -> tuple[int, int, int, int]:
    """``(address, batch, row, column strides)`` of operand *x* for gpmath's kernels, a
    ``(..., rows, cols)`` array or a vector b ``(rows,)``: where it lies, else (host data, or
    batch dimensions no one stride steps through) a C-order copy."""
    pkg, dtype, batch = ws.package, problem.dtype, problem.batch_shape
    shape = tuple(x.shape)
    if ws.staged:
        _, ptr = ws.load(name, x, dtype, shape, keep=True)
        strides = compact_strides(shape)
    else:
        if pkg.resolved(x) is not x:  # a lazily conjugated or negated view: its memory is not its values
            with pkg.on_stream(ws.stream, ws.home):
                x = pkg.resolved(x)
            ws.resolved_copies[name] = x  # alive until the next execution has launched
        ptr, strides = pkg.ptr(x), pkg.strides(x, dtype.itemsize)
    if len(shape) == 1:  # the same b for every matrix
        return ptr, 0, strides[0], 0
    step = _batch_stride(batch, shape[:-2], strides[:-2])
    if step is None:  # a C-order copy of the whole batch
        shape = batch + shape[-2:]
        _, ptr = ws.load(f"{name}, broadcast", x, dtype, shape, keep=True)
        step, strides = shape[-2] * shape[-1], compact_strides(shape)
    return ptr, step, strides[-2], strides[-1]


class SmallKernelSolve:
    """``A x = b`` in one launch: LU with partial pivoting or (*positive*: ``assume_a="pos"``)
    Cholesky of the *lower* or upper triangle; *transposed* solves ``Aᵀ x = b``.  With
    *condition*, a second launch solves for the identity, which gives ``‖A⁻¹‖₁`` exactly (the
    kernel keeps no factors to estimate it from).  With *check_finite*, a matrix whose ``a`` (else
    ``b``) holds an inf or a NaN reports ``NONFINITE`` (``NONFINITE - 1``) in ``info``."""

    tests_finite = True

    def __init__(self, problem: Problem, ws: Workspace, positive: bool, lower: bool, transposed: bool,
                 condition: bool = False, check_finite: bool = False):
        p = problem
        self.problem, self.ws = problem, ws
        self._positive, self._lower = positive, lower
        self._swap_strides = transposed and not positive  # (a positive definite a is its transpose)
        self.condition = ConditionEstimate(problem, ws) if condition else None
        if condition:
            eye = np.eye(p.n, dtype=p.dtype.numpy)
            self._eye = eye if ws.staged else deliver(ws.package, eye, ws.home)
            self._estimate_info = ws.buffer(4 * max(p.batch_count, 1))  # (the solve's own info stands)
        path, function = (CHOLESKY_KERNEL_PATH, "small_cholesky_solve") if positive else (KERNEL_PATH, "small_lu_solve")
        launch = self._launch = _warp_launch(ws, path, function, _PARAMETERS + positive, p)
        launch.set(_INFO, ws.info)
        launch.set(_NONFINITE, NONFINITE if check_finite else 0)
        launch.set(_COUNT, p.batch_count)
        launch.set(_NRHS, p.rhs.nrhs)
        if positive:
            launch.set(_PARAMETERS, int(lower))  # the Cholesky solve's last parameter

    def run(self, arrays):
        p, ws, launch = self.problem, self.ws, self._launch
        n, rhs = p.n, p.rhs
        a = kernel_operand(ws, p, "a", arrays["a"])
        if self._swap_strides:
            a = (a[0], a[1], a[3], a[2])
        place(launch, _A, *a)
        place(launch, _B, *kernel_operand(ws, p, "b", arrays["b"]))
        x, x_ptr = ws.work("x", rhs.out_shape, p.dtype)
        place(launch, _X, x_ptr, n * rhs.nrhs, 1 if rhs.vector else rhs.nrhs, 0 if rhs.vector else 1)
        launch(ws.stream)
        if self.condition is not None:
            self._estimate(arrays["a"])
        return ws.deliver(x)

    def _estimate(self, a) -> None:
        """rcond from ``X`` solving ``op(A) X = I`` (the launch's a already placed): ``X = A⁻¹``,
        or ``A⁻ᵀ`` with swapped strides, whose largest row sum is ``‖A⁻¹‖₁``."""
        p, ws, launch, n = self.problem, self.ws, self._launch, self.problem.n
        pkg = ws.package
        place(launch, _B, *kernel_operand(ws, p, "identity", self._eye))
        inverse, ptr = ws.work("inverse", p.batch_shape + (n, n), p.dtype, keep=True)
        place(launch, _X, ptr, n * n, n, 1)
        launch.set(_NRHS, n)
        launch.set(_INFO, self._estimate_info)
        try:
            launch(ws.stream)
        finally:  # (the solve's own launch reports into ws.info, whatever happened here)
            launch.set(_NRHS, p.rhs.nrhs)
            launch.set(_INFO, ws.info)
        inverse = ws.deliver(inverse)
        with pkg.on_stream(ws.stream, ws.home):
            norms = hermitian_one_norms(pkg, a, self._lower) if self._positive else one_norms(pkg, a)
            self.condition.publish(norms, one_norms(pkg, inverse, transposed=self._swap_strides))


class SmallKernelCholesky:
    """The Cholesky factor in one launch, of the *lower* or upper triangle read where it lies; with
    *check_finite*, ``NONFINITE`` in ``info`` for a matrix holding an inf or a NaN (in either triangle)."""

    tests_finite = True

    def __init__(self, problem: Problem, ws: Workspace, lower: bool, check_finite: bool = False):
        p = problem
        self.problem, self.ws = problem, ws
        launch = self._launch = _warp_launch(ws, CHOLESKY_KERNEL_PATH, "small_cholesky", _CHOLESKY_PARAMETERS, p)
        launch.set(_CHOLESKY_INFO, ws.info)
        launch.set(_CHOLESKY_NONFINITE, NONFINITE if check_finite else 0)
        launch.set(_CHOLESKY_COUNT, p.batch_count)
        launch.set(_LOWER, int(lower))

    def run(self, arrays):
        """The factor in C order, transposed: ``Lᵀ`` (lower) or ``U`` (upper), zeros below."""
        p, ws, launch = self.problem, self.ws, self._launch
        place(launch, _A, *kernel_operand(ws, p, "a", arrays["a"]))
        factor, ptr = ws.work("factor", p.batch_shape + (p.n, p.n), p.dtype)
        launch.set(_F, ptr)
        launch(ws.stream)
        return ws.deliver(factor)
