"""The least-squares engine and its routes: through the SVD (``lapack_driver="gelsd"``,
:class:`SvdLeastSquares`) or a QR factorisation ("gelsy", :class:`QrLeastSquares`).

``gelsd``: an inner :class:`~gpmath.solver._cuda_svd.CudaSVD` plan (thin SVD), then the
pseudo-inverse with the package's array operations on the plan's stream, as LAPACK's ``gelsd``
defines ``rank``, ``s`` and ``residues``.

``gelsy``: ``Xgeqrf`` of ``A`` (M >= N: ``x = R⁻¹ (Qᴴ b)``, by ``<t>ormqr`` and cuBLAS
``<t>trsm``) or of ``Aᴴ`` (M < N, the minimum-norm ``x = Q R⁻ᴴ b``), without pivoting.  Where a
matrix of the batch has an ``|R[i, i]|`` below ``max(cond, guard) * max |R[j, j]|``, the batch
is solved again through the thin SVD, as ``gelsd`` solves it: the minimum-norm solutions and ranks
that LAPACK's pivoted ``gelsy`` also gives.  Without pivoting, R's diagonal does not reveal the
rank at ``cond``'s scale: the rounding leaves an entry of a rank-deficient matrix at a few
``eps * max |R[j, j]|`` (three matrices in five of rank 2 and order 4 in float64 passed a test at
``eps``, and their "full-rank" solutions were wrong), so the QR solution is taken only where every
entry clears :func:`rank_guard`, and the SVD decides the rank at ``cond`` otherwise.  ``s`` is None,
as SciPy's ``gelsy`` returns it.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._core.dtypes import DTYPES
from . import _problem as P
from ._cuda import CudaEngine
from ._device import LETTER
from ._ops import abs_max_ratio_rank, lstsq_from_svd, lstsq_result, svd_solution
from ._cuda_svd import ThinSvd
from ._plans import Lstsq
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaLstsq", "QrLeastSquares", "SvdLeastSquares"]


def _eps(problem: Problem) -> float:
    return float(np.finfo(DTYPES[problem.dtype.real].numpy).eps)


def rank_guard(eps: float, n: int) -> float:
    """The smallest ``|R[i, i]| / max |R[j, j]|`` of an unpivoted QR that :class:`QrLeastSquares`
    takes for full rank: ``min(sqrt(eps), 1000 n eps)``, far above the rounding a rank-deficient
    matrix leaves there (a few ``n eps``), far below the entries of a well-conditioned one.

    Examples
    --------
    >>> f"{rank_guard(2.0 ** -52, 4):.1e} {rank_guard(2.0 ** -23, 1024):.1e}"  # float64 of order 4, float32 of 1024
    '8.9e-13 3.5e-04'
    """
    return min(eps ** 0.5, 1000 * n * eps)


class SvdLeastSquares:
    """``(x, residues, rank, s)`` from the thin SVD of the operand *a* (``cond`` as LAPACK's gelsd).

    Attributes
    ----------
    svd : ThinSvd
        The inner SVD (freed with the outer plan).
    """

    def __init__(self, problem: Problem, ws: Workspace, a, cond: float | None):
        self.problem, self.ws, self._cond, self._eps = problem, ws, cond, _eps(problem)
        self.svd = ThinSvd(ws, a)

    def run(self, arrays):
        ws = self.ws
        u, s, vh = self.svd(arrays["a"])
        with ws.package.on_stream(ws.stream, ws.home):
            return lstsq_from_svd(ws.package, arrays["a"], arrays["b"], u, s, vh, self.problem.rhs.vector, self._cond,
                                  self._eps)


class QrLeastSquares:
    """``(x, residues, rank, None)`` through ``Xgeqrf`` without pivoting, ``<t>ormqr`` and cuBLAS
    ``<t>trsm``: of ``A`` (M >= N) or ``Aᴴ`` (M < N); *cond* sets the rank test, and a batch that
    fails it is solved through the thin SVD."""

    def __init__(self, problem: Problem, ws: Workspace, cond: float | None):
        p, lib = problem, ws.lib
        cs, blas = lib.cs, lib.cublas
        self.problem, self.ws, self._cond, self._eps = problem, ws, cond, _eps(problem)
        m, n, item = p.m, p.n, p.dtype.itemsize
        self._full_rank = max(self._eps if cond is None else cond, rank_guard(self._eps, min(m, n)))
        self._tall = m >= n
        self._rows, self._cols = (m, n) if self._tall else (n, m)  # the column-major matrix factored: A or Aᴴ
        k, rows, t = self._cols, self._rows, LETTER[p.dtype.name]
        self._tau = ws.buffer(max(p.batch_count, 1) * k * item)
        code = p.dtype.cuda
        device, host = cs.xgeqrf_buffer_size(ws.handle, ws.params, rows, k, code, 0, rows, code, 0, code)
        conjugate = blas.Operation.C if p.dtype.is_complex else blas.Operation.T
        self._ormqr_trans = conjugate if self._tall else blas.Operation.N
        self._trsm_trans = blas.Operation.N if self._tall else conjugate
        self._trsm_mode = (blas.SideMode.LEFT, blas.FillMode.UPPER, blas.DiagType.NON_UNIT)
        lwork = cs.ormqr_buffer_size(t, ws.handle, blas.SideMode.LEFT, self._ormqr_trans, rows, p.rhs.nrhs, k, 0,
                                     rows, 0, 0, rows)
        self._lwork = lwork
        self._work = ws.routine_work(device, host, allocate=max(device, lwork * item, 1))  # ormqr shares it
        self._blas = lib.blas_handle(ws.device_id)
        self._one = np.ones(1, dtype=p.dtype.numpy)
        self._svd: ThinSvd | None = None  # planned by the first rank-deficient batch

    def run(self, arrays):
        p, ws = self.problem, self.ws
        shape = p.rhs.batch_shape + (self._cols, self._rows)
        a_work, a_ptr = ws.load("a", arrays["a"], p.dtype, shape, keep=True, swapped=self._tall,
                                conjugate=not self._tall)
        b_work, b_ptr = self._load_padded_rhs(arrays["b"])
        self._factor_and_solve(a_ptr, b_ptr)
        a_work, b_work = ws.deliver(a_work), ws.deliver(b_work)
        with ws.package.on_stream(ws.stream, ws.home):
            return self._result(arrays, a_work, b_work)

    def _load_padded_rhs(self, b):
        """b as column-major ``rows x nrhs`` (C order ``(..., nrhs, rows)``), zero below its M rows."""
        p, ws = self.problem, self.ws
        pkg = ws.package
        b = b[..., None] if p.rhs.vector else b
        shape = p.rhs.batch_shape + (p.rhs.nrhs, self._rows)
        if ws.staged:
            padded = np.zeros(shape, dtype=p.dtype.numpy)
            padded[..., : p.m] = np.swapaxes(b, -1, -2)
            return ws.load("b", padded, p.dtype, shape)
        work, ptr = ws.work("b", shape, p.dtype, keep=True)
        with pkg.on_stream(ws.stream, ws.home):
            pkg.copy_into(work[..., : p.m], pkg.swap(b))
            if self._rows > p.m:
                pkg.zero(work[..., p.m:])
        return work, ptr

    def _factor_and_solve(self, a_ptr: int, b_ptr: int) -> None:
        p, ws = self.problem, self.ws
        lib = ws.lib
        cs, blas = lib.cs, lib.cublas
        rows, k, nrhs, item, t, code = self._rows, self._cols, p.rhs.nrhs, p.dtype.itemsize, LETTER[p.dtype.name], p.dtype.cuda
        dwork, dbytes, hwork, hbytes = self._work
        lib.bind_stream(self._blas, ws.stream, blas.set_stream)
        (left, upper, non_unit), trans = self._trsm_mode, self._trsm_trans
        one = self._one.ctypes.data
        for i in range(max(p.batch_count, 1)):
            a_i, b_i, tau_i, info_i = a_ptr + i * rows * k * item, b_ptr + i * rows * nrhs * item, self._tau + i * k * item, (
                ws.info + 4 * i)
            cs.xgeqrf(ws.handle, ws.params, rows, k, code, a_i, rows, code, tau_i, code, dwork, dbytes,
                      ctypes.addressof(hwork), hbytes, info_i)
            if self._tall:  # x = R⁻¹ (Qᴴ b)
                cs.ormqr(t, ws.handle, left, self._ormqr_trans, rows, nrhs, k, a_i, rows, tau_i, b_i, rows, dwork,
                         self._lwork, info_i)
                blas.trsm(t, self._blas, left, upper, trans, non_unit, k, nrhs, one, a_i, rows, b_i, rows)
            else:  # x = Q [R⁻ᴴ b; 0]
                blas.trsm(t, self._blas, left, upper, trans, non_unit, k, nrhs, one, a_i, rows, b_i, rows)
                cs.ormqr(t, ws.handle, left, self._ormqr_trans, rows, nrhs, k, a_i, rows, tau_i, b_i, rows, dwork,
                         self._lwork, info_i)

    def _result(self, arrays, a_work, b_work):
        """``(x, residues, rank, None)``: R's diagonal tested (:func:`rank_guard`), read once (the
        call's one sync), after the full-rank solution is enqueued; a batch that fails the test is
        solved again by the SVD, which takes the ranks at ``cond``."""
        p, ws = self.problem, self.ws
        pkg = ws.package
        rank = abs_max_ratio_rank(pkg, pkg.diagonal(a_work), self._full_rank)  # (the rank where it passes)
        bm = arrays["b"][..., None] if p.rhs.vector else arrays["b"]
        x = pkg.copy(pkg.swap(b_work)[..., : p.n, :])
        ranks = pkg.to_numpy(rank)
        if (ranks < self._cols).any():  # rank deficient: the SVD's minimum-norm solutions
            if self._svd is None:
                self._svd = ThinSvd(ws, arrays["a"])
            x, rank = svd_solution(pkg, bm, *self._svd(arrays["a"]), self._cond, self._eps)
            self._svd.plan.check()  # (a stream sync: this path has had one already)
        elif not rank.ndim:
            rank = ranks  # read already: lstsq_result's int() reads nothing more
        return lstsq_result(pkg, arrays["a"], bm, x, rank, None, p.rhs.vector, residues=False)


class CudaLstsq(CudaEngine, Lstsq):
    """:class:`~gpmath.solver.Lstsq` on the GPU (see the module docstring)."""

    def _plan_route(self):
        if self.lapack_driver == "gelsd":
            return SvdLeastSquares(self.problem, self.workspace, self._operands_or_raise()["a"], self.cond)
        return QrLeastSquares(self.problem, self.workspace, self.cond)

    def _info_values(self) -> np.ndarray:
        """Per-matrix ``info`` (of the inner SVD for ``"gelsd"``)."""
        return self.route.svd.plan._info_values() if self.lapack_driver == "gelsd" else super()._info_values()

    def check(self) -> None:
        """Raise :class:`LinAlgError` where the SVD did not converge or an argument was rejected."""
        if self.lapack_driver == "gelsd":
            self.route.svd.plan.check()
        else:
            super().check()

    def _failure_message(self, index, info):
        return P.not_converged(self.route.svd.plan.routine if self.lapack_driver == "gelsd" else "geqrf", "a", index, info)
