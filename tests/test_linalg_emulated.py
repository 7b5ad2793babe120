"""The solver planners' CUDA engines on the CPU: cuSOLVER, cuBLAS and device memory replaced by a model.

The model plays cuSOLVER's and cuBLAS's part at the ctypes boundary: each routine reads and
writes column-major matrices at raw addresses (``lda`` and all), pointer arrays included, with
LAPACK (through SciPy) doing the arithmetic, and writes ``info`` where cuSOLVER would.  Device
buffers are host buffers, so the engines' layout logic (C order read column-major, fill modes,
swapped and conjugated copies, pivots, batches) is checked here against scipy.linalg; the
real libraries run the same oracle in ``test_linalg_gpu.py`` on a GPU machine.  The engines reach
the libraries, memory, streams and kernels through one object, ``gpmath.solver._device.LIBRARIES``,
which the ``model`` fixture replaces with a :class:`FakeLibraries`.  "staged" runs
NumPy operands through the host-staging path; "device" lets NumPy arrays pose as device arrays.
"""

from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.linalg import lapack

import gpmath
from gpmath import linalg
from gpmath._bindings import cublas as real_cublas
from gpmath._bindings import cusolver as real_cusolver
from gpmath._core import engines
from gpmath.solver import (_base, _cuda_factor, _cuda_inverse, _cuda_jacobi, _cuda_lstsq, _cuda_solve, _device,
                           _workspace)
from gpmath.solver._cuda_small import SmallKernelSolve

from helpers import FakeBuffer, lstsq_residues, one_device_runtime, routed
from test_linalg import (TOL, assert_eig, assert_qr_like_cpu, conditioned, ct, general, hermitian, low_rank_at_eps,
                         random, rank_deficient, spd)

_CODES = {0: np.float32, 1: np.float64, 4: np.complex64, 5: np.complex128}
_LETTERS = {"S": np.float32, "D": np.float64, "C": np.complex64, "Z": np.complex128}


def _mat(ptr, dtype, rows, cols, ld):
    """A writable view of the column-major ``rows x cols`` matrix at *ptr* (leading dimension *ld*)."""
    dtype = np.dtype(dtype)
    raw = (ctypes.c_byte * (ld * cols * dtype.itemsize)).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype).reshape(cols, ld)[:, :rows].T


def _vec(ptr, dtype, count):
    return _mat(ptr, dtype, count, 1, count)[:, 0]


def _pointers(array_ptr, count):
    return [int(p) for p in _vec(array_ptr, np.uint64, count)]


def _hermitian(m, lower):
    tri = np.tril(m) if lower else np.triu(m)
    return tri + ct(tri) - np.diag(np.diag(tri).real)


def _reported(info: int, nonfinite: int, a, b=None) -> int:
    """The kernels' info under check_finite (small_values.cuh's report_nonfinite): *nonfinite* for
    an *a* holding an inf or a NaN, else one less for such a *b*, else *info* (0: no test)."""
    if nonfinite and not np.isfinite(a).all():
        return nonfinite
    if nonfinite and b is not None and not np.isfinite(b).all():
        return nonfinite - 1
    return info


class FakeSolvers(types.SimpleNamespace):
    """cuSOLVER's and cuBLAS's routines used by gpmath, over host memory (module attributes pass through)."""

    def __init__(self, real):
        super().__init__()
        self.real, self.calls = real, []
        self.has_syev_batched = True  # cusolverDnXsyevBatched: cuSOLVER 11.7+

    def xsyev_batched_available(self):
        return self.has_syev_batched

    def get_version(self):
        return 12000

    def __getattr__(self, name):
        if name.endswith("_buffer_size"):
            return lambda *args: (64, 8) if name.startswith("x") else 16
        if name.startswith(("create", "irs_params_create", "irs_infos_create")):
            return lambda *args: 1
        if name.startswith(("destroy", "set_", "irs_params_", "irs_infos_destroy", "syevj_set", "gesvdj_set")):
            return lambda *args: None
        return getattr(self.real, name)

    # -- Cholesky
    def _potrf_one(self, dtype, uplo, n, a, lda, info):
        m = _mat(a, dtype, n, n, lda)
        c, code = lapack.get_lapack_funcs("potrf", (m,))(np.array(m), lower=uplo == 0, clean=0)
        m[...] = c
        _vec(info, np.int32, 1)[0] = code

    def xpotrf(self, handle, params, uplo, n, code, a, lda, compute, *work):
        self.calls.append("xpotrf")
        self._potrf_one(_CODES[code], uplo, n, a, lda, work[-1])

    def potrf_batched(self, t, handle, uplo, n, a_array, lda, info, batch):
        self.calls.append("potrfBatched")
        for i, a in enumerate(_pointers(a_array, batch)):
            self._potrf_one(_LETTERS[t], uplo, n, a, lda, info + 4 * i)

    def _potrs_one(self, dtype, uplo, n, nrhs, a, lda, b, ldb):
        m, rhs = _mat(a, dtype, n, n, lda), _mat(b, dtype, n, nrhs, ldb)
        rhs[...] = lapack.get_lapack_funcs("potrs", (m,))(np.array(m), np.array(rhs), lower=uplo == 0)[0]

    def xpotrs(self, handle, params, uplo, n, nrhs, code, a, lda, code_b, b, ldb, info):
        self._potrs_one(_CODES[code], uplo, n, nrhs, a, lda, b, ldb)

    def potrs_batched(self, t, handle, uplo, n, nrhs, a_array, lda, b_array, ldb, info, batch):
        assert nrhs == 1, "cuSOLVER's potrsBatched takes one right-hand side"
        for a, b in zip(_pointers(a_array, batch), _pointers(b_array, batch)):
            self._potrs_one(_LETTERS[t], uplo, n, 1, a, lda, b, ldb)

    # -- LU
    def _getrf_one(self, dtype, n, a, lda, piv, piv_type, info):
        m = _mat(a, dtype, n, n, lda)
        lu, p, code = lapack.get_lapack_funcs("getrf", (m,))(np.array(m))
        m[...] = lu
        _vec(piv, piv_type, n)[...] = p + 1
        _vec(info, np.int32, 1)[0] = code

    def xgetrf(self, handle, params, m, n, code, a, lda, piv, compute, *work):
        self._getrf_one(_CODES[code], n, a, lda, piv, np.int64, work[-1])

    def getrf_batched(self, t, handle, n, a_array, lda, pivots, info, batch):
        for i, a in enumerate(_pointers(a_array, batch)):
            self._getrf_one(_LETTERS[t], n, a, lda, pivots + 4 * n * i, np.int32, info + 4 * i)

    def _getrs_one(self, dtype, trans, n, nrhs, a, lda, piv, piv_type, b, ldb):
        m, rhs = _mat(a, dtype, n, n, lda), _mat(b, dtype, n, nrhs, ldb)
        p = _vec(piv, piv_type, n).astype(np.int32) - 1 if piv else np.arange(n, dtype=np.int32)  # NULL: none
        rhs[...] = lapack.get_lapack_funcs("getrs", (m,))(np.array(m), p, np.array(rhs), trans=int(trans))[0]

    def xgetrs(self, handle, params, trans, n, nrhs, code, a, lda, piv, code_b, b, ldb, info):
        self._getrs_one(_CODES[code], trans, n, nrhs, a, lda, piv, np.int64, b, ldb)

    def getrs_batched(self, t, handle, trans, n, nrhs, a_array, lda, pivots, b_array, ldb, info, batch):
        for i, (a, b) in enumerate(zip(_pointers(a_array, batch), _pointers(b_array, batch))):
            self._getrs_one(_LETTERS[t], trans, n, nrhs, a, lda, pivots + 4 * n * i, np.int32, b, ldb)

    # -- QR
    def xgeqrf(self, handle, params, m, n, code, a, lda, code_tau, tau, compute, *work):
        self.calls.append("xgeqrf")
        dtype = _CODES[code]
        mat = _mat(a, dtype, m, n, lda)
        qr, t, _, code_ = lapack.get_lapack_funcs("geqrf", (mat,))(np.array(mat))
        mat[...] = qr
        _vec(tau, dtype, min(m, n))[...] = t

    def orgqr(self, t, handle, m, n, k, a, lda, tau, work, lwork, info):
        dtype = _LETTERS[t]
        mat = _mat(a, dtype, m, n, lda)
        name = "ungqr" if t in "CZ" else "orgqr"
        mat[...] = lapack.get_lapack_funcs(name, (mat,))(np.array(mat), np.array(_vec(tau, dtype, k)))[0]

    def ormqr(self, t, handle, side, trans, m, n, k, a, lda, tau, c, ldc, work, lwork, info):
        assert side == real_cublas.SideMode.LEFT
        dtype = _LETTERS[t]
        reflectors, rhs = _mat(a, dtype, m, k, lda), _mat(c, dtype, m, n, ldc)
        name = "ungqr" if t in "CZ" else "orgqr"
        padded = np.zeros((m, m), dtype)
        padded[:, :k] = reflectors
        q = lapack.get_lapack_funcs(name, (padded,))(padded, np.array(_vec(tau, dtype, k)))[0]
        rhs[...] = {0: q, 1: q.T, 2: ct(q)}[int(trans)] @ rhs

    def trsm(self, t, handle, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb):
        dtype, left = _LETTERS[t], side == real_cublas.SideMode.LEFT
        self.calls.append("trsm left" if left else "trsm right")
        order = m if left else n
        tri = (np.triu if uplo == real_cublas.FillMode.UPPER else np.tril)(_mat(a, dtype, order, order, lda))
        if diag == real_cublas.DiagType.UNIT:
            np.fill_diagonal(tri, 1)
        op = {0: tri, 1: tri.T, 2: ct(tri)}[int(trans)]
        rhs = _mat(b, dtype, m, n, ldb)
        scaled = _vec(alpha, dtype, 1)[0] * rhs
        try:
            rhs[...] = np.linalg.solve(op, scaled) if left else np.linalg.solve(op.T, scaled.T).T  # x op = b from the right
        except np.linalg.LinAlgError:  # a zero on the diagonal: cuBLAS divides by it
            rhs[...] = np.nan

    def gemm(self, t, handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        dtype = _LETTERS[t]
        self.calls.append("gemm")
        left = _mat(a, dtype, *((m, k) if transa == 0 else (k, m)), lda)
        right = _mat(b, dtype, *((k, n) if transb == 0 else (n, k)), ldb)
        left = {0: left, 1: left.T, 2: ct(left)}[int(transa)]
        right = {0: right, 1: right.T, 2: ct(right)}[int(transb)]
        out = _mat(c, dtype, m, n, ldc)
        scalar = lambda ptr: _vec(ptr, dtype, 1)[0]  # noqa: E731
        out[...] = scalar(alpha) * (left @ right) + (scalar(beta) * out if scalar(beta) else 0)

    def trsm_batched(self, t, handle, side, uplo, trans, diag, m, n, alpha, a_array, lda, b_array, ldb, batch):
        self.calls.append("trsmBatched")
        for a, b in zip(_pointers(a_array, batch), _pointers(b_array, batch)):
            self.trsm(t, handle, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb)

    # -- eigenvalues
    def xgeev_available(self):
        return True

    def xgeev(self, handle, params, jobvl, jobvr, n, code, a, lda, code_w, w, code_vl, vl, ldvl, code_vr, vr, ldvr,
              compute, *work):
        """LAPACK's geev, its results laid out as cuSOLVER's: complex W (asked for real A too), VR
        in LAPACK's real packing for real A."""
        assert jobvl == real_cusolver.EigMode.NOVECTOR and (vr != 0) == (jobvr == real_cusolver.EigMode.VECTOR)
        dtype, w_dtype = _CODES[code], _CODES[code_w]
        m = np.array(_mat(a, dtype, n, n, lda))
        geev = lapack.get_lapack_funcs("geev", (m,))
        if np.dtype(dtype).kind == "c":
            values, _, vectors, info = geev(m, compute_vl=0, compute_vr=int(jobvr))
        else:
            wr, wi, _, vectors, info = geev(m, compute_vl=0, compute_vr=int(jobvr))
            values = wr + 1j * wi
        _vec(w, w_dtype, n)[...] = values
        if vr:
            _mat(vr, dtype, n, n, ldvr)[...] = vectors
        _vec(work[-1], np.int32, 1)[0] = info

    def _syev_one(self, dtype, jobz, uplo, n, a, lda, w):
        mat = _mat(a, dtype, n, n, lda)
        values, vectors = np.linalg.eigh(_hermitian(mat, uplo == 0))
        _vec(w, np.dtype(dtype).type(0).real.dtype, n)[...] = values
        if jobz:
            mat[...] = vectors

    def xsyevd(self, handle, params, jobz, uplo, n, code, a, lda, code_w, w, compute, *work):
        self._syev_one(_CODES[code], jobz, uplo, n, a, lda, w)

    def syevj_batched(self, t, handle, jobz, uplo, n, a, lda, w, work, lwork, info, params, batch):
        dtype = np.dtype(_LETTERS[t])
        for i in range(batch):
            self._syev_one(dtype, jobz, uplo, n, a + i * n * lda * dtype.itemsize, lda, w + i * n * dtype.itemsize // (
                2 if dtype.kind == "c" else 1))

    def xsyev_batched(self, handle, params, jobz, uplo, n, code, a, lda, code_w, w, compute, *work_and_batch):
        dtype, batch = np.dtype(_CODES[code]), work_and_batch[-1]
        real = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        for i in range(batch):
            self._syev_one(dtype, jobz, uplo, n, a + i * n * lda * dtype.itemsize, lda, w + i * n * real)

    # -- SVD
    def _svd_one(self, dtype, m, n, a, lda, s, u, ldu, v, ldv, full, transpose_v):
        mat = _mat(a, dtype, m, n, lda)
        left, values, right = np.linalg.svd(np.array(mat), full_matrices=full)
        _vec(s, np.dtype(dtype).type(0).real.dtype, min(m, n))[...] = values
        if u:
            _mat(u, dtype, m, left.shape[1], ldu)[...] = left
        if v:
            right = ct(right) if transpose_v else right
            _mat(v, dtype, *right.shape, ldv)[...] = right

    def xgesvd(self, handle, params, jobu, jobvt, m, n, code, a, lda, code_s, s, code_u, u, ldu, code_v, vt, ldvt,
               compute, *work):
        vectors = jobu != "N"
        self._svd_one(_CODES[code], m, n, a, lda, s, vectors and u, ldu, vectors and vt, ldvt, jobu == "A", False)

    def xgesvdp(self, handle, params, jobz, econ, m, n, code, a, lda, code_s, s, code_u, u, ldu, code_v, v, ldv,
                compute, *work):
        self._svd_one(_CODES[code], m, n, a, lda, s, jobz and u, ldu, jobz and v, ldv, not econ, True)
        return 0.0

    def gesvdj(self, t, handle, jobz, econ, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params):
        self._svd_one(_LETTERS[t], m, n, a, lda, s, jobz and u, ldu, jobz and v, ldv, not econ, True)

    def gesvdj_batched(self, t, handle, jobz, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params, batch):
        dtype = np.dtype(_LETTERS[t])
        real = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        for i in range(batch):
            self._svd_one(dtype, m, n, a + i * lda * n * dtype.itemsize, lda, s + i * min(m, n) * real,
                          jobz and u + i * ldu * m * dtype.itemsize, ldu, jobz and v + i * ldv * n * dtype.itemsize,
                          ldv, True, True)

    # -- mixed precision
    def irs_xgesv(self, handle, params, infos, n, nrhs, a, lda, b, ldb, x, ldx, work, work_bytes, info):
        dtype = self.irs_dtype
        _mat(x, dtype, n, nrhs, ldx)[...] = np.linalg.solve(_mat(a, dtype, n, n, lda), _mat(b, dtype, n, nrhs, ldb))
        return 2

    def irs_infos_get_outer_niters(self, infos):
        return 2


