"""cuSOLVER engines: Cholesky, CholeskySolve, Solve (LU, Cholesky, mixed-precision IRS) and Eigh.

Layout conventions (C-order operands read column-major) are explained in :mod:`._cuda`.  The
Hermitian routines always run with cuSOLVER's ``LOWER`` fill mode, which is the fast one
(``potrf`` with ``UPPER`` took 2.3x as long at n = 4096 on an H100): to read the caller's lower
triangle the engine loads a swapped copy (``A`` itself, column-major, as torch and CuPy do); to
read the upper one it loads a plain copy, ``conj(A)`` column-major, and conjugates back.  The
exception is batched Jacobi (``syevjBatched``) on real matrices, which loads a plain copy either
way and flips the fill mode: a byte copy costs less host time than a transposing copy kernel, and
the fill mode makes no difference to the Jacobi kernel.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._bindings import cublas
from .._bindings import cusolver as cs
from .._core.dtypes import DTYPES
from .._errors import LinAlgError
from . import _problem as P
from ._crossover import CHOLESKY, EIGH, FACTOR, SOLVE, choose
from ._cuda import CudaEngine
from ._cuda_jacobi import ROUTINE as JACOBI, SmallJacobi, serves as jacobi_serves
from ._cuda_lu import LETTER, Getrf, Rhs
from ._cuda_permute import PermutedRhs
from ._cuda_small import SmallCholesky, SmallSolve, serves as small_serves
from ._ops import finite_matrices, inf_norms
from ._plans import Cholesky, CholeskySolve, Eigh, Solve

__all__ = ["CudaCholesky", "CudaCholeskySolve", "CudaSolve", "CudaEigh", "IRS_REFINEMENT"]

_LOWER, _UPPER = cublas.FillMode.LOWER, cublas.FillMode.UPPER
IRS_REFINEMENT = cs.IRSRefinement.CLASSICAL  # CLASSICAL_GMRES measured no faster (H100, n = 8192) and needs nrhs = 1
# IRS stops when max|r| < IRS_TOLERANCE * eps * ‖A‖∞ * max|x| (cuSOLVER's tolerance value, set per
# matrix, is the factor of max|x|); None keeps cuSOLVER's default, sqrt(N) in place of
# IRS_TOLERANCE.  ``bench/linalg.py irs-tol`` measures the choice.
IRS_TOLERANCE: float | None = P.MIXED_TOLERANCE
SOLVE_SWAPPED = True  # LU of a swapped copy (A itself) and getrs "N": 0.4-10 % faster than Aᵀ and "T" (bench compares)
_IRS_LOW = {  # (input precision, precision=) -> lowest precision of cusolverDnIRSXgesv
    (False, "f32"): cs.PrecType.R_32F, (False, "tf32"): cs.PrecType.R_TF32,
    (False, "f16"): cs.PrecType.R_16F, (False, "bf16"): cs.PrecType.R_16BF,
    (True, "f32"): cs.PrecType.C_32F, (True, "tf32"): cs.PrecType.C_TF32,
    (True, "f16"): cs.PrecType.C_16F, (True, "bf16"): cs.PrecType.C_16BF,
}


class _Potrf:
    """Cholesky factorisation (``LOWER``) in place of a batch of column-major matrices, and solves."""

    def _plan_potrf(self, factor: bool = True) -> None:
        p = self.problem
        self._factor_route = choose(FACTOR, p.n, p.batch_count)
        if factor and self._factor_route == "looped":
            code = p.dtype.cuda
            device, host = cs.xpotrf_buffer_size(self.handle, self.params, _LOWER, p.n, code, 0, p.n, code)
            self._potrf_work = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)

    def _load_hermitian(self, a, lower: bool, keep: bool):
        """A copy whose column-major lower triangle holds the caller's triangle: ``A`` (*lower*) or ``conj(A)``."""
        p = self.problem
        return self._load("a", a, p.dtype, p.batch_shape + (p.n, p.n), keep=keep, swapped=lower)

    def _potrf(self, ptr: int) -> None:
        p = self.problem
        step, count = p.n * p.n * p.dtype.itemsize, max(p.batch_count, 1)
        if self._factor_route == "batched":
            pointers = self._pointers(ptr, step, count)
            cs.potrf_batched(LETTER[p.dtype.name], self.handle, _LOWER, p.n, pointers, p.n, self._info, count)
            return
        dwork, dbytes, hwork, hbytes = self._potrf_work
        for i in range(count):
            cs.xpotrf(self.handle, self.params, _LOWER, p.n, p.dtype.cuda, ptr + i * step, p.n, p.dtype.cuda,
                      dwork, dbytes, ctypes.addressof(hwork), hbytes, self._info + 4 * i)

    def _potrs(self, uplo: int, a_ptr: int, b_ptr: int) -> None:
        p = self.problem
        t, count, k, n = LETTER[p.dtype.name], max(p.batch_count, 1), p.rhs.nrhs, p.n
        a_step, b_step = n * n * p.dtype.itemsize, n * k * p.dtype.itemsize
        if self._factor_route == "batched":  # potrsBatched takes one right-hand side: one launch per column
            a_array = self._pointers(a_ptr, a_step, count)
            for j in range(k):
                b_array = self._pointers(b_ptr + j * n * p.dtype.itemsize, b_step, count)
                cs.potrs_batched(t, self.handle, uplo, n, 1, a_array, n, b_array, n, self._solve_info, count)
            return
        for i in range(count):
            cs.xpotrs(self.handle, self.params, uplo, n, k, p.dtype.cuda, a_ptr + i * a_step, n,
                      p.dtype.cuda, b_ptr + i * b_step, n, self._solve_info)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info)


