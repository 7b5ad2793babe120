"""LU and Cholesky factorisations and solves of a batch of column-major matrices, as the routes use them.

Which routine (from :mod:`._crossover`'s ``FACTOR`` table, chosen at plan time): many small
matrices go through the pointer-array ``<t>getrfBatched``/``<t>getrsBatched`` (cuBLAS, int32
pivots) and ``<t>potrfBatched``/``<t>potrsBatched`` (cuSOLVER), the others through the 64-bit
``cusolverDnXgetrf``/``Xgetrs`` (int64 pivots) and ``Xpotrf``/``Xpotrs`` one matrix at a time.
The Hermitian routines run with cuSOLVER's ``LOWER`` fill mode (see :mod:`._cuda_cholesky`).
Right-hand sides are column-major ``(n, k)`` matrices, i.e. C-order ``(..., k, n)`` copies
(:func:`load_rhs`, :func:`deliver_rhs`).
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._core.dtypes import DType
from ._crossover import FACTOR, choose
from ._device import LETTER
from ._ops import transpose
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["INT", "LuFactorization", "CholeskyFactorization", "load_rhs", "deliver_rhs"]

INT = {32: DType("int32", 4, 10, False, "int32", np.dtype(np.int32)),
       64: DType("int64", 8, 24, False, "int64", np.dtype(np.int64))}


class LuFactorization:
    """``getrf`` and ``getrs`` of the problem's batch (planned here: pivots, workspace, handles).

    Parameters
    ----------
    problem : Problem
    ws : Workspace
    workspace : bool
        Query and allocate ``Xgetrf``'s workspace (not needed by a plan that only solves).

    Attributes
    ----------
    batched : bool
        The pointer-array routines (else one matrix at a time).
    pivot_bits : int
        32 (batched) or 64.
    pivots : int
        A plan buffer for the pivots of every matrix.
    """

    def __init__(self, problem: Problem, ws: Workspace, workspace: bool = True):
        p, lib = problem, ws.lib
        self.problem, self.ws = problem, ws
        count = max(p.batch_count, 1)
        self.batched = choose(FACTOR, p.n, p.batch_count, device_id=ws.device_id) == "batched"
        self.pivot_bits = 32 if self.batched else 64
        self.pivots = ws.buffer(self.pivot_bits // 8 * count * p.n)
        self._getrs_info = ws.buffer(4 * count)  # Xgetrs reports argument errors only: keep getrf's info
        if self.batched:
            self._blas = lib.blas_handle(ws.device_id)
        elif workspace:
            code = p.dtype.cuda
            device, host = lib.cs.xgetrf_buffer_size(ws.handle, ws.params, p.n, p.n, code, 0, p.n, code)
            self._work = ws.routine_work(device, host)

    def factor(self, a_ptr: int, piv_ptr: int) -> None:
        """LU in place of the matrices at *a_ptr*, pivots (1-based) to *piv_ptr*, ``info`` to the plan's."""
        p, ws = self.problem, self.ws
        lib, n, count, code = ws.lib, p.n, max(p.batch_count, 1), p.dtype.cuda
        step = n * n * p.dtype.itemsize
        if self.batched:
            lib.bind_stream(self._blas, ws.stream, lib.cublas.set_stream)
            lib.cublas.getrf_batched(LETTER[p.dtype.name], self._blas, n, ws.pointers(a_ptr, step, count), n, piv_ptr,
                                     ws.info, count)
            return
        dwork, dbytes, hwork, hbytes = self._work
        for i in range(count):
            lib.cs.xgetrf(ws.handle, ws.params, n, n, code, a_ptr + i * step, n, piv_ptr + 8 * n * i, code, dwork,
                          dbytes, ctypes.addressof(hwork), hbytes, ws.info + 4 * i)

    def solve(self, trans: int, a_ptr: int, piv_ptr: int, b_ptr: int, k: int) -> None:
        """``op(A) X = B`` in place of the *k* columns of each B at *b_ptr* (*piv_ptr* 0: no interchanges)."""
        p, ws = self.problem, self.ws
        lib, n, count, code = ws.lib, p.n, max(p.batch_count, 1), p.dtype.cuda
        a_step, b_step = n * n * p.dtype.itemsize, n * k * p.dtype.itemsize
        if self.batched:
            lib.bind_stream(self._blas, ws.stream, lib.cublas.set_stream)
            arg_info = ctypes.c_int(0)
            lib.cublas.getrs_batched(LETTER[p.dtype.name], self._blas, trans, n, k, ws.pointers(a_ptr, a_step, count),
                                     n, piv_ptr, ws.pointers(b_ptr, b_step, count), n, ctypes.addressof(arg_info), count)
            return
        for i in range(count):  # piv_ptr 0: no interchanges (b already permuted)
            lib.cs.xgetrs(ws.handle, ws.params, trans, n, k, code, a_ptr + i * a_step, n,
                          piv_ptr and piv_ptr + 8 * n * i, code, b_ptr + i * b_step, n, self._getrs_info + 4 * i)


