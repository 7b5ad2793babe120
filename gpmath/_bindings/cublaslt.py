"""ctypes bindings to cuBLASLt (``cublasLt.h``): handles, descriptors, heuristics, matmul.

Ints in, ints out: handles and descriptors are plain integers (the C pointer values).  Every
prototype below was checked against ``cublasLt.h`` of the CUDA 13 wheel (cuBLAS 13.x); the
same functions exist with the same signatures in CUDA 12's cuBLASLt.
"""

from __future__ import annotations

import ctypes
import enum
from ctypes import POINTER, byref, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p

from ._loader import Library, c_int_p, c_void_p_p, status_checker


STATUS_ALLOC_FAILED = 3  # CUBLAS_STATUS_ALLOC_FAILED (cublas_api.h)
STATUS_INVALID_VALUE = 7  # CUBLAS_STATUS_INVALID_VALUE (cublas_api.h)
STATUS_NOT_SUPPORTED = 15  # CUBLAS_STATUS_NOT_SUPPORTED (cublas_api.h)


class ComputeType(enum.IntEnum):
    """``cublasComputeType_t``."""

    COMPUTE_16F = 64
    COMPUTE_32F = 68
    COMPUTE_32F_PEDANTIC = 69
    COMPUTE_32F_FAST_16F = 74
    COMPUTE_32F_FAST_16BF = 75
    COMPUTE_32F_FAST_TF32 = 77
    COMPUTE_64F = 70
    COMPUTE_64F_PEDANTIC = 71


class Operation(enum.IntEnum):
    """``cublasOperation_t``."""

    N = 0
    T = 1
    C = 2


class Order(enum.IntEnum):
    """``cublasLtOrder_t``."""

    COL = 0
    ROW = 1


class LayoutAttribute(enum.IntEnum):
    """``cublasLtMatrixLayoutAttribute_t`` (value C type in the comment)."""

    TYPE = 0  # uint32
    ORDER = 1  # int32
    ROWS = 2  # uint64
    COLS = 3  # uint64
    LD = 4  # int64
    BATCH_COUNT = 5  # int32
    STRIDED_BATCH_OFFSET = 6  # int64


class DescAttribute(enum.IntEnum):
    """``cublasLtMatmulDescAttributes_t`` (value C type in the comment)."""

    COMPUTE_TYPE = 0  # int32
    SCALE_TYPE = 1  # int32
    POINTER_MODE = 2  # int32
    TRANSA = 3  # int32
    TRANSB = 4  # int32
    EPILOGUE = 7  # uint32
    BIAS_POINTER = 8  # void*
    BIAS_BATCH_STRIDE = 10  # int64
    BIAS_DATA_TYPE = 26  # int32


class Epilogue(enum.IntEnum):
    """``cublasLtEpilogue_t`` (the forward epilogues gpmath exposes)."""

    DEFAULT = 1
    RELU = 2
    BIAS = 4
    RELU_BIAS = 6
    GELU = 32
    GELU_BIAS = 36


class PreferenceAttribute(enum.IntEnum):
    """``cublasLtMatmulPreferenceAttributes_t``."""

    SEARCH_MODE = 0  # uint32
    MAX_WORKSPACE_BYTES = 1  # uint64
    MIN_ALIGNMENT_A_BYTES = 5  # uint32
    MIN_ALIGNMENT_B_BYTES = 6  # uint32
    MIN_ALIGNMENT_C_BYTES = 7  # uint32
    MIN_ALIGNMENT_D_BYTES = 8  # uint32


class AlgoConfig(enum.IntEnum):
    """``cublasLtMatmulAlgoConfigAttributes_t`` (the ones gpmath sets; all uint32)."""

    SPLITK_NUM = 2
    REDUCTION_SCHEME = 3
    CTA_SWIZZLING = 4


class AlgoCap(enum.IntEnum):
    """``cublasLtMatmulAlgoCapAttributes_t`` (the ones gpmath reads)."""

    SPLITK_SUPPORT = 0  # int32
    REDUCTION_SCHEME_MASK = 1  # uint32
    CTA_SWIZZLING_SUPPORT = 2  # uint32


class ReductionScheme(enum.IntEnum):
    """``cublasLtReductionScheme_t``: how split-K partial products are summed."""

    NONE = 0
    INPLACE = 1
    COMPUTE_TYPE = 2
    OUTPUT_TYPE = 4


class MatmulAlgo(ctypes.Structure):
    """``cublasLtMatmulAlgo_t``: 64 opaque bytes."""

    _fields_ = [("data", c_uint64 * 8)]


