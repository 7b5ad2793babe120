"""ctypes bindings to cuFFTMp (``libcufftMp.so.12`` for CUDA 13, ``.so.11`` for CUDA 12).

libcufftMp carries its own copy of the cuFFT API (``cufftCreate``, ``cufftMakePlan3d`` ...) next to
``cufftMpAttachComm`` and ``cufftXtSetDistribution``; those copies are bound here, apart from
:mod:`gpmath._bindings.cufft`, and the library is opened with ``RTLD_DEEPBIND`` (as
``cuda.pathfinder`` does) so that its internal calls never land in a libcufft loaded beside it.
It needs NVSHMEM's host library, loaded first (cuFFTMp's wheel finds it through an ``RPATH`` into
the NVSHMEM wheel; a copy elsewhere, e.g. on ``LD_LIBRARY_PATH``, does not).

Ints in, ints out: a plan is a C ``int``; a ``cudaLibXtDesc *`` is an integer address (read
through :class:`CudaLibXtDesc`).  Prototypes, enums and the two descriptor structures were
checked against ``cufftMp.h``, ``cufftXt.h``, ``cufft.h`` and ``cudalibxt.h`` of the
``nvidia-cufftmp-cu13`` 12.1.3 wheel (``CUFFT_VERSION`` 12103); ``tests/test_bindings_distributed.py``
re-checks them where the headers are found.
"""

from __future__ import annotations

import ctypes
import enum
import os
from ctypes import POINTER, Structure, byref, c_int, c_longlong, c_size_t, c_void_p

from .._errors import NoGPUError
from . import cufft, nvshmem
from ._loader import Library, _locate, c_int_p, c_size_t_p, c_void_p_p, status_checker

__all__ = ["library", "Type", "SubFormat", "CommType", "CudaXtDesc", "CudaLibXtDesc", "FORWARD", "INVERSE",
           "get_version", "create", "destroy", "set_stream", "attach_comm", "set_distribution", "make_plan",
           "xt_malloc", "xt_free", "exec_descriptor_function", "check"]

FORWARD, INVERSE = cufft.FORWARD, cufft.INVERSE
MAX_CUDA_DESCRIPTOR_GPUS = 64


class Type(enum.IntEnum):
    """``cufftType`` (``cufft.h``)."""

    CUFFT_R2C = 0x2A
    CUFFT_C2R = 0x2C
    CUFFT_C2C = 0x29
    CUFFT_D2Z = 0x6A
    CUFFT_Z2D = 0x6C
    CUFFT_Z2Z = 0x69


class SubFormat(enum.IntEnum):
    """``cufftXtSubFormat`` (``cufftXt.h``): where a descriptor's data lie across the ranks."""

    CUFFT_XT_FORMAT_INPUT = 0x00
    CUFFT_XT_FORMAT_OUTPUT = 0x01
    CUFFT_XT_FORMAT_INPLACE = 0x02  # cuFFTMp: slabs of axis 0 ("X-slabs")
    CUFFT_XT_FORMAT_INPLACE_SHUFFLED = 0x03  # cuFFTMp: slabs of axis 1 ("Y-slabs")
    CUFFT_XT_FORMAT_1D_INPUT_SHUFFLED = 0x04
    CUFFT_XT_FORMAT_DISTRIBUTED_INPUT = 0x05  # the input boxes of cufftXtSetDistribution
    CUFFT_XT_FORMAT_DISTRIBUTED_OUTPUT = 0x06  # its output boxes


class CommType(enum.IntEnum):
    """``cufftMpCommType`` (``cufftMp.h``)."""

    CUFFT_COMM_MPI = 0x00
    CUFFT_COMM_NONE = 0x01


class CudaXtDesc(Structure):
    """``cudaXtDesc`` (``cudalibxt.h``)."""

    _fields_ = [("version", c_int), ("nGPUs", c_int), ("GPUs", c_int * MAX_CUDA_DESCRIPTOR_GPUS),
                ("data", c_void_p * MAX_CUDA_DESCRIPTOR_GPUS), ("size", c_size_t * MAX_CUDA_DESCRIPTOR_GPUS),
                ("cudaXtState", c_void_p)]


class CudaLibXtDesc(Structure):
    """``cudaLibXtDesc`` (``cudalibxt.h``); ``libFormat`` is an enum (``int``)."""

    _fields_ = [("version", c_int), ("descriptor", POINTER(CudaXtDesc)), ("library", c_int), ("subFormat", c_int),
                ("libDescriptor", c_void_p)]


def _status_name(status: int) -> str:
    return cufft.Result(status).name