class FakeKernel:
    """One of gpmath's kernels, the entry point *name* of a source compiled with *defines* (the
    small solve, Cholesky or Jacobi of order GPM_N, the interchanges of elements of GPM_BYTES bytes,
    the zero-diagonal check): :class:`FakeLaunch` runs it in NumPy."""

    _TYPES = {0: np.float32, 1: np.float64, 2: np.complex64, 3: np.complex128}  # GPM_TYPE
    _REALS = {(4, 0): np.float32, (8, 0): np.float64, (4, 1): np.complex64, (8, 1): np.complex128}  # GPM_REAL, GPM_COMPLEX

    def __init__(self, name, defines):
        self.name, self.n, self.itemsize = name, defines.get("GPM_N"), defines.get("GPM_BYTES")
        self.svd = bool(defines.get("GPM_SVD"))
        if "GPM_TYPE" in defines:
            self.dtype = np.dtype(self._TYPES[defines["GPM_TYPE"]])
        elif "GPM_REAL" in defines:
            self.dtype = np.dtype(self._REALS[defines["GPM_REAL"], defines["GPM_COMPLEX"]])
        else:
            self.dtype = None

    def function(self, device_id):
        return self


class FakeLaunch:
    """gpmath's kernels in NumPy, reading and writing through the packed addresses and element
    strides as the kernels do, so the engines' packing is checked."""

    def __init__(self, function, count, grid, block, shared=0):
        self.kernel, self.values, self.grid = function, [0] * count, grid
        n = function.n
        assert grid >= 1 and (block == _cuda_jacobi.threads(n) if function.name == "small_jacobi"
                              else block % 32 == 0 and (shared > 0 or function.name in (
                                  "zero_diagonal", "swap_last_two", "orthogonality_report")
                                                        or function.name.startswith("rcond_")))

    def set(self, index, value):
        self.values[index] = value

    def _elements(self, first, m, rows, cols, item):
        ptr, batch, row, col = self.values[first:first + 4]
        return [[(ctypes.c_byte * item).from_address(ptr + item * (m * batch + i * row + j * col)) for j in range(cols)]
                for i in range(rows)]

    def __call__(self, stream):
        {"small_lu_solve": self._small_solve, "small_cholesky": self._cholesky, "small_cholesky_solve": self._cholesky_solve,
         "small_jacobi": self._jacobi, "lu_permute": self._permute, "zero_diagonal": self._zero_diagonal,
         "rcond_start": self._rcond_start, "rcond_absorb": self._rcond_absorb, "rcond_unit": self._rcond_unit,
         "rcond_norms": self._rcond_norms, "swap_last_two": self._swap_last_two, "inverse_rows": self._inverse_rows,
         "orthogonality_report": self._orthogonality_report,
         }[self.kernel.name]()

    def _orthogonality_report(self):  # orthogonality.cu: three maxima of nonnegative reals (a NaN wins) into report
        e, r1, r2, n, report = self.values
        dtype = self.kernel.dtype
        real = np.finfo(dtype).dtype
        upper = np.triu(np.ones((n, n), bool))
        excess = np.abs(_mat(e, dtype, n, n, n) - np.eye(n))[upper]
        d = np.abs(np.diag(_mat(r1, dtype, n, n, n))) * np.abs(np.diag(_mat(r2, dtype, n, n, n)))
        with np.errstate(divide="ignore", invalid="ignore"):
            values = [excess.max(), d.max(), (1 / d).max()]
        out = _vec(report, real, 3)
        for i, value in enumerate(values):
            out[i] = np.nan if np.isnan(value) or np.isnan(out[i]) else max(out[i], value)

    def _swap_last_two(self):  # swap.cu: the C-order matrices at src (rows in order) written at dst, axes swapped
        src, dst, rows, cols, count, conjugate, order = self.values
        dtype = self.kernel.dtype
        source = _vec(src, dtype, count * rows * cols).reshape(count, rows, cols)
        if order:
            source = source[:, _vec(order, np.int32, rows)]
        swapped = np.swapaxes(source, -1, -2)
        _vec(dst, dtype, count * rows * cols)[...] = (swapped.conj() if conjugate else swapped).reshape(-1)

    def _inverse_rows(self):  # lu_inverse.cu: order[where[i]] = i from getrf's int64 pivots
        pivots, order, n = self.values
        assert self.grid == 1
        where = np.arange(n)
        for i, p in enumerate(_vec(pivots, np.int64, n) - 1):
            where[[i, p]] = where[[p, i]]
        _vec(order, np.int32, n)[where] = np.arange(n, dtype=np.int32)

    def _rcond_norms(self):  # condition.cu: ‖A‖₁ of column-major matrices (Hermitian: from the lower triangle)
        a, n, hermitian, norms = self.values
        dtype = self.kernel.dtype
        count = self.grid // -(-n // 8)
        matrices = np.swapaxes(_vec(a, dtype, count * n * n).reshape(count, n, n), -1, -2)  # [m, i, j]
        if hermitian:
            lower = np.tril(matrices)
            matrices = lower + np.swapaxes(np.tril(matrices, -1), -1, -2).conj()
        found = np.abs(matrices).sum(-2).max(-1)
        held = _vec(norms, np.finfo(dtype).dtype, count)
        held[...] = np.maximum(held, found)  # zeroed before (FakeLibraries.zero), as the kernel's atomicMax

    def _rcond_vectors(self):  # condition.cu: each block's vector of n entries, and the real dtype
        v, n, dtype = self.values[0], self.values[1], self.kernel.dtype
        return [_vec(v + m * n * dtype.itemsize, dtype, n) for m in range(self.grid)], np.finfo(dtype).dtype

    def _rcond_start(self):  # 1/n everywhere, or Higham's alternating vector
        vectors, real = self._rcond_vectors()
        n, alternating = self.values[1], self.values[2]
        i = np.arange(n, dtype=real)
        for vector in vectors:
            vector[...] = (1 - 2 * (i % 2)) * (1 + i / real.type(max(n - 1, 1))) if alternating else real.type(1) / real.type(n)

    def _rcond_absorb(self):  # the estimate from sum |v| (kept where it is larger), then v = sign(v)
        vectors, real = self._rcond_vectors()
        n, estimate, first, alternating, signs = self.values[1:6]
        estimates = _vec(estimate, real, self.grid)
        for m, vector in enumerate(vectors):
            magnitude = np.abs(vector)
            s = magnitude.sum(dtype=real) * real.type(2) / real.type(3 * n) if alternating else magnitude.sum(dtype=real)
            estimates[m] = s if first or not estimates[m] >= s else estimates[m]
            if signs:
                vector[...] = np.where(magnitude == 0, 1, vector / np.where(magnitude == 0, 1, magnitude))

    def _rcond_unit(self):  # v = e_j, j = argmax |v|
        vectors, _ = self._rcond_vectors()
        for vector in vectors:
            j = np.abs(vector).argmax()
            vector[...] = 0
            vector[j] = 1

    def _cholesky(self):  # small_cholesky.cu: f = Lᵀ (lower) or Lᴴ (upper) in C order, potrf's info
        n, dtype = self.kernel.n, self.kernel.dtype
        f, info, nonfinite, count, lower = self.values[4:9]
        potrf = lapack.get_lapack_funcs("potrf", dtype=dtype)
        for m in range(count):
            a = self._matrix(0, m, n, n, dtype)
            factor, failed = potrf(a if lower else a.conj().T, lower=True, clean=True)
            _vec(f + m * n * n * dtype.itemsize, dtype, n * n)[...] = (factor.T if lower else factor.conj().T).reshape(-1)
            _vec(info, np.int32, count)[m] = _reported(failed, nonfinite, a)


    def _jacobi(self):  # small_jacobi.cu: sorted values, C-order vectors, u signed as the kernel's
        n, dtype, svd = self.kernel.n, self.kernel.dtype, self.kernel.svd
        values, u, v, info, count, lower = self.values[4:10]
        assert self.grid == max(1, count)
        for m in range(count):
            a = self._matrix(0, m, n, n, dtype)
            if svd:
                left, w, right = np.linalg.svd(a)
            else:
                w, left = np.linalg.eigh(a, UPLO="L" if lower else "U")
                right = left.T
            _vec(values + m * n * dtype.itemsize, dtype, n)[...] = w
            if v:
                _vec(v + m * n * n * dtype.itemsize, dtype, n * n)[...] = (right if svd else left).reshape(-1)
                if svd:
                    _vec(u + m * n * n * dtype.itemsize, dtype, n * n)[...] = left.reshape(-1)
            _vec(info, np.int32, count)[m] = 0 if np.isfinite(a).all() else n + 1

    def _matrix(self, first, m, rows, cols, dtype):
        """Matrix *m* of the operand at parameters *first*.. (address and strides), as NumPy."""
        return np.array([[np.frombuffer(e, dtype)[0] for e in row] for row in self._elements(first, m, rows, cols,
                                                                                                  dtype.itemsize)])

    def _store(self, first, m, values, dtype):
        for row, row_values in zip(self._elements(first, m, *values.shape, dtype.itemsize), values):
            for element, value in zip(row, row_values):
                np.frombuffer(element, dtype)[0] = value

    def _small_solve(self):  # small_lu_solve.cu
        n, dtype, (info, nonfinite, count, nrhs) = self.kernel.n, self.kernel.dtype, self.values[12:16]
        getrf = lapack.get_lapack_funcs("getrf", dtype=dtype)
        for m in range(count):
            a, b = self._matrix(0, m, n, n, dtype), self._matrix(4, m, n, nrhs, dtype)
            failed = getrf(a)[2]  # (an exactly zero pivot: b is left)
            with np.errstate(all="ignore"):
                self._store(8, m, b if failed else np.linalg.solve(a, b), dtype)
            _vec(info, np.int32, count)[m] = _reported(failed, nonfinite, a, b)

    def _cholesky_solve(self):  # small_cholesky.cu's solve: by the named triangle's factor, potrf's info
        n, dtype, (info, nonfinite, count, nrhs, lower) = self.kernel.n, self.kernel.dtype, self.values[12:17]
        potrf = lapack.get_lapack_funcs("potrf", dtype=dtype)
        for m in range(count):
            a, b = self._matrix(0, m, n, n, dtype), self._matrix(4, m, n, nrhs, dtype)
            factor, failed = potrf(a if lower else a.conj().T, lower=True, clean=True)
            _vec(info, np.int32, count)[m] = _reported(failed, nonfinite, a, b)
            self._store(8, m, b if failed else sl.cho_solve((factor, True), b, check_finite=False), dtype)

    def _zero_diagonal(self):  # zero_diagonal.cu: trtrs's info, the first exactly zero diagonal entry (1-based)
        a, matrix, n, info = self.values
        dtype = self.kernel.dtype
        for m in range(self.grid):
            diagonal = np.array([_vec(a + dtype.itemsize * (m * matrix + i * (n + 1)), dtype, 1)[0] for i in range(n)])
            zeros = np.flatnonzero(diagonal == 0)
            _vec(info, np.int32, self.grid)[m] = zeros[0] + 1 if zeros.size else 0

    def _permute(self):  # lu_permute.cu: y = P b, column by column
        b, b_matrix, ldb, y, y_matrix, ldy, pivots, n, nrhs = self.values
        item = self.kernel.itemsize
        raw = np.dtype((np.void, item))
        assert self.grid >= 1
        for m in range(self.grid):
            where = np.arange(n)
            for i, p in enumerate(_vec(pivots + 8 * n * m, np.int64, n) - 1):
                where[[i, p]] = where[[p, i]]
            for c in range(nrhs):
                source = _vec(b + item * (m * b_matrix + c * ldb), raw, n).copy()
                _vec(y + item * (m * y_matrix + c * ldy), raw, n)[...] = source[where]


