"""ctypes bindings to the few NCCL functions :mod:`gpmath.distributed` uses (``nccl.h``).

Ints in, ints out: a communicator (``ncclComm_t``) is an integer address.  The unique id is the
128-byte ``ncclUniqueId`` struct, passed by value to ``ncclCommInitRank``; gpmath moves it
between processes as ``bytes``.  Prototypes were checked against ``nccl.h`` of the
``nvidia-nccl-cu13`` 2.28.9 wheel and are re-checked by ``tests/test_bindings_distributed.py``;
they are unchanged since NCCL 2.4.
"""

from __future__ import annotations

import ctypes
import enum
from ctypes import POINTER, byref, c_char_p, c_int, c_void_p

from ._loader import Library, c_int_p, c_void_p_p, status_checker

__all__ = ["Result", "UniqueId", "get_version", "get_unique_id", "comm_init_rank", "comm_destroy", "library"]

UNIQUE_ID_BYTES = 128  # NCCL_UNIQUE_ID_BYTES


class UniqueId(ctypes.Structure):
    """``ncclUniqueId``: ``struct { char internal[128]; }``."""

    _fields_ = [("internal", ctypes.c_ubyte * UNIQUE_ID_BYTES)]


class Result(enum.IntEnum):
    """``ncclResult_t``."""

    ncclSuccess = 0
    ncclUnhandledCudaError = 1
    ncclSystemError = 2
    ncclInternalError = 3
    ncclInvalidArgument = 4
    ncclInvalidUsage = 5
    ncclRemoteError = 6
    ncclInProgress = 7


def _status_name(status: int) -> str:
    name = Result(status).name
    text = library.function("ncclGetErrorString")(status)
    return f"{name} ({text.decode()})" if text else name


library = Library("nccl", status_checker("NCCL", _status_name), sonames=("libnccl.so.2",))
library.declare("ncclGetVersion", c_int, [c_int_p])
library.declare("ncclGetUniqueId", c_int, [POINTER(UniqueId)])
library.declare("ncclCommInitRank", c_int, [c_void_p_p, c_int, UniqueId, c_int])
library.declare("ncclCommDestroy", c_int, [c_void_p])
library.declare("ncclGetErrorString", c_char_p, [c_int])


def get_version() -> int:
    """``ncclGetVersion``: e.g. 22809 for 2.28.9."""
    version = c_int()
    library.checked("ncclGetVersion")(byref(version))
    return version.value


def get_unique_id() -> bytes:
    """``ncclGetUniqueId``: the id rank 0 creates and every rank passes to :func:`comm_init_rank`."""
    uid = UniqueId()
    library.checked("ncclGetUniqueId")(byref(uid))
    return bytes(uid.internal)


def comm_init_rank(nranks: int, unique_id: bytes, rank: int) -> int:
    """``ncclCommInitRank`` on the current device (collective over the *nranks* processes)."""
    if len(unique_id) != UNIQUE_ID_BYTES:
        raise ValueError(f"an NCCL unique id has {UNIQUE_ID_BYTES} bytes, not {len(unique_id)}")
    uid = UniqueId()
    ctypes.memmove(uid.internal, unique_id, UNIQUE_ID_BYTES)
    comm = c_void_p()
    library.checked("ncclCommInitRank")(byref(comm), nranks, uid, rank)
    return comm.value


def comm_destroy(comm: int) -> None:
    """``ncclCommDestroy``."""
    library.checked("ncclCommDestroy")(comm)
