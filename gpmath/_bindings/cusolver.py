"""ctypes bindings to the dense cuSOLVER API (``cusolverDn.h``).

Ints in, ints out: handles, parameter objects and device pointers are plain integers.  The
64-bit generic API (``cusolverDnX*``) takes a ``cudaDataType`` per operand; the legacy typed
families (``cusolverDn<t>potrfBatched`` ...) are bound once per family and take the type letter
``t`` in ``"SDCZ"`` (float, double, complex64, complex128) as their first argument.

Every prototype below is checked against ``cusolverDn.h`` of the CUDA 13 wheel (cuSOLVER 12.x) by
``tests/test_bindings_cusolver.py``; the same functions exist unchanged in CUDA 12's cuSOLVER 11.
``info`` arguments are device pointers: nothing here reads them.
"""

from __future__ import annotations

import enum
from ctypes import POINTER, byref, c_byte, c_double, c_int, c_int64, c_size_t, c_void_p

from ._loader import Library, c_int_p, c_size_t_p, c_void_p_p, status_checker


class Status(enum.IntEnum):
    """``cusolverStatus_t``, transcribed from ``cusolver_common.h`` (cuSOLVER has no name function)."""

    CUSOLVER_STATUS_SUCCESS = 0
    CUSOLVER_STATUS_NOT_INITIALIZED = 1
    CUSOLVER_STATUS_ALLOC_FAILED = 2
    CUSOLVER_STATUS_INVALID_VALUE = 3
    CUSOLVER_STATUS_ARCH_MISMATCH = 4
    CUSOLVER_STATUS_MAPPING_ERROR = 5
    CUSOLVER_STATUS_EXECUTION_FAILED = 6
    CUSOLVER_STATUS_INTERNAL_ERROR = 7
    CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED = 8
    CUSOLVER_STATUS_NOT_SUPPORTED = 9
    CUSOLVER_STATUS_ZERO_PIVOT = 10
    CUSOLVER_STATUS_INVALID_LICENSE = 11
    CUSOLVER_STATUS_IRS_PARAMS_NOT_INITIALIZED = 12
    CUSOLVER_STATUS_IRS_PARAMS_INVALID = 13
    CUSOLVER_STATUS_IRS_PARAMS_INVALID_PREC = 14
    CUSOLVER_STATUS_IRS_PARAMS_INVALID_REFINE = 15
    CUSOLVER_STATUS_IRS_PARAMS_INVALID_MAXITER = 16
    CUSOLVER_STATUS_IRS_INTERNAL_ERROR = 20
    CUSOLVER_STATUS_IRS_NOT_SUPPORTED = 21
    CUSOLVER_STATUS_IRS_OUT_OF_RANGE = 22
    CUSOLVER_STATUS_IRS_NRHS_NOT_SUPPORTED_FOR_REFINE_GMRES = 23
    CUSOLVER_STATUS_IRS_INFOS_NOT_INITIALIZED = 25
    CUSOLVER_STATUS_IRS_INFOS_NOT_DESTROYED = 26
    CUSOLVER_STATUS_IRS_MATRIX_SINGULAR = 30
    CUSOLVER_STATUS_INVALID_WORKSPACE = 31


class EigMode(enum.IntEnum):
    """``cusolverEigMode_t``."""

    NOVECTOR = 0
    VECTOR = 1


class PrecType(enum.IntEnum):
    """``cusolverPrecType_t`` (the real and complex precisions the IRS solvers accept)."""

    R_64F = 1203
    R_32F = 1204
    R_16F = 1205
    R_16BF = 1206
    R_TF32 = 1207
    C_64F = 1213
    C_32F = 1214
    C_16F = 1215
    C_16BF = 1216
    C_TF32 = 1217


class IRSRefinement(enum.IntEnum):
    """``cusolverIRSRefinement_t`` (the refinement solvers)."""

    NONE = 1101
    CLASSICAL = 1102
    CLASSICAL_GMRES = 1103
    GMRES = 1104
    GMRES_GMRES = 1105


