"""The cuSOLVER SVD engine: ``Xgesvd``, ``Xgesvdp``, ``<t>gesvdj`` and ``<t>gesvdjBatched``.

Layout conventions (C-order operands read column-major) are explained in :mod:`._cuda`.
"""

from __future__ import annotations

import ctypes

from .._bindings import cusolver as cs
from .._core.dtypes import DTYPES
from . import _problem as P
from ._crossover import SVD as SVD_TABLE, choose
from ._cuda import CudaEngine
from ._cuda_jacobi import ROUTINE as JACOBI, SmallJacobi, serves as jacobi_serves
from ._cuda_lu import LETTER as _LETTER
from ._ops import transpose
from ._plans import SVD

__all__ = ["CudaSVD"]

_LAPACK_LIKE = ("gesvd", "gesvdp")  # 64-bit API routines that need rows >= columns


class CudaSVD(SmallJacobi, CudaEngine, SVD):
    """:class:`~gpmath.solver.SVD` through gpmath's Jacobi kernel, ``<t>gesvdjBatched``, ``<t>gesvdj``,
    ``Xgesvdp`` or ``Xgesvd``.

    The engine factors ``M = Aᵀ`` (the C-order buffer read column-major, ``n x m``): Jacobi
    returns ``U_M`` (C order: ``Vh``) and ``V_M`` (C order: ``V_Mᵀ``, so ``U = conj`` of its
    transpose), as does ``gesvdp``; ``gesvd``/``gesvdp`` need rows >= columns, so tall inputs are
    factored as ``Aᴴ``.
    """

    def _plan_cuda(self):
        p = self.problem
        driver = self.driver or choose(SVD_TABLE, max(p.m, p.n), p.batch_count, jacobi_serves(p.dtype, p.m, p.n))
        if driver == "kernel":
            return self._plan_jacobi(svd=True)
        if driver == "gesvdj" and max(p.m, p.n) <= 32 and p.batch_count > 1:
            driver = "gesvdjBatched"
        self.routine = driver
        self._real = DTYPES[p.dtype.real]
        self._tall = driver in _LAPACK_LIKE and p.m > p.n
        rows, cols = (p.m, p.n) if self._tall else (p.n, p.m)  # the column-major matrix factored
        self._rows, self._cols = rows, cols
        self._factors = self._factor_shapes()  # fixed by the plan: not recomputed per call
        if driver in _LAPACK_LIKE:
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
        operands = (code, 0, rows, self._real.cuda, 0, code, 0, rows, code, 0, cols, code)
        if self.routine == "gesvdp":
            jobz = cs.EigMode.VECTOR if self.compute_uv else cs.EigMode.NOVECTOR
            device, host = cs.xgesvdp_buffer_size(self.handle, self.params, jobz, int(not self.full_matrices), rows,
                                                  cols, *operands)
        else:
            device, host = cs.xgesvd_buffer_size(self.handle, self.params, job, job, rows, cols, *operands)
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
        if self.routine == JACOBI:
            return self._run_jacobi(arrays, self.compute_uv)
        p, pkg = self.problem, self.package
        shape = p.batch_shape + (self._cols, self._rows)  # tall inputs: Aᴴ, read column-major as conj(A)
        _, a_ptr = self._load("a", arrays["a"], p.dtype, shape, keep=True, swapped=self._tall, conjugate=self._tall)
        s, s_ptr = self._work("s", p.batch_shape + (min(p.m, p.n),), self._real)
        left_shape, right_shape = self._factors
        keep = not self.compute_uv  # unused factors: scratch
        left, left_ptr = self._work("left", left_shape, p.dtype, keep)
        right, right_ptr = self._work("right", right_shape, p.dtype, keep)
        self._launch(a_ptr, s_ptr, left_ptr, right_ptr)
        s = self._deliver(s)
        if not self.compute_uv:
            return s
        with pkg.on_stream(self.stream, self._home):
            return self._assemble(self._deliver(left), s, self._deliver(right))

    def _launch(self, a_ptr, s_ptr, left_ptr, right_ptr) -> None:
        p = self.problem
        rows, cols, count, t = self._rows, self._cols, max(p.batch_count, 1), _LETTER[p.dtype.name]
        if self.routine == "gesvdjBatched":
            jobz, work, lwork = self._work_args
            cs.gesvdj_batched(t, self.handle, jobz, rows, cols, a_ptr, rows, s_ptr, left_ptr, rows, right_ptr, cols,
                              work, lwork, self._info, self._gesvdj, count)
            return
        (left_shape, right_shape), item = self._factors, p.dtype.itemsize
        steps = (rows * cols * item, min(rows, cols) * self._real.itemsize, left_shape[-2] * rows * item,
                 right_shape[-2] * cols * item)
        for i in range(count):
            ptrs = [base + i * step for base, step in zip((a_ptr, s_ptr, left_ptr, right_ptr), steps)]
            if self.routine == "gesvdj":
                jobz, work, lwork = self._work_args
                cs.gesvdj(t, self.handle, jobz, int(not self.full_matrices), rows, cols, ptrs[0], rows, ptrs[1],
                          ptrs[2], rows, ptrs[3], cols, work, lwork, self._info + 4 * i, self._gesvdj)
            else:
                self._launch_lapack_like(ptrs, self._info + 4 * i)

    def _launch_lapack_like(self, ptrs, info: int) -> None:
        p, rows, cols = self.problem, self._rows, self._cols
        code = p.dtype.cuda
        operands = (code, ptrs[0], rows, self._real.cuda, ptrs[1], code, ptrs[2], rows, code, ptrs[3], cols, code)
        dwork, dbytes, hwork, hbytes = self._work_args
        work = (dwork, dbytes, ctypes.addressof(hwork), hbytes, info)
        if self.routine == "gesvdp":
            jobz = cs.EigMode.VECTOR if self.compute_uv else cs.EigMode.NOVECTOR
            cs.xgesvdp(self.handle, self.params, jobz, int(not self.full_matrices), rows, cols, *operands, *work)
        else:
            job = self._jobs()
            cs.xgesvd(self.handle, self.params, job, job, rows, cols, *operands, *work)

    def _assemble(self, left, s, right):
        """(U, s, Vh) of A from the factors of the column-major matrix."""
        pkg, p = self.package, self.problem
        k = min(p.m, p.n)
        if self.routine == "gesvd":  # left: U_M (C order U_Mᵀ), right: VT_M (C order VT_Mᵀ)
            if not self._tall:
                return right, s, left
            return transpose(pkg, left, conjugate=True), s, transpose(pkg, right, conjugate=True)
        if self._tall:  # gesvdp of M = conj(A): U = conj(U_M), Vh = V_Mᵀ
            return transpose(pkg, left, conjugate=True), s, right
        # Jacobi and gesvdp: right is V_M, and U = conj(V_M)ᵀ (real: a view, no copy, as eigh's vectors)
        u = transpose(pkg, right, conjugate=True) if p.dtype.is_complex else pkg.swap(right)
        vh = left
        if not self.full_matrices and self.routine == "gesvdjBatched":  # it computes full factors: keep k columns
            u = u if u.shape[-1] == k else pkg.contiguous(u[..., :k])
            vh = vh if vh.shape[-2] == k else pkg.contiguous(vh[..., :k, :])
        return u, s, vh

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)

