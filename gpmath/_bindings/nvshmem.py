"""ctypes bindings to the few NVSHMEM host functions gpmath's distributed FFT needs.

cuFFTMp keeps its operands in NVSHMEM's symmetric memory, so NVSHMEM must be initialized on
every rank before the first cuFFTMp plan.  gpmath does it itself, with NVSHMEM's unique-id
bootstrap (or its MPI bootstrap) through ``nvshmemx_hostlib_init_attr``, the entry point the
host library exports for programs that do not link NVSHMEM's static device library.

The structures follow ``bootstrap_device_host/nvshmem_uniqueid.h`` and
``device_host/nvshmem_types.h`` of NVSHMEM 3.4.5 (the header's ``static_assert`` sizes: 128,
24, 128 and 144 bytes), and every prototype was checked against ``host/nvshmemx_api.h``,
``host/nvshmem_api.h`` and ``host/nvshmemx_coll_api.h``; ``tests/test_bindings_distributed.py``
re-checks them where the headers are found.
"""

from __future__ import annotations

import enum
from ctypes import POINTER, Structure, byref, c_char, c_int, c_uint, c_void_p, sizeof

from ._loader import Library, c_int_p, status_checker

__all__ = ["library", "UniqueId", "InitAttr", "InitFlag", "InitStatus", "get_unique_id", "init_with_unique_id",
           "init_with_mpi_comm", "finalize", "init_status", "my_pe", "n_pes", "sync_all_on_stream", "version"]


class Error(enum.IntEnum):
    """``nvshmemx_status`` (``non_abi/nvshmemx_error.h``)."""

    NVSHMEMX_SUCCESS = 0
    NVSHMEMX_ERROR_INVALID_VALUE = 1
    NVSHMEMX_ERROR_OUT_OF_MEMORY = 2
    NVSHMEMX_ERROR_NOT_SUPPORTED = 3
    NVSHMEMX_ERROR_SYMMETRY = 4
    NVSHMEMX_ERROR_GPU_NOT_SELECTED = 5
    NVSHMEMX_ERROR_COLLECTIVE_LAUNCH_FAILED = 6
    NVSHMEMX_ERROR_INTERNAL = 7


class InitFlag(enum.IntEnum):
    """``flags`` of ``nvshmemx_hostlib_init_attr`` (``host/nvshmemx_api.h``)."""

    NVSHMEMX_INIT_THREAD_PES = 1
    NVSHMEMX_INIT_WITH_MPI_COMM = 1 << 1
    NVSHMEMX_INIT_WITH_SHMEM = 1 << 2
    NVSHMEMX_INIT_WITH_UNIQUEID = 1 << 3


class InitStatus(enum.IntEnum):
    """``nvshmemx_init_status_t`` (``device_host_transport/nvshmem_constants.h``)."""

    NVSHMEM_STATUS_NOT_INITIALIZED = 0
    NVSHMEM_STATUS_IS_BOOTSTRAPPED = 1
    NVSHMEM_STATUS_IS_INITIALIZED = 2
    NVSHMEM_STATUS_LIMITED_MPG = 3
    NVSHMEM_STATUS_FULL_MPG = 4


UNIQUEID_PADDING = 124
INIT_ARGS_PADDING = 96


def _version(structure) -> int:
    """The version word NVSHMEM's initializer macros write: ``(1 << 16) + sizeof(struct)``."""
    return (1 << 16) + sizeof(structure)


class UniqueId(Structure):
    """``nvshmemx_uniqueid_v1`` (128 bytes)."""

    _fields_ = [("version", c_int), ("internal", c_char * UNIQUEID_PADDING)]


class UniqueIdArgs(Structure):
    """``nvshmemx_uniqueid_args_v1`` (24 bytes)."""

    _fields_ = [("version", c_int), ("id", POINTER(UniqueId)), ("myrank", c_int), ("nranks", c_int)]


class InitArgs(Structure):
    """``nvshmemx_init_args_v1`` (128 bytes)."""

    _fields_ = [("version", c_int), ("uid_args", UniqueIdArgs), ("content", c_char * INIT_ARGS_PADDING)]


