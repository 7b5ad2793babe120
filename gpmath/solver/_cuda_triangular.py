"""``op(A) x = b`` for triangular A: cuBLAS ``<t>trsm`` (matrix by matrix) or ``<t>trsmBatched``.

The result is a C-order copy of b solved in place.  Read column-major, that copy is ``Xᵀ`` and a
C-order A is ``Aᵀ``, so the engine solves the transposed system ``Xᵀ op(A)ᵀ = Bᵀ`` from the right:
side ``RIGHT``, the fill mode flipped, the same operation (``op(A)ᵀ`` is ``op`` of ``Aᵀ``).  No
copy of A is made where it is C-contiguous with b's batch shape (or one matrix for every b), and
no transposing copy of b or of the result.
"""

from __future__ import annotations

import numpy as np

from .._bindings import cublas
from .._core.handles import bind_stream, get_handle
from .._core.memory import copy_async
from . import _problem as P
from ._cuda import CudaEngine, _broadcast, on_stream
from ._cuda_lu import LETTER
from ._ops import copy, first_zero_diagonal
from ._plans import SolveTriangular

__all__ = ["CudaSolveTriangular", "BATCHED_MAX_N"]

BATCHED_MAX_N = 512  # trsmBatched up to this order; larger matrices one trsm each (bench/linalg.py triangular)


class CudaSolveTriangular(CudaEngine, SolveTriangular):
    """:class:`~gpmath.solver.SolveTriangular` through ``<t>trsm`` or ``<t>trsmBatched``."""

    def _plan_cuda(self):
        p = self.problem
        self._blas = get_handle("cublas", self.device_id, cublas.create, cublas.destroy)
        self._one = np.ones(1, dtype=p.dtype.numpy)  # alpha, a host scalar of the matrix type
        self._mode = (cublas.SideMode.RIGHT, cublas.FillMode.UPPER if self.lower else cublas.FillMode.LOWER,
                      cublas.Operation(self.trans), cublas.DiagType.UNIT if self.unit_diagonal else cublas.DiagType.NON_UNIT)
        self._batched = p.batch_count > 1 and p.n <= BATCHED_MAX_N

    def _matrices(self, a) -> tuple[int, int]:
        """The address of A's first matrix and the step between matrices (0: one for every b)."""
        p, pkg = self.problem, self.package
        step = p.n * p.n * p.dtype.itemsize
        if not self.staged and pkg.holds_plainly(a, p.dtype):
            if a.ndim == 2:
                return pkg.ptr(a), 0
            if tuple(a.shape[:-2]) == p.batch_shape:
                return pkg.ptr(a), step
        return self._load("a", a, p.dtype, p.batch_shape + (p.n, p.n), keep=True)[1], step

    def _run(self, arrays):
        p, rhs = self.problem, self.problem.rhs
        a, b = arrays["a"], arrays["b"]
        if not self.unit_diagonal:
            self._find_zero_diagonals(a)
        a_ptr, a_step = self._matrices(a)
        x, x_ptr = self._load("b", b[..., None] if rhs.vector else b, p.dtype, rhs.batch_shape + (p.n, rhs.nrhs))
        count, n, k = max(p.batch_count, 1), p.n, rhs.nrhs
        if n and k and p.batch_count:
            t, one, x_step = LETTER[p.dtype.name], self._one.ctypes.data, n * k * p.dtype.itemsize
            bind_stream(self._blas, self.stream, cublas.set_stream)
            if self._batched:
                cublas.trsm_batched(t, self._blas, *self._mode, k, n, one, self._pointers(a_ptr, a_step, count), n,
                                    self._pointers(x_ptr, x_step, count), k, count)
            else:
                for i in range(count):
                    cublas.trsm(t, self._blas, *self._mode, k, n, one, a_ptr + i * a_step, n, x_ptr + i * x_step, k)
        x = self._deliver(x)
        return x.reshape(rhs.out_shape) if rhs.vector else x

    def _find_zero_diagonals(self, a) -> None:
        """Write ``trtrs``'s ``info`` of every matrix into the plan's info array (stream-ordered)."""
        p, pkg = self.problem, self.package
        if self.staged:
            info = first_zero_diagonal(pkg, a)
            self._info_host.reshape(p.batch_shape)[...] = np.broadcast_to(info, p.batch_shape)
            return
        with on_stream(pkg, self.stream, self._home):
            info = first_zero_diagonal(pkg, a)
            if tuple(info.shape) != p.batch_shape:
                info = copy(pkg, _broadcast(pkg, info, p.batch_shape))
            copy_async(self._info, pkg.ptr(info), 4 * max(p.batch_count, 1), self.stream)

    def _failure_message(self, index, info):
        return P.zero_diagonal("a", index, info)