class FakeLibraries(_device.SolverLibraries):
    """The solver engines' one door outside Python, on the CPU: the model's cuSOLVER and cuBLAS,
    host memory posing as device memory, one current device, gpmath's kernels run in NumPy.

    Also what the tests ask of the model: ``put`` (a NumPy array as the mode's operand), ``mode``
    and ``compiler`` (whether NVRTC "loads").
    """

    def __init__(self, mode):
        self.cs, self.cublas = FakeSolvers(real_cusolver), FakeSolvers(real_cublas)
        for name in ("getrf_batched", "getrs_batched", "trsm", "trsm_batched", "gemm"):
            setattr(self.cublas, name, getattr(self.cs, name))
        self.runtime = one_device_runtime()
        self.mode, self.compiler, self.put = mode, True, lambda x: x

    @staticmethod
    def copy_async(dst, src, nbytes, stream):
        ctypes.memmove(dst, src, nbytes)

    to_device = to_host = copy_async

    @staticmethod
    def zero(ptr, nbytes, stream):
        ctypes.memset(ptr, 0, nbytes)
    host_empty = staticmethod(np.empty)

    @staticmethod
    def identity(ptr, n, count, itemsize, ones, stream):
        """count identities, their diagonals from the vector at *ones* (its elements' bytes)."""
        matrices = np.frombuffer((ctypes.c_char * (count * n * n * itemsize)).from_address(ptr), dtype=np.uint8)
        matrices = matrices.reshape(count, n * n, itemsize)
        matrices[...] = 0
        matrices[:, ::n + 1] = np.frombuffer((ctypes.c_char * (n * itemsize)).from_address(ones), np.uint8).reshape(n, itemsize)

    @staticmethod
    def synchronize(stream):
        pass

    @staticmethod
    def mapped_empty(shape, dtype):
        array = np.empty(shape, dtype)
        return array, array.ctypes.data

    @staticmethod
    def own_stream(device_id):
        return 7

    @staticmethod
    def resolve_stream(stream, package, device_id):
        return 0

    def buffer(self, nbytes, stream, device_id):
        return FakeBuffer(nbytes, stream, device_id)

    def solver_handle(self, device_id):
        return 1

    def blas_handle(self, device_id):
        return 1

    def compiler_available(self):
        return self.compiler

    def kernel(self, path, function, **defines):
        return FakeKernel(function, defines)

    def launch(self, kernel, device_id, count, grid, block, shared=0):
        return FakeLaunch(kernel.function(device_id), count, grid, block, shared)


@pytest.fixture(params=["staged", "device", "torch", "torch-staged"])
def model(request, monkeypatch):
    """Route the solver engines to the model (one :class:`FakeLibraries`); "device" makes NumPy
    arrays pose as device arrays, "torch" CPU tensors pose as CUDA tensors, and "torch-staged" CPU
    tensors take the host-staging path as they are."""
    lib = FakeLibraries(request.param)
    monkeypatch.setattr(_device, "LIBRARIES", lib)
    ready = lambda execution, located, library_ready, device_id=None: None if execution == "cpu" else 0  # noqa: E731
    monkeypatch.setattr(engines, "resolve_execution", ready)
    if request.param == "torch":  # CPU tensors pose as tensors on cuda:0
        torch = pytest.importorskip("torch")
        from gpmath._core.packages import package_of

        adapter = package_of(torch.zeros(1), "x")
        monkeypatch.setitem(adapter._devices, 0, torch.device("cpu"))
        monkeypatch.setattr(adapter, "current_stream", lambda device_id: 0, raising=False)
        lib.put = lambda x: torch.from_numpy(np.ascontiguousarray(x))
    if request.param.endswith("staged"):  # operands of 1 KiB and more swapped by swap.cu (the rest by NumPy)
        monkeypatch.setattr(_workspace, "DEVICE_SWAP_BYTES", 1024)
    if request.param == "torch-staged":  # CPU tensors computed "on the GPU" through host staging
        torch = pytest.importorskip("torch")
        lib.put = lambda x: torch.from_numpy(np.ascontiguousarray(x))
    if request.param in ("device", "torch"):
        real_locate, real_as_operand = _base.locate, _base.as_operand

        def as_operand(x, name, stream=None):
            op = real_as_operand(x, name, stream)
            op.device_id = 0
            return op

        monkeypatch.setattr(_base, "locate", lambda x, name: real_locate(x, name)[:2] + (0,))
        monkeypatch.setattr(_base, "as_operand", as_operand)
    return lib


def host(x):
    """NumPy values of a result (tuples too)."""
    if isinstance(x, tuple):
        return tuple(host(v) for v in x)
    return x.numpy() if type(x).__module__.startswith("torch") else np.asarray(x)


