"""The CUDA engine of Solve and its routes, one chosen at plan time.

- :class:`~._cuda_small.SmallKernelSolve`: gpmath's one-launch kernels (LU, or Cholesky for
  ``assume_a="pos"``) where the ``SOLVE`` crossover row says ``"kernel"``;
- :class:`GetrfSolve`: ``Xgetrf``/``getrfBatched`` and ``getrs``, the interchanges applied to b by
  gpmath's kernel (:mod:`._cuda_permute`) where the LU is of A itself, one matrix at a time;
- :class:`PotrfSolve`: Cholesky (``potrf``, ``potrs``) for ``assume_a="pos"``;
- :class:`~._cuda_irs.IrsSolve`: mixed precision (``refine="mixed"``).

Layout conventions and fill modes are explained in :mod:`._cuda` and :mod:`._cuda_cholesky`.
"""

from __future__ import annotations

import numpy as np

from .._errors import LinAlgError
from . import _problem as P
from ._condition import hermitian_one_norms, one_norms
from ._crossover import MIXED, SOLVE, choose
from ._cuda import CudaEngine
from ._cuda_condition import ConditionEstimate
from ._cuda_factor import CholeskyFactorization, LuFactorization, deliver_rhs, load_rhs
from ._cuda_irs import IrsSolve
from ._cuda_permute import permuted_rhs
from ._cuda_small import SmallKernelSolve, serves
from ._ops import finite_matrices
from ._plans import Solve
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaSolve", "GetrfSolve", "PotrfSolve", "SOLVE_SWAPPED"]

SOLVE_SWAPPED = True  # LU of a swapped copy (A itself) and getrs "N": 0.4-10 % faster than Aᵀ and "T" (bench compares)


class GetrfSolve:
    """``A x = b`` (or ``Aᵀ x = b``: *transposed*) by LU: the factors of a swapped copy (``A``
    itself, column-major) or, with ``SOLVE_SWAPPED`` False, of a plain one (``Aᵀ``); with
    *condition*, the rcond of ``A`` from those factors (:class:`~._cuda_condition.ConditionEstimate`)."""

    def __init__(self, problem: Problem, ws: Workspace, transposed: bool, condition: bool = False):
        self.problem, self.ws, self._transposed = problem, ws, transposed
        self.lu = LuFactorization(problem, ws)
        self.permute = permuted_rhs(problem, ws, self.lu)
        operation = ws.lib.cublas.Operation
        self._n, self._t = operation.N, operation.T
        self._adjoint = operation.C if problem.dtype.is_complex else operation.T
        self.condition = ConditionEstimate(problem, ws) if condition else None

    def run(self, arrays):
        p, ws, lu = self.problem, self.ws, self.lu
        swapped = SOLVE_SWAPPED  # column-major A (swapped copy) or Aᵀ (plain copy)
        _, a_ptr = ws.load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=swapped)
        # ‖A‖₁ of the copy before it is factored, on the device where the estimate's kernels serve
        measured = self.condition is not None and swapped and self.condition.measure(a_ptr, hermitian=False)
        lu.factor(a_ptr, lu.pivots)
        b, b_ptr = load_rhs(ws, p, arrays["b"])  # (host operands: b is copied while the GPU factors A)
        trans = self._t if swapped == self._transposed else self._n
        pivots = lu.pivots
        if trans == self._n and self.permute is not None:  # P b by gpmath's kernel, then no pivots
            b, b_ptr = self.permute.apply(b_ptr, pivots)
            pivots = 0
        lu.solve(trans, a_ptr, pivots, b_ptr, p.rhs.nrhs)
        if self.condition is not None:
            self.condition.run(arrays["a"], None if measured else one_norms, self._inverse_solves(a_ptr, swapped))
        return deliver_rhs(ws, p, b)

    def _inverse_solves(self, a_ptr: int, swapped: bool):
        """Solves of one vector a matrix with ``A`` and ``Aᴴ`` from the LU of ``M = A``; from that of
        ``M = Aᵀ``, with ``B = conj(A)`` (``‖B⁻¹‖₁ = ‖A⁻¹‖₁``): ``B = Mᴴ`` and ``Bᴴ = M``."""
        forward, adjoint = (self._n, self._adjoint) if swapped else (self._adjoint, self._n)

        def solve_at(ptr: int, with_adjoint: bool) -> None:
            self.lu.solve(adjoint if with_adjoint else forward, a_ptr, self.lu.pivots, ptr, 1)
        return solve_at