class HeuristicResult(ctypes.Structure):
    """``cublasLtMatmulHeuristicResult_t``."""

    _fields_ = [
        ("algo", MatmulAlgo),
        ("workspaceSize", c_size_t),
        ("state", c_int),
        ("wavesCount", ctypes.c_float),
        ("reserved", c_int * 4),
    ]


def status_name(status: int) -> str:
    """``cublasLtGetStatusName``: the enumerator name of a ``cublasStatus_t``."""
    return _LIB.function("cublasLtGetStatusName")(status).decode()


_LIB = Library("cublasLt", status_checker("cuBLASLt", status_name, frozenset({STATUS_ALLOC_FAILED})))
_LIB.declare("cublasLtGetStatusName", c_char_p, [c_int])
_LIB.declare("cublasLtGetVersion", c_size_t, [])
_LIB.declare("cublasLtCreate", c_int, [c_void_p_p])
_LIB.declare("cublasLtDestroy", c_int, [c_void_p])
_LIB.declare("cublasLtMatmulDescCreate", c_int, [c_void_p_p, c_int, c_int])
_LIB.declare("cublasLtMatmulDescDestroy", c_int, [c_void_p])
_LIB.declare("cublasLtMatmulDescSetAttribute", c_int, [c_void_p, c_int, c_void_p, c_size_t])
_LIB.declare("cublasLtMatrixLayoutCreate", c_int, [c_void_p_p, c_int, c_uint64, c_uint64, c_int64])
_LIB.declare("cublasLtMatrixLayoutDestroy", c_int, [c_void_p])
_LIB.declare("cublasLtMatrixLayoutSetAttribute", c_int, [c_void_p, c_int, c_void_p, c_size_t])
_LIB.declare("cublasLtMatmulPreferenceCreate", c_int, [c_void_p_p])
_LIB.declare("cublasLtMatmulPreferenceDestroy", c_int, [c_void_p])
_LIB.declare("cublasLtMatmulPreferenceSetAttribute", c_int, [c_void_p, c_int, c_void_p, c_size_t])
_LIB.declare(
    "cublasLtMatmulAlgoGetHeuristic",
    c_int,
    [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_int, POINTER(HeuristicResult), c_int_p],
)
_LIB.declare(
    "cublasLtMatmulAlgoCheck",
    c_int,
    [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, POINTER(MatmulAlgo), POINTER(HeuristicResult)],
)
_LIB.declare("cublasLtMatmulAlgoCapGetAttribute", c_int,
             [POINTER(MatmulAlgo), c_int, c_void_p, c_size_t, POINTER(c_size_t)])
_LIB.declare("cublasLtMatmulAlgoConfigSetAttribute", c_int, [POINTER(MatmulAlgo), c_int, c_void_p, c_size_t])
# cublasLtMatmul takes 16 arguments; every pointer-sized one is declared c_void_p so the fast
# path can pass pre-built c_void_p objects without per-call conversion.
_LIB.declare(
    "cublasLtMatmul",
    c_int,
    [
        c_void_p,  # handle
        c_void_p,  # computeDesc
        c_void_p,  # alpha (host pointer)
        c_void_p,  # A
        c_void_p,  # Adesc
        c_void_p,  # B
        c_void_p,  # Bdesc
        c_void_p,  # beta
        c_void_p,  # C
        c_void_p,  # Cdesc
        c_void_p,  # D
        c_void_p,  # Ddesc
        c_void_p,  # algo (const cublasLtMatmulAlgo_t*)
        c_void_p,  # workspace
        c_size_t,  # workspaceSizeInBytes
        c_void_p,  # stream
    ],
)

library = _LIB
check = _LIB._check


def get_version() -> int:
    """``cublasLtGetVersion``."""
    return _LIB.function("cublasLtGetVersion")()


def create() -> int:
    """``cublasLtCreate``."""
    handle = c_void_p()
    _LIB.checked("cublasLtCreate")(byref(handle))
    return handle.value


def destroy(handle: int) -> None:
    """``cublasLtDestroy``."""
    _LIB.checked("cublasLtDestroy")(handle)


def matmul_desc_create(compute_type: int, scale_type: int) -> int:
    """``cublasLtMatmulDescCreate``."""
    desc = c_void_p()
    _LIB.checked("cublasLtMatmulDescCreate")(byref(desc), compute_type, scale_type)
    return desc.value


def matmul_desc_destroy(desc: int) -> None:
    """``cublasLtMatmulDescDestroy``."""
    _LIB.checked("cublasLtMatmulDescDestroy")(desc)


def _set_attribute(func: str, obj: int, attribute: int, value: ctypes._SimpleCData) -> None:
    _LIB.checked(func)(obj, attribute, ctypes.addressof(value), ctypes.sizeof(value))