def close(actual, expected, dtype, scale=10.0):
    actual, expected = host(actual), host(expected)
    actual, expected = np.asarray(actual, np.complex128), np.asarray(expected, np.complex128)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert np.abs(actual - expected).max(initial=0) <= TOL[dtype] * scale * max(1.0, np.abs(expected).max(initial=0))


DTYPES = ["float32", "float64", "complex64", "complex128"]
CUDA = {"execution": "cuda"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 6), ((3,), 5), ((2,), 140)])
@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_and_cho_solve(model, dtype, batch, n, lower):
    P = model.put
    a = spd(batch, n, dtype)
    noisy = a + (np.triu if lower else np.tril)(np.full((n, n), 7.0), 1 if lower else -1)  # unread triangle
    c = host(linalg.cholesky(P(noisy.astype(dtype)), lower, **CUDA))
    close(c @ ct(c) if lower else ct(c) @ c, a, dtype)
    close(c, (np.tril if lower else np.triu)(c), dtype)
    b = random(batch + (n, 2), dtype, 1)
    close(a @ host(linalg.cho_solve((P(c), lower), P(b), **CUDA)), b, dtype, 100)
    x = host(linalg.solve(P(noisy.astype(dtype)), P(b[..., 0] if not batch else b), assume_a="pos", lower=lower, **CUDA))
    close(a @ x if batch else a @ x[:, None], b if batch else b[..., :1], dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 6), ((4,), 5), ((2,), 130), ((), 40)])
def test_lu_family(model, dtype, batch, n, monkeypatch):
    P = model.put
    a, b = general(batch, n, dtype), random(batch + (n, 3), dtype, 1)
    lu, piv = host(linalg.lu_factor(P(a), **CUDA))
    for index in np.ndindex(*batch):
        expected_lu, expected_piv = sl.lu_factor(a[index])
        np.testing.assert_array_equal(piv[index], expected_piv)
        close(lu[index], expected_lu, dtype)
    for trans, op in ((0, a), (1, np.swapaxes(a, -1, -2)), (2, ct(a))):
        close(op @ host(linalg.lu_solve((P(lu), P(piv)), P(b), trans, **CUDA)), b, dtype, 100)
    for swapped in (False, True):
        monkeypatch.setattr(_cuda_solve, "SOLVE_SWAPPED", swapped)
        try:
            close(a @ host(linalg.solve(P(a), P(b), **CUDA)), b, dtype, 100)
            if dtype in ("float32", "float64"):
                close(np.swapaxes(a, -1, -2) @ host(linalg.solve(P(a), P(b), transposed=True, **CUDA)), b, dtype, 100)
        finally:
            gpmath.cache_clear()
    close(linalg.inv(P(a), **CUDA), np.linalg.inv(a), dtype, 100)
    if n < 20:  # larger determinants overflow
        close(linalg.det(P(a), **CUDA), np.linalg.det(a), dtype, 1000)
    sign, logabsdet = host(linalg.slogdet(P(a), **CUDA))
    expected_sign, expected_log = np.linalg.slogdet(a)
    close(sign, expected_sign, dtype, 100)
    close(logabsdet, expected_log, dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 6), ((3,), 5), ((2, 1), 7), ((), 1)])
def test_inverse_through_cublas_trsm(model, dtype, batch, n, monkeypatch):
    """inv by trsm of I, trsm from the right and the permuted transpose (the route of large
    matrices, one at a time), against NumPy; an exactly singular matrix still raises, naming it."""
    monkeypatch.setattr(_cuda_inverse, "INVERSE_MIN_N", 1)
    monkeypatch.setattr(_cuda_factor, "FACTOR", ((1, None, "looped"),))
    gpmath.cache_clear()
    try:
        a = general(batch, n, dtype)[..., ::-1, :].copy()  # rows reversed: the LU interchanges
        close(linalg.inv(model.put(a), **CUDA), np.linalg.inv(a), dtype, 100)
        assert model.cs.calls.count("trsm right") == max(int(np.prod(batch)), 1)
        if batch == (3,):
            a[1, :, 2] = 0.0
            with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
                linalg.inv(model.put(a), **CUDA)
    finally:
        gpmath.cache_clear()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, a_batch, n", [((), (), 6), ((3,), (3,), 5), ((3,), (), 5), ((2, 2), (2, 1), 4)])
def test_solve_triangular(model, dtype, batch, a_batch, n):
    """Every trans, fill and diagonal choice; A shared by a batch of b, A broadcast along one axis;
    the unread triangle (and, with unit_diagonal, the diagonal) holding junk."""
    P = model.put
    a, b = general(a_batch, n, dtype), random(batch + (n, 2), dtype, 1)
    for lower in (False, True):
        tri = (np.tril if lower else np.triu)(a)
        noisy = a + (np.triu if lower else np.tril)(np.full((n, n), 7.0), 1 if lower else -1)
        for unit in (False, True):
            used = tri - np.eye(n) * np.diagonal(tri, axis1=-2, axis2=-1)[..., None] + np.eye(n) if unit else tri
            source = (noisy + 5 * np.eye(n) if unit else noisy).astype(dtype)  # a junk diagonal too
            for trans, op in ((0, used), ("T", np.swapaxes(used, -1, -2)), (2, ct(used))):
                x = host(linalg.solve_triangular(P(source), P(b), trans, lower, unit, **CUDA))
                close(op @ x, np.broadcast_to(b, x.shape), dtype, 100)
    v = b.reshape(-1, n, 2)[0, :, 0]
    x = host(linalg.solve_triangular(P(np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)), P(v), **CUDA))
    assert x.shape == a_batch + (n,)  # a column-major A (copied), a vector b
    close((np.triu(a) @ x[..., None])[..., 0], np.broadcast_to(v, x.shape), dtype, 100)
    gpmath.cache_clear()


@pytest.mark.parametrize("a_shape, b_shape", [((0, 0), (0,)), ((2, 0, 0), (2, 0, 3)), ((0, 3, 3), (0, 3, 2))])
def test_solve_triangular_of_empty_operands(model, a_shape, b_shape):
    x = host(linalg.solve_triangular(model.put(np.zeros(a_shape)), model.put(np.zeros(b_shape)), **CUDA))
    assert x.shape == b_shape