class CudaCholesky(SmallCholesky, _Potrf, CudaEngine, Cholesky):
    """:class:`~gpmath.solver.Cholesky` through gpmath's small-matrix kernel, ``cusolverDnXpotrf``
    or ``<t>potrfBatched``."""

    def _plan_cuda(self):
        p = self.problem
        self._route = choose(CHOLESKY, p.n, p.batch_count, small_serves(p.n))
        if self._route == "kernel":
            return self._plan_small_cholesky()
        self._plan_potrf()

    def _run(self, arrays):
        pkg = self.package
        # C order holds L_Mᵀ: Lᵀ (lower: M = A) or U (upper: M = conj(A)), zeros below the diagonal
        factor = self._run_small_cholesky(arrays) if self._route == "kernel" else self._run_potrf(arrays["a"])
        return pkg.swap(factor) if self.lower else factor  # L: a transposed view (column-major, as LAPACK's)

    def _run_potrf(self, a):
        p, pkg = self.problem, self.package
        # the result array: the triangle read (column-major lower) and zeros in the other, made in one pass
        source = pkg.swap(a) if self.lower else a
        if self.staged:
            work, ptr = self._load("a", np.triu(source), p.dtype, p.batch_shape + (p.n, p.n))
        else:
            with pkg.on_stream(self.stream, self._home):
                work = pkg.upper_copy(source)
            ptr = pkg.ptr(work)
        self._potrf(ptr)
        return self._deliver(work)


class CudaCholeskySolve(Rhs, _Potrf, CudaEngine, CholeskySolve):
    """:class:`~gpmath.solver.CholeskySolve` through ``Xpotrs`` or ``<t>potrsBatched``.

    The C-order factor read column-major is ``Uᵀ`` (lower) or ``Lᵀ`` (upper), a Cholesky factor of
    ``conj(A)``: the engine solves ``conj(A) conj(x) = conj(b)`` without copying the factor's layout.
    """

    def _plan_cuda(self):
        self._plan_potrf(factor=False)
        self._solve_info = self._info

    def _run(self, arrays):
        p = self.problem
        conj = p.dtype.is_complex
        _, c_ptr = self._load("c", arrays["c"], p.dtype, p.batch_shape + (p.n, p.n), keep=True)
        b, b_ptr = self._load_rhs(arrays["b"], conj)
        self._potrs(_UPPER if self.lower else _LOWER, c_ptr, b_ptr)
        return self._deliver_x(b, conj)


