"""``initialize`` / ``finalize``: bind each rank to a GPU and set up what cuBLASMp and cuFFTMp need.

A communicator adapter gives gpmath the few things it needs from the user's launcher: rank,
size, the rank within the node (to pick the GPU), a broadcast of bytes, an all-gather of small
Python objects and a barrier.  mpi4py communicators are recognised by their module, as the array
packages are (mpi4py is imported only when the caller passes no communicator); so are
torch.distributed process groups (``torchrun``), whose object collectives serve the same needs.

NVSHMEM (cuFFTMp's symmetric memory) is initialized by the first distributed FFT plan, not by
:func:`initialize`, so that matmul-only programs never start it: rank 0 makes an NVSHMEM unique
id, the communicator broadcasts it, and every rank calls ``nvshmemx_hostlib_init_attr`` with it
(``GPMATH_NVSHMEM_BOOTSTRAP=mpi`` selects NVSHMEM's MPI bootstrap instead, which needs
``nvshmem_bootstrap_mpi.so`` built for the MPI in use).  :func:`finalize` frees the FFT plans
still alive, then finalizes NVSHMEM if gpmath started it.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable

from .._bindings import nccl
from .._core import runtime
from .._errors import GpmathError

__all__ = ["initialize", "finalize", "is_initialized", "current", "Context"]


class _MPIComm:
    def __init__(self, comm):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    def local_rank(self) -> int:
        from mpi4py import MPI

        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        try:
            return node.Get_rank()
        finally:
            node.Free()

    def bcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        return self.comm.bcast(data, root=root)

    def allgather(self, obj) -> list:
        return self.comm.allgather(obj)

    def barrier(self) -> None:
        self.comm.Barrier()

    def handle_address(self) -> int:
        """Address of the ``MPI_Comm`` handle (what NVSHMEM's MPI bootstrap reads)."""
        from mpi4py import MPI

        return MPI._addressof(self.comm)


class _TorchComm:
    """A ``torch.distributed`` process group (``torchrun``): objects travel through its own
    collectives, so any backend works (NCCL moves them through the current GPU)."""

    def __init__(self, group):
        import torch.distributed as dist

        if not dist.is_initialized():
            raise GpmathError("torch.distributed is not initialized: call torch.distributed.init_process_group() "
                              "first (torchrun sets up its environment)")
        self.dist, self.group = dist, group
        self.rank, self.size = dist.get_rank(group), dist.get_world_size(group)

    def local_rank(self) -> int:
        local = os.environ.get("LOCAL_RANK")  # torchrun's; else ranks of one node are consecutive
        return int(local) if local is not None else self.rank

    def bcast_bytes(self, data: bytes | None, root: int = 0) -> bytes:
        box = [data]
        self.dist.broadcast_object_list(box, src=self.dist.get_global_rank(self.group, root), group=self.group)
        return box[0]

    def allgather(self, obj) -> list:
        out = [None] * self.size
        self.dist.all_gather_object(out, obj, group=self.group)
        return out

    def barrier(self) -> None:
        self.dist.barrier(group=self.group)

    def handle_address(self) -> int:
        raise GpmathError("GPMATH_NVSHMEM_BOOTSTRAP=mpi needs an mpi4py communicator; with torch.distributed "
                          "use the default unique-id bootstrap")


def _adapter(comm):
    if comm is None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise GpmathError("initialize() without a communicator needs mpi4py (pip install gpmath[distributed])") from exc
        return _MPIComm(MPI.COMM_WORLD)
    root = type(comm).__module__.partition(".")[0]
    if root == "mpi4py":
        return _MPIComm(comm)
    if root == "torch":
        return _TorchComm(comm)
    raise TypeError(f"comm must be an mpi4py communicator or a torch.distributed process group, not "
                    f"{type(comm).__module__}.{type(comm).__qualname__}")


class Context:
    """What :func:`initialize` set up: the communicator, this rank's GPU and NCCL communicator.

    Attributes
    ----------
    rank, size : int
        This process's rank and the number of processes.
    device_id : int
        The GPU this rank uses.
    nccl_comm : int
        The NCCL communicator (``ncclComm_t``) over the same processes.
    """

    def __init__(self, comm: Any, device_id: int, nccl_comm: int):
        self.comm = comm
        self.rank, self.size = comm.rank, comm.size
        self.device_id = device_id
        self.nccl_comm = nccl_comm
        self._resources: dict[tuple, tuple[int, Callable[[int], None]]] = {}
        self._lock = threading.Lock()
        self._plans: dict[int, weakref.ref] = {}  # collective plans to free before NVSHMEM goes
        self._nvshmem_owned = False

    def resource(self, key: tuple, create: Callable[[], int], destroy: Callable[[int], None]) -> int:
        """A library object shared by every plan of this context (e.g. a cuBLASMp grid),
        created on first use and destroyed by :func:`finalize`."""
        with self._lock:
            entry = self._resources.get(key)
            if entry is None:
                with runtime.on_device(self.device_id):
                    entry = self._resources[key] = (create(), destroy)
            return entry[0]

    def track(self, plan: Any) -> None:
        """Remember a collective plan (creation order) so that :func:`finalize` frees it first."""
        key = id(plan)
        self._plans[key] = weakref.ref(plan, lambda _, key=key: self._plans.pop(key, None))

    def start_nvshmem(self) -> None:
        """Initialize NVSHMEM over this context's ranks unless it already runs (collective)."""
        from .._bindings import nvshmem

        with self._lock:
            if nvshmem.init_status() >= nvshmem.InitStatus.NVSHMEM_STATUS_IS_INITIALIZED:
                return
            bootstrap = os.environ.get("GPMATH_NVSHMEM_BOOTSTRAP", "uid").lower()
            with runtime.on_device(self.device_id):
                if bootstrap == "mpi":
                    nvshmem.init_with_mpi_comm(self.comm.handle_address())
                elif bootstrap == "uid":
                    unique_id = self.comm.bcast_bytes(nvshmem.get_unique_id() if self.rank == 0 else None)
                    nvshmem.init_with_unique_id(unique_id, self.rank, self.size)
                else:
                    raise ValueError(f"GPMATH_NVSHMEM_BOOTSTRAP={bootstrap!r}: use 'uid' (default) or 'mpi'")
            self._nvshmem_owned = True
            if (nvshmem.my_pe(), nvshmem.n_pes()) != (self.rank, self.size):
                raise GpmathError(f"NVSHMEM numbers this process PE {nvshmem.my_pe()} of {nvshmem.n_pes()}, "
                                  f"but it is rank {self.rank} of {self.size}")

    def _close(self) -> None:
        for ref in list(self._plans.values()):
            plan = ref()
            if plan is not None:
                plan.free()
        with runtime.on_device(self.device_id):
            while self._resources:
                _, (handle, destroy) = self._resources.popitem()
                destroy(handle)
            nccl.comm_destroy(self.nccl_comm)
            if self._nvshmem_owned:
                from .._bindings import nvshmem

                self._nvshmem_owned = False
                nvshmem.finalize()

    def __repr__(self) -> str:
        return f"<gpmath.distributed context: rank {self.rank} of {self.size} on cuda:{self.device_id}>"


_CONTEXT: Context | None = None


def initialize(comm: Any = None, *, device_id: int | None = None) -> Context:
    """Bind this process to a GPU and create the NCCL communicator the libraries use.

    Call it once per process, on every rank (it is collective), before any
    :mod:`gpmath.distributed` function.

    Parameters
    ----------
    comm : mpi4py communicator or torch.distributed process group, optional
        The processes taking part; default: ``mpi4py.MPI.COMM_WORLD``.  Under ``torchrun``,
        pass ``torch.distributed.group.WORLD`` (after ``init_process_group``); the GPU is then
        picked by ``LOCAL_RANK``.
    device_id : int, optional
        This rank's GPU; default: its rank within the node modulo the number of visible GPUs.

    Returns
    -------
    Context
        Rank, size, device and NCCL communicator (also what :func:`current` returns).

    Examples
    --------
    Run with ``mpirun -n 2 python script.py`` (see docs/distributed.md)::

        from mpi4py import MPI
        import gpmath.distributed as gd

        ctx = gd.initialize(MPI.COMM_WORLD)
        ...
        gd.finalize()
    """
    global _CONTEXT
    if _CONTEXT is not None:
        raise GpmathError("gpmath.distributed is already initialized; call finalize() first")
    adapter = _adapter(comm)
    count = runtime.device_count()
    if count == 0:
        raise GpmathError(f"gpmath.distributed needs a GPU on every rank: {runtime.no_gpu_reason()}")
    device = adapter.local_rank() % count if device_id is None else device_id
    if not 0 <= device < count:
        raise ValueError(f"device_id={device} is not a visible CUDA device (this process sees {count})")
    runtime.set_device(device)
    unique_id = adapter.bcast_bytes(nccl.get_unique_id() if adapter.rank == 0 else None)
    _CONTEXT = Context(adapter, device, nccl.comm_init_rank(adapter.size, unique_id, adapter.rank))
    return _CONTEXT


def finalize() -> None:
    """Release what :func:`initialize` set up (collective; idempotent).

    Free the plans first: this destroys the cuBLASMp grids and the NCCL communicator (FFT plans
    still alive are freed here, in the order they were made, before NVSHMEM is finalized).

    Examples
    --------
    >>> import gpmath.distributed as gd
    >>> gd.finalize()  # nothing to release before initialize()
    >>> gd.is_initialized()
    False
    """
    global _CONTEXT
    context, _CONTEXT = _CONTEXT, None
    if context is not None:
        context._close()


def is_initialized() -> bool:
    """Whether :func:`initialize` has run (and :func:`finalize` not since).

    Examples
    --------
    >>> import gpmath.distributed as gd
    >>> gd.is_initialized()
    False
    """
    return _CONTEXT is not None


def current() -> Context:
    """The :class:`Context` of :func:`initialize`; raises :class:`~gpmath.GpmathError` if it has not run.

    Examples
    --------
    >>> import gpmath.distributed as gd
    >>> gd.current()
    Traceback (most recent call last):
    ...
    gpmath._errors.GpmathError: call gpmath.distributed.initialize(comm) first (see docs/distributed.md)
    """
    if _CONTEXT is None:
        raise GpmathError("call gpmath.distributed.initialize(comm) first (see docs/distributed.md)")
    return _CONTEXT