class _CufftMp(Library):
    """libcufftMp: NVSHMEM's host library first, then cuFFTMp with ``RTLD_DEEPBIND``."""

    _MODE = os.RTLD_NOW | os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0)

    def _load(self) -> ctypes.CDLL:
        try:
            return ctypes.CDLL(_locate(self.name), mode=self._MODE)
        except NoGPUError as exc:
            for soname in self._sonames:
                try:
                    return ctypes.CDLL(soname, mode=self._MODE)
                except OSError:
                    continue
            raise exc


library = _CufftMp(
    "cufftMp",
    status_checker("cuFFTMp", _status_name, frozenset({cufft.Result.CUFFT_ALLOC_FAILED})),
    sonames=("libcufftMp.so.12", "libcufftMp.so.11"),
    requires=(nvshmem.library,),
)
_ll_p = POINTER(c_longlong)
_declare = library.declare
_declare("cufftGetVersion", c_int, [c_int_p])
_declare("cufftCreate", c_int, [c_int_p])
_declare("cufftDestroy", c_int, [c_int])
_declare("cufftSetStream", c_int, [c_int, c_void_p])
_declare("cufftMpAttachComm", c_int, [c_int, c_int, c_void_p])
# lower_input, upper_input, lower_output, upper_output, strides_input, strides_output (this order)
_declare("cufftXtSetDistribution", c_int, [c_int, c_int, _ll_p, _ll_p, _ll_p, _ll_p, _ll_p, _ll_p])
_declare("cufftMakePlan2d", c_int, [c_int, c_int, c_int, c_int, c_size_t_p])
_declare("cufftMakePlan3d", c_int, [c_int, c_int, c_int, c_int, c_int, c_size_t_p])
_declare("cufftXtMalloc", c_int, [c_int, c_void_p_p, c_int])
_declare("cufftXtFree", c_int, [c_void_p])
_declare("cufftXtExecDescriptor", c_int, [c_int, c_void_p, c_void_p, c_int])

check = library._check


def get_version() -> int:
    """``cufftGetVersion`` of libcufftMp (12103 for cuFFTMp 12.1.3)."""
    version = c_int()
    library.checked("cufftGetVersion")(byref(version))
    return version.value


def create() -> int:
    """``cufftCreate``."""
    plan = c_int()
    library.checked("cufftCreate")(byref(plan))
    return plan.value


def destroy(plan: int) -> None:
    """``cufftDestroy`` (collective for cuFFTMp plans: it frees symmetric memory)."""
    library.checked("cufftDestroy")(plan)


def set_stream(plan: int, stream: int) -> None:
    """``cufftSetStream``."""
    library.checked("cufftSetStream")(plan, stream)


def attach_comm(plan: int, comm_type: int, comm_handle: int | None) -> None:
    """``cufftMpAttachComm``; ``CUFFT_COMM_NONE`` with ``None`` once NVSHMEM is initialized."""
    library.checked("cufftMpAttachComm")(plan, comm_type, comm_handle)


def _longlongs(values) -> ctypes.Array:
    return (c_longlong * len(values))(*values)


def set_distribution(plan: int, lower_input, upper_input, lower_output, upper_output, strides_input,
                     strides_output) -> None:
    """``cufftXtSetDistribution``: this rank's input and output boxes (half-open) and the element
    strides of its local data; the rank (2 or 3) is ``len(lower_input)``."""
    arrays = [_longlongs(v) for v in (lower_input, upper_input, lower_output, upper_output, strides_input,
                                      strides_output)]
    library.checked("cufftXtSetDistribution")(plan, len(lower_input), *arrays)


def make_plan(plan: int, shape: tuple[int, ...], fft_type: int) -> int:
    """``cufftMakePlan2d`` / ``cufftMakePlan3d`` for the global *shape* (collective); returns the
    work size cuFFTMp reports."""
    work = c_size_t()
    name = {2: "cufftMakePlan2d", 3: "cufftMakePlan3d"}[len(shape)]
    library.checked(name)(plan, *shape, fft_type, byref(work))
    return work.value


def xt_malloc(plan: int, subformat: int) -> int:
    """``cufftXtMalloc``: a ``cudaLibXtDesc *`` holding this rank's symmetric buffer (collective)."""
    desc = c_void_p()
    library.checked("cufftXtMalloc")(plan, byref(desc), subformat)
    return desc.value


def xt_free(desc: int) -> None:
    """``cufftXtFree`` (collective: ``nvshmem_free``; not stream-ordered)."""
    library.checked("cufftXtFree")(desc)


def descriptor(desc: int) -> CudaLibXtDesc:
    """The ``cudaLibXtDesc`` at address *desc* (a view, not a copy)."""
    return CudaLibXtDesc.from_address(desc)


def exec_descriptor_function():
    """The raw ``cufftXtExecDescriptor(plan, input, output, direction)`` ctypes function (returns
    the status; check it with :func:`check`)."""
    return library.function("cufftXtExecDescriptor")
