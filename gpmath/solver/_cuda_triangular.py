"""``op(A) x = b`` for triangular A: cuBLAS ``<t>trsm`` (one matrix) or ``<t>trsmBatched`` (:class:`Trsm`).

Read column-major, a C-order A is ``Aᵀ`` (the fill mode flips), so ``A x = b`` is trsm's ``"T"``
on A's own memory and ``Aᵀ x = b`` its ``"N"``; ``Aᴴ x = b`` is ``"N"`` on a conjugated copy
(whose memory read column-major is ``Aᴴ``).  A is used where it lies when it is C-contiguous
with b's batch shape, or one matrix for every b.  b is loaded column-major (a transposing
copy, none for one column) and solved in place from the left: at n = 4096 with one right-hand
side, trsm from the left took 0.26 ms on an H100 and the transposed system solved from the right
1.56 ms.  The result is that work array read back as ``(..., N, K)``: a view, column-major per
matrix, as LAPACK's and torch's results are.  A batch of matrices is one ``trsmBatched``: on an
H100 it beat one trsm per matrix at every order measured, 32 to 4096 (2.9 against 4.7 ms for
4 x 4096 x 4096 with 64 right-hand sides, where torch takes 4.6), see bench/RESULTS.md.  One A for
a batch of b is one trsm on all their columns, with no pointer arrays.

With ``unit_diagonal=False``, gpmath's kernel ``kernels/zero_diagonal.cu`` writes ``trtrs``'s
``info`` (the first exactly zero diagonal entry) in one launch (:class:`ZeroDiagonalKernel`);
without NVRTC, or for host operands, array operations of the package do (several launches,
:class:`ZeroDiagonalOps`).
"""

from __future__ import annotations

import os

import numpy as np

from . import _problem as P
from ._cuda import CudaEngine
from ._device import LETTER
from ._ops import first_zero_diagonal
from ._plans import SolveTriangular
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaSolveTriangular", "Trsm", "ZeroDiagonalKernel", "ZeroDiagonalOps", "KERNEL_PATH"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "zero_diagonal.cu")