@pytest.mark.parametrize("shape", [(0, 4), (3, 0), (2, 5, 0), (0, 3, 3)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_empty_operands_take_the_cpu_engine(model, shape, full_matrices):
    """No launch (cuSOLVER rejects empty matrices): the CPU engine's results, NumPy's identities
    and empty factors, in the operands' package."""
    from gpmath.solver import SVD

    with SVD(model.put(np.zeros(shape)), full_matrices=full_matrices, **CUDA) as plan:
        assert plan._engine_kind == "cpu"
    got = host(linalg.svd(model.put(np.zeros(shape)), full_matrices, **CUDA))
    for g, expected in zip(got, np.linalg.svd(np.zeros(shape), full_matrices)):
        assert g.shape == expected.shape
        np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("shape", [(0, 0), (3, 0, 0)])
def test_eig_and_pinv_of_empty_matrices(model, shape):
    w, v = host(linalg.eig(model.put(np.zeros(shape)), **CUDA))
    assert w.shape == shape[:-1] and v.shape == shape
    assert host(linalg.pinv(model.put(np.zeros(shape[:-1] + (4,))), **CUDA)).shape == shape[:-2] + (4, 0)


@pytest.mark.parametrize("compiler", [True, False])  # gpmath's kernel, or the package's array operations
def test_solve_triangular_zero_diagonal_names_the_matrix(model, compiler):
    model.compiler = compiler
    P = model.put
    a = np.triu(general((3,), 4, "float64"))
    a[2, 1, 1] = 0.0
    b = random((3, 4, 1), "float64", 1)
    with pytest.raises(linalg.LinAlgError, match=r"a\[2\] is singular: its diagonal entry \[1, 1\] is exactly zero"):
        linalg.solve_triangular(P(a), P(b), **CUDA)
    x = host(linalg.solve_triangular(P(a), P(b), unit_diagonal=True, **CUDA))  # the diagonal is not read
    close(np.triu(a, 1) @ x + x, b, "float64", 100)


@pytest.mark.parametrize("route", ["geev", "host"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 1), ((), 6), ((3,), 7)])
def test_eig(model, route, dtype, batch, n):
    """Complex eigenvalues asked for real matrices too, LAPACK's packed eigenvectors unpacked (geev),
    or LAPACK's own on the host; the results in the operand's package either way."""
    a = random(batch + (n, n), dtype)
    rotation = np.kron(np.eye(n // 2), np.array([[0.0, -1.0], [1.0, 0.0]]))  # pairs ±i: packed columns
    with routed("EIG", route):
        for matrix in (a, (a + 3 * np.pad(rotation, (0, n % 2))).astype(dtype)):
            w, v = linalg.eig(model.put(matrix), **CUDA)
            assert type(w) is type(model.put(matrix)) and type(v) is type(w)
            assert_eig(matrix, host(w), host(v), dtype)
            assert_eig(matrix, host(linalg.eigvals(model.put(matrix), **CUDA)), None, dtype)


@pytest.mark.parametrize("batch, n, routine", [((), 8, "host geev"), ((50,), 16, "host geev"), ((), 128, "host geev"),
                                               ((), 129, "geev"), ((2,), 200, "geev")])
def test_eig_default_route_follows_the_crossover_table(model, batch, n, routine):
    from gpmath.solver import Eig

    a = random(batch + (n, n), "float64")
    with Eig(model.put(a), **CUDA) as plan:
        assert plan.plan().routine == routine
        w, v = host(plan.execute(check=True))
    assert_eig(a, w, v, "float64")


def test_singular_raises_and_det_is_zero(model):
    P = model.put
    a = np.broadcast_to(4 * np.eye(5), (3, 5, 5)).copy()
    a[1, :, 2] = 0.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
        linalg.lu_factor(P(a), **CUDA)
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
        linalg.inv(P(a), **CUDA)
    assert host(linalg.det(P(a), **CUDA)).tolist() == [1024.0, 0.0, 1024.0]
    sign, logabsdet = host(linalg.slogdet(P(a), **CUDA))
    assert sign.tolist() == [1.0, 0.0, 1.0] and logabsdet[1] == -np.inf
    a[1] = 4 * np.eye(5)
    a[2, 3, 3] = -1.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[2\] is not positive definite.*order 4"):
        linalg.cholesky(P(a), **CUDA)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
@pytest.mark.parametrize("mode", ["full", "economic", "r"])
def test_qr(model, dtype, shape, mode):
    P = model.put
    a = random((2,) + shape, dtype)
    assert_qr_like_cpu(host(linalg.qr(P(a), mode=mode, **CUDA)), a, mode, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("driver", [None, "syevd", "syevj", "syevBatched"])
@pytest.mark.parametrize("lower", [True, False])
def test_eigh(model, dtype, driver, lower):
    P = model.put
    a = hermitian((3,), 7, dtype)
    noisy = (a + (np.triu if lower else np.tril)(np.full((7, 7), 5.0), 1 if lower else -1)).astype(dtype)
    w, v = host(linalg.eigh(P(noisy), lower=lower, driver=driver, **CUDA))
    close((v * w[..., None, :]) @ ct(v), a, dtype, 100)
    close(linalg.eigvalsh(P(noisy), lower=lower, driver=driver, **CUDA), np.linalg.eigvalsh(a), dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("driver", [None, "gesvd", "gesvdj", "gesvdp"])
@pytest.mark.parametrize("shape, batch", [((12, 7), (3,)), ((7, 12), (3,)), ((40, 33), ()), ((9, 9), (2,))])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd(model, dtype, driver, shape, batch, full_matrices):
    P = model.put
    a = random(batch + shape, dtype)
    u, s, vh = host(linalg.svd(P(a), full_matrices, driver=driver, **CUDA))
    k = min(shape)
    assert u.shape == batch + (shape[0], shape[0] if full_matrices else k)
    assert vh.shape == batch + (shape[1] if full_matrices else k, shape[1])
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, dtype, 100)
    close(s, np.linalg.svd(a, compute_uv=False), dtype, 100)
    close(linalg.svdvals(P(a), driver=driver, **CUDA), s, dtype, 100)


@pytest.fixture(params=["householder", "cholesky"])
def gelsy_route(request, monkeypatch):
    """The route "gelsy" takes: Householder QR, or Cholesky QR2 from one unknown on (of any shape)."""
    monkeypatch.setattr(_cuda_lstsq, "CHOLESKY_QR_SMALLEST", 1 if request.param == "cholesky" else 2**62)
    monkeypatch.setattr(_cuda_lstsq, "SINGLE_ASPECT", 1)
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9, 4), (4, 9)])
@pytest.mark.parametrize("vector", [True, False])
@pytest.mark.parametrize("driver", ["gelsd", "gelsy"])
def test_lstsq(model, dtype, shape, vector, driver, gelsy_route):
    P = model.put
    a = random((2,) + shape, dtype)
    b = random((shape[0],) if vector else (2, shape[0], 3), dtype, 1)
    got = linalg.lstsq(P(a), P(b), lapack_driver=driver, **CUDA)
    want = linalg.lstsq(a, b, lapack_driver=driver, execution="cpu")
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            close(g, w, dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(40, 12), (12, 40)])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_lstsq_gelsy_through_cholesky_qr_falls_back_where_its_test_fails(model, dtype, shape, batch, monkeypatch):
    """Cholesky QR2's solution where cond(A) is modest, as accurate as Householder QR's (next to
    SciPy's in float64: within a small multiple of cond(A) eps, for right-hand sides in A's range,
    whose solutions that bounds); where cond(A)² eps is far above 1 its test fails and Householder
    QR solves the batch."""
    monkeypatch.setattr(_cuda_lstsq, "CHOLESKY_QR_SMALLEST", 1)
    eps = np.finfo(dtype).eps
    for cond, falls_back in ((10.0, False), (1e3 if eps > 1e-10 else 1e6, False), (eps ** -0.75, True)):
        a = conditioned(batch, shape, cond, dtype)
        wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
        b = (a.astype(wide) @ random(batch + (shape[1], 2), wide, 1)).astype(dtype)
        model.cs.calls.clear()
        x, residues, rank, s = linalg.lstsq(model.put(a), model.put(b), lapack_driver="gelsy", **CUDA)
        x, residues, rank = host((x, residues, rank))
        assert ("xgeqrf" in model.cs.calls) == falls_back, cond
        assert model.cs.calls.count("gemm") == 4 * max(1, int(np.prod(batch))) and s is None
        assert residues.shape == batch + (0,)
        for i in np.ndindex(batch):
            want = sl.lstsq(a[i].astype(np.complex128), b[i].astype(np.complex128), lapack_driver="gelsd")[0]
            error = np.linalg.norm(x[i] - want) / np.linalg.norm(want)
            assert error <= 100 * cond * eps, (cond, error)
            assert np.asarray(rank)[i] == min(shape)
        if falls_back:
            continue
        # lstsq's cond just below and just above R's smallest |R_ii| / max |R_jj| (that of Householder QR
        # too): above, the rank test fails, and the SVD decides the ranks at cond
        m = a.astype(np.complex128) if shape[0] >= shape[1] else ct(a.astype(np.complex128))
        d = np.abs(np.diagonal(np.linalg.qr(m)[1], axis1=-2, axis2=-1))
        ratio = (d.min(-1) / d.max(-1)).min()
        for factor in (0.99, 1.01):
            model.cs.calls.clear()
            rank = host(linalg.lstsq(model.put(a), model.put(b), factor * ratio, lapack_driver="gelsy", **CUDA)[2])
            singular = np.linalg.svd(a.astype(np.complex128), compute_uv=False)
            expected = (singular > factor * ratio * singular[..., :1]).sum(-1) if factor > 1 else min(shape)
            assert ("xgeqrf" in model.cs.calls) == (factor > 1) and (np.asarray(rank) == expected).all(), factor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(40, 40), (80, 40), (79, 40), (40, 80), (64, 33), (31, 80)])
def test_lstsq_gelsy_takes_cholesky_qr_by_shape_and_precision(model, dtype, shape):
    """From 32 unknowns and equations on in double precision; in single precision where one is at
    least twice the other (else a random matrix's cond(A) is often beyond Cholesky QR2's reach)."""
    a, b = conditioned((), shape, 10.0, dtype), random((shape[0], 1), dtype, 1)
    model.cs.calls.clear()
    x = linalg.lstsq(model.put(a), model.put(b), lapack_driver="gelsy", **CUDA)[0]
    close(x, sl.lstsq(a, b, lapack_driver="gelsy")[0], dtype, 100)
    double = np.finfo(dtype).bits == 64
    expected = min(shape) >= 32 if double else max(shape) >= 2 * min(shape) and min(shape) >= 32
    assert ("gemm" in model.cs.calls) == expected and ("xgeqrf" in model.cs.calls) != expected


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9, 4), (4, 9)])
def test_pinv(model, dtype, shape):
    """The inner SVD plan, then the pseudo-inverse in the package: as the CPU path, rank included."""
    for a in (random((2,) + shape, dtype), rank_deficient((2,), *shape, 2, dtype)):
        b, rank = host(linalg.pinv(model.put(a), return_rank=True, **CUDA))
        expected, expected_rank = linalg.pinv(a, return_rank=True, execution="cpu")
        close(b, expected, dtype, 100)
        assert np.array_equal(np.asarray(rank), expected_rank)
    gpmath.cache_clear()


@pytest.mark.parametrize("vector", [True, False])
def test_lstsq_residues_of_a_rank_deficient_matrix_are_nan(model, vector):
    """SciPy 1.18's residues through the SVD engine: NaN for the matrix of rank below N, the others'
    as SciPy's, and a 1-D b drops the K axis."""
    a = random((3, 6, 4), "float64")
    a[1, :, 3] = a[1, :, 0]
    b = random((6,) if vector else (3, 6, 2), "float64", 1)
    x, residues, rank, s = host(linalg.lstsq(model.put(a), model.put(b), **CUDA))
    assert np.asarray(rank).tolist() == [4, 3, 4]
    np.testing.assert_allclose(residues, lstsq_residues(a, b), rtol=1e-10)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
def test_lstsq_gelsy_of_a_rank_deficient_matrix_is_lapacks(model, shape, gelsy_route):
    """A batch holding a rank-deficient matrix is solved through the SVD: the minimum-norm solutions
    and the ranks of LAPACK's pivoted gelsy, and ``s`` None as gelsy's."""
    a, b = random((3,) + shape, "float64"), random((shape[0], 2), "float64", 1)
    a[1, :, 3] = a[1, :, 0]  # rank deficient, tall or wide
    a[1, 3, :] = a[1, 0, :]
    cond = 1e-12  # well above the rounding of the duplicated column's R entry
    x, residues, rank, s = linalg.lstsq(model.put(a), model.put(b), cond, lapack_driver="gelsy", **CUDA)
    x, residues, rank = host((x, residues, rank))
    assert s is None and residues.shape == (3, 0)
    for i in range(3):
        want = sl.lstsq(a[i], b, cond, lapack_driver="gelsy")
        close(x[i], want[0], "float64", 100)
        assert rank[i] == want[2]


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (9, 7)])
@pytest.mark.parametrize("consistent", [True, False])
def test_lstsq_gelsy_of_low_rank_matrices_at_the_default_cond(model, shape, consistent, gelsy_route):
    """Matrices of rank 2 at SciPy's default ``cond`` (eps): an unpivoted QR leaves their last
    diagonal entries at rounding size, which may clear a test at eps (and the "full-rank" solution
    is then wrong); the minimum-norm solutions and ranks of LAPACK's pivoted gelsy all the same."""
    a = low_rank_at_eps(shape, 6, seed=sum(shape))
    b = random((6, shape[0], 2), "float64", 3)
    if consistent:  # b in the range of each matrix: every solution fits, only one has the least norm
        b = a @ random((6, shape[1], 2), "float64", 4)
    x, residues, rank = host(linalg.lstsq(model.put(a), model.put(b), lapack_driver="gelsy", **CUDA)[:3])
    for i in range(6):
        want = sl.lstsq(a[i], b[i], lapack_driver="gelsy")
        close(x[i], want[0], "float64", 1000)
        assert rank[i] == want[2] == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_solve_kernel_reads_operands_where_they_lie(model, dtype):
    """The kernel route (n <= 32) on broadcast, strided, transposed and vector operands."""
    from gpmath.solver import Solve

    P = model.put
    a, b = general((2, 3), 4, dtype), random((2, 3, 4, 2), dtype, 1)
    cases = [  # (a, b, expected solution of the full batch)
        (a, b, np.linalg.solve(a, b)),
        (a[0, 1], b, np.linalg.solve(a[0, 1], b)),  # one matrix for every b
        (a, b[1, 2, :, 0], np.linalg.solve(a, b[1, 2, :, :1])[..., 0]),  # one vector b for every matrix
        (a[:, ::2], b[:, ::2], np.linalg.solve(a[:, ::2], b[:, ::2])),  # a strided batch
        (a[:1], b, np.linalg.solve(a[:1], b)),  # a batch extent of 1, broadcast
        (np.swapaxes(a, 0, 1), b[0, 0], np.linalg.solve(np.swapaxes(a, 0, 1), b[0, 0])),  # no one batch stride: copied
    ]
    for x_a, x_b, expected in cases:
        with Solve(P(np.ascontiguousarray(x_a) if model.mode == "torch" else x_a), P(x_b), execution="cuda") as plan:
            close(plan.execute(check=True), expected, dtype, 100)
            assert isinstance(plan.route, SmallKernelSolve)
    if dtype in ("float32", "float64"):
        close(linalg.solve(P(a), P(b), transposed=True, **CUDA), np.linalg.solve(np.swapaxes(a, -1, -2), b), dtype, 100)
    singular = a.copy()
    singular[1, 2, :, 1] = 0
    with pytest.raises(linalg.LinAlgError, match=r"a\[1, 2\] is singular"):
        linalg.solve(P(singular), P(b), **CUDA)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [5, 40])  # the one-warp kernels' order, and potrf/getrf's