class PotrfSolve:
    """``A x = b`` for Hermitian positive-definite A by Cholesky of its *lower* or upper triangle."""

    def __init__(self, problem: Problem, ws: Workspace, lower: bool, condition: bool = False):
        self.problem, self.ws, self._lower = problem, ws, lower
        self._conjugate = problem.dtype.is_complex and not lower  # conj(A) conj(x) = conj(b)
        self._fill = ws.lib.cublas.FillMode.LOWER
        self._cholesky = CholeskyFactorization(problem, ws, solve_info=ws.buffer(4 * max(problem.batch_count, 1)))
        self.condition = ConditionEstimate(problem, ws) if condition else None

    def run(self, arrays):
        p, ws, conj = self.problem, self.ws, self._conjugate
        # a copy whose column-major lower triangle holds the caller's triangle: A (lower) or conj(A)
        _, a_ptr = ws.load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=self._lower)
        # ‖A‖₁ of the copy's Hermitian matrix before it is factored, as in GetrfSolve
        measured = self.condition is not None and self.condition.measure(a_ptr, hermitian=True)
        self._cholesky.factor(a_ptr)
        b, b_ptr = load_rhs(ws, p, arrays["b"], conj)  # (host operands: b is copied while the GPU factors A)
        self._cholesky.solve(self._fill, a_ptr, b_ptr, p.rhs.nrhs)
        if self.condition is not None:  # the factored M (A or conj(A)) is Hermitian, ‖M⁻¹‖₁ = ‖A⁻¹‖₁
            solve_at = lambda ptr, adjoint: self._cholesky.solve(self._fill, a_ptr, ptr, 1)  # noqa: E731
            norms = None if measured else (lambda pkg, a: hermitian_one_norms(pkg, a, self._lower))
            self.condition.run(arrays["a"], norms, solve_at)
        return deliver_rhs(ws, p, b, conj)


class CudaSolve(CudaEngine, Solve):
    """:class:`~gpmath.solver.Solve` on the GPU (its routes: see the module docstring)."""

    _solution = None  # the last mixed-precision solution, scanned by check()

    def _plan_route(self):
        p, ws = self.problem, self.workspace
        if self.refine == "mixed":
            self._solution = None
            self.inner_precision = self.precision or choose(MIXED, p.n, max(p.batch_count, 1), device_id=ws.device_id)
            return IrsSolve(p, ws, self.inner_precision)
        if choose(SOLVE, p.n, p.batch_count, serves(p.n, self.lib)) == "kernel":
            return SmallKernelSolve(p, ws, self.assume_a == "pos", self.lower, self.transposed, self.condition,
                                    self.check_finite)
        if self.assume_a == "pos":
            return PotrfSolve(p, ws, self.lower, self.condition)
        return GetrfSolve(p, ws, self.transposed, self.condition)

    def _run(self, arrays):
        x = self.route.run(arrays)
        if self.refine == "mixed":
            self.refinement, self._solution = self.route.refinement, x
        return x

    def _rcond_values(self) -> np.ndarray | None:
        """The route's last estimate (after a sync of the plan's stream), or None (IRS keeps no factors)."""
        estimate = getattr(self.route, "condition", None)
        if estimate is None or not self.workspace.executions:
            return None
        self._read_info()
        return estimate.values().reshape(self.problem.batch_shape).copy()

    def check(self) -> None:
        """:meth:`CudaEngine.check`, and for a mixed-precision solve a scan of the solution: IRS
        reports a singular ``a`` with ``info = 0`` and a solution of NaNs (measured on an H200)."""
        super().check()
        if self._solution is None:
            return
        p, pkg = self.problem, self.package
        with pkg.on_stream(self.stream, self._home):
            finite = pkg.to_numpy(finite_matrices(pkg, self._solution, len(p.rhs.batch_shape)))
        if not finite.all():
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise LinAlgError(P.not_solved("a", index))

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info) if self.assume_a == "pos" else P.singular("a", index, info)
