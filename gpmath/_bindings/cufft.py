"""ctypes bindings to cuFFT (``cufft.h`` and the 64-bit plan API of ``cufftXt.h``).

Ints in, ints out: a plan is the integer ``cufftHandle`` (a C ``int``, not a pointer), device
addresses and streams are plain integers.  Every prototype below was checked against ``cufft.h``
and ``cufftXt.h`` of the CUDA 13 wheel (cuFFT 12.x, ``CUFFT_VERSION`` 12500); the same functions
exist with the same signatures in cuFFT 11 (CUDA 12).  ``tests/test_bindings_cufft.py`` re-checks
every declaration against the header text.

Data types passed to :func:`xt_make_plan_many` are ``cudaDataType`` codes (``library_types.h``),
the ``cuda`` column of :data:`gpmath._core.dtypes.DTYPES`.
"""

from __future__ import annotations

import ctypes
import enum
from ctypes import POINTER, byref, c_int, c_longlong, c_size_t, c_void_p

from ._loader import Library, c_int_p, c_size_t_p, status_checker

c_longlong_p = POINTER(c_longlong)

FORWARD = -1  # CUFFT_FORWARD
INVERSE = 1  # CUFFT_INVERSE
MAX_RANK = 3  # cufftXtMakePlanMany accepts rank 1, 2 or 3


class Result(enum.IntEnum):
    """``cufftResult`` (``cufft.h``); there is no status-name function, so the names come from here."""

    CUFFT_SUCCESS = 0x0
    CUFFT_INVALID_PLAN = 0x1
    CUFFT_ALLOC_FAILED = 0x2
    CUFFT_INVALID_TYPE = 0x3
    CUFFT_INVALID_VALUE = 0x4
    CUFFT_INTERNAL_ERROR = 0x5
    CUFFT_EXEC_FAILED = 0x6
    CUFFT_SETUP_FAILED = 0x7
    CUFFT_INVALID_SIZE = 0x8
    CUFFT_UNALIGNED_DATA = 0x9
    CUFFT_INVALID_DEVICE = 0xB
    CUFFT_NO_WORKSPACE = 0xD
    CUFFT_NOT_IMPLEMENTED = 0xE
    CUFFT_NOT_SUPPORTED = 0x10
    CUFFT_MISSING_DEPENDENCY = 0x11
    CUFFT_NVRTC_FAILURE = 0x12
    CUFFT_NVJITLINK_FAILURE = 0x13
    CUFFT_NVSHMEM_FAILURE = 0x14


def _status_name(status: int) -> str:
    return Result(status).name


_LIB = Library("cufft", status_checker("cuFFT", _status_name, frozenset({Result.CUFFT_ALLOC_FAILED})))
_LIB.declare("cufftGetVersion", c_int, [c_int_p])
_LIB.declare("cufftCreate", c_int, [c_int_p])
_LIB.declare("cufftDestroy", c_int, [c_int])
_LIB.declare("cufftSetAutoAllocation", c_int, [c_int, c_int])
_LIB.declare("cufftSetWorkArea", c_int, [c_int, c_void_p])
_LIB.declare("cufftSetStream", c_int, [c_int, c_void_p])
_LIB.declare("cufftGetSize", c_int, [c_int, c_size_t_p])
_LIB.declare(
    "cufftXtMakePlanMany",
    c_int,
    [
        c_int,  # plan
        c_int,  # rank
        c_longlong_p,  # n
        c_longlong_p,  # inembed
        c_longlong,  # istride
        c_longlong,  # idist
        c_int,  # inputtype (cudaDataType)
        c_longlong_p,  # onembed
        c_longlong,  # ostride
        c_longlong,  # odist
        c_int,  # outputtype (cudaDataType)
        c_longlong,  # batch
        c_size_t_p,  # workSize
        c_int,  # executiontype (cudaDataType)
    ],
)
_LIB.declare(
    "cufftXtSetJITCallback",  # cuFFT 12 (CUDA 13); cuFFT 11's symbol of this name lacks the symbol-name argument
    c_int,
    [c_int, ctypes.c_char_p, c_void_p, c_size_t, c_int, ctypes.POINTER(c_void_p)],
)
# Data pointers are declared c_void_p so the fast path can pass pre-built c_void_p objects.
_LIB.declare("cufftXtExec", c_int, [c_int, c_void_p, c_void_p, c_int])