@pytest.mark.parametrize("compiler", [True, False])
def test_check_finite_is_tested_by_the_plans(model, dtype, n, compiler, monkeypatch):
    """check_finite: linalg.cholesky and linalg.solve raise SciPy's ValueError naming the operand,
    for any matrix of a batch, and check_finite=False leaves the unread triangle unread.  The
    Cholesky and Solve plans (to which the fronts hand the test for device operands) test in the
    one-warp kernels every element they read, the unread triangle too, and report it in info with
    no reduction of their own; their other routes test before they run."""
    from gpmath.solver import _cuda

    model.compiler = compiler
    probes = []
    real = _cuda.require_finite
    recorded = lambda check, **arrays: probes.append(sorted(arrays)) or real(check, **arrays)  # noqa: E731
    monkeypatch.setattr(_cuda, "require_finite", recorded)
    kernel = compiler and n <= 32
    P, batch = model.put, (3,)
    a, b = spd(batch, n, dtype), random(batch + (n, 2), dtype, 1)
    unread = a.copy()
    unread[2, n - 1, 0] = np.nan  # below the diagonal: upper Cholesky never reads it
    with pytest.raises(ValueError, match="infs or NaNs: a holds"):
        linalg.cholesky(P(unread), **CUDA)
    close(linalg.cholesky(P(unread), check_finite=False, **CUDA), linalg.cholesky(P(a), **CUDA), dtype)
    bad_b = b.copy()
    bad_b[1, 0, 1] = -np.inf
    for assume_a in ("gen", "pos", None):
        with pytest.raises(ValueError, match="infs or NaNs: a holds"):
            linalg.solve(P(unread), P(bad_b), assume_a=assume_a, **CUDA)  # a first, as SciPy checks
        with pytest.raises(ValueError, match="infs or NaNs: b holds"):
            linalg.solve(P(a), P(bad_b), assume_a=assume_a, **CUDA)
    close(linalg.solve(P(unread), P(b), assume_a="pos", check_finite=False, **CUDA), np.linalg.solve(a, b), dtype, 100)
    assert not probes  # (the model's operands are host arrays: the fronts test them at once, a scan, no sync)
    with gpmath.solver.Cholesky(P(unread), check_finite=True, execution="cuda") as plan:
        if kernel:
            plan.execute()  # reported, not yet read
            assert host(plan.info()).tolist() == [0, 0, _cuda.NONFINITE] and not probes  # in the launch
            with pytest.raises(ValueError, match="a holds"):
                plan.execute(check=True)
        else:
            with pytest.raises(ValueError, match="a holds"):
                plan.execute()  # at once: the test ran before the route
            assert probes == [["a"]]
    for assume_a in ("gen", "pos"):
        with gpmath.solver.Solve(P(a), P(bad_b), assume_a=assume_a, check_finite=True, execution="cuda") as plan:
            probes.clear()
            with pytest.raises(ValueError, match="b holds"):
                plan.execute(check=True)
            assert bool(probes) is not kernel
    gpmath.cache_clear()


@pytest.mark.parametrize("assume_a", [None, "gen", "pos", "sym", "her", "tridiagonal", "diagonal", "upper triangular",
                                      "lower triangular", "one element"])
@pytest.mark.parametrize("n", [5, 40])
def test_fronts_hand_check_finite_to_the_plans_as_for_device_operands(model, assume_a, n, monkeypatch):
    """As the fronts do for device operands (made to here for every operand): cholesky and solve hand
    check_finite to the plans where a and b reach them unchanged, and test themselves where they
    read a first (a mirrored or masked matrix, a triangular solve, one element), so that a NaN
    anywhere in a (the triangles no route reads included) or b is SciPy's ValueError naming it on
    every route, and check_finite=False lets a NaN nothing reads pass."""
    from gpmath.linalg import _convert, _decompositions, _dispatch, _solvers

    handed = lambda check_finite, a: bool(check_finite)  # noqa: E731
    for module in (_convert, _decompositions, _solvers):
        monkeypatch.setattr(module, "checked_by_plan", handed)
    for module in (_convert, _dispatch):  # (host arrays' shortcut and host lanes test at once)
        monkeypatch.setattr(module, "host_ready", lambda values: False)
    P, size = model.put, 1 if assume_a == "one element" else n
    route = None if assume_a == "one element" else assume_a
    a, b = spd((), size, "float64") + np.diag(np.arange(size, dtype=float)), random((size, 2), "float64", 1)
    far = a.copy()
    far[size - 1, 0] = np.nan  # below the diagonal: neither the upper triangle nor the diagonal nor (n > 2) the band
    with pytest.raises(ValueError, match="infs or NaNs: a holds"):
        linalg.solve(P(far), P(b), assume_a=route, **CUDA)
    bad_b = b.copy()
    bad_b[0, 1] = np.inf
    with pytest.raises(ValueError, match="infs or NaNs: b holds"):
        linalg.solve(P(a), P(bad_b), assume_a=route, **CUDA)
    close(linalg.solve(P(a), P(b), assume_a=route, **CUDA), sl.solve(a, b, assume_a=route), "float64", 100)
    if route in ("pos", "sym", "her", "diagonal", "upper triangular") and size > 2:  # routes that never read far's NaN
        expected = sl.solve(far, b, assume_a=route, check_finite=False)
        close(linalg.solve(P(far), P(b), assume_a=route, check_finite=False, **CUDA), expected, "float64", 100)
    with pytest.raises(ValueError, match="infs or NaNs: a holds"):
        linalg.cholesky(P(far), **CUDA)
    gpmath.cache_clear()


def _any_lane_key(tag, x, y=None):
    """A lane key for the model's arrays as for device arrays (without the address: host allocations
    are not 256-byte aligned as the devices' are)."""
    from gpmath._core.packages import known_package

    pkg = known_package(x)
    return None if pkg is None else (tag, *(pkg.signature(v) for v in (x, y) if v is not None))


@pytest.mark.parametrize("n", [5, 40])
def test_cholesky_and_solve_lanes_run_their_plans_checks(model, n, monkeypatch):
    """The linalg lanes, made to serve the model's arrays as they serve device arrays (a lane key
    for every array, check_finite handed to the plans): after one full call per function and
    options, new data every call comes back by the lane and is right; a NaN, an inf in b and a
    singular matrix still raise through it (the plans' own tests); other options take their own."""
    from gpmath._core import stateless
    from gpmath.linalg import _convert, _decompositions, _dispatch, _solvers

    monkeypatch.setattr(_dispatch, "lane_key", _any_lane_key)
    for module in (_convert, _decompositions, _solvers):
        monkeypatch.setattr(module, "checked_by_plan", lambda check_finite, a: bool(check_finite))
    for module in (_convert, _dispatch):  # (no host lanes: the model's arrays pose as device arrays)
        monkeypatch.setattr(module, "host_ready", lambda values: False)
    full = []
    real_key = stateless._key
    monkeypatch.setattr(stateless, "_key", lambda *args: full.append(args[0]) or real_key(*args))
    gpmath.cache_clear()
    P = model.put
    for seed in range(3):
        a, b = spd((), n, "float64", seed), random((n, 2), "float64", seed)
        close(linalg.cholesky(P(a), lower=True), np.linalg.cholesky(a), "float64", 100)
        close(linalg.solve(P(a), P(b)), np.linalg.solve(a, b), "float64", 100)
        close(linalg.solve(P(a), P(b), assume_a="pos"), np.linalg.solve(a, b), "float64", 100)
    assert len(full) == 3, full
    bad = a.copy()
    bad[0, n - 1] = np.nan  # (the triangle lower=True never reads)
    with pytest.raises(ValueError, match="a holds"):
        linalg.cholesky(P(bad), lower=True)
    with pytest.raises(ValueError, match="b holds"):
        linalg.solve(P(a), P(np.full((n, 2), np.inf)))
    singular = a.copy()
    singular[:, 1] = 0
    with pytest.raises(linalg.LinAlgError, match="singular"):
        linalg.solve(P(singular), P(b))
    assert len(full) == 3, "through the lanes"
    close(linalg.cholesky(P(bad), lower=True, check_finite=False), np.linalg.cholesky(a), "float64", 100)
    assert len(full) == 4, "check_finite=False: a lane of its own"
    gpmath.cache_clear()


@pytest.mark.parametrize("name", ["det", "cholesky"])
def test_a_repeated_call_on_device_arrays_still_tests_for_infs_and_nans(model, name, monkeypatch):
    """A repeated call takes whatever lane it has (det keeps host lanes only, whose plans are the
    CPU engine's; cholesky's device lane hands the test to its plan): a NaN or an inf in a later
    call is still SciPy's ValueError naming ``a``, and finite data still gets SciPy's answer."""
    from gpmath.linalg import _convert, _decompositions, _dispatch, _solvers

    monkeypatch.setattr(_dispatch, "lane_key", _any_lane_key)  # the model's arrays as device arrays: lanes,
    for module in (_convert, _decompositions, _solvers):  # and check_finite handed to the plans
        monkeypatch.setattr(module, "checked_by_plan", lambda check_finite, a: bool(check_finite))
    P, function = model.put, getattr(linalg, name)
    for seed in range(3):
        a = spd((), 6, "float64", seed)
        close(function(P(a)), getattr(sl, name)(a), "float64", 100)
    for bad in (np.nan, np.inf):
        b = a.copy()
        b[1, 1] = bad
        with pytest.raises(ValueError, match="infs or NaNs: a holds"):
            function(P(b))
    gpmath.cache_clear()


@pytest.mark.parametrize("dtype", ["float64", "complex64"])
def test_check_finite_of_the_plans_on_the_cpu(dtype):
    """The CPU engines of Cholesky and Solve test at once, naming the operand; without the option they
    compute (SciPy's LAPACK then reports what it finds)."""
    from gpmath.solver import Cholesky, Solve

    a, b = spd((), 4, dtype), random((4, 1), dtype, 1)
    bad_a, bad_b = a.copy(), b.copy()
    bad_a[3, 0], bad_b[2, 0] = np.inf, np.nan
    with pytest.raises(ValueError, match="a holds"):
        Cholesky(bad_a, check_finite=True, execution="cpu").execute()
    close(Cholesky(bad_a, execution="cpu").execute(), np.linalg.cholesky(a).conj().T, dtype)  # the upper triangle
    with pytest.raises(ValueError, match="b holds"):
        Solve(a, bad_b, check_finite=True, execution="cpu").execute()
    assert np.isnan(Solve(a, bad_b, execution="cpu").execute()).any()


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_mixed_solve(model, dtype):
    P = model.put
    model.cs.irs_dtype = np.dtype(dtype)
    a, b = general((2,), 16, dtype), random((2, 16, 2), dtype, 3)
    x, info = linalg.solve(P(a), P(b), refine="mixed", precision="tf32", full_output=True, **CUDA)
    close(a @ host(x), b, dtype, 100)
    assert info == linalg.Refinement(2, 2, False)


