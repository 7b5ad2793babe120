"""``op(A) x = b`` for triangular A: cuBLAS ``<t>trsm`` (one matrix) or ``<t>trsmBatched``.

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
``info`` (the first exactly zero diagonal entry) in one launch; without NVRTC, array operations
of the package do (several launches).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .._bindings import cublas
from .._core import kernels
from .._core.handles import bind_stream, get_handle
from .._core.kernels import Kernel, Launch
from .._core.memory import copy_async
from . import _problem as P
from ._cuda import CudaEngine
from ._cuda_lu import LETTER
from ._ops import first_zero_diagonal
from ._plans import SolveTriangular

__all__ = ["CudaSolveTriangular", "KERNEL_PATH"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "zero_diagonal.cu")


@functools.cache
def _kernel(dtype_name: str) -> Kernel:
    real = 4 if dtype_name in ("float32", "complex64") else 8
    complex_ = int(dtype_name.startswith("complex"))
    return Kernel(KERNEL_PATH, "zero_diagonal", {"GPM_REAL": real, "GPM_COMPLEX": complex_})


class CudaSolveTriangular(CudaEngine, SolveTriangular):
    """:class:`~gpmath.solver.SolveTriangular` through ``<t>trsm`` or ``<t>trsmBatched``."""

    def _plan_cuda(self):
        p = self.problem
        self._blas = get_handle("cublas", self.device_id, cublas.create, cublas.destroy)
        self._one = np.ones(1, dtype=p.dtype.numpy)  # alpha, a host scalar of the matrix type
        self._conjugate = self.trans == 2 and p.dtype.is_complex
        self._mode = (cublas.SideMode.LEFT, cublas.FillMode.UPPER if self.lower else cublas.FillMode.LOWER,
                      cublas.Operation.T if self.trans == 0 else cublas.Operation.N,
                      cublas.DiagType.UNIT if self.unit_diagonal else cublas.DiagType.NON_UNIT)
        self._zero_check = None
        if not (self.unit_diagonal or self.staged) and kernels.compiler_available():
            threads = 32 * min(-(-p.n // 32), 32)  # a warp for every 32 diagonal entries, up to 1024
            self._zero_check = Launch(_kernel(p.dtype.name).function(self.device_id), 4, grid=max(p.batch_count, 1),
                                      block=max(threads, 32))
            self._zero_check.set(2, p.n)
            self._zero_check.set(3, self._info)

    def _matrices(self, a) -> tuple[int, int]:
        """The address of the matrices trsm reads and the step between them, in elements (0: one
        matrix for every b)."""
        p, pkg = self.problem, self.package
        if not (self.staged or self._conjugate) and pkg.holds_plainly(a, p.dtype):
            if a.ndim == 2:
                return pkg.ptr(a), 0
            if tuple(a.shape[:-2]) == p.batch_shape:
                return pkg.ptr(a), p.n * p.n
        shape = p.batch_shape + (p.n, p.n)
        return self._load("a", a, p.dtype, shape, keep=True, conjugate=self._conjugate)[1], p.n * p.n

    def _run(self, arrays):
        p, rhs = self.problem, self.problem.rhs
        a, b = arrays["a"], arrays["b"]
        a_ptr, a_step = self._matrices(a)
        count, n, k = max(p.batch_count, 1), p.n, rhs.nrhs
        if n and p.batch_count and not self.unit_diagonal:
            self._find_zero_diagonals(a, a_ptr, a_step)
        if rhs.vector:  # (..., N): every vector is an N x 1 column-major matrix already
            x, x_ptr = self._load("b", b, p.dtype, rhs.out_shape)
        else:  # (..., N, K) column-major: a C-order (..., K, N) copy
            x, x_ptr = self._load("b", b, p.dtype, rhs.batch_shape + (k, n), swapped=True)
        if n and k and p.batch_count:
            t, one, item = LETTER[p.dtype.name], self._one.ctypes.data, p.dtype.itemsize
            bind_stream(self._blas, self.stream, cublas.set_stream)
            if a_step and count > 1:  # a matrix of its own for every b: one batched call
                cublas.trsm_batched(t, self._blas, *self._mode, n, k, one, self._pointers(a_ptr, a_step * item, count),
                                    n, self._pointers(x_ptr, n * k * item, count), n, count)
            else:  # one A: the b's side by side are one N x (count K) column-major matrix, one call
                cublas.trsm(t, self._blas, *self._mode, n, count * k, one, a_ptr, n, x_ptr, n)
        x = self._deliver(x)
        return x if rhs.vector else self.package.swap(x)

    def _find_zero_diagonals(self, a, a_ptr: int, a_step: int) -> None:
        """Write ``trtrs``'s ``info`` of every matrix into the plan's info array (stream-ordered)."""
        p, pkg = self.problem, self.package
        if self._zero_check is not None:
            self._zero_check.set(0, a_ptr)
            self._zero_check.set(1, a_step)
            self._zero_check(self.stream)
        elif self.staged:
            self._info_host.reshape(p.batch_shape)[...] = np.broadcast_to(first_zero_diagonal(pkg, a), p.batch_shape)
        else:
            with pkg.on_stream(self.stream, self._home):
                info = first_zero_diagonal(pkg, a)
                if tuple(info.shape) != p.batch_shape:
                    info = pkg.copy(pkg.broadcast(info, p.batch_shape))
                copy_async(self._info, pkg.ptr(info), 4 * max(p.batch_count, 1), self.stream)

    def _failure_message(self, index, info):
        return P.zero_diagonal("a", index, info)
