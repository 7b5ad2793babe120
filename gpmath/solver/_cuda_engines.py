"""cuSOLVER engines: Cholesky, Solve (LU, Cholesky, mixed-precision IRS), Eigh and SVD.

Layout conventions (C-order operands read column-major) are explained in :mod:`._cuda`.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._bindings import cublas
from .._bindings import cusolver as cs
from .._core.dtypes import DTYPES
from .._core.handles import get_handle
from . import _problem as P
from ._crossover import EIGH, FACTOR, SVD as SVD_TABLE, choose
from ._cuda import CudaEngine, on_stream, transpose, triangle
from ._plans import SVD, Cholesky, Eigh, Solve

__all__ = ["CudaCholesky", "CudaSolve", "CudaEigh", "CudaSVD"]

_LETTER = {"float32": "S", "float64": "D", "complex64": "C", "complex128": "Z"}
_IRS_LOW = {  # (input precision, precision=) -> lowest precision of cusolverDnIRSXgesv
    (False, "f32"): cs.PrecType.R_32F, (False, "tf32"): cs.PrecType.R_TF32,
    (False, "f16"): cs.PrecType.R_16F, (False, "bf16"): cs.PrecType.R_16BF,
    (True, "f32"): cs.PrecType.C_32F, (True, "tf32"): cs.PrecType.C_TF32,
    (True, "f16"): cs.PrecType.C_16F, (True, "bf16"): cs.PrecType.C_16BF,
}


def _uplo(lower: bool) -> int:
    """cuSOLVER's fill mode for the caller's triangle: C order reads it as the other one."""
    return cublas.FillMode.UPPER if lower else cublas.FillMode.LOWER


class _Potrf:
    """Cholesky factorisation in place of a batch of C-order matrices (mixed into engines)."""

    def _plan_potrf(self, lower: bool) -> None:
        p = self.problem
        self._factor_route = choose(FACTOR, p.n, p.batch_count)
        code = p.dtype.cuda
        device, host = cs.xpotrf_buffer_size(self.handle, self.params, _uplo(lower), p.n, code, 0, p.n, code)
        self._potrf_work = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)

    def _potrf(self, ptr: int, lower: bool) -> None:
        p = self.problem
        step, count = p.n * p.n * p.dtype.itemsize, p.batch_count
        if self._factor_route == "batched":
            pointers = self._pointers(ptr, step, count)
            cs.potrf_batched(_LETTER[p.dtype.name], self.handle, _uplo(lower), p.n, pointers, p.n, self._info, count)
            return
        dwork, dbytes, hwork, hbytes = self._potrf_work
        for i in range(max(count, 1)):
            cs.xpotrf(self.handle, self.params, _uplo(lower), p.n, p.dtype.cuda, ptr + i * step, p.n, p.dtype.cuda,
                      dwork, dbytes, ctypes.addressof(hwork), hbytes, self._info + 4 * i)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info)


class CudaCholesky(_Potrf, CudaEngine, Cholesky):
    """:class:`~gpmath.solver.Cholesky` through ``cusolverDnXpotrf`` or ``<t>potrfBatched``."""

    def _plan_cuda(self):
        self._plan_potrf(self.lower)

    def _run(self, arrays):
        p = self.problem
        work, ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n))
        self._potrf(ptr, self.lower)
        with on_stream(self.package, self.stream, self._home):
            return triangle(self.package, self._deliver(work), upper=not self.lower)


class CudaSolve(_Potrf, CudaEngine, Solve):
    """:class:`~gpmath.solver.Solve`: LU (``Xgetrf``/``getrfBatched``), Cholesky, or IRS."""

    def _plan_cuda(self):
        p = self.problem
        if self.refine == "mixed":
            return self._plan_irs()
        if self.assume_a == "pos":
            return self._plan_potrf(self.lower)
        self._factor_route = choose(FACTOR, p.n, p.batch_count)
        count, code = max(p.batch_count, 1), p.dtype.cuda
        if self._factor_route == "batched":
            self._blas = get_handle("cublas", self.device_id, cublas.create, cublas.destroy)
            self._pivots = self._buffer(4 * count * p.n)
            return
        self._pivots = self._buffer(8 * count * p.n)
        device, host = cs.xgetrf_buffer_size(self.handle, self.params, p.n, p.n, code, 0, p.n, code)
        self._getrf_work = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)

    def _plan_irs(self):
        p = self.problem
        self._irs_params = cs.irs_params_create()
        self._hold(cs.irs_params_destroy, self._irs_params)
        main = (cs.PrecType.C_64F if p.dtype.real == "float64" else cs.PrecType.C_32F) if p.dtype.is_complex else (
            cs.PrecType.R_64F if p.dtype.real == "float64" else cs.PrecType.R_32F)
        cs.irs_params_set_solver_precisions(self._irs_params, main, _IRS_LOW[(p.dtype.is_complex, self.precision)])
        cs.irs_params_set_refinement_solver(self._irs_params, cs.IRSRefinement.CLASSICAL)
        cs.irs_params_enable_fallback(self._irs_params)
        self._irs_infos = cs.irs_infos_create()
        self._hold(cs.irs_infos_destroy, self._irs_infos)
        nbytes = cs.irs_xgesv_buffer_size(self.handle, self._irs_params, p.n, p.rhs.nrhs)
        self._irs_work = (self._buffer(nbytes), nbytes)

    def _load_rhs(self, b, conjugate: bool = False):
        """b as column-major ``(n, k)`` matrices: C-order ``(..., k, n)`` (no copy needed for k = 1)."""
        p, pkg = self.problem, self.package
        rhs = p.rhs
        shape = rhs.batch_shape + (rhs.nrhs, p.n)
        if self.staged:
            b = np.broadcast_to(b[..., None] if rhs.vector else b, rhs.batch_shape + (p.n, rhs.nrhs))
            b = np.conj(np.swapaxes(b, -1, -2)) if conjugate else np.swapaxes(b, -1, -2)
            return self._load("b", b, p.dtype, shape)
        with on_stream(pkg, self.stream, self._home):
            b = b.reshape(tuple(b.shape) + (1,)) if rhs.vector else b
            return self._load("b", transpose(pkg, b, conjugate), p.dtype, shape)

    def _deliver_x(self, work, conjugate: bool = False):
        p, pkg = self.problem, self.package
        x = self._deliver(work)
        with on_stream(pkg, self.stream, self._home):
            if p.rhs.vector:
                x = x.reshape(p.rhs.out_shape)
                return x.conj() if conjugate else x
            return transpose(pkg, x, conjugate)

    def _run(self, arrays):
        p = self.problem
        if self.refine == "mixed":
            return self._run_irs(arrays)
        complex_pos = self.assume_a == "pos" and p.dtype.is_complex  # A x = b as conj(A) conj(x) = conj(b)
        a, a_ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n))
        b, b_ptr = self._load_rhs(arrays["b"], complex_pos)
        if self.assume_a == "pos":
            self._potrf(a_ptr, self.lower)
            self._potrs(a_ptr, b_ptr)
        else:
            self._lu_solve(a_ptr, b_ptr)
        return self._deliver_x(b, complex_pos)

    def _potrs(self, a_ptr: int, b_ptr: int) -> None:
        p = self.problem
        t, count, k = _LETTER[p.dtype.name], max(p.batch_count, 1), p.rhs.nrhs
        a_step, b_step = p.n * p.n * p.dtype.itemsize, p.n * k * p.dtype.itemsize
        if self._factor_route == "batched" and k == 1:  # potrsBatched supports one right-hand side
            a_array, b_array = self._pointers(a_ptr, a_step, count), self._pointers(b_ptr, b_step, count)
            cs.potrs_batched(t, self.handle, _uplo(self.lower), p.n, 1, a_array, p.n, b_array, p.n, self._info, count)
            return
        for i in range(count):
            cs.xpotrs(self.handle, self.params, _uplo(self.lower), p.n, k, p.dtype.cuda, a_ptr + i * a_step, p.n,
                      p.dtype.cuda, b_ptr + i * b_step, p.n, self._info + 4 * i)

    def _lu_solve(self, a_ptr: int, b_ptr: int) -> None:
        p = self.problem
        t, count, k, code = _LETTER[p.dtype.name], max(p.batch_count, 1), p.rhs.nrhs, p.dtype.cuda
        a_step, b_step = p.n * p.n * p.dtype.itemsize, p.n * k * p.dtype.itemsize
        trans = cublas.Operation.N if self.transposed else cublas.Operation.T  # C order holds Aᵀ
        if self._factor_route == "batched":
            cublas.set_stream(self._blas, self.stream)
            a_array, b_array = self._pointers(a_ptr, a_step, count), self._pointers(b_ptr, b_step, count)
            cublas.getrf_batched(t, self._blas, p.n, a_array, p.n, self._pivots, self._info, count)
            arg_info = ctypes.c_int(0)
            cublas.getrs_batched(t, self._blas, trans, p.n, k, a_array, p.n, self._pivots, b_array, p.n,
                                 ctypes.addressof(arg_info), count)
            return
        dwork, dbytes, hwork, hbytes = self._getrf_work
        for i in range(count):
            a_i, piv_i, info_i = a_ptr + i * a_step, self._pivots + 8 * p.n * i, self._info + 4 * i
            cs.xgetrf(self.handle, self.params, p.n, p.n, code, a_i, p.n, piv_i, code, dwork, dbytes,
                      ctypes.addressof(hwork), hbytes, info_i)
            cs.xgetrs(self.handle, self.params, trans, p.n, k, code, a_i, p.n, piv_i, code, b_ptr + i * b_step, p.n, info_i)

    def _run_irs(self, arrays):
        p, pkg = self.problem, self.package
        k, count = p.rhs.nrhs, max(p.batch_count, 1)
        shape = p.batch_shape + (p.n, p.n)
        if self.staged:
            a_source = np.swapaxes(np.broadcast_to(arrays["a"], shape), -1, -2)
        else:
            with on_stream(pkg, self.stream, self._home):
                a_source = transpose(pkg, arrays["a"])  # IRS has no transposed mode: A itself, column-major
        _, a_ptr = self._load("a", a_source, p.dtype, shape)
        b, b_ptr = self._load_rhs(arrays["b"])
        x, x_ptr = self._work("x", p.rhs.batch_shape + (k, p.n), p.dtype)
        a_step, b_step = p.n * p.n * p.dtype.itemsize, p.n * k * p.dtype.itemsize
        work, nbytes = self._irs_work
        most, fell_back = 0, False
        for i in range(count):
            niters = cs.irs_xgesv(self.handle, self._irs_params, self._irs_infos, p.n, k, a_ptr + i * a_step, p.n,
                                  b_ptr + i * b_step, p.n, x_ptr + i * b_step, p.n, work, nbytes, self._info + 4 * i)
            most, fell_back = max(most, abs(niters)), fell_back or niters < 0
        outer = cs.irs_infos_get_outer_niters(self._irs_infos)
        self.refinement = P.Refinement(most, outer, fell_back)
        return self._deliver_x(x)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info) if self.assume_a == "pos" else P.singular("a", index, info)


class CudaEigh(CudaEngine, Eigh):
    """:class:`~gpmath.solver.Eigh` through ``cusolverDnXsyevd`` (looped) or ``<t>syevjBatched``."""

    def _plan_cuda(self):
        p = self.problem
        driver = self.driver or choose(EIGH, p.n, p.batch_count)
        self.routine = "syevd" if driver == "syevd" else "syevjBatched"
        real, code = DTYPES[p.dtype.real], p.dtype.cuda
        jobz = cs.EigMode.NOVECTOR if self.eigvals_only else cs.EigMode.VECTOR
        self._jobz, self._real = jobz, real
        if self.routine == "syevd":
            device, host = cs.xsyevd_buffer_size(self.handle, self.params, jobz, _uplo(self.lower), p.n, code, 0, p.n,
                                                 real.cuda, 0, code)
            self._work_args = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)
            return
        self._syevj = cs.create_syevj_info()
        self._hold(cs.destroy_syevj_info, self._syevj)
        count = max(p.batch_count, 1)
        lwork = cs.syevj_batched_buffer_size(_LETTER[p.dtype.name], self.handle, jobz, _uplo(self.lower), p.n, 0, p.n,
                                             0, self._syevj, count)
        self._work_args = (self._buffer(lwork * p.dtype.itemsize), lwork)

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        count, code = max(p.batch_count, 1), p.dtype.cuda
        a, a_ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n))
        w, w_ptr = self._work("w", p.batch_shape + (p.n,), self._real)
        if self.routine == "syevjBatched":
            work, lwork = self._work_args
            cs.syevj_batched(_LETTER[p.dtype.name], self.handle, self._jobz, _uplo(self.lower), p.n, a_ptr, p.n, w_ptr,
                             work, lwork, self._info, self._syevj, count)
        else:
            dwork, dbytes, hwork, hbytes = self._work_args
            step = p.n * p.n * p.dtype.itemsize
            for i in range(count):
                cs.xsyevd(self.handle, self.params, self._jobz, _uplo(self.lower), p.n, code, a_ptr + i * step, p.n,
                          self._real.cuda, w_ptr + i * p.n * self._real.itemsize, code, dwork, dbytes,
                          ctypes.addressof(hwork), hbytes, self._info + 4 * i)
        w = self._deliver(w)
        if self.eigvals_only:
            return w
        with on_stream(pkg, self.stream, self._home):  # C order holds conj(V)ᵀ
            return w, transpose(pkg, self._deliver(a), conjugate=p.dtype.is_complex)

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)


class CudaSVD(CudaEngine, SVD):
    """:class:`~gpmath.solver.SVD` through ``<t>gesvdjBatched``, ``<t>gesvdj`` or ``cusolverDnXgesvd``.

    The engine factors ``M = Aᵀ`` (the C-order buffer read column-major, ``n x m``): Jacobi
    returns ``U_M`` (C order: ``Vh``) and ``V_M`` (C order: ``V_Mᵀ``, so ``U = conj`` of its
    transpose); ``gesvd`` needs rows >= columns, so tall inputs are factored as ``Aᴴ``.
    """

    def _plan_cuda(self):
        p = self.problem
        driver = self.driver or choose(SVD_TABLE, max(p.m, p.n), p.batch_count)
        if driver == "gesvdj" and max(p.m, p.n) <= 32 and p.batch_count > 1:
            driver = "gesvdjBatched"
        self.routine = driver
        self._real = DTYPES[p.dtype.real]
        self._tall = driver == "gesvd" and p.m > p.n
        rows, cols = (p.m, p.n) if self._tall else (p.n, p.m)  # the column-major matrix factored
        self._rows, self._cols = rows, cols
        if driver == "gesvd":
            return self._plan_gesvd(rows, cols)
        self._gesvdj = cs.create_gesvdj_info()
        self._hold(cs.destroy_gesvdj_info, self._gesvdj)
        jobz = cs.EigMode.VECTOR if self.compute_uv else cs.EigMode.NOVECTOR
        t, count = _LETTER[p.dtype.name], max(p.batch_count, 1)
        if driver == "gesvdjBatched":
            lwork = cs.gesvdj_batched_buffer_size(t, self.handle, jobz, rows, cols, 0, rows, 0, 0, rows, 0, cols,
                                                  self._gesvdj, count)
        else:
            lwork = cs.gesvdj_buffer_size(t, self.handle, jobz, int(not self.full_matrices), rows, cols, 0, rows, 0, 0,
                                          rows, 0, cols, self._gesvdj)
        self._work_args = (jobz, self._buffer(lwork * p.dtype.itemsize), lwork)

    def _plan_gesvd(self, rows: int, cols: int) -> None:
        code, job = self.problem.dtype.cuda, self._jobs()
        device, host = cs.xgesvd_buffer_size(self.handle, self.params, job, job, rows, cols, code, 0, rows,
                                             self._real.cuda, 0, code, 0, rows, code, 0, cols, code)
        self._work_args = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)

    def _jobs(self) -> str:
        return "N" if not self.compute_uv else ("A" if self.full_matrices else "S")

    def _factor_shapes(self):
        """C-order shapes of the left and right factor buffers of the column-major matrix."""
        p, rows, cols = self.problem, self._rows, self._cols
        k = min(rows, cols)
        left = rows if (self.full_matrices or self.routine == "gesvdjBatched") else k
        right = cols if (self.full_matrices or self.routine == "gesvdjBatched") else k
        return p.batch_shape + (left, rows), p.batch_shape + (right, cols)

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        source = arrays["a"]
        if self._tall:
            if self.staged:
                source = np.conj(np.swapaxes(source, -1, -2))
            else:
                with on_stream(pkg, self.stream, self._home):
                    source = transpose(pkg, source, conjugate=True)
        a, a_ptr = self._load("a", source, p.dtype, p.batch_shape + (self._cols, self._rows))
        s, s_ptr = self._work("s", p.batch_shape + (min(p.m, p.n),), self._real)
        left_shape, right_shape = self._factor_shapes()
        left, left_ptr = self._work("left", left_shape, p.dtype)
        right, right_ptr = self._work("right", right_shape, p.dtype)
        self._launch(a_ptr, s_ptr, left_ptr, right_ptr)
        s = self._deliver(s)
        if not self.compute_uv:
            return s
        with on_stream(pkg, self.stream, self._home):
            return self._assemble(self._deliver(left), s, self._deliver(right))

    def _launch(self, a_ptr, s_ptr, left_ptr, right_ptr) -> None:
        p = self.problem
        rows, cols, count, t = self._rows, self._cols, max(p.batch_count, 1), _LETTER[p.dtype.name]
        left_shape, right_shape = self._factor_shapes()
        item = p.dtype.itemsize
        steps = (rows * cols * item, min(rows, cols) * self._real.itemsize,
                 left_shape[-2] * rows * item, right_shape[-2] * cols * item)
        if self.routine == "gesvdjBatched":
            jobz, work, lwork = self._work_args
            cs.gesvdj_batched(t, self.handle, jobz, rows, cols, a_ptr, rows, s_ptr, left_ptr, rows, right_ptr, cols,
                              work, lwork, self._info, self._gesvdj, count)
            return
        for i in range(count):
            ptrs = [base + i * step for base, step in zip((a_ptr, s_ptr, left_ptr, right_ptr), steps)]
            if self.routine == "gesvdj":
                jobz, work, lwork = self._work_args
                cs.gesvdj(t, self.handle, jobz, int(not self.full_matrices), rows, cols, ptrs[0], rows, ptrs[1],
                          ptrs[2], rows, ptrs[3], cols, work, lwork, self._info + 4 * i, self._gesvdj)
            else:
                code, job = p.dtype.cuda, self._jobs()
                dwork, dbytes, hwork, hbytes = self._work_args
                cs.xgesvd(self.handle, self.params, job, job, rows, cols, code, ptrs[0], rows, self._real.cuda,
                          ptrs[1], code, ptrs[2], rows, code, ptrs[3], cols, code,
                          dwork, dbytes, ctypes.addressof(hwork), hbytes, self._info + 4 * i)

    def _assemble(self, left, s, right):
        """(U, s, Vh) of A from the factors of the column-major matrix."""
        pkg, p = self.package, self.problem
        k = min(p.m, p.n)
        if self.routine == "gesvd":  # left: U_M (C order U_Mᵀ), right: VT_M (C order VT_Mᵀ)
            if not self._tall:
                return right, s, left
            return transpose(pkg, left, conjugate=True), s, transpose(pkg, right, conjugate=True)
        u = transpose(pkg, right, conjugate=p.dtype.is_complex)  # Jacobi: right is V_M
        vh = left
        if not self.full_matrices and self.routine == "gesvdjBatched":
            u, vh = pkg.contiguous(u[..., :k]), pkg.contiguous(vh[..., :k, :])
        return u, s, vh

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)