STATUS_ALLOC_FAILED = Status.CUSOLVER_STATUS_ALLOC_FAILED

_LIB = Library(
    "cusolver", status_checker("cuSOLVER", lambda s: Status(s).name, frozenset({STATUS_ALLOC_FAILED}))
)
library = _LIB
check = _LIB._check

_P, _I, _I64, _SZ = c_void_p, c_int, c_int64, c_size_t

_LIB.declare("cusolverGetVersion", c_int, [c_int_p])

# --- handles, parameters, Jacobi and IRS parameter objects -----------------------------------
for _name in ("Create", "CreateParams", "CreateSyevjInfo", "CreateGesvdjInfo", "IRSParamsCreate", "IRSInfosCreate"):
    _LIB.declare(f"cusolverDn{_name}", c_int, [c_void_p_p])
for _name in (
    "Destroy", "DestroyParams", "DestroySyevjInfo", "DestroyGesvdjInfo", "IRSParamsDestroy", "IRSInfosDestroy",
    "IRSParamsEnableFallback", "IRSParamsDisableFallback",
):
    _LIB.declare(f"cusolverDn{_name}", c_int, [_P])
_LIB.declare("cusolverDnSetStream", c_int, [_P, _P])
for _name in ("Xsyevj", "Xgesvdj"):
    _LIB.declare(f"cusolverDn{_name}SetTolerance", c_int, [_P, c_double])
    _LIB.declare(f"cusolverDn{_name}SetMaxSweeps", c_int, [_P, _I])
_LIB.declare("cusolverDnIRSParamsSetSolverPrecisions", c_int, [_P, _I, _I])
_LIB.declare("cusolverDnIRSParamsSetRefinementSolver", c_int, [_P, _I])
_LIB.declare("cusolverDnIRSParamsSetMaxIters", c_int, [_P, _I])
_LIB.declare("cusolverDnIRSParamsSetTol", c_int, [_P, c_double])
_LIB.declare("cusolverDnIRSInfosGetNiters", c_int, [_P, c_int_p])
_LIB.declare("cusolverDnIRSInfosGetOuterNiters", c_int, [_P, c_int_p])

# --- 64-bit generic API: (handle, params, ...) --------------------------------------------------
_HOST_SIZES = [c_size_t_p, c_size_t_p]
_WORK = [_P, _SZ, _P, _SZ, _P]  # device buffer + bytes, host buffer + bytes, info
_GETRF = [_P, _P, _I64, _I64, _I, _P, _I64]
_LIB.declare("cusolverDnXgetrf_bufferSize", c_int, _GETRF + [_I] + _HOST_SIZES)
_LIB.declare("cusolverDnXgetrf", c_int, _GETRF + [_P, _I] + _WORK)
_LIB.declare("cusolverDnXgetrs", c_int, [_P, _P, _I, _I64, _I64, _I, _P, _I64, _P, _I, _P, _I64, _P])
_POTRF = [_P, _P, _I, _I64, _I, _P, _I64, _I]
_LIB.declare("cusolverDnXpotrf_bufferSize", c_int, _POTRF + _HOST_SIZES)
_LIB.declare("cusolverDnXpotrf", c_int, _POTRF + _WORK)
_LIB.declare("cusolverDnXpotrs", c_int, [_P, _P, _I, _I64, _I64, _I, _P, _I64, _I, _P, _I64, _P])
_GEQRF = [_P, _P, _I64, _I64, _I, _P, _I64, _I, _P, _I]
_LIB.declare("cusolverDnXgeqrf_bufferSize", c_int, _GEQRF + _HOST_SIZES)
_LIB.declare("cusolverDnXgeqrf", c_int, _GEQRF + _WORK)
_SYEVD = [_P, _P, _I, _I, _I64, _I, _P, _I64, _I, _P, _I]
_LIB.declare("cusolverDnXsyevd_bufferSize", c_int, _SYEVD + _HOST_SIZES)
_LIB.declare("cusolverDnXsyevd", c_int, _SYEVD + _WORK)
_LIB.declare("cusolverDnXsyevBatched_bufferSize", c_int, _SYEVD + _HOST_SIZES + [_I64])  # cuSOLVER 11.7+ (CUDA 12.6)
_LIB.declare("cusolverDnXsyevBatched", c_int, _SYEVD + _WORK + [_I64])
_GEEV = [_P, _P, _I, _I, _I64, _I, _P, _I64, _I, _P, _I, _P, _I64, _I, _P, _I64, _I]
_LIB.declare("cusolverDnXgeev_bufferSize", c_int, _GEEV + _HOST_SIZES)  # recent cuSOLVER only: xgeev_available()
_LIB.declare("cusolverDnXgeev", c_int, _GEEV + _WORK)
_GESVD = [_P, _P, c_byte, c_byte, _I64, _I64, _I, _P, _I64, _I, _P, _I, _P, _I64, _I, _P, _I64, _I]
_LIB.declare("cusolverDnXgesvd_bufferSize", c_int, _GESVD + _HOST_SIZES)
_LIB.declare("cusolverDnXgesvd", c_int, _GESVD + _WORK)
_GESVDP = [_P, _P, _I, _I, _I64, _I64, _I, _P, _I64, _I, _P, _I, _P, _I64, _I, _P, _I64, _I]
_LIB.declare("cusolverDnXgesvdp_bufferSize", c_int, _GESVDP + _HOST_SIZES)
_LIB.declare("cusolverDnXgesvdp", c_int, _GESVDP + _WORK + [POINTER(c_double)])

