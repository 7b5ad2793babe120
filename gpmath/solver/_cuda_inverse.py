"""``inv(A)`` from its LU factors through cuBLAS's triangular solves, for large matrices one at a time.

With ``P M = L U`` (``M``: the column-major copy of ``A`` that :class:`~._cuda_lu.GetrfInverse`
factors), ``inv(M) = inv(U) inv(L) P``:

1. cuBLAS ``<t>trsm`` from the left solves ``U W = I``: ``W = inv(U)`` (upper triangular, exact
   zeros below);
2. ``<t>trsm`` from the right solves ``X L = W`` in place: ``X = inv(U) inv(L)``;
3. ``inverse_rows`` (``kernels/lu_inverse.cu``) writes the row order of ``P⁻¹`` from the pivots, and
   ``swap.cu``'s ``swap_last_two`` writes ``(X P)ᵀ``, column-major, into the result: ``inv(A)``
   read in C order.

The same arithmetic as ``getrs`` of ``Mᵀ Y = I`` (two triangular solves of ``n`` columns), in
cuBLAS's ``trsm``, which runs them faster than ``cusolverDnXgetrs`` (bench/RESULTS.md, session 22);
cuSOLVER's ``Xtrtri`` for step 1, a third of the flops, took longer still (its ``trmm`` kernels).
"""

from __future__ import annotations

import os

import numpy as np

from ._cuda_factor import LuFactorization
from ._device import LETTER
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["TriangularInverse", "triangular_inverse", "KERNEL_PATH", "INVERSE_MIN_N", "INVERSE_MAX_N"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "lu_inverse.cu")
INVERSE_MIN_N = 256  # below, getrs of I (H200, bench/linalg.py issue19: 0.60 against 0.69 ms at 256, f32)
INVERSE_MAX_N = 12288  # inverse_rows composes the permutation in shared memory: 4 n bytes <= 48 KB
_BLOCK = 256  # lu_inverse.cu's launch bounds


def triangular_inverse(problem: Problem, ws: Workspace, lu: LuFactorization) -> TriangularInverse | None:
    """The route of this module for *lu*'s one-matrix-at-a-time factorisation of matrices of order
    ``INVERSE_MIN_N`` to ``INVERSE_MAX_N`` where NVRTC is available; else None (``getrs`` of ``I``)."""
    p = problem
    if not lu.batched and INVERSE_MIN_N <= p.n <= INVERSE_MAX_N and ws.lib.compiler_available():
        return TriangularInverse(problem, ws)
    return None


class TriangularInverse:
    """``inv(A)`` from the LU factors of ``M`` (column-major ``A``) and getrf's int64 pivots."""

    def __init__(self, problem: Problem, ws: Workspace):
        p, lib = problem, ws.lib
        blas = lib.cublas
        self.problem, self.ws = problem, ws
        n = p.n
        self._upper = (blas.SideMode.LEFT, blas.FillMode.UPPER, blas.Operation.N, blas.DiagType.NON_UNIT)
        self._lower = (blas.SideMode.RIGHT, blas.FillMode.LOWER, blas.Operation.N, blas.DiagType.UNIT)
        self._x = ws.buffer(n * n * p.dtype.itemsize)  # W, then X
        self._ones = ws.ones(n, p.dtype)
        self._order = ws.buffer(4 * n)
        self._blas = lib.blas_handle(ws.device_id)
        self._one = np.ones(1, dtype=p.dtype.numpy)
        self._letter = LETTER[p.dtype.name]
        kernel = lib.kernel(KERNEL_PATH, "inverse_rows")
        self._rows = lib.launch(kernel, ws.device_id, 3, grid=1, block=_BLOCK, shared=4 * n)
        self._rows.set(1, self._order)
        self._rows.set(2, n)
        self._count = max(p.batch_count, 1)

    def invert(self, lu_ptr: int, pivots: int, x_ptr: int) -> None:
        """Write at *x_ptr* the inverses (C order) of the matrices whose factors are at *lu_ptr*
        with the 1-based int64 *pivots*."""
        p, ws = self.problem, self.ws
        lib, n, stream, item = ws.lib, p.n, ws.stream, p.dtype.itemsize
        one, x = self._one.ctypes.data, self._x
        lib.bind_stream(self._blas, stream, lib.cublas.set_stream)
        for i in range(self._count):
            lu = lu_ptr + i * n * n * item
            lib.identity(x, n, 1, item, self._ones, stream)
            for mode in (self._upper, self._lower):
                lib.cublas.trsm(self._letter, self._blas, *mode, n, n, one, lu, n, x, n)
            self._rows.set(0, pivots + 8 * n * i)
            self._rows(stream)
            ws.swap(x, x_ptr + i * n * n * item, (n, n), p.dtype, False, self._order)
