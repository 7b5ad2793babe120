"""ctypes bindings to the cuBLASMp functions gpmath's distributed matmul uses (``cublasmp.h``).

Ints in, ints out: handles, grids and descriptors are integer addresses; streams and NCCL
communicators are integer handles.  The functions bound have the same prototypes in cuBLASMp
0.7 (the last release that runs with NCCL 2.28, which needs NVSHMEM 3.3+) and 0.10 (NCCL
2.29+), except :data:`SINCE_0_8`, which 0.7 lacks (:func:`has_symmetric_memory` says whether
the loaded release has them), and :data:`UNTIL_0_7`, which 0.8 renamed.  They were checked
against ``cublasmp.h`` of the ``nvidia-cublasmp-cu13`` 0.7.0 and 0.10.0 wheels and are
re-checked by ``tests/test_bindings_distributed.py``.

cuBLASMp needs NCCL, cuBLAS and (0.6 to 0.7) NVSHMEM's host library; they are loaded first so
that a copy of ``libcublasmp.so.0`` outside the NVIDIA wheels' layout finds them.
"""

from __future__ import annotations

import ctypes
import enum
from ctypes import byref, c_int, c_int64, c_size_t, c_uint32, c_void_p

from . import cublas, cublaslt, nccl
from ._loader import Library, c_int_p, c_size_t_p, c_void_p_p, status_checker

__all__ = ["Status", "GridLayout", "library", "create", "destroy", "grid_create", "grid_destroy",
           "matrix_descriptor_create", "matrix_descriptor_destroy", "matmul_descriptor_create",
           "matmul_descriptor_destroy", "matmul_buffer_size", "matmul_function", "numroc", "get_version",
           "SINCE_0_8", "UNTIL_0_7", "MatmulAttribute", "matmul_descriptor_set_attribute", "has_symmetric_memory",
           "malloc", "free"]


class Status(enum.IntEnum):
    """``cublasMpStatus_t`` (0.7 has no status-string function, so the names come from here)."""

    CUBLASMP_STATUS_SUCCESS = 0
    CUBLASMP_STATUS_NOT_INITIALIZED = 1
    CUBLASMP_STATUS_ALLOCATION_FAILED = 2
    CUBLASMP_STATUS_INVALID_VALUE = 3
    CUBLASMP_STATUS_ARCHITECTURE_MISMATCH = 4
    CUBLASMP_STATUS_EXECUTION_FAILED = 5
    CUBLASMP_STATUS_INTERNAL_ERROR = 6
    CUBLASMP_STATUS_NOT_SUPPORTED = 7


class GridLayout(enum.IntEnum):
    """``cublasMpGridLayout_t``."""

    COL_MAJOR = 0
    ROW_MAJOR = 1


class MatmulAttribute(enum.IntEnum):
    """``cublasMpMatmulDescriptorAttribute_t`` (the int32 ones gpmath sets)."""

    TRANSA = 0
    TRANSB = 1


def _status_name(status: int) -> str:
    return Status(status).name


_nvshmem_host = Library("nvshmem_host", status_checker("NVSHMEM", str), sonames=("libnvshmem_host.so.3",))


class _CublasMp(Library):
    """libcublasmp, with NVSHMEM's host library loaded first where it is installed (0.6-0.7)."""

    def _load(self):
        try:
            _nvshmem_host.cdll
        except Exception:  # cuBLASMp 0.8+ does not need it; the load below says what is missing
            pass
        try:
            return super()._load()
        except OSError as exc:
            if "undefined symbol: nccl" not in str(exc):
                raise
            from .._errors import GpmathError

            raise GpmathError(
                f"libcublasmp cannot use the NCCL this process loaded (NCCL {nccl.get_version()}): {exc}. "
                "cuBLASMp 0.8 and later need NCCL 2.29 or later: install nvidia-nccl-cu13>=2.29 (or -cu12), "
                "or load a newer libnccl.so.2 first (LD_PRELOAD), or use cuBLASMp 0.7 with NCCL 2.28"
            ) from exc