def test_plans_are_cached_and_reused(model):
    P = model.put
    a = spd((3,), 40, "float64")  # above the kernel's n: cuSOLVER's potrfBatched, whose calls the model counts
    first = host(linalg.cholesky(P(a), **CUDA))
    calls = len(model.cs.calls)
    np.testing.assert_array_equal(host(linalg.cholesky(P(a.copy()), **CUDA)), first)
    assert len(model.cs.calls) == calls + 1  # one more factorisation, same plan


def test_every_planner_has_a_cuda_engine(model):  # (the model fixture emulates the libraries)
    from gpmath import solver

    a, b = general((), 4, "float64"), random((4,), "float64")
    piv = np.zeros(4, np.int32)
    cases = {"Cholesky": (a,), "CholeskySolve": (a, b), "LU": (a,), "LUSolve": (a, piv, b), "Solve": (a, b),
             "QR": (a,), "Eigh": (a,), "SVD": (a,), "Lstsq": (a, b), "Inv": (a,), "Det": (a,)}
    for name, operands in cases.items():
        with getattr(solver, name)(*operands, execution="cuda") as plan:
            assert type(plan).__name__ == "Cuda" + name


@pytest.mark.parametrize("batch, n, dtype, routine", [
    (2, 8, "float64", _cuda_jacobi.ROUTINE), (2, 8, "complex128", "syevjBatched"), (300, 32, "float64", _cuda_jacobi.ROUTINE),
    (300, 33, "float64", "syevjBatched"), (2, 40, "float64", _cuda_jacobi.ROUTINE), (2, 40, "complex128", "syevBatched"),
    (300, 40, "float64", "syevBatched"), (2, 200, "float64", "syevjBatched"), (1, 40, "float64", _cuda_jacobi.ROUTINE),
    (1, 40, "complex128", "syevd"), (1, 64, "float64", "syevd"), (2, 64, "float64", _cuda_jacobi.ROUTINE)])
def test_eigh_default_route_follows_the_crossover_table(model, batch, n, dtype, routine):
    from gpmath.solver import Eigh

    a = hermitian((batch,) if batch > 1 else (), n, dtype)
    with Eigh(model.put(a), **CUDA) as plan:
        assert plan.plan().routine == routine
        w, v = host(plan.execute(check=True))
    close((v * w[..., None, :]) @ ct(v), a, "float64", 100)


@pytest.mark.parametrize("shape, dtype, routine", [((2, 16, 16), "float64", _cuda_jacobi.ROUTINE),
                                                   ((2, 32, 32), "float32", _cuda_jacobi.ROUTINE),
                                                   ((32, 32), "float64", _cuda_jacobi.ROUTINE),
                                                   ((2, 16, 16), "complex64", "gesvdjBatched"),
                                                   ((3, 40, 40), "float64", _cuda_jacobi.ROUTINE),
                                                   ((40, 40), "float64", _cuda_jacobi.ROUTINE),
                                                   ((70, 70), "float64", "gesvd"),
                                                   ((2, 12, 7), "float64", "gesvdjBatched")])
def test_svd_default_route_follows_the_crossover_table(model, shape, dtype, routine):
    from gpmath.solver import SVD

    a = random(shape, dtype)
    with SVD(model.put(a), **CUDA) as plan:
        assert plan.plan().routine == routine
        u, s, vh = host(plan.execute(check=True))
    k = min(shape[-2:])
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, dtype, 100)


def test_eigh_without_syev_batched_falls_back_by_default_and_names_the_version_when_asked(model):
    model.cs.has_syev_batched = False  # cuSOLVER older than 11.7 (CUDA 12.0-12.5)
    a = hermitian((2,), 40, "float64")
    w, v = host(linalg.eigh(model.put(a), **CUDA))
    close((v * w[..., None, :]) @ ct(v), a, "float64", 100)
    with pytest.raises(NotImplementedError, match="cuSOLVER 11.7"):
        linalg.eigh(model.put(a), driver="syevBatched", **CUDA)


def test_staged_torch_cpu_operands_get_torch_results(model):
    """Host staging delivers every result of torch CPU operands as torch CPU tensors (it returned
    NumPy arrays before the staging path was built once)."""
    if model.mode != "torch-staged":
        pytest.skip("the package of staged results is what this test checks")
    import torch

    a = spd((2,), 5, "float64")
    b = random((2, 5, 3), "float64", 1)
    results = [linalg.solve(model.put(a), model.put(b), **CUDA), linalg.cholesky(model.put(a), **CUDA),
               *linalg.eigh(model.put(a), **CUDA), *linalg.lu_factor(model.put(a), **CUDA),
               linalg.inv(model.put(a), **CUDA), linalg.det(model.put(a), **CUDA)]
    for result in results:
        assert isinstance(result, torch.Tensor) and result.device.type == "cpu", type(result)
    close(results[0], np.linalg.solve(a, b), "float64")


def test_stateless_repeats_hit_and_keep_no_operand(model):
    import gc
    import weakref

    P = model.put
    before = gpmath.cache_info()["linalg"]
    for _ in range(3):
        a, b = spd((), 6, "float64"), random((6, 2), "float64")
        x = host(linalg.solve(P(a), P(b), assume_a="pos", **CUDA))
        close(a @ x, b, "float64")
        operand = P(a.copy())  # numpy modes: put returns its argument
        ref = weakref.ref(operand)
        close(linalg.cholesky(operand, **CUDA), sl.cholesky(a), "float64")
        del operand
        gc.collect()
        assert ref() is None
    info = gpmath.cache_info()["linalg"]
    assert (info.hits - before.hits, info.misses - before.misses, info.size) == (4, 2, 2)


def _unread(a, lower):
    """*a* with 7s in the triangle that *lower* does not name."""
    n = a.shape[-1]
    return (a + (np.triu if lower else np.tril)(np.full((n, n), 7.0), 1 if lower else -1)).astype(a.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("route", ["pos", "sym", "her", "upper triangular", "lower triangular", "diagonal"])
def test_structured_inv_and_solve_read_what_scipy_reads(model, dtype, lower, route):
    """The inverse and solution of what the route reads, through the CUDA engines' routes."""
    P = model.put
    a = spd((2,), 5, dtype) if route == "pos" else hermitian((2,), 5, dtype) + 4 * np.eye(5, dtype=dtype)
    read = {"upper triangular": np.triu(a), "lower triangular": np.tril(a),
            "diagonal": a * np.eye(5)}.get(route, a).astype(dtype)
    given = _unread(read, route == "lower triangular" or (lower and route in ("pos", "sym", "her")))
    if route == "diagonal":
        given = (read + 7 * (1 - np.eye(5))).astype(dtype)
    if route == "sym" and np.dtype(dtype).kind == "c":  # complex symmetric (not Hermitian): a = aᵀ
        read = ((read + np.swapaxes(read, -1, -2)) / 2).astype(dtype)
        given = _unread(read, lower)
    expected = np.linalg.inv(read.astype(np.complex128))
    close(linalg.inv(P(given), assume_a=route, lower=lower, **CUDA), expected, dtype, 100)
    b = random((2, 5, 2), dtype, 3)
    close(linalg.solve(P(given), P(b), assume_a=route, lower=lower, **CUDA), expected @ b, dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
def test_generalized_eigh_type_1_and_subsets(model, dtype, lower):
    """a v = w b v through b's Cholesky factor and two triangular solves on the CUDA engines;
    eigenvectors b-orthonormal; subsets of the spectrum."""
    P = model.put
    a, b = hermitian((2,), 6, dtype), spd((2,), 6, dtype, seed=4)
    w, v = host(linalg.eigh(P(_unread(a, lower)), P(_unread(b, lower)), lower=lower, **CUDA))
    wide = np.complex128
    expected = np.stack([np.sort(np.linalg.eigvals(np.linalg.solve(b[i].astype(wide), a[i])).real) for i in range(2)])
    close(w, expected, dtype, 100)
    close(a @ v, (b @ v) * w[..., None, :], dtype, 300)
    close(ct(v) @ b @ v, np.broadcast_to(np.eye(6), (2, 6, 6)), dtype, 300)
    w2 = host(linalg.eigvalsh(P(a), P(b), lower=lower, subset_by_index=(1, 3), **CUDA))
    close(w2, expected[:, 1:4], dtype, 100)


@pytest.mark.parametrize("call", [
    lambda f, a, b: f.qr(a, pivoting=True), lambda f, a, b: f.qr(a, mode="raw"), lambda f, a, b: f.eig(a, b),
    lambda f, a, b: f.eig(a, left=True), lambda f, a, b: f.lu_factor(a[..., :3]),
], ids=["qr-pivoting", "qr-raw", "eig-b", "eig-left", "lu_factor-rectangular"])
def test_forms_through_scipy_on_the_host_return_the_operands_package(model, call):
    P = model.put
    a, b = general((2,), 4, "float64"), spd((), 4, "float64", seed=2)
    def flat(result):
        return [x for item in (result if isinstance(result, tuple) else (result,))
                for x in (item if isinstance(item, tuple) else (item,))]

    got = flat(call(linalg, P(a), P(b)))
    assert all(type(x) is type(P(a)) for x in got)
    for i in range(2):
        for g, e in zip(got, flat(call(sl, a[i], b))):
            np.testing.assert_allclose(host(g)[i], e, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 6), ((3,), 5), ((2,), 40), ((), 140)])
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
@pytest.mark.parametrize("compiler", [True, False])
def test_solve_condition_estimate(model, dtype, batch, n, assume_a, compiler, monkeypatch):
    """The CUDA routes' rcond (GetrfSolve for either LU layout and transposed, PotrfSolve, the small
    kernel's identity solve) within a factor 10 of LAPACK's, per matrix of a batch broadcast along
    b; the warning of linalg.solve names the ill-conditioned matrix."""
    from scipy.linalg import LinAlgWarning
    from test_linalg_condition import conditioned, lapack_rcond, scaled_positive

    model.compiler = compiler
    P, single = model.put, dtype in ("float32", "complex64")
    count = int(np.prod(batch))
    if assume_a == "pos":
        a = scaled_positive(batch, n, dtype, np.linspace(0.5, 6 if single else 12, count).reshape(batch))
    else:
        a = conditioned(batch, n, dtype, np.logspace(-1, -7.5 if single else -17, count).reshape(batch), seed=n)
    b = random((2,) + batch + (n, 1), dtype, 1)
    expected = np.broadcast_to(lapack_rcond(a, assume_a == "pos"), (2,) + batch)  # in the dtype, as SciPy computes
    transposes = (False, True) if assume_a == "gen" and dtype in ("float32", "float64") else (False,)
    for swapped, transposed in [(s, t) for s in (False, True) for t in transposes]:
        monkeypatch.setattr(_cuda_solve, "SOLVE_SWAPPED", swapped)
        with gpmath.solver.Solve(P(a), P(b), assume_a=assume_a, transposed=transposed, condition=True,
                                 **CUDA) as plan:
            plan.execute(check=True)
            rcond = host(plan.rcond())
        ratio = rcond / expected
        assert rcond.shape == (2,) + batch and ((0.1 <= ratio) & (ratio <= 10)).all(), (swapped, transposed, ratio)
    last = expected.size - 1  # the worst conditioned
    if expected.reshape(-1)[last] < np.finfo(np.dtype(dtype)).eps / 10:
        with pytest.warns(LinAlgWarning, match=f"slice {last} has rcond"):
            linalg.solve(P(a), P(b), assume_a=assume_a, **CUDA)
    gpmath.cache_clear()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 33), ((3,), 40), ((2,), 300)])  # above the small kernel's 32 (it inverts)
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
def test_staged_condition_kernels_take_the_estimators_steps(model, dtype, batch, n, assume_a):
    """For host operands staged through the GPU, the estimate's elementwise steps run as
    condition.cu's kernels (here their NumPy model, which the GPU tests hold the kernels to) on
    device vectors: the same estimates as the package's steps (NVRTC "missing"), up to rounding."""
    from test_linalg_condition import conditioned, scaled_positive

    if model.mode != "staged":
        pytest.skip("the kernels serve staged host operands")
    count = int(np.prod(batch))
    if assume_a == "pos":
        a = scaled_positive(batch, n, dtype, np.linspace(0.5, 5, count).reshape(batch))
    else:
        a = conditioned(batch, n, dtype, np.logspace(-1, -5, count).reshape(batch), seed=n)
    b = random(batch + (n, 2), dtype, 1)
    for lower in (False, True) if assume_a == "pos" else (False,):
        if assume_a == "pos":  # noise in the triangle not read (‖A‖₁ is of the Hermitian matrix of the other)
            a = a + (np.triu if lower else np.tril)(np.full((n, n), 3.0, dtype), 1 if lower else -1)
        found = {}
        for compiler in (True, False):
            model.compiler = compiler
            with gpmath.solver.Solve(a, b, assume_a=assume_a, lower=lower, condition=True, **CUDA) as plan:
                plan.execute()
                found[compiler] = np.asarray(plan.rcond())
        np.testing.assert_allclose(found[True], found[False], rtol=2e-5 if dtype in ("float32", "complex64") else 1e-12)