# --- legacy typed families, one prototype per family ----------------------------------------------
_FAMILIES = {
    "orgqr": {"S": "Sorgqr", "D": "Dorgqr", "C": "Cungqr", "Z": "Zungqr"},
    "ormqr": {"S": "Sormqr", "D": "Dormqr", "C": "Cunmqr", "Z": "Zunmqr"},
    "potrfBatched": {t: f"{t}potrfBatched" for t in "SDCZ"},
    "potrsBatched": {t: f"{t}potrsBatched" for t in "SDCZ"},
    "syevjBatched": {"S": "SsyevjBatched", "D": "DsyevjBatched", "C": "CheevjBatched", "Z": "ZheevjBatched"},
    "gesvdjBatched": {t: f"{t}gesvdjBatched" for t in "SDCZ"},
    "gesvdj": {t: f"{t}gesvdj" for t in "SDCZ"},
}
_PROTOS = {  # (bufferSize prototype or None, compute prototype)
    "orgqr": ([_P, _I, _I, _I, _P, _I, _P, c_int_p], [_P, _I, _I, _I, _P, _I, _P, _P, _I, _P]),
    "ormqr": (
        [_P, _I, _I, _I, _I, _I, _P, _I, _P, _P, _I, c_int_p],
        [_P, _I, _I, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I, _P],
    ),
    "potrfBatched": (None, [_P, _I, _I, _P, _I, _P, _I]),
    "potrsBatched": (None, [_P, _I, _I, _I, _P, _I, _P, _I, _P, _I]),
    "syevjBatched": (
        [_P, _I, _I, _I, _P, _I, _P, c_int_p, _P, _I],
        [_P, _I, _I, _I, _P, _I, _P, _P, _I, _P, _P, _I],
    ),
    "gesvdjBatched": (
        [_P, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I, c_int_p, _P, _I],
        [_P, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I, _P, _I, _P, _P, _I],
    ),
    "gesvdj": (
        [_P, _I, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I, c_int_p, _P],
        [_P, _I, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I, _P, _I, _P, _P],
    ),
}
for _family, _names in _FAMILIES.items():
    _size_proto, _proto = _PROTOS[_family]
    for _typed in _names.values():
        _LIB.declare(f"cusolverDn{_typed}", c_int, _proto)
        if _size_proto is not None:
            _LIB.declare(f"cusolverDn{_typed}_bufferSize", c_int, _size_proto)