class CudaSolve(Rhs, Getrf, _Potrf, SmallSolve, PermutedRhs, CudaEngine, Solve):
    """:class:`~gpmath.solver.Solve`: gpmath's small-matrix kernels (LU, or Cholesky for
    ``assume_a="pos"``), LU (``Xgetrf``/``getrfBatched``, the interchanges applied to b by gpmath's
    kernel where the LU is of A itself), Cholesky (``potrf``), or IRS."""

    def _plan_cuda(self):
        p = self.problem
        self._route = "factor"
        if self.refine == "mixed":
            return self._plan_irs()
        if choose(SOLVE, p.n, p.batch_count, small_serves(p.n)) == "kernel":
            self._route = "kernel"
            return self._plan_small(positive=self.assume_a == "pos")
        if self.assume_a == "pos":
            self._plan_potrf()
            self._solve_info = self._buffer(4 * max(p.batch_count, 1))
            return
        self._plan_getrf()
        self._plan_permute_if_it_serves()

    def _plan_irs(self):
        p = self.problem
        self._solution = None
        self._irs_params = cs.irs_params_create()
        self._hold(cs.irs_params_destroy, self._irs_params)
        main = (cs.PrecType.C_64F if p.dtype.real == "float64" else cs.PrecType.C_32F) if p.dtype.is_complex else (
            cs.PrecType.R_64F if p.dtype.real == "float64" else cs.PrecType.R_32F)
        cs.irs_params_set_solver_precisions(self._irs_params, main, _IRS_LOW[(p.dtype.is_complex, self.precision)])
        cs.irs_params_set_refinement_solver(self._irs_params, IRS_REFINEMENT)
        cs.irs_params_enable_fallback(self._irs_params)  # the tolerance is set per matrix in _run_irs
        self._irs_infos = cs.irs_infos_create()
        self._hold(cs.irs_infos_destroy, self._irs_infos)
        nbytes = cs.irs_xgesv_buffer_size(self.handle, self._irs_params, p.n, p.rhs.nrhs)
        self._irs_work = (self._buffer(nbytes), nbytes)

    def _run(self, arrays):
        p = self.problem
        if self.refine == "mixed":
            return self._run_irs(arrays)
        if self._route == "kernel":
            return self._run_small(arrays)
        shape = p.batch_shape + (p.n, p.n)
        if self.assume_a == "pos":
            conj = p.dtype.is_complex and not self.lower  # conj(A) conj(x) = conj(b)
            _, a_ptr = self._load_hermitian(arrays["a"], self.lower, keep=True)
            b, b_ptr = self._load_rhs(arrays["b"], conj)
            self._potrf(a_ptr)
            self._potrs(_LOWER, a_ptr, b_ptr)
            return self._deliver_x(b, conj)
        swapped = SOLVE_SWAPPED  # column-major A (swapped copy) or Aᵀ (plain copy)
        _, a_ptr = self._load("a", arrays["a"], p.dtype, shape, keep=True, swapped=swapped)
        b, b_ptr = self._load_rhs(arrays["b"])
        self._getrf(a_ptr, self._pivots)
        trans = cublas.Operation.T if swapped == self.transposed else cublas.Operation.N
        pivots = self._pivots
        if trans == cublas.Operation.N and self._permute is not None:  # P b by gpmath's kernel, then no pivots
            b, b_ptr = self._permuted(b_ptr, pivots)
            pivots = 0
        self._getrs(trans, a_ptr, pivots, b_ptr, p.rhs.nrhs)
        return self._deliver_x(b)

    def _run_irs(self, arrays):
        p = self.problem
        k, count = p.rhs.nrhs, max(p.batch_count, 1)
        # IRS has no transposed mode: A itself, column-major
        a, a_ptr = self._load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        _, b_ptr = self._load_rhs(arrays["b"])
        x, x_ptr = self._work("x", p.rhs.batch_shape + (k, p.n), p.dtype)
        a_step, b_step = p.n * p.n * p.dtype.itemsize, p.n * k * p.dtype.itemsize
        work, nbytes = self._irs_work
        tolerances = self._irs_tolerances(arrays["a"], a)
        most, fell_back = 0, False
        for i in range(count):
            if tolerances is not None:
                cs.irs_params_set_tol(self._irs_params, float(tolerances[i]))
            niters = cs.irs_xgesv(self.handle, self._irs_params, self._irs_infos, p.n, k, a_ptr + i * a_step, p.n,
                                  b_ptr + i * b_step, p.n, x_ptr + i * b_step, p.n, work, nbytes, self._info + 4 * i)
            most, fell_back = max(most, abs(niters)), fell_back or niters < 0
        outer = cs.irs_infos_get_outer_niters(self._irs_infos)
        self.refinement = P.Refinement(most, outer, fell_back)
        self._solution = self._deliver_x(x)
        return self._solution

    def check(self) -> None:
        """:meth:`CudaEngine.check`, and for a mixed-precision solve a scan of the solution: IRS
        reports a singular ``a`` with ``info = 0`` and a solution of NaNs (measured on an H200)."""
        super().check()
        if self.refine != "mixed" or self._solution is None:
            return
        p, pkg = self.problem, self.package
        with pkg.on_stream(self.stream, self._home):
            finite = pkg.to_numpy(finite_matrices(pkg, self._solution, len(p.rhs.batch_shape)))
        if not finite.all():
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise LinAlgError(P.not_solved("a", index))

    def _irs_tolerances(self, a, loaded):
        """cuSOLVER's tolerance per matrix, ``IRS_TOLERANCE * eps * ‖A‖∞`` (reading the norms syncs the stream)."""
        if IRS_TOLERANCE is None:
            return None
        p, pkg = self.problem, self.package
        if self.staged:
            norms = np.broadcast_to(inf_norms(pkg, a), p.batch_shape)
        else:
            with pkg.on_stream(self.stream, self._home):  # the loaded copy holds Aᵀ
                norms = pkg.to_numpy(inf_norms(pkg, loaded, transposed=True))
        return (IRS_TOLERANCE * float(np.finfo(p.dtype.numpy).eps)) * np.asarray(norms, dtype=np.float64).reshape(-1)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info) if self.assume_a == "pos" else P.singular("a", index, info)


