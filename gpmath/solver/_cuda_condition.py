"""The reciprocal condition estimate of the CUDA Solve routes (``Solve(condition=True)``).

A route that keeps its factors (LU or Cholesky) hands :class:`ConditionEstimate` a function that
solves, in place, one right-hand side a matrix with them (with ``A`` or ``Aᴴ``); the estimator
of :mod:`._condition` runs its six solves and elementwise steps on the plan's stream in the
operands' package, with no host decision, and the result is copied into mapped host memory that
the host reads after the same stream sync as ``info``.  Host operands staged through the GPU
have no device package: their vectors make a round trip to the host each solve (six syncs).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._condition import inverse_one_norms, reciprocal
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["ConditionEstimate"]


class ConditionEstimate:
    """``rcond = 1 / (‖A‖₁ est‖A⁻¹‖₁)`` of each matrix of a route's batch (planned here: the
    mapped host array :attr:`host` that the last execution's values are written to)."""

    def __init__(self, problem: Problem, ws: Workspace):
        self.problem, self.ws = problem, ws
        self.host, self._ptr = ws.lib.mapped_empty((max(problem.batch_count, 1),), np.finfo(problem.dtype.numpy).dtype)
        self._published = None  # the device array being copied out (alive until the next execution)

    def run(self, a, norms: Callable, solve_at: Callable[[int, bool], None]) -> None:
        """Estimate for the caller's operand *a*, whose ``‖A‖₁`` ``norms(package, a)`` gives, with
        ``solve_at(address, adjoint)`` solving the vectors at *address* in place with the factors."""
        p, ws = self.problem, self.ws
        pkg, shape = ws.package, p.batch_shape + (p.n,)

        def solved(v, adjoint: bool):
            work, ptr = ws.load("condition", v, p.dtype, shape, keep=True)
            solve_at(ptr, adjoint)
            y = ws.deliver(work)
            return y if ws.staged else pkg.copy(y)

        with pkg.on_stream(ws.stream, ws.home):
            self.publish(norms(pkg, a), inverse_one_norms(pkg, solved, pkg.zeros(shape, a)))

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
