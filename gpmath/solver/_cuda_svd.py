"""The CUDA engine of SVD and its routes: gpmath's Jacobi kernel or cuSOLVER (:class:`CusolverSvd`:
``Xgesvd``, ``Xgesvdp``, ``<t>gesvdj`` and ``<t>gesvdjBatched``).

Layout conventions (C-order operands read column-major) are explained in :mod:`._cuda`.  The
routes factor ``M = Aᵀ`` (the C-order buffer read column-major, ``n x m``): Jacobi returns ``U_M``
(C order: ``Vh``) and ``V_M`` (C order: ``V_Mᵀ``, so ``U = conj`` of its transpose), as does
``gesvdp``; ``gesvd``/``gesvdp`` need rows >= columns, so tall inputs are factored as ``Aᴴ``.
"""

from __future__ import annotations

import ctypes

from .._core.dtypes import DTYPES
from . import _problem as P
from ._crossover import SVD as SVD_TABLE, choose
from ._cuda import CudaEngine
from ._cuda_jacobi import JacobiKernel, serves
from ._device import LETTER
from ._ops import transpose
from ._plans import SVD
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaSVD", "CusolverSvd", "ThinSvd"]

_LAPACK_LIKE = ("gesvd", "gesvdp")  # 64-bit API routines that need rows >= columns


class CusolverSvd:
    """``(U, s, Vh)``, or ``s`` without *compute_uv*, by cuSOLVER's *routine*: ``"gesvd"``,
    ``"gesvdp"`` (the 64-bit API, one matrix at a time), ``"gesvdj"`` (one matrix at a time) or
    ``"gesvdjBatched"``; *full_matrices* as :class:`~gpmath.solver.SVD`'s."""

    def __init__(self, problem: Problem, ws: Workspace, routine: str, full_matrices: bool, compute_uv: bool):
        p, cs = problem, ws.lib.cs
        self.problem, self.ws, self.routine = problem, ws, routine
        self._full, self._compute_uv = full_matrices, compute_uv
        self._real = DTYPES[p.dtype.real]
        self._tall = routine in _LAPACK_LIKE and p.m > p.n
        rows, cols = (p.m, p.n) if self._tall else (p.n, p.m)  # the column-major matrix factored
        self._rows, self._cols = rows, cols
        self._factors = self._factor_shapes()  # fixed by the plan: not recomputed per call
        self._jobz = cs.EigMode.VECTOR if compute_uv else cs.EigMode.NOVECTOR
        self._job = "N" if not compute_uv else ("A" if full_matrices else "S")
        if routine in _LAPACK_LIKE:
            code = p.dtype.cuda
            operands = (code, 0, rows, self._real.cuda, 0, code, 0, rows, code, 0, cols, code)
            if routine == "gesvdp":
                device, host = cs.xgesvdp_buffer_size(ws.handle, ws.params, self._jobz, int(not full_matrices), rows,
                                                      cols, *operands)
            else:
                device, host = cs.xgesvd_buffer_size(ws.handle, ws.params, self._job, self._job, rows, cols, *operands)
            self._work = ws.routine_work(device, host)
            return
        self._gesvdj = cs.create_gesvdj_info()
        ws.hold(cs.destroy_gesvdj_info, self._gesvdj)
        t, count = LETTER[p.dtype.name], max(p.batch_count, 1)
        if routine == "gesvdjBatched":
            lwork = cs.gesvdj_batched_buffer_size(t, ws.handle, self._jobz, rows, cols, 0, rows, 0, 0, rows, 0, cols,
                                                  self._gesvdj, count)
        else:
            lwork = cs.gesvdj_buffer_size(t, ws.handle, self._jobz, int(not full_matrices), rows, cols, 0, rows, 0, 0,
                                          rows, 0, cols, self._gesvdj)
        self._work = (ws.buffer(lwork * p.dtype.itemsize), lwork)

    def _factor_shapes(self):
        """C-order shapes of the left and right factor buffers of the column-major matrix."""
        p, rows, cols = self.problem, self._rows, self._cols
        k = min(rows, cols)
        left = rows if (self._full or self.routine == "gesvdjBatched") else k
        right = cols if (self._full or self.routine == "gesvdjBatched") else k
        return p.batch_shape + (left, rows), p.batch_shape + (right, cols)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        shape = p.batch_shape + (self._cols, self._rows)  # tall inputs: Aᴴ, read column-major as conj(A)
        _, a_ptr = ws.load("a", arrays["a"], p.dtype, shape, keep=True, swapped=self._tall, conjugate=self._tall)
        s, s_ptr = ws.work("s", p.batch_shape + (min(p.m, p.n),), self._real)
        left_shape, right_shape = self._factors
        keep = not self._compute_uv  # unused factors: scratch
        left, left_ptr = ws.work("left", left_shape, p.dtype, keep)
        right, right_ptr = ws.work("right", right_shape, p.dtype, keep)
        self._launch(a_ptr, s_ptr, left_ptr, right_ptr)
        s = ws.deliver(s)
        if not self._compute_uv:
            return s
        with ws.package.on_stream(ws.stream, ws.home):
            return self._assemble(ws.deliver(left), s, ws.deliver(right))

    def _launch(self, a_ptr, s_ptr, left_ptr, right_ptr) -> None:
        p, ws = self.problem, self.ws
        cs = ws.lib.cs
        rows, cols, count, t = self._rows, self._cols, max(p.batch_count, 1), LETTER[p.dtype.name]
        if self.routine == "gesvdjBatched":
            work, lwork = self._work
            cs.gesvdj_batched(t, ws.handle, self._jobz, rows, cols, a_ptr, rows, s_ptr, left_ptr, rows, right_ptr, cols,
                              work, lwork, ws.info, self._gesvdj, count)
            return
        (left_shape, right_shape), item = self._factors, p.dtype.itemsize
        steps = (rows * cols * item, min(rows, cols) * self._real.itemsize, left_shape[-2] * rows * item,
                 right_shape[-2] * cols * item)
        for i in range(count):
            ptrs = [base + i * step for base, step in zip((a_ptr, s_ptr, left_ptr, right_ptr), steps)]
            if self.routine == "gesvdj":
                work, lwork = self._work
                cs.gesvdj(t, ws.handle, self._jobz, int(not self._full), rows, cols, ptrs[0], rows, ptrs[1],
                          ptrs[2], rows, ptrs[3], cols, work, lwork, ws.info + 4 * i, self._gesvdj)
            else:
                self._launch_lapack_like(ptrs, ws.info + 4 * i)

    def _launch_lapack_like(self, ptrs, info: int) -> None:
        p, ws, rows, cols = self.problem, self.ws, self._rows, self._cols
        cs, code = ws.lib.cs, p.dtype.cuda
        operands = (code, ptrs[0], rows, self._real.cuda, ptrs[1], code, ptrs[2], rows, code, ptrs[3], cols, code)
        dwork, dbytes, hwork, hbytes = self._work
        work = (dwork, dbytes, ctypes.addressof(hwork), hbytes, info)
        if self.routine == "gesvdp":
            cs.xgesvdp(ws.handle, ws.params, self._jobz, int(not self._full), rows, cols, *operands, *work)
        else:
            cs.xgesvd(ws.handle, ws.params, self._job, self._job, rows, cols, *operands, *work)

    def _assemble(self, left, s, right):
        """(U, s, Vh) of A from the factors of the column-major matrix."""
        pkg, p = self.ws.package, self.problem
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
        if not self._full and self.routine == "gesvdjBatched":  # it computes full factors: keep k columns
            u = u if u.shape[-1] == k else pkg.contiguous(u[..., :k])
            vh = vh if vh.shape[-2] == k else pkg.contiguous(vh[..., :k, :])
        return u, s, vh