# --- mixed-precision iterative refinement -----------------------------------------------------------
_LIB.declare("cusolverDnIRSXgesv_bufferSize", c_int, [_P, _P, _I, _I, c_size_t_p])
_LIB.declare("cusolverDnIRSXgesv", c_int, [_P, _P, _P, _I, _I, _P, _I, _P, _I, _P, _I, _P, _SZ, c_int_p, _P])


def _typed(family: str, t: str) -> str:
    return "cusolverDn" + _FAMILIES[family][t]


def _create(func: str) -> int:
    out = c_void_p()
    _LIB.checked(func)(byref(out))
    return out.value


def _host_sizes(func: str, *args) -> tuple[int, int]:
    device, host = c_size_t(0), c_size_t(0)
    _LIB.checked(func)(*args, byref(device), byref(host))
    return device.value, host.value


def _lwork(func: str, *args) -> int:
    lwork = c_int(0)
    _LIB.checked(func)(*args, byref(lwork))
    return lwork.value


# ---------------------------------------------------------------------------- handles and params
def get_version() -> int:
    """``cusolverGetVersion`` (major * 1000 + minor * 100 + patch, e.g. 12000 for cuSOLVER 12.0.0)."""
    version = c_int()
    _LIB.checked("cusolverGetVersion")(byref(version))
    return version.value


def create() -> int:
    """``cusolverDnCreate``."""
    return _create("cusolverDnCreate")


def destroy(handle: int) -> None:
    """``cusolverDnDestroy``."""
    _LIB.checked("cusolverDnDestroy")(handle)


def set_stream(handle: int, stream: int) -> None:
    """``cusolverDnSetStream``."""
    _LIB.checked("cusolverDnSetStream")(handle, stream)


def create_params() -> int:
    """``cusolverDnCreateParams``."""
    return _create("cusolverDnCreateParams")


def destroy_params(params: int) -> None:
    """``cusolverDnDestroyParams``."""
    _LIB.checked("cusolverDnDestroyParams")(params)


def create_syevj_info() -> int:
    """``cusolverDnCreateSyevjInfo``."""
    return _create("cusolverDnCreateSyevjInfo")


def destroy_syevj_info(info: int) -> None:
    """``cusolverDnDestroySyevjInfo``."""
    _LIB.checked("cusolverDnDestroySyevjInfo")(info)


def syevj_set_tolerance(info: int, tolerance: float) -> None:
    """``cusolverDnXsyevjSetTolerance``."""
    _LIB.checked("cusolverDnXsyevjSetTolerance")(info, tolerance)


def syevj_set_max_sweeps(info: int, max_sweeps: int) -> None:
    """``cusolverDnXsyevjSetMaxSweeps``."""
    _LIB.checked("cusolverDnXsyevjSetMaxSweeps")(info, max_sweeps)


def create_gesvdj_info() -> int:
    """``cusolverDnCreateGesvdjInfo``."""
    return _create("cusolverDnCreateGesvdjInfo")


def destroy_gesvdj_info(info: int) -> None:
    """``cusolverDnDestroyGesvdjInfo``."""
    _LIB.checked("cusolverDnDestroyGesvdjInfo")(info)


def gesvdj_set_tolerance(info: int, tolerance: float) -> None:
    """``cusolverDnXgesvdjSetTolerance``."""
    _LIB.checked("cusolverDnXgesvdjSetTolerance")(info, tolerance)


def gesvdj_set_max_sweeps(info: int, max_sweeps: int) -> None:
    """``cusolverDnXgesvdjSetMaxSweeps``."""
    _LIB.checked("cusolverDnXgesvdjSetMaxSweeps")(info, max_sweeps)


# ------------------------------------------------------------------------------ 64-bit generic API
def xgetrf_buffer_size(handle, params, m, n, data_type, a, lda, compute_type) -> tuple[int, int]:
    """``cusolverDnXgetrf_bufferSize``: (device bytes, host bytes)."""
    return _host_sizes("cusolverDnXgetrf_bufferSize", handle, params, m, n, data_type, a, lda, compute_type)


