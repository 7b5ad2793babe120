"""cuSOLVER/cuBLAS engines built on the LU factorisation: LU, LUSolve, Inv, Det.

Routes (from :mod:`._crossover`'s ``FACTOR`` table): many small matrices go through cuBLAS's
pointer-array ``<t>getrfBatched``/``<t>getrsBatched`` (int32 pivots), the others through the
64-bit ``cusolverDnXgetrf``/``Xgetrs`` one matrix at a time (int64 pivots).  C order and
column-major are explained in :mod:`._cuda`: ``lu_factor`` and ``lu_solve`` need the factors of
``A`` itself (a swapped copy), ``inv`` and ``det`` work on ``Aᵀ`` (``inv(Aᵀ)`` read back in C
order is ``inv(A)``; ``det(Aᵀ) = det(A)``).
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._bindings import cublas
from .._bindings import cusolver as cs
from .._core.dtypes import DType
from .._core.handles import bind_stream, get_handle
from .._core.staging import deliver
from . import _problem as P
from ._crossover import FACTOR, choose
from ._cuda import CudaEngine
from ._cuda_permute import PermutedRhs
from ._ops import det_from_lu, nan_free_matrices, transpose
from ._plans import LU, Det, Inv, LUSolve

__all__ = ["LETTER", "Getrf", "Rhs", "CudaLU", "CudaLUSolve", "CudaInv", "CudaDet"]

LETTER = {"float32": "S", "float64": "D", "complex64": "C", "complex128": "Z"}
INT = {32: DType("int32", 4, 10, False, "int32", np.dtype(np.int32)),
       64: DType("int64", 8, 24, False, "int64", np.dtype(np.int64))}
_TRANS = (cublas.Operation.N, cublas.Operation.T, cublas.Operation.C)


class Rhs:
    """Right-hand sides as column-major ``(n, k)`` matrices, i.e. C-order ``(..., k, n)`` copies."""

    def _load_rhs(self, b, conjugate: bool = False):
        p = self.problem
        rhs = p.rhs
        shape = rhs.batch_shape + (rhs.nrhs, p.n)
        # a vector result is the work array itself (fresh); a matrix one is a transposed copy
        return self._load("b", b[..., None] if rhs.vector else b, p.dtype, shape, keep=not rhs.vector, swapped=True,
                          conjugate=conjugate)

    def _deliver_x(self, work, conjugate: bool = False):
        p, pkg = self.problem, self.package
        x = self._deliver(work)
        with pkg.on_stream(self.stream, self._home):
            if not p.rhs.vector:
                return transpose(pkg, x, conjugate)
            x = x.reshape(p.rhs.out_shape)
            if conjugate:
                x = pkg.resolved(x.conj())
            return x


class Getrf:
    """LU factorisation and solves of a batch of column-major matrices (mixed into engines)."""

    def _plan_getrf(self, workspace: bool = True) -> None:
        p = self.problem
        count = max(p.batch_count, 1)
        self._factor_route = choose(FACTOR, p.n, p.batch_count)
        self._pivot_bits = 32 if self._factor_route == "batched" else 64
        self._pivots = self._buffer(self._pivot_bits // 8 * count * p.n)
        self._getrs_info = self._buffer(4 * count)  # Xgetrs reports argument errors only: keep getrf's info
        if self._factor_route == "batched":
            self._blas = get_handle("cublas", self.device_id, cublas.create, cublas.destroy)
        elif workspace:
            code = p.dtype.cuda
            device, host = cs.xgetrf_buffer_size(self.handle, self.params, p.n, p.n, code, 0, p.n, code)
            self._getrf_work = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)

    def _getrf(self, a_ptr: int, piv_ptr: int) -> None:
        p = self.problem
        n, count, code = p.n, max(p.batch_count, 1), p.dtype.cuda
        step = n * n * p.dtype.itemsize
        if self._factor_route == "batched":
            bind_stream(self._blas, self.stream, cublas.set_stream)
            cublas.getrf_batched(LETTER[p.dtype.name], self._blas, n, self._pointers(a_ptr, step, count), n, piv_ptr,
                                 self._info, count)
            return
        dwork, dbytes, hwork, hbytes = self._getrf_work
        for i in range(count):
            cs.xgetrf(self.handle, self.params, n, n, code, a_ptr + i * step, n, piv_ptr + 8 * n * i, code, dwork,
                      dbytes, ctypes.addressof(hwork), hbytes, self._info + 4 * i)

    def _getrs(self, trans: int, a_ptr: int, piv_ptr: int, b_ptr: int, k: int) -> None:
        p = self.problem
        n, count, code = p.n, max(p.batch_count, 1), p.dtype.cuda
        a_step, b_step = n * n * p.dtype.itemsize, n * k * p.dtype.itemsize
        if self._factor_route == "batched":
            bind_stream(self._blas, self.stream, cublas.set_stream)
            arg_info = ctypes.c_int(0)
            cublas.getrs_batched(LETTER[p.dtype.name], self._blas, trans, n, k, self._pointers(a_ptr, a_step, count),
                                 n, piv_ptr, self._pointers(b_ptr, b_step, count), n, ctypes.addressof(arg_info), count)
            return
        for i in range(count):  # piv_ptr 0: no interchanges (b already permuted)
            cs.xgetrs(self.handle, self.params, trans, n, k, code, a_ptr + i * a_step, n, piv_ptr and piv_ptr + 8 * n * i,
                      code, b_ptr + i * b_step, n, self._getrs_info + 4 * i)

    def _failure_message(self, index, info):
        return P.singular("a", index, info)


class CudaLU(Getrf, CudaEngine, LU):
    """:class:`~gpmath.solver.LU` through ``Xgetrf`` or ``<t>getrfBatched`` on a swapped copy (``A`` itself)."""

    def _plan_cuda(self):
        self._plan_getrf()

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        work, a_ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        piv, piv_ptr = self._work("piv", p.batch_shape + (p.n,), INT[self._pivot_bits], keep=True)
        self._getrf(a_ptr, piv_ptr)
        lu, piv = self._deliver(work), self._deliver(piv)
        with pkg.on_stream(self.stream, self._home):
            return transpose(pkg, lu), pkg.as_int(piv - 1, 32)


class CudaLUSolve(Rhs, Getrf, PermutedRhs, CudaEngine, LUSolve):
    """:class:`~gpmath.solver.LUSolve` through ``Xgetrs`` (for ``trans=0``, the interchanges applied
    to b by gpmath's kernel) or ``<t>getrsBatched``."""

    def _plan_cuda(self):
        self._plan_getrf(workspace=False)
        self._plan_permute_if_it_serves()

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        bits = self._pivot_bits
        _, lu_ptr = self._load("lu", arrays["lu"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        with pkg.on_stream(self.stream, self._home):
            one_based = pkg.as_int(arrays["piv"], bits) + 1
        _, piv_ptr = self._load("piv", one_based, INT[bits], p.batch_shape + (p.n,), keep=True)
        b, b_ptr = self._load_rhs(arrays["b"])
        if self.trans == 0 and self._permute is not None:  # P b by gpmath's kernel, then no pivots
            b, b_ptr = self._permuted(b_ptr, piv_ptr)
            piv_ptr = 0
        self._getrs(_TRANS[self.trans], lu_ptr, piv_ptr, b_ptr, p.rhs.nrhs)
        return self._deliver_x(b)


class CudaInv(Getrf, CudaEngine, Inv):
    """:class:`~gpmath.solver.Inv`: LU of ``A`` itself (a swapped copy read column-major, so an exactly
    singular matrix meets the zero pivot LAPACK's LU meets), then ``getrs`` of ``Aᵀ Y = I``: ``Y``
    read column-major is ``inv(A)`` in C order."""

    def _plan_cuda(self):
        p = self.problem
        self._plan_getrf()
        eye = np.eye(p.n, dtype=p.dtype.numpy)
        self._eye = eye if self.staged else deliver(self.package, eye, self._home)

    def _run(self, arrays):
        p = self.problem
        shape = p.batch_shape + (p.n, p.n)
        _, a_ptr = self._load("a", arrays["a"], p.dtype, shape, keep=True, swapped=True)
        x, x_ptr = self._load("x", self._eye, p.dtype, shape)
        self._getrf(a_ptr, self._pivots)
        self._getrs(cublas.Operation.T, a_ptr, self._pivots, x_ptr, p.n)
        return self._deliver(x)


class CudaDet(Getrf, CudaEngine, Det):
    """:class:`~gpmath.solver.Det` from the diagonal and pivots of the LU of ``Aᵀ``, computed on the device."""

    def _plan_cuda(self):
        self._plan_getrf()

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        work, a_ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True)
        piv, piv_ptr = self._work("piv", p.batch_shape + (p.n,), INT[self._pivot_bits], keep=True)
        self._getrf(a_ptr, piv_ptr)
        lu, piv = self._deliver(work), self._deliver(piv)
        with pkg.on_stream(self.stream, self._home):
            defined = nan_free_matrices(pkg, arrays["a"], len(arrays["a"].shape) - 2)
            return det_from_lu(pkg, lu, piv, 1, self.log, defined)

    def check(self) -> None:
        """Nothing to check, so no stream sync: a singular matrix has determinant 0 (``info > 0``
        is no error) and gpmath's validation leaves cuSOLVER no argument to reject (``info < 0``).
        :func:`~gpmath.linalg.det` and :func:`~gpmath.linalg.slogdet` thus return without waiting
        for the GPU, as torch's do; :meth:`info` still reads ``info``."""