class CudaSVD(CudaEngine, SVD):
    """:class:`~gpmath.solver.SVD` through gpmath's Jacobi kernel, ``<t>gesvdjBatched``, ``<t>gesvdj``,
    ``Xgesvdp`` or ``Xgesvd`` (see the module docstring).

    Attributes
    ----------
    routine : str
        The route's routine, once planned (and in error messages).
    """

    def _plan_route(self):
        p, ws = self.problem, self.workspace
        driver = self.driver or choose(SVD_TABLE, max(p.m, p.n), p.batch_count, serves(p.dtype, p.m, p.n, self.lib))
        if driver == "kernel":
            route = JacobiKernel(p, ws, svd=True, vectors=self.compute_uv)
        else:
            if driver == "gesvdj" and max(p.m, p.n) <= 32 and p.batch_count > 1:
                driver = "gesvdjBatched"
            route = CusolverSvd(p, ws, driver, self.full_matrices, self.compute_uv)
        self.routine = route.routine
        return route

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)


class ThinSvd:
    """The thin SVD of an outer plan's operand ``a`` by an inner :class:`~gpmath.solver.SVD` plan
    (its own choice of routine) on the outer plan's stream, freed with the outer plan; the
    inner plan holds ``a`` only while it runs.

    Attributes
    ----------
    plan : SVD
        The inner plan.
    """

    def __init__(self, ws: Workspace, a):
        self.plan = SVD(a, full_matrices=False, execution="cuda", stream=ws.stream, device_id=ws.device_id).plan()
        ws.hold(self.plan.free)

    def __call__(self, a):
        """``(u, s, vh)`` of *a* (of the planned package, dtype and shape)."""
        return self.plan.execute_with(a)
