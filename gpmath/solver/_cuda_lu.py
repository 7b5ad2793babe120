"""The CUDA engines built on the LU factorisation, LU, LUSolve, Inv and Det, and their routes.

Each engine has one route, a :class:`~._cuda_factor.LuFactorization` (batched or one matrix at a
time, by the ``FACTOR`` crossover table) put to its use.  C order and column-major are explained
in :mod:`._cuda`: ``lu_factor`` and ``lu_solve`` need the factors of ``A`` itself (a swapped
copy); ``inv`` and ``det`` work on ``Aᵀ`` (``inv(Aᵀ)`` read back in C order is ``inv(A)``;
``det(Aᵀ) = det(A)``).
"""

from __future__ import annotations

from . import _problem as P
from ._cuda import CudaEngine
from ._cuda_factor import INT, LuFactorization, deliver_rhs, load_rhs
from ._cuda_inverse import triangular_inverse
from ._cuda_permute import permuted_rhs
from ._ops import det_from_lu, nan_free_matrices, transpose
from ._plans import LU, Det, Inv, LUSolve
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaLU", "CudaLUSolve", "CudaInv", "CudaDet", "GetrfLU", "GetrsSolve", "GetrfInverse", "GetrfDeterminant"]


class GetrfLU:
    """``(lu, piv)`` as :func:`scipy.linalg.lu_factor`'s: the LU of a swapped copy (``A`` itself)."""

    def __init__(self, problem: Problem, ws: Workspace):
        self.problem, self.ws = problem, ws
        self.lu = LuFactorization(problem, ws)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg = ws.package
        work, a_ptr = ws.load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        piv, piv_ptr = ws.work("piv", p.batch_shape + (p.n,), INT[self.lu.pivot_bits], keep=True)
        self.lu.factor(a_ptr, piv_ptr)
        lu, piv = ws.deliver(work), ws.deliver(piv)
        with pkg.on_stream(ws.stream, ws.home):
            return transpose(pkg, lu), pkg.as_int(piv - 1, 32)


class GetrsSolve:
    """``op(A) x = b`` (*trans* 0, 1, 2) from :class:`GetrfLU`'s ``(lu, piv)``: ``Xgetrs`` (for
    ``trans=0``, the interchanges applied to b by gpmath's kernel) or ``<t>getrsBatched``."""

    def __init__(self, problem: Problem, ws: Workspace, trans: int):
        self.problem, self.ws = problem, ws
        self.lu = LuFactorization(problem, ws, workspace=False)
        self.permute = permuted_rhs(problem, ws, self.lu) if trans == 0 else None
        operation = ws.lib.cublas.Operation
        self._trans = (operation.N, operation.T, operation.C)[trans]

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg, bits = ws.package, self.lu.pivot_bits
        _, lu_ptr = ws.load("lu", arrays["lu"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        with pkg.on_stream(ws.stream, ws.home):
            one_based = pkg.as_int(arrays["piv"], bits) + 1
        _, piv_ptr = ws.load("piv", one_based, INT[bits], p.batch_shape + (p.n,), keep=True)
        b, b_ptr = load_rhs(ws, p, arrays["b"])
        if self.permute is not None:  # P b by gpmath's kernel, then no pivots
            b, b_ptr = self.permute.apply(b_ptr, piv_ptr)
            piv_ptr = 0
        self.lu.solve(self._trans, lu_ptr, piv_ptr, b_ptr, p.rhs.nrhs)
        return deliver_rhs(ws, p, b)


class GetrfInverse:
    """``inv(A)``: LU of ``A`` itself (a swapped copy read column-major, so an exactly singular
    matrix meets the zero pivot LAPACK's LU meets), then, for large matrices, cuBLAS's triangular
    solves (:mod:`._cuda_inverse`), else ``getrs`` of ``Aᵀ Y = I``: ``Y`` read column-major is
    ``inv(A)`` in C order.  ``I`` is written on the device."""

    def __init__(self, problem: Problem, ws: Workspace):
        self.problem, self.ws = problem, ws
        self.lu = LuFactorization(problem, ws)
        self._triangular = triangular_inverse(problem, ws, self.lu)
        if self._triangular is None:
            self._trans = ws.lib.cublas.Operation.T
            self._ones = ws.ones(problem.n, problem.dtype)

    def run(self, arrays):
        p, ws, lu = self.problem, self.ws, self.lu
        shape = p.batch_shape + (p.n, p.n)
        _, a_ptr = ws.load("a", arrays["a"], p.dtype, shape, keep=True, swapped=True)
        lu.factor(a_ptr, lu.pivots)
        if self._triangular is not None:
            x, x_ptr = ws.work("x", shape, p.dtype)
            self._triangular.invert(a_ptr, lu.pivots, x_ptr)
        else:
            x, x_ptr = ws.identity("x", shape, p.dtype, self._ones)
            lu.solve(self._trans, a_ptr, lu.pivots, x_ptr, p.n)
        return ws.deliver(x)


class GetrfDeterminant:
    """The determinant (or ``(sign, logabsdet)`` with *log*) from the diagonal and pivots of the LU
    of ``Aᵀ``, computed on the device."""

    def __init__(self, problem: Problem, ws: Workspace, log: bool):
        self.problem, self.ws, self._log = problem, ws, log
        self.lu = LuFactorization(problem, ws)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg = ws.package
        work, a_ptr = ws.load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True)
        piv, piv_ptr = ws.work("piv", p.batch_shape + (p.n,), INT[self.lu.pivot_bits], keep=True)
        self.lu.factor(a_ptr, piv_ptr)
        lu, piv = ws.deliver(work), ws.deliver(piv)
        with pkg.on_stream(ws.stream, ws.home):
            defined = nan_free_matrices(pkg, arrays["a"], len(arrays["a"].shape) - 2)
            return det_from_lu(pkg, lu, piv, 1, self._log, defined)


def _singular(engine: CudaEngine, index: tuple[int, ...], info: int) -> str:
    """The LU engines' ``_failure_message``: a zero pivot."""
    return P.singular("a", index, info)


class CudaLU(CudaEngine, LU):
    """:class:`~gpmath.solver.LU` through ``Xgetrf`` or ``<t>getrfBatched`` (:class:`GetrfLU`)."""

    _failure_message = _singular

    def _plan_route(self):
        return GetrfLU(self.problem, self.workspace)


class CudaLUSolve(CudaEngine, LUSolve):
    """:class:`~gpmath.solver.LUSolve` through ``Xgetrs`` or ``<t>getrsBatched`` (:class:`GetrsSolve`)."""

    _failure_message = _singular

    def _plan_route(self):
        return GetrsSolve(self.problem, self.workspace, self.trans)


class CudaInv(CudaEngine, Inv):
    """:class:`~gpmath.solver.Inv` through ``getrf`` and ``getrs`` (:class:`GetrfInverse`)."""

    _failure_message = _singular

    def _plan_route(self):
        return GetrfInverse(self.problem, self.workspace)


class CudaDet(CudaEngine, Det):
    """:class:`~gpmath.solver.Det` through ``getrf`` (:class:`GetrfDeterminant`)."""

    def _plan_route(self):
        return GetrfDeterminant(self.problem, self.workspace, self.log)

    def check(self) -> None:
        """Nothing to check, so no stream sync: a singular matrix has determinant 0 (``info > 0``
        is no error) and gpmath's validation leaves cuSOLVER no argument to reject (``info < 0``).
        :func:`~gpmath.linalg.det` and :func:`~gpmath.linalg.slogdet` thus return without waiting
        for the GPU, as torch's do; :meth:`info` still reads ``info``."""

    _failure_message = _singular