def test_calibrate_records_factor_rows_that_later_plans_follow(model, monkeypatch):
    """calibrate() times both FACTOR routes, records rows in the wisdom under the GPU and cuSOLVER
    version, and plans made after it route by the recorded rows (a crafted entry for each way)."""
    from gpmath._core import wisdom
    from gpmath.solver import Solve

    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_told", set())
    monkeypatch.setattr(wisdom, "machine", lambda device_id, library, version: f"emulated GPU {device_id}, {library} {version}")
    found = gpmath.solver.calibrate(batch=2, sizes=(48, 64), repeats=1, mixed_order=None)["FACTOR"]
    assert found["rows"][-1] == [1, None, "looped"] and found["machine"] == "emulated GPU 0, cusolver 12000"
    assert set(found["ms"]) <= {48, 64} and all(set(t) == {"batched", "looped"} for t in found["ms"].values())
    [entry] = [e for e in wisdom.entries() if e["kind"] == "solver"]
    assert entry["choice"]["rows"] == found["rows"] and entry["key"] == '"FACTOR"'
    a, b = general((3,), 40, "float64"), random((3, 40, 1), "float64", 1)
    for rows, batched in (([[1, None, "looped"]], False), ([[2, 64, "batched"], [1, None, "looped"]], True)):
        wisdom.record("solver", found["machine"], "FACTOR", {"rows": rows})
        with Solve(model.put(a), model.put(b), **CUDA) as plan:
            close(a @ host(plan.execute(check=True)), b, "float64", 100)
            assert plan.route.lu.batched == batched
    with pytest.raises(ValueError, match="batch must be at least 2"):
        gpmath.solver.calibrate(batch=1)
    with pytest.raises(ValueError, match="sizes must ascend and be above 32"):
        gpmath.solver.calibrate(sizes=(64, 48))
    with pytest.raises(ValueError, match="mixed_order must be at least 1"):
        gpmath.solver.calibrate(mixed_order=0)


def test_mixed_solves_take_the_calibrated_inner_precision(model, monkeypatch):
    """calibrate() times the mixed solve in f32, tf32 and bf16 and records MIXED's rows; a mixed
    plan without a precision then runs the recorded one (tf32, the built-in row, before any
    calibration; f32 on the CPU, whose LU is float32), and an explicit precision stays as asked."""
    from gpmath._core import wisdom
    from gpmath.solver import Solve, _calibrate

    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_told", set())
    monkeypatch.setattr(wisdom, "machine", lambda device_id, library, version: f"emulated GPU {device_id}, {library} {version}")
    model.cs.irs_dtype = np.dtype("float64")
    a, b = general((), 40, "float64"), random((40, 1), "float64", 1)
    with Solve(model.put(a), model.put(b), refine="mixed", **CUDA) as plan:
        assert plan.inner_precision is None
        close(a @ host(plan.execute(check=True)), b, "float64", 100)
        assert plan.inner_precision == "tf32" and plan.precision is None
    with Solve(a, b, refine="mixed", precision="bf16", execution="cpu") as plan:
        assert plan.inner_precision == "f32" and plan.precision == "bf16"
    assert Solve(a, b, execution="cpu").inner_precision is None
    found = gpmath.solver.calibrate(batch=2, sizes=(48,), repeats=1, mixed_order=40)["MIXED"]
    assert set(found["runs"]) == set(_calibrate.MIXED_CANDIDATES) and found["order"] == 40
    assert found["rows"] in ([[1, None, p]] for p in _calibrate.MIXED_CANDIDATES)
    assert all(run["backward_error"] < 1e-14 and not run["fell_back"] for run in found["runs"].values())
    for chosen in ("bf16", "f32"):
        wisdom.record("solver", found["machine"], "MIXED", {"rows": [[1, None, chosen]]})
        gpmath.cache_clear()
        with Solve(model.put(a), model.put(b), refine="mixed", **CUDA) as plan:
            close(a @ host(plan.execute(check=True)), b, "float64", 100)
            assert plan.inner_precision == chosen
        with Solve(model.put(a), model.put(b), refine="mixed", precision="f16", **CUDA) as plan:
            plan.plan()
            assert plan.inner_precision == "f16"
        x, info = linalg.solve(model.put(a), model.put(b), refine="mixed", full_output=True, **CUDA)
        close(a @ host(x), b, "float64", 100)
    with pytest.raises(ValueError, match="precision must be one of None, 'f32'"):
        Solve(a, b, refine="mixed", precision="f64")


FAST, SLOW = {"fell_back": False, "backward_error": 1e-16}, {"fell_back": True, "backward_error": 1e-16}


@pytest.mark.parametrize("runs, rows", [
    ({"tf32": {"ms": 10.0} | FAST, "f32": {"ms": 14.0} | FAST, "bf16": {"ms": 8.0} | FAST}, [[1, None, "bf16"]]),
    ({"tf32": {"ms": 10.0} | FAST, "f32": {"ms": 9.8} | FAST, "bf16": {"ms": 12.0} | FAST}, [[1, None, "tf32"]]),
    ({"tf32": {"ms": 10.0} | SLOW, "f32": {"ms": 14.0} | FAST, "bf16": {"ms": 9.0} | SLOW}, [[1, None, "f32"]]),
    ({"tf32": {"ms": 10.0, "fell_back": False, "backward_error": 1e-13}, "f32": {"ms": 14.0} | FAST},
     [[1, None, "f32"]]),  # tf32's backward error beyond 10x the direct solve's
    ({"tf32": {"ms": 10.0} | SLOW, "f32": {"ms": 14.0} | SLOW}, [[1, None, "tf32"]]),  # none: the built-in row
])
def test_calibrated_mixed_rows_follow_the_timings(runs, rows):
    from gpmath.solver._calibrate import _mixed_rows

    assert _mixed_rows(runs, 2e-16) == rows


@pytest.mark.parametrize("rows", ["bad", None, [], [[2, 64, "batched"]], [[2, 64, "batched"], [1, None, "unknown"]],
                                  [[0, None, "looped"]], [[1, None]], [["2", 64, "batched"], [1, None, "looped"]],
                                  [[True, None, "looped"]]], ids=str)
def test_recorded_rows_that_are_no_crossover_table_are_refused_with_one_warning(model, monkeypatch, caplog, rows):
    """A wisdom file edited by hand (or from a version with other routes) never breaks a solve:
    the built-in rows route, and one warning says why."""
    from gpmath._core import wisdom
    from gpmath.solver import Solve, _crossover

    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_told", set())
    monkeypatch.setattr(_crossover, "_refused", set())
    monkeypatch.setattr(wisdom, "machine", lambda device_id, library, version: f"emulated GPU {device_id}, {library} {version}")
    wisdom.record("solver", "emulated GPU 0, cusolver 12000", "FACTOR", {"rows": rows})
    a, b = general((3,), 40, "float64"), random((3, 40, 1), "float64", 1)
    for _ in range(2):
        with caplog.at_level("WARNING", logger="gpmath"):
            with Solve(model.put(a), model.put(b), **CUDA) as plan:
                close(a @ host(plan.execute(check=True)), b, "float64", 100)
    assert _crossover.calibrated(_crossover.FACTOR, 0) is _crossover.FACTOR
    assert sum("not a crossover table" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.parametrize("losses, rows", [
    ((), [[2, 512, "batched"], [1, None, "looped"]]),  # the batched routines won everywhere timed
    ((48, 64), [[1, None, "looped"]]),  # the loop won at the first two sizes
    ((256,), [[2, 512, "batched"], [1, None, "looped"]]),  # one loss alone (noise) does not end the range
    ((256, 384), [[2, 192, "batched"], [1, None, "looped"]]),  # two in a row do
    ((512,), [[2, 384, "batched"], [1, None, "looped"]]),  # a loss at the last size timed ends it
])
def test_calibrated_factor_rows_follow_the_timings(losses, rows):
    from gpmath.solver._calibrate import _factor_rows

    sizes = (48, 64, 96, 128, 192, 256, 384, 512)
    timings = {n: {"batched": 2.0 if n in losses else 1.0, "looped": 1.5} for n in sizes}
    assert _factor_rows(timings) == rows
