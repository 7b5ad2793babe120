"""The least-squares engine: through the SVD (``lapack_driver="gelsd"``) or a QR factorisation ("gelsy").

``gelsd``: an inner :class:`~gpmath.solver._cuda_svd.CudaSVD` plan (thin SVD), then the
pseudo-inverse with the package's array operations on the plan's stream, as LAPACK's ``gelsd``
defines ``rank``, ``s`` and ``residues``.

``gelsy``: ``Xgeqrf`` of ``A`` (M >= N: ``x = R⁻¹ (Qᴴ b)``, by ``<t>ormqr`` and cuBLAS
``<t>trsm``) or of ``Aᴴ`` (M < N, the minimum-norm ``x = Q R⁻ᴴ b``), without pivoting: a matrix
whose ``|R[i, i]|`` falls below ``cond * max |R[j, j]|`` raises :class:`LinAlgError` (rank
deficient; use ``"gelsd"``).  ``s`` is None, as SciPy's ``gelsy`` returns it.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._bindings import cublas
from .._bindings import cusolver as cs
from .._core.dtypes import DTYPES
from .._errors import LinAlgError
from .._core.handles import bind_stream, get_handle
from . import _problem as P
from ._cuda import CudaEngine
from ._cuda_lu import LETTER
from ._ops import abs_max_ratio_rank, lstsq_from_svd, lstsq_result
from ._plans import SVD, Lstsq

__all__ = ["CudaLstsq"]


class CudaLstsq(CudaEngine, Lstsq):
    """:class:`~gpmath.solver.Lstsq` on the GPU (see the module docstring)."""

    def _plan_cuda(self):
        p = self.problem
        self._eps = float(np.finfo(DTYPES[p.dtype.real].numpy).eps)
        if self.lapack_driver == "gelsd":
            a = self._operands_or_raise()["a"]
            self._svd = SVD(a, full_matrices=False, execution="cuda", stream=self.stream, device_id=self.device_id).plan()
            self._hold(self._svd.free)
            return
        m, n, item = p.m, p.n, p.dtype.itemsize
        self._rows, self._cols = (m, n) if m >= n else (n, m)  # the column-major matrix factored: A or Aᴴ
        k, rows, t = self._cols, self._rows, LETTER[p.dtype.name]
        self._tau = self._buffer(max(p.batch_count, 1) * k * item)
        code = p.dtype.cuda
        device, host = cs.xgeqrf_buffer_size(self.handle, self.params, rows, k, code, 0, rows, code, 0, code)
        self._ormqr_trans = (cublas.Operation.C if p.dtype.is_complex else cublas.Operation.T) if m >= n else (
            cublas.Operation.N)
        lwork = cs.ormqr_buffer_size(t, self.handle, cublas.SideMode.LEFT, self._ormqr_trans, rows, p.rhs.nrhs, k, 0,
                                     rows, 0, 0, rows)
        self._lwork = lwork
        self._qr_work = (self._buffer(max(device, lwork * item, 1)), device, (ctypes.c_char * max(host, 1))(), host)
        self._blas = get_handle("cublas", self.device_id, cublas.create, cublas.destroy)
        self._one = np.ones(1, dtype=p.dtype.numpy)

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        if self.lapack_driver == "gelsd":
            self._svd._rebind({"a": arrays["a"]})
            u, s, vh = self._svd.execute()
            with pkg.on_stream(self.stream, self._home):
                return lstsq_from_svd(pkg, arrays["a"], arrays["b"], u, s, vh, p.rhs.vector, self.cond, self._eps)
        tall = p.m >= p.n
        shape = p.rhs.batch_shape + (self._cols, self._rows)
        a_work, a_ptr = self._load("a", arrays["a"], p.dtype, shape, keep=True, swapped=tall, conjugate=not tall)
        b_work, b_ptr = self._load_padded_rhs(arrays["b"])
        self._factor_and_solve(a_ptr, b_ptr, tall)
        a_work, b_work = self._deliver(a_work), self._deliver(b_work)
        with pkg.on_stream(self.stream, self._home):
            return self._result(arrays, a_work, b_work)

    def _load_padded_rhs(self, b):
        """b as column-major ``rows x nrhs`` (C order ``(..., nrhs, rows)``), zero below its M rows."""
        p, pkg = self.problem, self.package
        b = b[..., None] if p.rhs.vector else b
        shape = p.rhs.batch_shape + (p.rhs.nrhs, self._rows)
        if self.staged:
            padded = np.zeros(shape, dtype=p.dtype.numpy)
            padded[..., : p.m] = np.swapaxes(b, -1, -2)
            return self._load("b", padded, p.dtype, shape)
        work, ptr = self._work("b", shape, p.dtype, keep=True)
        with pkg.on_stream(self.stream, self._home):
            pkg.copy_into(work[..., : p.m], pkg.swap(b))
            if self._rows > p.m:
                pkg.zero(work[..., p.m:])
        return work, ptr

    def _factor_and_solve(self, a_ptr: int, b_ptr: int, tall: bool) -> None:
        p = self.problem
        rows, k, nrhs, item, t, code = self._rows, self._cols, p.rhs.nrhs, p.dtype.itemsize, LETTER[p.dtype.name], p.dtype.cuda
        dwork, dbytes, hwork, hbytes = self._qr_work
        bind_stream(self._blas, self.stream, cublas.set_stream)
        left, upper, non_unit = cublas.SideMode.LEFT, cublas.FillMode.UPPER, cublas.DiagType.NON_UNIT
        one = self._one.ctypes.data
        for i in range(max(p.batch_count, 1)):
            a_i, b_i, tau_i, info_i = a_ptr + i * rows * k * item, b_ptr + i * rows * nrhs * item, self._tau + i * k * item, (
                self._info + 4 * i)
            cs.xgeqrf(self.handle, self.params, rows, k, code, a_i, rows, code, tau_i, code, dwork, dbytes,
                      ctypes.addressof(hwork), hbytes, info_i)
            if tall:  # x = R⁻¹ (Qᴴ b)
                cs.ormqr(t, self.handle, left, self._ormqr_trans, rows, nrhs, k, a_i, rows, tau_i, b_i, rows, dwork,
                         self._lwork, info_i)
                cublas.trsm(t, self._blas, left, upper, cublas.Operation.N, non_unit, k, nrhs, one, a_i, rows, b_i, rows)
            else:  # x = Q [R⁻ᴴ b; 0]
                trans = cublas.Operation.C if p.dtype.is_complex else cublas.Operation.T
                cublas.trsm(t, self._blas, left, upper, trans, non_unit, k, nrhs, one, a_i, rows, b_i, rows)
                cs.ormqr(t, self.handle, left, self._ormqr_trans, rows, nrhs, k, a_i, rows, tau_i, b_i, rows, dwork,
                         self._lwork, info_i)

    def _result(self, arrays, a_work, b_work):
        p, pkg = self.problem, self.package
        x = pkg.copy(pkg.swap(b_work)[..., : p.n, :])
        rank = abs_max_ratio_rank(pkg, pkg.diagonal(a_work), self._eps if self.cond is None else self.cond)
        short = rank < self._cols
        if bool(short.any()):
            index = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(pkg.to_numpy(short).reshape(-1))[0]),
                                                           p.rhs.batch_shape))
            raise LinAlgError(f"{P.matrix_name('a', index)} is rank deficient (its QR has a negligible R diagonal "
                              "entry): lapack_driver='gelsy' needs full rank on the GPU; use 'gelsd'")
        bm = arrays["b"][..., None] if p.rhs.vector else arrays["b"]
        empty = abs(x.reshape(-1)[:0])
        x, residues, rank, _ = lstsq_result(arrays["a"], bm, x, rank, None, p.rhs.vector, empty)
        return x, residues, rank, None

    def _info_values(self) -> np.ndarray:
        """Per-matrix ``info`` (of the inner SVD for ``"gelsd"``)."""
        return self._svd._info_values() if self.lapack_driver == "gelsd" else super()._info_values()

    def check(self) -> None:
        """Raise :class:`LinAlgError` where the SVD did not converge or an argument was rejected."""
        if self.lapack_driver == "gelsd":
            self._svd.check()
        else:
            super().check()

    def _failure_message(self, index, info):
        return P.not_converged(self._svd.routine if self.lapack_driver == "gelsd" else "geqrf", "a", index, info)