def matmul_desc_set_attribute(desc: int, attribute: int, value: ctypes._SimpleCData) -> None:
    """``cublasLtMatmulDescSetAttribute`` with a ctypes scalar (``c_int32``, ``c_uint32``, ``c_void_p`` ...)."""
    _set_attribute("cublasLtMatmulDescSetAttribute", desc, attribute, value)


def matrix_layout_create(data_type: int, rows: int, cols: int, ld: int) -> int:
    """``cublasLtMatrixLayoutCreate`` (column-major unless ORDER is set afterwards)."""
    layout = c_void_p()
    _LIB.checked("cublasLtMatrixLayoutCreate")(byref(layout), data_type, rows, cols, ld)
    return layout.value


def matrix_layout_destroy(layout: int) -> None:
    """``cublasLtMatrixLayoutDestroy``."""
    _LIB.checked("cublasLtMatrixLayoutDestroy")(layout)


def matrix_layout_set_attribute(layout: int, attribute: int, value: ctypes._SimpleCData) -> None:
    """``cublasLtMatrixLayoutSetAttribute`` with a ctypes scalar."""
    _set_attribute("cublasLtMatrixLayoutSetAttribute", layout, attribute, value)


def matmul_preference_create() -> int:
    """``cublasLtMatmulPreferenceCreate``."""
    pref = c_void_p()
    _LIB.checked("cublasLtMatmulPreferenceCreate")(byref(pref))
    return pref.value


def matmul_preference_destroy(pref: int) -> None:
    """``cublasLtMatmulPreferenceDestroy``."""
    _LIB.checked("cublasLtMatmulPreferenceDestroy")(pref)


def matmul_preference_set_attribute(pref: int, attribute: int, value: ctypes._SimpleCData) -> None:
    """``cublasLtMatmulPreferenceSetAttribute`` with a ctypes scalar."""
    _set_attribute("cublasLtMatmulPreferenceSetAttribute", pref, attribute, value)


def matmul_algo_get_heuristic(
    handle: int, desc: int, a_layout: int, b_layout: int, c_layout: int, d_layout: int, pref: int, requested: int
) -> list[HeuristicResult]:
    """``cublasLtMatmulAlgoGetHeuristic``: the successful results, best first."""
    results = (HeuristicResult * requested)()
    count = c_int(0)
    _LIB.checked("cublasLtMatmulAlgoGetHeuristic")(
        handle, desc, a_layout, b_layout, c_layout, d_layout, pref, requested, results, byref(count)
    )
    return [results[i] for i in range(count.value) if results[i].state == 0]


def matmul_algo_check(
    handle: int, desc: int, a_layout: int, b_layout: int, c_layout: int, d_layout: int, algo: MatmulAlgo
) -> HeuristicResult | None:
    """``cublasLtMatmulAlgoCheck``: *algo*'s result for the problem (its workspace size, waves),
    or None where cuBLASLt refuses it for the problem (``INVALID_VALUE``, ``NOT_SUPPORTED``);
    other statuses raise."""
    result = HeuristicResult()
    status = _LIB.function("cublasLtMatmulAlgoCheck")(handle, desc, a_layout, b_layout, c_layout, d_layout,
                                                      byref(algo), byref(result))
    if status in (STATUS_INVALID_VALUE, STATUS_NOT_SUPPORTED):
        return None
    check(status, "cublasLtMatmulAlgoCheck")
    return result


def algo_cap(algo: MatmulAlgo, attribute: int, value: ctypes._SimpleCData) -> int:
    """``cublasLtMatmulAlgoCapGetAttribute``: capability *attribute* of *algo*, read into *value*
    (a ctypes scalar of the attribute's C type), returned as an int."""
    written = c_size_t(0)
    _LIB.checked("cublasLtMatmulAlgoCapGetAttribute")(byref(algo), attribute, byref(value), ctypes.sizeof(value),
                                                       byref(written))
    return int(value.value)


def algo_config_set(algo: MatmulAlgo, attribute: int, value: ctypes._SimpleCData) -> None:
    """``cublasLtMatmulAlgoConfigSetAttribute``: set configuration *attribute* of *algo* (in
    place) to *value* (a ctypes scalar of the attribute's C type)."""
    _LIB.checked("cublasLtMatmulAlgoConfigSetAttribute")(byref(algo), attribute, byref(value), ctypes.sizeof(value))


def matmul_function(args: list):
    """The raw ``cublasLtMatmul`` ctypes function for calls with *args* (16 ctypes objects of the
    declared types, or lists of them alike; returns the status; the caller checks it).

    Returned raw, without ctypes's argument conversion, so that a plan's ``execute`` pays one
    foreign call and nothing else.
    """
    return _LIB.unconverted("cublasLtMatmul", args)