class CholeskyFactorization:
    """``potrf`` (``LOWER``) and ``potrs`` of the problem's batch (planned here).

    Parameters
    ----------
    problem : Problem
    ws : Workspace
    factor : bool
        Query and allocate ``Xpotrf``'s workspace (not needed by a plan that only solves).
    solve_info : int
        Where ``potrs`` writes its ``info``: the plan's, or a buffer of its own.
    """

    def __init__(self, problem: Problem, ws: Workspace, factor: bool = True, solve_info: int = 0):
        p, lib = problem, ws.lib
        self.problem, self.ws, self._solve_info = problem, ws, solve_info
        self._lower = lib.cublas.FillMode.LOWER
        self.batched = choose(FACTOR, p.n, p.batch_count, device_id=ws.device_id) == "batched"
        if factor and not self.batched:
            code = p.dtype.cuda
            device, host = lib.cs.xpotrf_buffer_size(ws.handle, ws.params, self._lower, p.n, code, 0, p.n, code)
            self._work = ws.routine_work(device, host)

    def factor(self, ptr: int) -> None:
        """Cholesky in place of the column-major lower triangles at *ptr*, ``info`` to the plan's."""
        p, ws = self.problem, self.ws
        lib, lower = ws.lib, self._lower
        step, count = p.n * p.n * p.dtype.itemsize, max(p.batch_count, 1)
        if self.batched:
            pointers = ws.pointers(ptr, step, count)
            lib.cs.potrf_batched(LETTER[p.dtype.name], ws.handle, lower, p.n, pointers, p.n, ws.info, count)
            return
        dwork, dbytes, hwork, hbytes = self._work
        for i in range(count):
            lib.cs.xpotrf(ws.handle, ws.params, lower, p.n, p.dtype.cuda, ptr + i * step, p.n, p.dtype.cuda,
                          dwork, dbytes, ctypes.addressof(hwork), hbytes, ws.info + 4 * i)

    def solve(self, uplo: int, a_ptr: int, b_ptr: int, k: int) -> None:
        """``A X = B`` from the factors at *a_ptr* (fill mode *uplo*), in place of the *k* columns of
        each B at *b_ptr*."""
        p, ws = self.problem, self.ws
        lib = ws.lib
        t, count, n = LETTER[p.dtype.name], max(p.batch_count, 1), p.n
        a_step, b_step = n * n * p.dtype.itemsize, n * k * p.dtype.itemsize
        if self.batched:  # potrsBatched takes one right-hand side: one launch per column
            a_array = ws.pointers(a_ptr, a_step, count)
            for j in range(k):
                b_array = ws.pointers(b_ptr + j * n * p.dtype.itemsize, b_step, count)
                lib.cs.potrs_batched(t, ws.handle, uplo, n, 1, a_array, n, b_array, n, self._solve_info, count)
            return
        for i in range(count):
            lib.cs.xpotrs(ws.handle, ws.params, uplo, n, k, p.dtype.cuda, a_ptr + i * a_step, n,
                          p.dtype.cuda, b_ptr + i * b_step, n, self._solve_info)


def load_rhs(ws: Workspace, problem: Problem, b, conjugate: bool = False) -> tuple[object, int]:
    """*b* as column-major ``(n, k)`` matrices (C-order ``(..., k, n)``), conjugated with *conjugate*."""
    rhs = problem.rhs
    shape = rhs.batch_shape + (rhs.nrhs, problem.n)
    # a vector result is the work array itself (fresh); a matrix one is a transposed copy
    return ws.load("b", b[..., None] if rhs.vector else b, problem.dtype, shape, keep=not rhs.vector, swapped=True,
                   conjugate=conjugate)


def deliver_rhs(ws: Workspace, problem: Problem, work, conjugate: bool = False):
    """The caller's x from the work array of :func:`load_rhs` (conjugated back with *conjugate*)."""
    pkg = ws.package
    x = ws.deliver(work)
    with pkg.on_stream(ws.stream, ws.home):
        if not problem.rhs.vector:
            return transpose(pkg, x, conjugate)
        x = x.reshape(problem.rhs.out_shape)
        if conjugate:
            x = pkg.resolved(x.conj())
        return x