def xgetrf(handle, params, m, n, data_type, a, lda, ipiv, compute_type, dwork, dbytes, hwork, hbytes, info) -> None:
    """``cusolverDnXgetrf`` (*ipiv*: device int64, 1-based; *info*: device int32)."""
    _LIB.checked("cusolverDnXgetrf")(
        handle, params, m, n, data_type, a, lda, ipiv, compute_type, dwork, dbytes, hwork, hbytes, info
    )


def xgetrs(handle, params, trans, n, nrhs, data_type_a, a, lda, ipiv, data_type_b, b, ldb, info) -> None:
    """``cusolverDnXgetrs``."""
    _LIB.checked("cusolverDnXgetrs")(handle, params, trans, n, nrhs, data_type_a, a, lda, ipiv, data_type_b, b, ldb, info)


def xpotrf_buffer_size(handle, params, uplo, n, data_type, a, lda, compute_type) -> tuple[int, int]:
    """``cusolverDnXpotrf_bufferSize``: (device bytes, host bytes)."""
    return _host_sizes("cusolverDnXpotrf_bufferSize", handle, params, uplo, n, data_type, a, lda, compute_type)


def xpotrf(handle, params, uplo, n, data_type, a, lda, compute_type, dwork, dbytes, hwork, hbytes, info) -> None:
    """``cusolverDnXpotrf``."""
    _LIB.checked("cusolverDnXpotrf")(handle, params, uplo, n, data_type, a, lda, compute_type, dwork, dbytes, hwork, hbytes, info)


def xpotrs(handle, params, uplo, n, nrhs, data_type_a, a, lda, data_type_b, b, ldb, info) -> None:
    """``cusolverDnXpotrs``."""
    _LIB.checked("cusolverDnXpotrs")(handle, params, uplo, n, nrhs, data_type_a, a, lda, data_type_b, b, ldb, info)


def xgeqrf_buffer_size(handle, params, m, n, data_type, a, lda, data_type_tau, tau, compute_type) -> tuple[int, int]:
    """``cusolverDnXgeqrf_bufferSize``: (device bytes, host bytes)."""
    return _host_sizes(
        "cusolverDnXgeqrf_bufferSize", handle, params, m, n, data_type, a, lda, data_type_tau, tau, compute_type
    )


def xgeqrf(handle, params, m, n, data_type, a, lda, data_type_tau, tau, compute_type, *work) -> None:
    """``cusolverDnXgeqrf``; *work* is (device buffer, bytes, host buffer, bytes, info)."""
    _LIB.checked("cusolverDnXgeqrf")(handle, params, m, n, data_type, a, lda, data_type_tau, tau, compute_type, *work)


def xsyevd_buffer_size(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type):
    """``cusolverDnXsyevd_bufferSize``: (device bytes, host bytes)."""
    return _host_sizes(
        "cusolverDnXsyevd_bufferSize", handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type
    )


def xsyevd(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type, *work) -> None:
    """``cusolverDnXsyevd``; *work* is (device buffer, bytes, host buffer, bytes, info)."""
    _LIB.checked("cusolverDnXsyevd")(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type, *work)


def xgeev_available() -> bool:
    """Whether the loaded cuSOLVER has ``cusolverDnXgeev`` (the 11.7.5 header in tests/data declares it;
    older releases lack it)."""
    return hasattr(_LIB.cdll, "cusolverDnXgeev")


def xgeev_buffer_size(handle, params, jobvl, jobvr, n, data_type_a, a, lda, data_type_w, w, data_type_vl, vl, ldvl,
                      data_type_vr, vr, ldvr, compute_type) -> tuple[int, int]:
    """``cusolverDnXgeev_bufferSize``: (device bytes, host bytes)."""
    return _host_sizes("cusolverDnXgeev_bufferSize", handle, params, jobvl, jobvr, n, data_type_a, a, lda, data_type_w,
                       w, data_type_vl, vl, ldvl, data_type_vr, vr, ldvr, compute_type)