class CudaEigh(SmallJacobi, CudaEngine, Eigh):
    """:class:`~gpmath.solver.Eigh` through gpmath's Jacobi kernel, ``cusolverDnXsyevd`` (looped),
    ``<t>syevjBatched`` or ``XsyevBatched``."""

    def _plan_cuda(self):
        p = self.problem
        driver = self.driver or choose(EIGH, p.n, p.batch_count, jacobi_serves(p.dtype, p.n, p.n))
        if driver == "kernel":
            return self._plan_jacobi(svd=False, lower=self.lower)
        if driver == "syevBatched" and not cs.xsyev_batched_available():
            if self.driver:
                raise NotImplementedError('driver="syevBatched" needs cuSOLVER 11.7 (CUDA 12.6) or newer')
            driver = "syevjBatched"  # the default's choice on older cuSOLVER
        self.routine = driver if driver in ("syevd", "syevBatched") else "syevjBatched"
        # Jacobi on real matrices: a plain copy (one memcpy) read with the fill mode flipped
        plain = self.routine == "syevjBatched" and not p.dtype.is_complex
        self._swapped, self._uplo = self.lower and not plain, (_UPPER if plain and self.lower else _LOWER)
        real, code = DTYPES[p.dtype.real], p.dtype.cuda
        jobz = cs.EigMode.NOVECTOR if self.eigvals_only else cs.EigMode.VECTOR
        self._jobz, self._real = jobz, real
        count = max(p.batch_count, 1)
        # syevd cannot be captured in a CUDA graph (the capture is invalidated, measured on an H200):
        # under capture its plans run syevBatched instead, in a workspace large enough for both
        self._capture_route = "syevBatched" if self.routine == "syevd" and cs.xsyev_batched_available() else None
        if self.routine != "syevjBatched":  # the 64-bit API: device and host workspaces
            sizes = (self.handle, self.params, jobz, _LOWER, p.n, code, 0, p.n, real.cuda, 0, code)
            needs = []
            if self.routine == "syevd":
                needs.append(cs.xsyevd_buffer_size(*sizes))
            if "syevBatched" in (self.routine, self._capture_route):
                needs.append(cs.xsyev_batched_buffer_size(*sizes, count))
            device, host = max(d for d, _ in needs), max(h for _, h in needs)
            self._work_args = (self._buffer(device), device, (ctypes.c_char * max(host, 1))(), host)
            return
        self._syevj = cs.create_syevj_info()
        self._hold(cs.destroy_syevj_info, self._syevj)
        lwork = cs.syevj_batched_buffer_size(LETTER[p.dtype.name], self.handle, jobz, self._uplo, p.n, 0, p.n,
                                             0, self._syevj, count)
        self._work_args = (self._buffer(lwork * p.dtype.itemsize), lwork)

    def _run(self, arrays):
        if self.routine == JACOBI:
            return self._run_jacobi(arrays, not self.eigvals_only)
        p, pkg = self.problem, self.package
        count, code = max(p.batch_count, 1), p.dtype.cuda
        shape = p.batch_shape + (p.n, p.n)
        a, a_ptr = self._load("a", arrays["a"], p.dtype, shape, keep=self.eigvals_only, swapped=self._swapped)
        w, w_ptr = self._work("w", p.batch_shape + (p.n,), self._real)
        routine = self.routine
        if self._capture_route is not None and self._capturing():
            routine = self._capture_route
        if routine == "syevjBatched":
            work, lwork = self._work_args
            cs.syevj_batched(LETTER[p.dtype.name], self.handle, self._jobz, self._uplo, p.n, a_ptr, p.n, w_ptr,
                             work, lwork, self._info, self._syevj, count)
        elif routine == "syevBatched":
            dwork, dbytes, hwork, hbytes = self._work_args
            cs.xsyev_batched(self.handle, self.params, self._jobz, _LOWER, p.n, code, a_ptr, p.n, self._real.cuda,
                             w_ptr, code, dwork, dbytes, ctypes.addressof(hwork), hbytes, self._info, count)
        else:
            dwork, dbytes, hwork, hbytes = self._work_args
            step = p.n * p.n * p.dtype.itemsize
            for i in range(count):
                cs.xsyevd(self.handle, self.params, self._jobz, _LOWER, p.n, code, a_ptr + i * step, p.n,
                          self._real.cuda, w_ptr + i * p.n * self._real.itemsize, code, dwork, dbytes,
                          ctypes.addressof(hwork), hbytes, self._info + 4 * i)
        w = self._deliver(w)
        if self.eigvals_only:
            return w
        conj = p.dtype.is_complex and not self.lower  # the upper triangle was factored as conj(A)
        with pkg.on_stream(self.stream, self._home):  # C order holds Vᵀ (or conj(V)ᵀ): a view, no copy
            return w, pkg.resolved(pkg.swap(self._deliver(a), conj))

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)
