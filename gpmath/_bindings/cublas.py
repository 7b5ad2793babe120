"""ctypes bindings to the few cuBLAS functions gpmath's linear algebra uses (``cublas_api.h``).

Ints in, ints out.  Typed families (``cublas<t>getrfBatched`` ...) take the type letter ``t`` in
``"SDCZ"`` first.  Prototypes are checked against ``cublas_api.h`` of the CUDA 13 wheel by
``tests/test_bindings_cusolver.py``; they are unchanged since CUDA 10, except the ``_64``
functions (64-bit counts), which came with CUDA 12.0.
"""

from __future__ import annotations

import enum
from ctypes import byref, c_char_p, c_int, c_int64, c_void_p

from ._loader import Library, c_int_p, c_void_p_p, status_checker
from .cublaslt import STATUS_ALLOC_FAILED, Operation

__all__ = ["FillMode", "SideMode", "DiagType", "Operation"]


class FillMode(enum.IntEnum):
    """``cublasFillMode_t``."""

    LOWER = 0
    UPPER = 1
    FULL = 2


class SideMode(enum.IntEnum):
    """``cublasSideMode_t``."""

    LEFT = 0
    RIGHT = 1


class DiagType(enum.IntEnum):
    """``cublasDiagType_t``."""

    NON_UNIT = 0
    UNIT = 1


def _status_name(status: int) -> str:
    return _LIB.function("cublasGetStatusName")(status).decode()


_LIB = Library("cublas", status_checker("cuBLAS", _status_name, frozenset({STATUS_ALLOC_FAILED})))
library = _LIB
check = _LIB._check

_P, _I = c_void_p, c_int
_LIB.declare("cublasGetStatusName", c_char_p, [_I])
_LIB.declare("cublasGetProperty", _I, [_I, c_int_p])
_LIB.declare("cublasCreate_v2", _I, [c_void_p_p])
_LIB.declare("cublasDestroy_v2", _I, [_P])
_LIB.declare("cublasSetStream_v2", _I, [_P, _P])
for _t in "SDCZ":
    _LIB.declare(f"cublas{_t}getrfBatched", _I, [_P, _I, _P, _I, _P, _P, _I])
    _LIB.declare(f"cublas{_t}getrsBatched", _I, [_P, _I, _I, _I, _P, _I, _P, _P, _I, _P, _I])
    _LIB.declare(f"cublas{_t}trsm_v2", _I, [_P, _I, _I, _I, _I, _I, _I, _P, _P, _I, _P, _I])
    _LIB.declare(f"cublas{_t}trsmBatched", _I, [_P, _I, _I, _I, _I, _I, _I, _P, _P, _I, _P, _I, _I])
    _LIB.declare(f"cublas{_t}gemm_v2", _I, [_P, _I, _I, _I, _I, _I, _P, _P, _I, _P, _I, _P, _P, _I])
for _t in ("S", "D", "Cs", "Zd"):  # a real factor: of real vectors, or of complex ones (Csscal, Zdscal)
    _LIB.declare(f"cublas{_t}scal_v2_64", _I, [_P, c_int64, _P, _P, c_int64])


def get_version() -> int:
    """cuBLAS's version from ``cublasGetProperty`` (major * 10000 + minor * 100 + patch, e.g.
    130100 for cuBLAS 13.1.0), without a handle."""
    parts = []
    for kind in (0, 1, 2):  # libraryPropertyType: MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
        value = c_int()
        _LIB.checked("cublasGetProperty")(kind, byref(value))
        parts.append(value.value)
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def create() -> int:
    """``cublasCreate_v2``."""
    handle = c_void_p()
    _LIB.checked("cublasCreate_v2")(byref(handle))
    return handle.value


def destroy(handle: int) -> None:
    """``cublasDestroy_v2``."""
    _LIB.checked("cublasDestroy_v2")(handle)


def set_stream(handle: int, stream: int) -> None:
    """``cublasSetStream_v2``."""
    _LIB.checked("cublasSetStream_v2")(handle, stream)


def getrf_batched(t: str, handle, n, a_array, lda, pivots, info, batch) -> None:
    """``cublas<t>getrfBatched`` (*a_array*: device array of pointers; *pivots*: int32, 1-based)."""
    _LIB.checked(f"cublas{t}getrfBatched")(handle, n, a_array, lda, pivots, info, batch)


def getrs_batched(t: str, handle, trans, n, nrhs, a_array, lda, pivots, b_array, ldb, info_host, batch) -> None:
    """``cublas<t>getrsBatched`` (*info_host*: a host int pointer, set on invalid arguments only)."""
    _LIB.checked(f"cublas{t}getrsBatched")(handle, trans, n, nrhs, a_array, lda, pivots, b_array, ldb, info_host, batch)


def trsm(t: str, handle, side, uplo, trans, diag, m, n, alpha_host, a, lda, b, ldb) -> None:
    """``cublas<t>trsm_v2`` (*alpha_host*: host pointer to a scalar of the matrix type)."""
    _LIB.checked(f"cublas{t}trsm_v2")(handle, side, uplo, trans, diag, m, n, alpha_host, a, lda, b, ldb)


def gemm(t: str, handle, transa, transb, m, n, k, alpha_host, a, lda, b, ldb, beta_host, c, ldc) -> None:
    """``cublas<t>gemm_v2``: ``C = alpha op(A) op(B) + beta C`` (*alpha_host*, *beta_host*: host
    pointers to scalars of the matrix type)."""
    _LIB.checked(f"cublas{t}gemm_v2")(handle, transa, transb, m, n, k, alpha_host, a, lda, b, ldb, beta_host, c, ldc)


def scal(t: str, handle, n, alpha_host, x) -> None:
    """``cublas<t>scal_v2_64`` with unit stride: *x* (a device vector of *n* elements) times the
    real factor at the host pointer *alpha_host*; *t* is ``"S"``/``"D"`` for float32/float64
    vectors, ``"Cs"``/``"Zd"`` for complex64/complex128 ones (the factor is float/double).  The
    64-bit-count API (cuBLAS 12.0 on)."""
    _LIB.checked(f"cublas{t}scal_v2_64")(handle, n, alpha_host, x, 1)


def trsm_batched(t: str, handle, side, uplo, trans, diag, m, n, alpha_host, a_array, lda, b_array, ldb, batch) -> None:
    """``cublas<t>trsmBatched`` (*a_array*, *b_array*: device arrays of pointers; *alpha_host*: a
    host pointer to a scalar of the matrix type)."""
    _LIB.checked(f"cublas{t}trsmBatched")(handle, side, uplo, trans, diag, m, n, alpha_host, a_array, lda, b_array, ldb,
                                          batch)