library = _CublasMp(
    "cublasmp",
    status_checker("cuBLASMp", _status_name, frozenset({Status.CUBLASMP_STATUS_ALLOCATION_FAILED})),
    sonames=("libcublasmp.so.0",),
    requires=(nccl.library, cublas.library, cublaslt.library),
)
_declare = library.declare
_declare("cublasMpGetVersion", c_int, [c_int_p])
_declare("cublasMpCreate", c_int, [c_void_p_p, c_void_p])
_declare("cublasMpDestroy", c_int, [c_void_p])
_declare("cublasMpGridCreate", c_int, [c_int64, c_int64, c_int, c_void_p, c_void_p_p])
_declare("cublasMpGridDestroy", c_int, [c_void_p])
_declare("cublasMpMatrixDescriptorCreate", c_int,
         [c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_int, c_void_p, c_void_p_p])
_declare("cublasMpMatrixDescriptorDestroy", c_int, [c_void_p])
_declare("cublasMpMatmulDescriptorCreate", c_int, [c_void_p_p, c_int])
_declare("cublasMpMatmulDescriptorDestroy", c_int, [c_void_p])
_MATMUL_ARGS = [c_void_p, c_void_p, c_int64, c_int64, c_int64, c_void_p,  # handle, desc, m, n, k, alpha
                c_void_p, c_int64, c_int64, c_void_p,  # a, ia, ja, descA
                c_void_p, c_int64, c_int64, c_void_p,  # b, ib, jb, descB
                c_void_p, c_void_p, c_int64, c_int64, c_void_p,  # beta, c, ic, jc, descC
                c_void_p, c_int64, c_int64, c_void_p]  # d, id, jd, descD
_declare("cublasMpMatmul_bufferSize", c_int, _MATMUL_ARGS + [c_size_t_p, c_size_t_p])
_declare("cublasMpMatmul", c_int, _MATMUL_ARGS + [c_void_p, c_size_t, c_void_p, c_size_t])
_declare("cublasMpNumroc", c_int64, [c_int64, c_int64, c_uint32, c_uint32, c_uint32])
# cuBLASMp 0.8+: a workspace in NCCL symmetric memory lets cublasMpMatmul overlap its
# communication with the local products (0.7 overlaps only with an NVSHMEM workspace).
_declare("cublasMpMalloc", c_int, [c_void_p, c_void_p_p, c_size_t])
_declare("cublasMpFree", c_int, [c_void_p, c_void_p])
_declare("cublasMpMatmulDescriptorSetAttribute", c_int, [c_void_p, c_int, c_void_p, c_size_t])
_declare("cublasMpMatmulDescriptorAttributeSet", c_int, [c_void_p, c_int, c_void_p, c_size_t])  # its 0.7 name
SINCE_0_8 = frozenset({"cublasMpMalloc", "cublasMpFree", "cublasMpMatmulDescriptorSetAttribute"})
UNTIL_0_7 = frozenset({"cublasMpMatmulDescriptorAttributeSet"})


def _out(func: str, *args) -> int:
    """Call *func* with a trailing pointer output argument; return the pointer."""
    value = c_void_p()
    library.checked(func)(*args, byref(value))
    return value.value


def get_version() -> int:
    """``cublasMpGetVersion`` (0.7.0: 700; 0.10.0: 1000)."""
    version = c_int()
    library.checked("cublasMpGetVersion")(byref(version))
    return version.value


def create(stream: int) -> int:
    """``cublasMpCreate`` on the current device, bound to *stream*."""
    handle = c_void_p()
    library.checked("cublasMpCreate")(byref(handle), stream)
    return handle.value


def destroy(handle: int) -> None:
    """``cublasMpDestroy``."""
    library.checked("cublasMpDestroy")(handle)


