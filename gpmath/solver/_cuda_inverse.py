"""``inv(A)`` from its LU factors as LAPACK's ``getri`` forms it, for large matrices one at a time.

With ``P M = L U`` (``M``: the column-major copy of ``A`` that :class:`~._cuda_lu.GetrfInverse`
factors), ``inv(M) = inv(U) inv(L) P``:

1. ``cusolverDnXtrtri`` turns ``U`` into ``W = inv(U)`` in place (``n³/3`` flops);
2. ``upper_part`` (``kernels/lu_inverse.cu``) copies ``W`` beside, zeros below it;
3. cuBLAS ``<t>trsm`` from the right solves ``X L = W`` in place of the copy: ``X = inv(U) inv(L)``
   (``n³`` flops);
4. ``inverse_rows`` writes the row order of ``P⁻¹`` from the pivots, and ``swap.cu``'s
   ``swap_last_two`` writes ``(X P)ᵀ``, column-major, into the result: ``inv(A)`` read in C order.

Two triangular steps of ``4n³/3`` flops in place of ``getrs``'s two full solves of the identity
(``2n³``): ``getrf`` included, three quarters of the arithmetic of the route through ``getrs``.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from ._cuda_factor import LuFactorization
from ._device import LETTER
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["TriangularInverse", "triangular_inverse", "KERNEL_PATH", "GETRI_MIN_N", "GETRI_MAX_N"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "lu_inverse.cu")
GETRI_MIN_N = 512  # below, the getrs route (measured on an H200: bench/linalg.py issue19)
GETRI_MAX_N = 12288  # inverse_rows composes the permutation in shared memory: 4 n bytes <= 48 KB
_BLOCK = 256  # lu_inverse.cu's launch bounds
_MOST_BLOCKS = 1 << 14  # upper_part loops over the entries beyond


def triangular_inverse(problem: Problem, ws: Workspace, lu: LuFactorization) -> TriangularInverse | None:
    """The route of this module for *lu*'s one-matrix-at-a-time factorisation of matrices of order
    ``GETRI_MIN_N`` to ``GETRI_MAX_N`` where NVRTC is available; else None (``getrs`` of ``I``)."""
    p = problem
    if not lu.batched and GETRI_MIN_N <= p.n <= GETRI_MAX_N and ws.lib.compiler_available():
        return TriangularInverse(problem, ws)
    return None


class TriangularInverse:
    """``inv(A)`` from the LU factors of ``M`` (column-major ``A``) and getrf's int64 pivots."""

    def __init__(self, problem: Problem, ws: Workspace):
        p, lib = problem, ws.lib
        blas = lib.cublas
        self.problem, self.ws = problem, ws
        n, count = p.n, max(p.batch_count, 1)
        self._upper, self._non_unit = blas.FillMode.UPPER, blas.DiagType.NON_UNIT
        self._trsm_mode = (blas.SideMode.RIGHT, blas.FillMode.LOWER, blas.Operation.N, blas.DiagType.UNIT)
        device, host = lib.cs.xtrtri_buffer_size(ws.handle, self._upper, self._non_unit, n, p.dtype.cuda, 0, n)
        self._work = ws.routine_work(device, host)
        self._trtri_info = ws.buffer(4)  # a zero pivot is getrf's to report (ws.info)
        self._x = ws.buffer(n * n * p.dtype.itemsize)  # W, then X
        self._order = ws.buffer(4 * n)
        self._blas = lib.blas_handle(ws.device_id)
        self._one = np.ones(1, dtype=p.dtype.numpy)
        self._letter = LETTER[p.dtype.name]
        real = np.finfo(p.dtype.numpy).dtype.itemsize
        defines = {"GPM_REAL": real, "GPM_COMPLEX": int(p.dtype.is_complex)}
        self._copy = lib.launch(lib.kernel(KERNEL_PATH, "upper_part", **defines), ws.device_id, 3,
                                grid=min(-(-n * n // _BLOCK), _MOST_BLOCKS), block=_BLOCK)
        self._copy.set(1, self._x)
        self._copy.set(2, n)
        self._rows = lib.launch(lib.kernel(KERNEL_PATH, "inverse_rows", **defines), ws.device_id, 3, grid=1,
                                block=_BLOCK, shared=4 * n)
        self._rows.set(1, self._order)
        self._rows.set(2, n)
        self._count = count

    def invert(self, lu_ptr: int, pivots: int, x_ptr: int) -> None:
        """Write at *x_ptr* the inverses (C order) of the matrices whose factors are at *lu_ptr*
        (overwritten) with the 1-based int64 *pivots*."""
        p, ws = self.problem, self.ws
        lib, n, code, stream = ws.lib, p.n, p.dtype.cuda, ws.stream
        step = n * n * p.dtype.itemsize
        dwork, dbytes, hwork, hbytes = self._work
        side, lower, trans, unit = self._trsm_mode
        lib.bind_stream(self._blas, stream, lib.cublas.set_stream)
        for i in range(self._count):
            lu = lu_ptr + i * step
            lib.cs.xtrtri(ws.handle, self._upper, self._non_unit, n, code, lu, n, dwork, dbytes,
                          ctypes.addressof(hwork), hbytes, self._trtri_info)
            self._copy.set(0, lu)
            self._copy(stream)
            lib.cublas.trsm(self._letter, self._blas, side, lower, trans, unit, n, n, self._one.ctypes.data, lu, n,
                            self._x, n)
            self._rows.set(0, pivots + 8 * n * i)
            self._rows(stream)
            ws.swap(self._x, x_ptr + i * step, (n, n), p.dtype, False, self._order)