def xgeev(handle, params, jobvl, jobvr, n, data_type_a, a, lda, data_type_w, w, data_type_vl, vl, ldvl, data_type_vr,
          vr, ldvr, compute_type, *work) -> None:
    """``cusolverDnXgeev``; *work* is (device buffer, bytes, host buffer, bytes, info).  A real *a* with a
    complex *data_type_w* gives complex eigenvalues and LAPACK's real packing of the eigenvectors."""
    _LIB.checked("cusolverDnXgeev")(handle, params, jobvl, jobvr, n, data_type_a, a, lda, data_type_w, w, data_type_vl,
                                    vl, ldvl, data_type_vr, vr, ldvr, compute_type, *work)


def xsyev_batched_available() -> bool:
    """Whether the loaded cuSOLVER has ``cusolverDnXsyevBatched`` (11.7, CUDA 12.6, and later)."""
    return hasattr(_LIB.cdll, "cusolverDnXsyevBatched")


def xsyev_batched_buffer_size(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type,
                              batch) -> tuple[int, int]:
    """``cusolverDnXsyevBatched_bufferSize`` (cuSOLVER 11.7, CUDA 12.6, and later): (device bytes, host bytes)."""
    device, host = c_size_t(0), c_size_t(0)
    _LIB.checked("cusolverDnXsyevBatched_bufferSize")(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w,
                                                       compute_type, byref(device), byref(host), batch)
    return device.value, host.value


def xsyev_batched(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w, compute_type, *work_and_batch) -> None:
    """``cusolverDnXsyevBatched`` on *batch* contiguous column-major matrices; then (dbuf, dbytes, hbuf, hbytes,
    info, batch), *info* one int per matrix."""
    _LIB.checked("cusolverDnXsyevBatched")(handle, params, jobz, uplo, n, data_type, a, lda, data_type_w, w,
                                           compute_type, *work_and_batch)


def xgesvd_buffer_size(handle, params, jobu, jobvt, m, n, *operands) -> tuple[int, int]:
    """``cusolverDnXgesvd_bufferSize``; *jobu*/*jobvt* are characters ("A", "S", "N").

    *operands*: (typeA, A, lda, typeS, S, typeU, U, ldu, typeVT, VT, ldvt, computeType).
    """
    return _host_sizes("cusolverDnXgesvd_bufferSize", handle, params, ord(jobu), ord(jobvt), m, n, *operands)


def xgesvd(handle, params, jobu, jobvt, m, n, *operands_and_work) -> None:
    """``cusolverDnXgesvd``: the operands of :func:`xgesvd_buffer_size`, then (dbuf, dbytes, hbuf, hbytes, info)."""
    _LIB.checked("cusolverDnXgesvd")(handle, params, ord(jobu), ord(jobvt), m, n, *operands_and_work)


def xgesvdp_buffer_size(handle, params, jobz, econ, m, n, *operands) -> tuple[int, int]:
    """``cusolverDnXgesvdp_bufferSize`` (polar-decomposition SVD; returns V, not Vᴴ).

    *operands*: (typeA, A, lda, typeS, S, typeU, U, ldu, typeV, V, ldv, computeType).
    """
    return _host_sizes("cusolverDnXgesvdp_bufferSize", handle, params, jobz, econ, m, n, *operands)


def xgesvdp(handle, params, jobz, econ, m, n, *operands_and_work) -> float:
    """``cusolverDnXgesvdp``: the operands of :func:`xgesvdp_buffer_size`, then (dbuf, dbytes, hbuf,
    hbytes, info); returns ``h_err_sigma`` (the host-side error estimate of the singular values)."""
    err = c_double(0.0)
    _LIB.checked("cusolverDnXgesvdp")(handle, params, jobz, econ, m, n, *operands_and_work, byref(err))
    return err.value