def grid_create(nprow: int, npcol: int, layout: int, comm: int) -> int:
    """``cublasMpGridCreate`` over NCCL communicator *comm* (collective)."""
    return _out("cublasMpGridCreate", nprow, npcol, layout, comm)


def grid_destroy(grid: int) -> None:
    """``cublasMpGridDestroy``."""
    library.checked("cublasMpGridDestroy")(grid)


def matrix_descriptor_create(m: int, n: int, mb: int, nb: int, rsrc: int, csrc: int, lld: int,
                             cuda_type: int, grid: int) -> int:
    """``cublasMpMatrixDescriptorCreate``: an ``m x n`` matrix in ``mb x nb`` blocks on *grid*."""
    return _out("cublasMpMatrixDescriptorCreate", m, n, mb, nb, rsrc, csrc, lld, cuda_type, grid)


def matrix_descriptor_destroy(desc: int) -> None:
    """``cublasMpMatrixDescriptorDestroy``."""
    library.checked("cublasMpMatrixDescriptorDestroy")(desc)


def matmul_descriptor_create(compute_type: int) -> int:
    """``cublasMpMatmulDescriptorCreate`` (``cublasComputeType_t``; op(A) = A, op(B) = B)."""
    desc = c_void_p()
    library.checked("cublasMpMatmulDescriptorCreate")(byref(desc), compute_type)
    return desc.value


def matmul_descriptor_destroy(desc: int) -> None:
    """``cublasMpMatmulDescriptorDestroy``."""
    library.checked("cublasMpMatmulDescriptorDestroy")(desc)


def matmul_descriptor_set_attribute(desc: int, attribute: MatmulAttribute, value: int) -> None:
    """Set an int32 attribute of a matmul descriptor (``cublasMpMatmulDescriptorSetAttribute``,
    ``...AttributeSet`` in 0.7)."""
    name = "cublasMpMatmulDescriptorSetAttribute"
    if not hasattr(library.cdll, name):
        name = "cublasMpMatmulDescriptorAttributeSet"
    buf = c_int(value)
    library.checked(name)(desc, attribute, ctypes.addressof(buf), ctypes.sizeof(buf))


def matmul_buffer_size(*args) -> tuple[int, int]:
    """``cublasMpMatmul_bufferSize`` with the 23 arguments of ``cublasMpMatmul`` before the
    workspaces; returns ``(device bytes, host bytes)``."""
    device, host = c_size_t(), c_size_t()
    library.checked("cublasMpMatmul_bufferSize")(*args, byref(device), byref(host))
    return device.value, host.value


def matmul_function():
    """The raw ``cublasMpMatmul`` ctypes function (returns the status; check with :func:`check`)."""
    return library.function("cublasMpMatmul")


def check(status: int, func: str = "cublasMpMatmul") -> None:
    """Raise :class:`~gpmath.LibraryError` for a failure *status*."""
    library._check(status, func)


def numroc(n: int, nb: int, iproc: int, isrcproc: int, nprocs: int) -> int:
    """``cublasMpNumroc``: rows (or columns) of an ``n``-long block-cyclic axis held by *iproc*."""
    return library.function("cublasMpNumroc")(n, nb, iproc, isrcproc, nprocs)


def has_symmetric_memory() -> bool:
    """Whether the loaded cuBLASMp allocates workspaces in NCCL symmetric memory (0.8 and later)."""
    return hasattr(library.cdll, "cublasMpMalloc")


def malloc(grid: int, size: int) -> int:
    """``cublasMpMalloc``: *size* bytes of NCCL symmetric memory registered with *grid*
    (collective over the grid's ranks; cuBLASMp 0.8+)."""
    ptr = c_void_p()
    library.checked("cublasMpMalloc")(grid, byref(ptr), size)
    return ptr.value


def free(grid: int, ptr: int) -> None:
    """``cublasMpFree``: deregister and free memory from :func:`malloc` (collective; not stream-ordered)."""
    library.checked("cublasMpFree")(grid, ptr)