class InitAttr(Structure):
    """``nvshmemx_init_attr_v1`` (144 bytes), as ``NVSHMEMX_INIT_ATTR_INITIALIZER`` fills it."""

    _fields_ = [("version", c_int), ("mpi_comm", c_void_p), ("args", InitArgs)]

    @classmethod
    def initialized(cls) -> "InitAttr":
        attr = cls()
        attr.version = _version(cls)
        attr.args.version = _version(InitArgs)
        attr.args.uid_args.version = _version(UniqueIdArgs)
        attr.args.uid_args.myrank = attr.args.uid_args.nranks = -1
        return attr


def _status_name(status: int) -> str:
    return Error(status).name


library = Library("nvshmem_host", status_checker("NVSHMEM", _status_name, frozenset({Error.NVSHMEMX_ERROR_OUT_OF_MEMORY})),
                  sonames=("libnvshmem_host.so.3",))
_declare = library.declare
_declare("nvshmemx_get_uniqueid", c_int, [POINTER(UniqueId)])
_declare("nvshmemx_set_attr_uniqueid_args", c_int, [c_int, c_int, POINTER(UniqueId), POINTER(InitAttr)])
_declare("nvshmemx_hostlib_init_attr", c_int, [c_uint, POINTER(InitAttr)])
_declare("nvshmemx_hostlib_finalize", None, [])
_declare("nvshmemx_init_status", c_int, [])
_declare("nvshmem_my_pe", c_int, [])
_declare("nvshmem_n_pes", c_int, [])
_declare("nvshmemx_sync_all_on_stream", None, [c_void_p])
_declare("nvshmemx_vendor_get_version_info", None, [c_int_p, c_int_p, c_int_p])


def get_unique_id() -> bytes:
    """``nvshmemx_get_uniqueid``: the 128 bytes rank 0 broadcasts to the others."""
    uid = UniqueId()
    uid.version = _version(UniqueId)
    library.checked("nvshmemx_get_uniqueid")(byref(uid))
    return bytes(memoryview(uid).cast("B"))


def init_with_unique_id(unique_id: bytes, rank: int, nranks: int) -> None:
    """``nvshmemx_set_attr_uniqueid_args`` + ``nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_UNIQUEID)``
    (collective over the *nranks* processes that received *unique_id*)."""
    uid = UniqueId.from_buffer_copy(unique_id)
    attr = InitAttr.initialized()
    library.checked("nvshmemx_set_attr_uniqueid_args")(rank, nranks, byref(uid), byref(attr))
    library.checked("nvshmemx_hostlib_init_attr")(InitFlag.NVSHMEMX_INIT_WITH_UNIQUEID, byref(attr))


def init_with_mpi_comm(comm_address: int) -> None:
    """``nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_MPI_COMM)`` with the address of an
    ``MPI_Comm`` handle (mpi4py: ``MPI._addressof(comm)``); needs ``nvshmem_bootstrap_mpi.so``
    built for the MPI in use."""
    attr = InitAttr.initialized()
    attr.mpi_comm = comm_address
    library.checked("nvshmemx_hostlib_init_attr")(InitFlag.NVSHMEMX_INIT_WITH_MPI_COMM, byref(attr))


def finalize() -> None:
    """``nvshmemx_hostlib_finalize`` (collective)."""
    library.function("nvshmemx_hostlib_finalize")()


def init_status() -> int:
    """``nvshmemx_init_status`` (an :class:`InitStatus` value)."""
    return library.function("nvshmemx_init_status")()


def my_pe() -> int:
    """``nvshmem_my_pe``."""
    return library.function("nvshmem_my_pe")()


def n_pes() -> int:
    """``nvshmem_n_pes``."""
    return library.function("nvshmem_n_pes")()


def sync_all_on_stream(stream: int) -> None:
    """``nvshmemx_sync_all_on_stream``: a barrier over every PE, enqueued on *stream*."""
    library.function("nvshmemx_sync_all_on_stream")(stream)


def version() -> tuple[int, int, int]:
    """``nvshmemx_vendor_get_version_info``: NVSHMEM's (major, minor, patch)."""
    parts = [c_int(), c_int(), c_int()]
    library.function("nvshmemx_vendor_get_version_info")(*(byref(p) for p in parts))
    return tuple(p.value for p in parts)