# ------------------------------------------------------------------------------- typed families
def orgqr_buffer_size(t: str, handle, m, n, k, a, lda, tau) -> int:
    """``cusolverDn<t>orgqr_bufferSize`` / ``<t>ungqr_bufferSize``: lwork in elements."""
    return _lwork(_typed("orgqr", t) + "_bufferSize", handle, m, n, k, a, lda, tau)


def orgqr(t: str, handle, m, n, k, a, lda, tau, work, lwork, info) -> None:
    """``cusolverDn<t>orgqr`` / ``<t>ungqr``."""
    _LIB.checked(_typed("orgqr", t))(handle, m, n, k, a, lda, tau, work, lwork, info)


def ormqr_buffer_size(t: str, handle, side, trans, m, n, k, a, lda, tau, c, ldc) -> int:
    """``cusolverDn<t>ormqr_bufferSize`` / ``<t>unmqr_bufferSize``: lwork in elements."""
    return _lwork(_typed("ormqr", t) + "_bufferSize", handle, side, trans, m, n, k, a, lda, tau, c, ldc)


def ormqr(t: str, handle, side, trans, m, n, k, a, lda, tau, c, ldc, work, lwork, info) -> None:
    """``cusolverDn<t>ormqr`` / ``<t>unmqr``."""
    _LIB.checked(_typed("ormqr", t))(handle, side, trans, m, n, k, a, lda, tau, c, ldc, work, lwork, info)


def potrf_batched(t: str, handle, uplo, n, a_array, lda, info, batch) -> None:
    """``cusolverDn<t>potrfBatched`` (*a_array*: device array of device pointers)."""
    _LIB.checked(_typed("potrfBatched", t))(handle, uplo, n, a_array, lda, info, batch)


def potrs_batched(t: str, handle, uplo, n, nrhs, a_array, lda, b_array, ldb, info, batch) -> None:
    """``cusolverDn<t>potrsBatched`` (cuSOLVER supports ``nrhs == 1`` only)."""
    _LIB.checked(_typed("potrsBatched", t))(handle, uplo, n, nrhs, a_array, lda, b_array, ldb, info, batch)


def syevj_batched_buffer_size(t: str, handle, jobz, uplo, n, a, lda, w, params, batch) -> int:
    """``cusolverDn<t>syevjBatched_bufferSize`` / ``<t>heevjBatched_bufferSize``: lwork in elements."""
    lwork = c_int(0)
    _LIB.checked(_typed("syevjBatched", t) + "_bufferSize")(handle, jobz, uplo, n, a, lda, w, byref(lwork), params, batch)
    return lwork.value


def syevj_batched(t: str, handle, jobz, uplo, n, a, lda, w, work, lwork, info, params, batch) -> None:
    """``cusolverDn<t>syevjBatched`` / ``<t>heevjBatched`` (*info*: one int per matrix)."""
    _LIB.checked(_typed("syevjBatched", t))(handle, jobz, uplo, n, a, lda, w, work, lwork, info, params, batch)


def gesvdj_batched_buffer_size(t: str, handle, jobz, m, n, a, lda, s, u, ldu, v, ldv, params, batch) -> int:
    """``cusolverDn<t>gesvdjBatched_bufferSize`` (m, n <= 32): lwork in elements."""
    lwork = c_int(0)
    _LIB.checked(_typed("gesvdjBatched", t) + "_bufferSize")(
        handle, jobz, m, n, a, lda, s, u, ldu, v, ldv, byref(lwork), params, batch
    )
    return lwork.value


def gesvdj_batched(t: str, handle, jobz, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params, batch) -> None:
    """``cusolverDn<t>gesvdjBatched`` (returns V, not Vᴴ)."""
    _LIB.checked(_typed("gesvdjBatched", t))(handle, jobz, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params, batch)


