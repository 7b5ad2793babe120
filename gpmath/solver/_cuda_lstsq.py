"""The least-squares engine and its routes: through the SVD (``lapack_driver="gelsd"``,
:class:`SvdLeastSquares`) or a QR factorisation ("gelsy": :class:`CholeskyQrLeastSquares`, tested
a posteriori, else :class:`QrLeastSquares`).

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
import os

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

__all__ = ["CudaLstsq", "CholeskyQrLeastSquares", "QrLeastSquares", "SvdLeastSquares", "ORTHOGONALITY_PATH",
           "CHOLESKY_QR_SMALLEST", "SINGLE_ASPECT"]

ORTHOGONALITY_PATH = os.path.join(os.path.dirname(__file__), "kernels", "orthogonality.cu")
CHOLESKY_QR_SMALLEST = 32  # the fewest unknowns (or equations) that "gelsy" takes through Cholesky QR2
SINGLE_ASPECT = 2  # in single precision, the least ratio of equations to unknowns (or the reverse) it takes
_BLOCK = 256  # orthogonality.cu's BLOCK
_MOST_BLOCKS = 1024  # its grid: columns in a grid stride beyond


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


class _FactoredLeastSquares:
    """What the two QR routes of ``gelsy`` share: the column-major matrix M they factor (``A`` for
    M >= N, else ``Aᴴ``: ``rows x cols``), the bound of their rank test on R's diagonal, and the
    device copies of M and of b (zero-padded to *rows*)."""

    def __init__(self, problem: Problem, ws: Workspace, cond: float | None):
        self.problem, self.ws, self._cond, self._eps = problem, ws, cond, _eps(problem)
        self._tall = problem.m >= problem.n
        self._rows, self._cols = (problem.m, problem.n) if self._tall else (problem.n, problem.m)
        self._full_rank = max(self._eps if cond is None else cond, rank_guard(self._eps, self._cols))

    def _load(self, arrays) -> tuple:
        """``(M's work array, its address, b's, its address)`` (:meth:`_padded_rhs`)."""
        p, ws = self.problem, self.ws
        shape = p.rhs.batch_shape + (self._cols, self._rows)
        a_work, a_ptr = ws.load("a", arrays["a"], p.dtype, shape, keep=True, swapped=self._tall,
                                conjugate=not self._tall)
        return (a_work, a_ptr, *self._padded_rhs(arrays["b"]))

    def _padded_rhs(self, b):
        """*b* as column-major ``rows x nrhs`` matrices (C order ``(..., nrhs, rows)``), zero below
        its M rows: the work array (kept) and its address."""
        p, ws, rows = self.problem, self.ws, self._rows
        pkg = ws.package
        b = b[..., None] if p.rhs.vector else b
        shape = p.rhs.batch_shape + (p.rhs.nrhs, rows)
        if ws.staged:
            padded = np.zeros(shape, dtype=p.dtype.numpy)
            padded[..., : p.m] = np.swapaxes(b, -1, -2)
            return ws.load("b", padded, p.dtype, shape)
        work, ptr = ws.work("b", shape, p.dtype, keep=True)
        with pkg.on_stream(ws.stream, ws.home):
            pkg.copy_into(work[..., : p.m], pkg.swap(b))
            if rows > p.m:
                pkg.zero(work[..., p.m:])
        return work, ptr


class QrLeastSquares(_FactoredLeastSquares):
    """``(x, residues, rank, None)`` through ``Xgeqrf`` without pivoting, ``<t>ormqr`` and cuBLAS
    ``<t>trsm``: of ``A`` (M >= N) or ``Aᴴ`` (M < N); *cond* sets the rank test, and a batch that
    fails it is solved through the thin SVD."""

    def __init__(self, problem: Problem, ws: Workspace, cond: float | None):
        super().__init__(problem, ws, cond)
        p, lib = problem, ws.lib
        cs, blas = lib.cs, lib.cublas
        item, k, rows, t = p.dtype.itemsize, self._cols, self._rows, LETTER[p.dtype.name]
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
        ws = self.ws
        a_work, a_ptr, b_work, b_ptr = self._load(arrays)
        self._factor_and_solve(a_ptr, b_ptr)
        a_work, b_work = ws.deliver(a_work), ws.deliver(b_work)
        with ws.package.on_stream(ws.stream, ws.home):
            return self._result(arrays, a_work, b_work)

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


def orthogonality_tolerance(eps: float, rows: int) -> float:
    """The largest ``|QᴴQ - I|`` entry that :class:`CholeskyQrLeastSquares` takes for orthonormal
    columns of *rows* entries: ``32 eps``, growing as ``sqrt(rows)`` beyond 1024 rows (the rounding
    of the test's own sums).  A Cholesky QR2 that works leaves 3-5 eps at 4096 rows; one that does
    not (``cond(A)`` beyond about ``eps^-1/2``) leaves far more, or fails its Cholesky factorisation.

    Examples
    --------
    >>> [round(orthogonality_tolerance(1.0, rows)) for rows in (100, 1024, 4096, 2**20)]
    [32, 32, 64, 1024]
    """
    return 32 * eps * max(1.0, (rows / 1024) ** 0.5)


class CholeskyQrLeastSquares(_FactoredLeastSquares):
    """``(x, residues, rank, None)`` through Cholesky QR2 of ``A`` (M >= N) or ``Aᴴ`` (M < N):
    ``G = MᴴM``, ``G = R1ᴴR1``, ``Q1 = M R1⁻¹``, the same again on ``Q1`` (``R2``), so that
    ``M = Q R2 R1``; then ``x = R1⁻¹ R2⁻¹ Qᴴ b`` (or ``x = Q R2⁻ᴴ R1⁻ᴴ b``).  cuBLAS's gemm and
    trsm and cuSOLVER's potrf, all of them matrix-matrix work, where Householder QR spends most of
    its time in its panels.  The Gram products are gemm's: cuBLAS's syrk gives a narrow product
    few blocks (at 65536 x 64 in float32 the route took 7x Householder QR's time with it).

    It is taken after an a posteriori test, read at the call's one sync: both Cholesky
    factorisations succeeded, ``QᴴQ`` is the identity to :func:`orthogonality_tolerance`, and R's
    diagonal passes the same rank test as :class:`QrLeastSquares`'s (``kernels/orthogonality.cu``).
    A batch that fails (``cond(A)`` beyond about ``eps^-1/2``, or rank deficient) is solved again by
    :class:`QrLeastSquares`, which keeps every answer that route gives.
    """

    def __init__(self, problem: Problem, ws: Workspace, cond: float | None):
        super().__init__(problem, ws, cond)
        p, lib = problem, ws.lib
        count, item, k, real = max(p.batch_count, 1), p.dtype.itemsize, self._cols, np.finfo(p.dtype.numpy).dtype
        self._tolerance = orthogonality_tolerance(self._eps, self._rows)
        self._r1, self._r2, self._gram = (ws.buffer(k * k * item) for _ in range(3))
        code, upper = p.dtype.cuda, lib.cublas.FillMode.UPPER
        device, host = lib.cs.xpotrf_buffer_size(ws.handle, ws.params, upper, k, code, 0, k, code)
        self._work = ws.routine_work(device, host)
        self._infos_host, self._infos = lib.mapped_empty((count, 2), np.int32)
        self._report_host, self._report_host_ptr = lib.mapped_empty((count, 3), real)
        self._report_bytes, self._report_step = self._report_host.nbytes, 3 * real.itemsize
        self._report = ws.buffer(self._report_bytes)
        kernel = lib.kernel(ORTHOGONALITY_PATH, "orthogonality_report", GPM_REAL=real.itemsize,
                            GPM_COMPLEX=int(p.dtype.is_complex))
        self._test = lib.launch(kernel, ws.device_id, 5, grid=min(k, _MOST_BLOCKS), block=_BLOCK)
        for index, value in enumerate((self._gram, self._r1, self._r2, k)):
            self._test.set(index, value)
        self._blas = lib.blas_handle(ws.device_id)
        self._one, self._zero = np.ones(1, p.dtype.numpy), np.zeros(1, p.dtype.numpy)
        self._householder: QrLeastSquares | None = None  # planned by the first batch that fails the test

    @staticmethod
    def serves(problem: Problem, ws: Workspace) -> bool:
        """Whether this route takes *problem*: at least :data:`CHOLESKY_QR_SMALLEST` unknowns and
        equations (below, Householder QR's panels are short), in single precision at least
        :data:`SINGLE_ASPECT` times as many of one as of the other (a random square float32 matrix
        of order 4096 is beyond Cholesky QR2's ``cond(A)`` of about 3e3, and the failed try cost
        80 % more than Householder QR alone), 32-bit counts, and gpmath's kernels load."""
        p = problem
        short, long = sorted((p.m, p.n))
        return (short >= CHOLESKY_QR_SMALLEST and (p.dtype.real == "float64" or long >= SINGLE_ASPECT * short)
                and max(long, p.rhs.nrhs) < 2**31 and ws.lib.compiler_available())

    def run(self, arrays):
        p, ws = self.problem, self.ws
        _, a_ptr, _, b_ptr = self._load(arrays)
        x_work, x_ptr = ws.work("x", p.rhs.batch_shape + (p.rhs.nrhs, p.n), p.dtype)
        self._factor_and_solve(a_ptr, b_ptr, x_ptr)
        x_work = ws.deliver(x_work)
        if not ws.staged:
            ws.lib.synchronize(ws.stream)
        if not self._passed():
            if self._householder is None:
                self._householder = QrLeastSquares(p, ws, self._cond)
            return self._householder.run(arrays)
        pkg = ws.package
        with pkg.on_stream(ws.stream, ws.home):
            bm = arrays["b"][..., None] if p.rhs.vector else arrays["b"]
            x = pkg.contiguous(pkg.swap(x_work))
            rank = np.full(p.rhs.batch_shape, self._cols)
            if rank.ndim:
                rank = pkg.asarray(rank, ws.home)
            return lstsq_result(pkg, arrays["a"], bm, x, rank, None, p.rhs.vector, residues=False)

    def _passed(self) -> bool:
        """Whether every matrix of the last execution passed the test (read after the stream's sync)."""
        report = self._report_host.astype(np.float64)
        ratio = report[:, 1] * report[:, 2] * self._full_rank  # max |d| / min |d| * the rank test's bound
        return bool(not self._infos_host.any() and (report[:, 0] <= self._tolerance).all() and (ratio < 1).all())

    def _factor_and_solve(self, a_ptr: int, b_ptr: int, x_ptr: int) -> None:
        p, ws = self.problem, self.ws
        lib, stream = ws.lib, ws.stream
        cs, blas = lib.cs, lib.cublas
        rows, k, nrhs, item, t = self._rows, self._cols, p.rhs.nrhs, p.dtype.itemsize, LETTER[p.dtype.name]
        code, handle = p.dtype.cuda, self._blas
        dwork, dbytes, hwork, hbytes = self._work
        lib.bind_stream(handle, stream, blas.set_stream)
        upper, non_unit = blas.FillMode.UPPER, blas.DiagType.NON_UNIT
        left, right = blas.SideMode.LEFT, blas.SideMode.RIGHT
        plain, adjoint = blas.Operation.N, blas.Operation.C if p.dtype.is_complex else blas.Operation.T
        one, zero = self._one.ctypes.data, self._zero.ctypes.data
        lib.zero(self._report, self._report_bytes, stream)
        for i in range(max(p.batch_count, 1)):
            m_i, b_i, x_i = a_ptr + i * rows * k * item, b_ptr + i * rows * nrhs * item, x_ptr + i * p.n * nrhs * item
            for r, info in ((self._r1, self._infos + 8 * i), (self._r2, self._infos + 8 * i + 4)):  # M = Q R2 R1
                blas.gemm(t, handle, adjoint, plain, k, k, rows, one, m_i, rows, m_i, rows, zero, r, k)
                cs.xpotrf(ws.handle, ws.params, upper, k, code, r, k, code, dwork, dbytes, ctypes.addressof(hwork),
                          hbytes, info)
                blas.trsm(t, handle, right, upper, plain, non_unit, rows, k, one, r, k, m_i, rows)
            blas.gemm(t, handle, adjoint, plain, k, k, rows, one, m_i, rows, m_i, rows, zero, self._gram, k)
            self._test.set(4, self._report + i * self._report_step)
            self._test(stream)
            if self._tall:  # x = R1⁻¹ R2⁻¹ (Qᴴ b)
                blas.gemm(t, handle, adjoint, plain, k, nrhs, rows, one, m_i, rows, b_i, rows, zero, x_i, k)
                for r in (self._r2, self._r1):
                    blas.trsm(t, handle, left, upper, plain, non_unit, k, nrhs, one, r, k, x_i, k)
            else:  # x = Q R2⁻ᴴ R1⁻ᴴ b
                for r in (self._r1, self._r2):
                    blas.trsm(t, handle, left, upper, adjoint, non_unit, k, nrhs, one, r, k, b_i, rows)
                blas.gemm(t, handle, plain, plain, rows, nrhs, k, one, m_i, rows, b_i, rows, zero, x_i, rows)
        lib.copy_async(self._report_host_ptr, self._report, self._report_bytes, stream)


class CudaLstsq(CudaEngine, Lstsq):
    """:class:`~gpmath.solver.Lstsq` on the GPU (see the module docstring)."""

    def _plan_route(self):
        p, ws = self.problem, self.workspace
        if self.lapack_driver == "gelsd":
            return SvdLeastSquares(p, ws, self._operands_or_raise()["a"], self.cond)
        if CholeskyQrLeastSquares.serves(p, ws):
            return CholeskyQrLeastSquares(p, ws, self.cond)
        return QrLeastSquares(p, ws, self.cond)

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
