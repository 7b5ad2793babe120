"""The solver planners' CUDA engine base: a plan's stream, workspace and route, ``info``, ``check``.

An engine is a front with :class:`CudaEngine` (``class CudaCholesky(CudaEngine, Cholesky)``).
At plan time it chooses its route, once: a small object that computes one way (LU, Cholesky,
gpmath's small-matrix kernel, IRS, Jacobi ...), built from the problem, the options it needs and
the plan's :class:`~._workspace.Workspace`; every execution runs that route.  Routes and engines
reach cuSOLVER, cuBLAS, memory, streams and kernels only through the workspace's ``lib``
(:mod:`._device`).

cuSOLVER is column-major; gpmath's operands are C-order.  A C-order ``(N, N)`` buffer read
column-major is the transpose, which the routes use instead of copying: ``potrf``/``syevd`` on a
Hermitian ``A`` see ``conj(A)`` (flip ``uplo``), ``getrf``/``getrs`` solve ``Aᵀ`` systems with
``trans=T``, ``gesvd`` of ``Aᵀ`` returns ``Vh`` and ``U`` in C order.  Where a routine needs the
matrix itself (``lu_factor``, QR), the route makes one transposed copy with the operand's package.

``info`` is written to a device buffer; it is read (a sync of the plan's stream only) when
``execute(check=True)`` or :meth:`CudaEngine.info` asks for it.  A plan with ``check_finite``
tests its operands for infs and NaNs where its route reads them (gpmath's one-warp kernels,
``tests_finite``: the matrices whose operand is not finite report :data:`NONFINITE` in ``info``,
and ``check`` raises ``ValueError``) or, on the other routes, before the route runs.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .._core.finite import nonfinite_message, require_finite
from .._errors import LinAlgError
from . import _device
from ._problem import check_index_range
from ._workspace import Workspace

__all__ = ["CudaEngine", "Route", "NONFINITE"]

NONFINITE = -(1 << 30)  # info of a matrix whose first operand holds an inf or a NaN (one less: the second)


class Route(Protocol):
    """One way of computing an engine's result, chosen at plan time (its constructor plans it).
    A route with a true ``tests_finite`` attribute reports non-finite operands in ``info`` (see
    the module docstring)."""

    def run(self, arrays: dict[str, object]):
        """The result for the operands *arrays* (launched on the plan's stream)."""


class CudaEngine:
    """The CUDA engine base, before a solver front (``class CudaCholesky(CudaEngine, Cholesky)``).

    Engines implement ``_plan_route()``, which chooses and builds the route (its workspace
    queries and allocations) and returns it, and ``_failure_message(index, info)``; ``_run``
    runs the route (engines that shape its result override it).
    """

    _engine_kind = "cuda"
    route: Route | None = None
    _probes_finite = False  # check_finite by a reduction before the route (a route that does not test it)

    def __init__(self, *operands, execution=None, stream=None, **options):
        super().__init__(*operands, execution=execution, stream=stream, **options)
        lib = self.lib = _device.LIBRARIES
        self.staged = self.staging is not None  # host operands computed on the GPU
        if self.staged and stream is None:
            self.stream = lib.own_stream(self.device_id)
        else:
            self.stream = lib.resolve_stream(stream, self.package, self.device_id)
            self._stream_object = stream
        self._planned = False
        self.workspace = Workspace(lib, self.package, self.stream, self.device_id, self._home, self.staged,
                                   self._holder())
        self._device_query = self.package.device_query()

    @property
    def nbytes(self) -> int:
        """Device memory held by the plan."""
        return self.workspace.nbytes

    # -- planning --------------------------------------------------------------------------------
    def plan(self) -> "CudaEngine":
        """Create the cuSOLVER parameters, choose the route, query and allocate its workspace;
        returns the plan."""
        self._check_alive()
        check_index_range(self.problem, type(self).__name__)
        self._planned = False  # until this planning completes
        self._release_held()
        lib, ws = self.lib, self.workspace
        ws.reset()
        with lib.runtime.on_device(self.device_id):
            ws.handle = lib.solver_handle(self.device_id)
            lib.bind_stream(ws.handle, self.stream, lib.cs.set_stream)
            ws.params = lib.cs.create_params()
            self._hold(lib.cs.destroy_params, ws.params)
            # the libraries write info into host memory directly: reading it is a sync, no copy
            ws.info_host, ws.info = lib.mapped_empty((max(self.problem.batch_count, 1),), np.int32)
            ws.info_host[:] = 0  # routines that report nothing leave the zeros
            self.route = self._plan_route()
        self._probes_finite = self.check_finite and not getattr(self.route, "tests_finite", False)
        self._planned = True
        return self

    def _plan_route(self) -> Route:
        raise NotImplementedError

    def _run(self, arrays):
        return self.route.run(arrays)

    # -- execution -------------------------------------------------------------------------------
    def execute(self, *, check: bool = False) -> Any:
        """Run on the GPU and return new arrays in the operands' package.

        Parameters
        ----------
        check : bool, default False
            Read ``info`` (a sync of the plan's stream only) and raise
            :class:`~gpmath._errors.LinAlgError` naming the matrix and its pivot or minor (or,
            with ``check_finite``, ``ValueError`` for an operand holding an inf or a NaN).
        """
        arrays = self._operands_or_raise()
        if not self._planned:
            self.plan()
        if self._probes_finite:
            with self.package.on_stream(self.stream, self._home):  # (device arrays: on the plan's stream)
                require_finite(True, **arrays)
        lib, ws = self.lib, self.workspace
        lib.bind_stream(ws.handle, self.stream, lib.cs.set_stream)  # the handle is shared by this thread's plans
        ws.executions += 1
        result = lib.runtime.call_on_device(self.device_id, self._device_query, self._run, arrays)
        if check:
            self.check()
        return result if self.staging is None else self.staging.outward(result)

    def _read_info(self) -> np.ndarray:
        """``info``, written by the libraries into the plan's host array (after a sync of the plan's
        stream only)."""
        with self._on_own_device():  # a default-stream handle (0) means the current device's
            self.lib.synchronize(self.stream)
        return self.workspace.info_host

    def _info_values(self) -> np.ndarray:
        """cuSOLVER's per-matrix ``info`` of the last execution (syncs the plan's stream only)."""
        return self._read_info().reshape(self.problem.batch_shape).copy()

    def check(self) -> None:
        """Raise :class:`LinAlgError` for the first matrix whose ``info`` reports a failure."""
        if not np.count_nonzero(self._read_info()):  # the common case: one sync, one scan (a third of any()'s time)
            return
        info = self._info_values()
        if self.check_finite:  # a route that tests finiteness reports it first, as SciPy's check comes first
            for name, code in zip(self.operand_names, (NONFINITE, NONFINITE - 1)):
                if (info == code).any():
                    raise ValueError(nonfinite_message(name))
        failed = np.flatnonzero(info.reshape(-1) > 0)
        if failed.size:
            index = tuple(int(i) for i in np.unravel_index(failed[0], info.shape))
            raise LinAlgError(self._failure_message(index, int(info[index])))
        raise LinAlgError(f"cuSOLVER rejected argument {-int(info.min())} of {type(self).__name__} (info < 0)")

    def _failure_message(self, index: tuple[int, ...], info: int) -> str:
        raise NotImplementedError