def gesvdj_buffer_size(t: str, handle, jobz, econ, m, n, a, lda, s, u, ldu, v, ldv, params) -> int:
    """``cusolverDn<t>gesvdj_bufferSize``: lwork in elements."""
    lwork = c_int(0)
    _LIB.checked(_typed("gesvdj", t) + "_bufferSize")(handle, jobz, econ, m, n, a, lda, s, u, ldu, v, ldv, byref(lwork), params)
    return lwork.value


def gesvdj(t: str, handle, jobz, econ, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params) -> None:
    """``cusolverDn<t>gesvdj`` (one matrix of any size; returns V, not Vᴴ)."""
    _LIB.checked(_typed("gesvdj", t))(handle, jobz, econ, m, n, a, lda, s, u, ldu, v, ldv, work, lwork, info, params)


# ------------------------------------------------------------------- iterative refinement (IRS)
def irs_params_create() -> int:
    """``cusolverDnIRSParamsCreate``."""
    return _create("cusolverDnIRSParamsCreate")


def irs_params_destroy(params: int) -> None:
    """``cusolverDnIRSParamsDestroy``."""
    _LIB.checked("cusolverDnIRSParamsDestroy")(params)


def irs_params_set_solver_precisions(params: int, main: int, lowest: int) -> None:
    """``cusolverDnIRSParamsSetSolverPrecisions`` (:class:`PrecType` values)."""
    _LIB.checked("cusolverDnIRSParamsSetSolverPrecisions")(params, main, lowest)


def irs_params_set_refinement_solver(params: int, solver: int) -> None:
    """``cusolverDnIRSParamsSetRefinementSolver`` (an :class:`IRSRefinement`)."""
    _LIB.checked("cusolverDnIRSParamsSetRefinementSolver")(params, solver)


def irs_params_set_max_iters(params: int, max_iters: int) -> None:
    """``cusolverDnIRSParamsSetMaxIters``."""
    _LIB.checked("cusolverDnIRSParamsSetMaxIters")(params, max_iters)


def irs_params_set_tol(params: int, tol: float) -> None:
    """``cusolverDnIRSParamsSetTol``."""
    _LIB.checked("cusolverDnIRSParamsSetTol")(params, tol)


def irs_params_enable_fallback(params: int) -> None:
    """``cusolverDnIRSParamsEnableFallback``."""
    _LIB.checked("cusolverDnIRSParamsEnableFallback")(params)


def irs_params_disable_fallback(params: int) -> None:
    """``cusolverDnIRSParamsDisableFallback``."""
    _LIB.checked("cusolverDnIRSParamsDisableFallback")(params)


def irs_infos_create() -> int:
    """``cusolverDnIRSInfosCreate``."""
    return _create("cusolverDnIRSInfosCreate")


def irs_infos_destroy(infos: int) -> None:
    """``cusolverDnIRSInfosDestroy``."""
    _LIB.checked("cusolverDnIRSInfosDestroy")(infos)


def irs_infos_get_niters(infos: int) -> int:
    """``cusolverDnIRSInfosGetNiters``."""
    return _lwork("cusolverDnIRSInfosGetNiters", infos)


def irs_infos_get_outer_niters(infos: int) -> int:
    """``cusolverDnIRSInfosGetOuterNiters``."""
    return _lwork("cusolverDnIRSInfosGetOuterNiters", infos)


def irs_xgesv_buffer_size(handle: int, params: int, n: int, nrhs: int) -> int:
    """``cusolverDnIRSXgesv_bufferSize``: workspace bytes."""
    size = c_size_t(0)
    _LIB.checked("cusolverDnIRSXgesv_bufferSize")(handle, params, n, nrhs, byref(size))
    return size.value


def irs_xgesv(handle, params, infos, n, nrhs, a, lda, b, ldb, x, ldx, work, work_bytes, info) -> int:
    """``cusolverDnIRSXgesv``: returns *niters* (host; negative when it fell back to the main precision)."""
    niters = c_int(0)
    _LIB.checked("cusolverDnIRSXgesv")(handle, params, infos, n, nrhs, a, lda, b, ldb, x, ldx, work, work_bytes, byref(niters), info)
    return niters.value
