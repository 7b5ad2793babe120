"""The reciprocal condition estimate of the CUDA Solve routes (``Solve(condition=True)``).

A route that keeps its factors (LU or Cholesky) hands :class:`ConditionEstimate` a function that
solves, in place, one right-hand side a matrix with them (with ``A`` or ``Aᴴ``); the estimator
of :mod:`._condition` runs its six solves and elementwise steps on the plan's stream in the
operands' package, with no host decision, and the result is copied into mapped host memory that
the host reads after the same stream sync as ``info``.  Host operands staged through the GPU
have no device package: gpmath's kernels (``kernels/condition.cu``) take the elementwise steps on
the device, and one copy brings the estimates of ``‖A⁻¹‖₁`` back; without NVRTC, their vectors make
a round trip to the host each solve (six syncs).
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ._condition import inverse_one_norms, reciprocal
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["ConditionEstimate", "KERNEL_PATH"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "condition.cu")
_BLOCK = 256  # condition.cu's BLOCK
_NORM_COLUMNS = _BLOCK // 32  # condition.cu's NORM_COLUMNS: rcond_norms takes a warp a column


class ConditionEstimate:
    """``rcond = 1 / (‖A‖₁ est‖A⁻¹‖₁)`` of each matrix of a route's batch (planned here: the
    mapped host array :attr:`host` that the last execution's values are written to)."""

    def __init__(self, problem: Problem, ws: Workspace):
        self.problem, self.ws = problem, ws
        self.host, self._ptr = ws.lib.mapped_empty((max(problem.batch_count, 1),), np.finfo(problem.dtype.numpy).dtype)
        self._published = None  # the device array being copied out (alive until the next execution)
        self._steps: _KernelSteps | None = None  # made by the first staged run where NVRTC loads
        self._norms = None  # the kernels' last ‖A‖₁, until values() turns host's ‖A⁻¹‖₁ into rcond

    def _kernels(self) -> _KernelSteps | None:
        """gpmath's kernels for the estimate's steps: for staged host operands where NVRTC loads
        (made at the first use), else None."""
        ws = self.ws
        if ws.staged and ws.lib.compiler_available():
            self._steps = self._steps or _KernelSteps(self.problem, ws)
            return self._steps
        return None

    def measure(self, a_ptr: int, hermitian: bool) -> bool:
        """Before the route factors the column-major copy at *a_ptr* (``A`` itself, or with
        *hermitian* the Hermitian matrix its lower triangle holds), take its ``‖A‖₁`` on the
        device where the kernels serve; whether it did (else :meth:`run` takes it)."""
        steps = self._kernels()
        if steps is not None:
            steps.measure(a_ptr, hermitian)
        return steps is not None

    def run(self, a, norms: Callable | None, solve_at: Callable[[int, bool], None]) -> None:
        """Estimate for the caller's operand *a*, whose ``‖A‖₁`` ``norms(package, a)`` gives (None:
        :meth:`measure` took it on the device), with ``solve_at(address, adjoint)`` solving the
        vectors at *address* in place with the factors."""
        p, ws = self.problem, self.ws
        pkg, shape = ws.package, p.batch_shape + (p.n,)
        steps = self._kernels()
        if steps is not None:
            self._norms = steps.measured_norms() if norms is None else norms(pkg, a)
            steps.run(solve_at, self._ptr)
            return

        def solved(v, adjoint: bool):
            work, ptr = ws.load("condition", v, p.dtype, shape, keep=True)
            solve_at(ptr, adjoint)
            y = ws.deliver(work)
            return y if ws.staged else pkg.copy(y)

        with pkg.on_stream(ws.stream, ws.home):
            self.publish(norms(pkg, a), inverse_one_norms(pkg, solved, pkg.zeros(shape, a)))

    def values(self) -> np.ndarray:
        """The last execution's rcond, one per matrix (read after a sync of the plan's stream)."""
        if self._norms is not None:  # the kernels left estimates of ‖A⁻¹‖₁ there (staged: NumPy operands)
            shape = self.problem.batch_shape
            self.host[:] = reciprocal(self.ws.package, np.broadcast_to(self._norms, shape), self.host.reshape(shape)).reshape(-1)
            self._norms = None
        return self.host

    def publish(self, norms, inverse_norms) -> None:
        """Write ``rcond`` from ``‖A‖₁`` (*norms*, broadcasting to the batch) and ``‖A⁻¹‖₁`` to
        :attr:`host` (by a copy on the stream; inside ``package.on_stream``)."""
        p, ws = self.problem, self.ws
        pkg = ws.package
        rcond = pkg.contiguous(reciprocal(pkg, pkg.broadcast(norms, p.batch_shape), inverse_norms))
        if ws.staged:
            self.host[:] = rcond.reshape(-1)
        else:
            self._published = rcond
            ws.lib.copy_async(self._ptr, pkg.ptr(rcond), self.host.nbytes, ws.stream)