library = _LIB
check = _LIB._check


def get_version() -> int:
    """``cufftGetVersion`` (e.g. 12500 for cuFFT 12.5)."""
    version = c_int()
    _LIB.checked("cufftGetVersion")(byref(version))
    return version.value


def create() -> int:
    """``cufftCreate``: a new, empty plan handle."""
    handle = c_int()
    _LIB.checked("cufftCreate")(byref(handle))
    return handle.value


def destroy(plan: int) -> None:
    """``cufftDestroy``."""
    _LIB.checked("cufftDestroy")(plan)


def set_auto_allocation(plan: int, auto_allocate: bool) -> None:
    """``cufftSetAutoAllocation`` (call before making the plan)."""
    _LIB.checked("cufftSetAutoAllocation")(plan, int(auto_allocate))


def set_work_area(plan: int, work_area: int) -> None:
    """``cufftSetWorkArea``: the device buffer the plan uses as scratch space."""
    _LIB.checked("cufftSetWorkArea")(plan, work_area)


def set_stream(plan: int, stream: int) -> None:
    """``cufftSetStream``."""
    _LIB.checked("cufftSetStream")(plan, stream)


def get_size(plan: int) -> int:
    """``cufftGetSize``: work-area bytes the made plan needs."""
    size = c_size_t()
    _LIB.checked("cufftGetSize")(plan, byref(size))
    return size.value


def _longlongs(values) -> ctypes.Array:
    return (c_longlong * len(values))(*values)


def xt_make_plan_many(
    plan: int,
    n: tuple[int, ...],
    inembed: tuple[int, ...],
    istride: int,
    idist: int,
    input_type: int,
    onembed: tuple[int, ...],
    ostride: int,
    odist: int,
    output_type: int,
    batch: int,
    execution_type: int,
) -> int:
    """``cufftXtMakePlanMany`` (rank is ``len(n)``); returns the work-area bytes."""
    work = c_size_t()
    _LIB.checked("cufftXtMakePlanMany")(
        plan,
        len(n),
        _longlongs(n),
        _longlongs(inembed),
        istride,
        idist,
        input_type,
        _longlongs(onembed),
        ostride,
        odist,
        output_type,
        batch,
        byref(work),
        execution_type,
    )
    return work.value


class CallbackType(enum.IntEnum):
    """``cufftXtCallbackType`` (``cufftXt.h``)."""

    CUFFT_CB_LD_COMPLEX = 0x0
    CUFFT_CB_LD_COMPLEX_DOUBLE = 0x1
    CUFFT_CB_LD_REAL = 0x2
    CUFFT_CB_LD_REAL_DOUBLE = 0x3
    CUFFT_CB_ST_COMPLEX = 0x4
    CUFFT_CB_ST_COMPLEX_DOUBLE = 0x5
    CUFFT_CB_ST_REAL = 0x6
    CUFFT_CB_ST_REAL_DOUBLE = 0x7


JIT_CALLBACK_VERSION = 12000  # the first cuFFT whose cufftXtSetJITCallback takes the symbol's name


def xt_set_jit_callback(plan: int, symbol: bytes, ir: bytes, kind: CallbackType, info: int = 0) -> None:
    """``cufftXtSetJITCallback``: the device function *symbol* (its name, encoded) of LTO-IR *ir*
    as the *kind* callback of *plan* (after ``cufftCreate``, before the plan is made), its caller
    info the device address *info* (one GPU's; 0: none).

    cuFFT keeps the two pointers and reads them when the plan is made (``cufftMakePlan*``): the
    caller keeps *symbol* and *ir* alive until then (a name freed before caused
    ``CUFFT_INVALID_SIZE`` on an H200).  Only for cuFFT >= :data:`JIT_CALLBACK_VERSION`
    (:func:`get_version`): the caller checks.
    """
    infos = (c_void_p * 1)(info or None)  # one device's caller info
    _LIB.checked("cufftXtSetJITCallback")(plan, symbol, ir, len(ir), int(kind), infos)


def xt_exec_function():
    """The raw ``cufftXtExec(plan, input, output, direction)`` ctypes function.

    It returns the status (the caller checks it with :func:`check`); returned raw so that a
    plan's ``execute`` pays one foreign call and nothing else.
    """
    return _LIB.function("cufftXtExec")