class ZeroDiagonalKernel:
    """``trtrs``'s ``info`` of every matrix, written into the plan's by gpmath's kernel (one launch)."""

    def __init__(self, problem: Problem, ws: Workspace):
        p, lib = problem, ws.lib
        self.ws = ws
        real = 4 if p.dtype.name in ("float32", "complex64") else 8
        kernel = lib.kernel(KERNEL_PATH, "zero_diagonal", GPM_REAL=real, GPM_COMPLEX=int(p.dtype.is_complex))
        threads = 32 * min(-(-p.n // 32), 32)  # a warp for every 32 diagonal entries, up to 1024
        launch = self._launch = lib.launch(kernel, ws.device_id, 4, grid=max(p.batch_count, 1), block=max(threads, 32))
        launch.set(2, p.n)
        launch.set(3, ws.info)

    def write_info(self, a, a_ptr: int, a_step: int) -> None:
        """For the matrices at *a_ptr*, *a_step* elements apart (0: one matrix for all)."""
        self._launch.set(0, a_ptr)
        self._launch.set(1, a_step)
        self._launch(self.ws.stream)


class ZeroDiagonalOps:
    """``trtrs``'s ``info`` of every matrix, written into the plan's by the package's array operations."""

    def __init__(self, problem: Problem, ws: Workspace):
        self.problem, self.ws = problem, ws

    def write_info(self, a, a_ptr: int, a_step: int) -> None:
        """For the operand *a* (stream-ordered)."""
        p, ws = self.problem, self.ws
        pkg = ws.package
        if ws.staged:
            ws.info_host.reshape(p.batch_shape)[...] = np.broadcast_to(first_zero_diagonal(pkg, a), p.batch_shape)
            return
        with pkg.on_stream(ws.stream, ws.home):
            info = first_zero_diagonal(pkg, a)
            if tuple(info.shape) != p.batch_shape:
                info = pkg.copy(pkg.broadcast(info, p.batch_shape))
            ws.lib.copy_async(ws.info, pkg.ptr(info), 4 * max(p.batch_count, 1), ws.stream)


class Trsm:
    """``op(A) x = b`` (*trans* 0, 1, 2) for the *lower* or upper triangle, its diagonal read unless
    *unit_diagonal*; with a zero-diagonal check unless *unit_diagonal*."""

    def __init__(self, problem: Problem, ws: Workspace, trans: int, lower: bool, unit_diagonal: bool):
        p, lib = problem, ws.lib
        blas = lib.cublas
        self.problem, self.ws = problem, ws
        self._blas = lib.blas_handle(ws.device_id)
        self._one = np.ones(1, dtype=p.dtype.numpy)  # alpha, a host scalar of the matrix type
        self._conjugate = trans == 2 and p.dtype.is_complex
        self._mode = (blas.SideMode.LEFT, blas.FillMode.UPPER if lower else blas.FillMode.LOWER,
                      blas.Operation.T if trans == 0 else blas.Operation.N,
                      blas.DiagType.UNIT if unit_diagonal else blas.DiagType.NON_UNIT)
        self._zero_check: ZeroDiagonalKernel | ZeroDiagonalOps | None = None
        if not unit_diagonal and p.n and p.batch_count:
            serves = not ws.staged and lib.compiler_available()
            self._zero_check = (ZeroDiagonalKernel if serves else ZeroDiagonalOps)(p, ws)

    def _matrices(self, a) -> tuple[int, int]:
        """The address of the matrices trsm reads and the step between them, in elements (0: one
        matrix for every b)."""
        p, ws = self.problem, self.ws
        pkg = ws.package
        if not (ws.staged or self._conjugate) and pkg.holds_plainly(a, p.dtype):
            if a.ndim == 2:
                return pkg.ptr(a), 0
            if tuple(a.shape[:-2]) == p.batch_shape:
                return pkg.ptr(a), p.n * p.n
        shape = p.batch_shape + (p.n, p.n)
        return ws.load("a", a, p.dtype, shape, keep=True, conjugate=self._conjugate)[1], p.n * p.n

    def run(self, arrays):
        p, ws, rhs = self.problem, self.ws, self.problem.rhs
        a, b = arrays["a"], arrays["b"]
        a_ptr, a_step = self._matrices(a)
        count, n, k = max(p.batch_count, 1), p.n, rhs.nrhs
        if self._zero_check is not None:
            self._zero_check.write_info(a, a_ptr, a_step)
        if rhs.vector:  # (..., N): every vector is an N x 1 column-major matrix already
            x, x_ptr = ws.load("b", b, p.dtype, rhs.out_shape)
        else:  # (..., N, K) column-major: a C-order (..., K, N) copy
            x, x_ptr = ws.load("b", b, p.dtype, rhs.batch_shape + (k, n), swapped=True)
        if n and k and p.batch_count:
            lib = ws.lib
            t, one, item = LETTER[p.dtype.name], self._one.ctypes.data, p.dtype.itemsize
            lib.bind_stream(self._blas, ws.stream, lib.cublas.set_stream)
            if a_step and count > 1:  # a matrix of its own for every b: one batched call
                lib.cublas.trsm_batched(t, self._blas, *self._mode, n, k, one, ws.pointers(a_ptr, a_step * item, count),
                                        n, ws.pointers(x_ptr, n * k * item, count), n, count)
            else:  # one A: the b's side by side are one N x (count K) column-major matrix, one call
                lib.cublas.trsm(t, self._blas, *self._mode, n, count * k, one, a_ptr, n, x_ptr, n)
        x = ws.deliver(x)
        return x if rhs.vector else ws.package.swap(x)


class CudaSolveTriangular(CudaEngine, SolveTriangular):
    """:class:`~gpmath.solver.SolveTriangular` through ``<t>trsm`` or ``<t>trsmBatched`` (:class:`Trsm`)."""

    def _plan_route(self):
        return Trsm(self.problem, self.workspace, self.trans, self.lower, self.unit_diagonal)

    def _failure_message(self, index, info):
        return P.zero_diagonal("a", index, info)