class _KernelSteps:
    """The estimator of :mod:`._condition` on device vectors of a staged plan: its elementwise
    steps are launches of ``kernels/condition.cu`` (one block a matrix), between the route's solves."""

    def __init__(self, problem: Problem, ws: Workspace):
        p, lib = problem, ws.lib
        count, real = max(p.batch_count, 1), np.finfo(p.dtype.numpy).dtype
        self.ws, self.nbytes, self._batch_shape = ws, count * real.itemsize, p.batch_shape
        self.vectors, self.estimates = ws.buffer(count * p.n * p.dtype.itemsize), ws.buffer(self.nbytes)
        defines = {"GPM_REAL": real.itemsize, "GPM_COMPLEX": int(p.dtype.is_complex)}

        def launch(function: str, parameters: int):
            prepared = lib.launch(lib.kernel(KERNEL_PATH, function, **defines), ws.device_id, parameters, grid=count,
                                  block=_BLOCK)
            prepared.set(0, self.vectors)
            prepared.set(1, p.n)
            return prepared

        self._start, self._absorb, self._unit = launch("rcond_start", 3), launch("rcond_absorb", 6), launch("rcond_unit", 2)
        self._absorb.set(2, self.estimates)
        self.norms = ws.buffer(self.nbytes)  # rcond_norms's ‖A‖₁, and the mapped host copy read after the sync
        self._norms_host, self._norms_host_ptr = lib.mapped_empty((count,), real)
        self._norm = lib.launch(lib.kernel(KERNEL_PATH, "rcond_norms", **defines), ws.device_id, 4,
                                grid=count * -(-p.n // _NORM_COLUMNS), block=_BLOCK)
        self._norm.set(1, p.n)
        self._norm.set(3, self.norms)

    def measure(self, a_ptr: int, hermitian: bool) -> None:
        """``‖A‖₁`` of the column-major matrices at *a_ptr* (of the Hermitian ones their lower
        triangles hold, with *hermitian*), copied to mapped host memory (stream-ordered)."""
        lib, stream = self.ws.lib, self.ws.stream
        lib.zero(self.norms, self.nbytes, stream)
        self._norm.set(0, a_ptr)
        self._norm.set(2, int(hermitian))
        self._norm(stream)
        lib.copy_async(self._norms_host_ptr, self.norms, self.nbytes, stream)

    def measured_norms(self) -> np.ndarray:
        """The host array :meth:`measure` fills (valid after a sync of the stream)."""
        return self._norms_host.reshape(self._batch_shape)

    def run(self, solve_at: Callable[[int, bool], None], target: int) -> None:
        """Estimates of ``‖A⁻¹‖₁``, copied to host memory at *target* (stream-ordered)."""
        v, stream = self.vectors, self.ws.stream
        self._begin(alternating=False)
        solve_at(v, False)
        self._take(first=True, alternating=False, signs=True)
        for signs in (True, False):
            solve_at(v, True)
            self._unit(stream)
            solve_at(v, False)
            self._take(first=False, alternating=False, signs=signs)
        self._begin(alternating=True)
        solve_at(v, False)
        self._take(first=False, alternating=True, signs=False)
        self.ws.lib.copy_async(target, self.estimates, self.nbytes, stream)

    def _begin(self, alternating: bool) -> None:
        self._start.set(2, int(alternating))
        self._start(self.ws.stream)

    def _take(self, first: bool, alternating: bool, signs: bool) -> None:
        absorb = self._absorb
        absorb.set(3, int(first))
        absorb.set(4, int(alternating))
        absorb.set(5, int(signs))
        absorb(self.ws.stream)
