"""The CUDA engines of Cholesky and CholeskySolve, and their cuSOLVER routes.

Layout conventions (C-order operands read column-major) are explained in :mod:`._cuda`.  The
Hermitian routines always run with cuSOLVER's ``LOWER`` fill mode, which is the fast one
(``potrf`` with ``UPPER`` took 2.3x as long at n = 4096 on an H100): to read the caller's lower
triangle a route loads a swapped copy (``A`` itself, column-major, as torch and CuPy do); to read
the upper one it loads a plain copy, ``conj(A)`` column-major, and conjugates back.

Cholesky's routes: gpmath's small-matrix kernel (:class:`~._cuda_small.SmallKernelCholesky`,
where the ``CHOLESKY`` crossover row says so) or :class:`PotrfCholesky`.
"""

from __future__ import annotations

import numpy as np

from . import _problem as P
from ._crossover import CHOLESKY, choose
from ._cuda import CudaEngine
from ._cuda_factor import CholeskyFactorization, deliver_rhs, load_rhs
from ._cuda_small import SmallKernelCholesky, serves
from ._plans import Cholesky, CholeskySolve
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaCholesky", "CudaCholeskySolve", "PotrfCholesky", "PotrsSolve"]


class PotrfCholesky:
    """The factor by ``Xpotrf`` or ``<t>potrfBatched`` of the *lower* or upper triangle: in C order
    ``L_Mᵀ``, ``Lᵀ`` (lower: M = A) or ``U`` (upper: M = conj(A)), zeros below the diagonal."""

    def __init__(self, problem: Problem, ws: Workspace, lower: bool):
        self.problem, self.ws, self._lower = problem, ws, lower
        self._cholesky = CholeskyFactorization(problem, ws)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg, a = ws.package, arrays["a"]
        # the result array: the triangle read (column-major lower) and zeros in the other, made in one pass
        source = pkg.swap(a) if self._lower else a
        if ws.staged:
            work, ptr = ws.load("a", np.triu(source), p.dtype, p.batch_shape + (p.n, p.n))
        else:
            with pkg.on_stream(ws.stream, ws.home):
                work = pkg.upper_copy(source)
            ptr = pkg.ptr(work)
        self._cholesky.factor(ptr)
        return ws.deliver(work)


class PotrsSolve:
    """``A x = b`` from a factor *c* of A by ``Xpotrs`` or ``<t>potrsBatched``.

    The C-order factor read column-major is ``Uᵀ`` (lower) or ``Lᵀ`` (upper), a Cholesky factor of
    ``conj(A)``: the route solves ``conj(A) conj(x) = conj(b)`` without copying the factor's layout.
    """

    def __init__(self, problem: Problem, ws: Workspace, lower: bool):
        self.problem, self.ws = problem, ws
        fill = ws.lib.cublas.FillMode
        self._uplo = fill.UPPER if lower else fill.LOWER
        self._cholesky = CholeskyFactorization(problem, ws, factor=False, solve_info=ws.info)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        conj = p.dtype.is_complex
        _, c_ptr = ws.load("c", arrays["c"], p.dtype, p.batch_shape + (p.n, p.n), keep=True)
        b, b_ptr = load_rhs(ws, p, arrays["b"], conj)
        self._cholesky.solve(self._uplo, c_ptr, b_ptr, p.rhs.nrhs)
        return deliver_rhs(ws, p, b, conj)


class CudaCholesky(CudaEngine, Cholesky):
    """:class:`~gpmath.solver.Cholesky` through gpmath's small-matrix kernel, ``cusolverDnXpotrf``
    or ``<t>potrfBatched``."""

    def _plan_route(self):
        p = self.problem
        if choose(CHOLESKY, p.n, p.batch_count, serves(p.n, self.lib)) == "kernel":
            return SmallKernelCholesky(p, self.workspace, self.lower, self.check_finite)
        return PotrfCholesky(p, self.workspace, self.lower)

    def _run(self, arrays):
        factor = self.route.run(arrays)  # C order holds L_Mᵀ: Lᵀ (lower) or U (upper)
        return self.package.swap(factor) if self.lower else factor  # L: a transposed view (column-major, as LAPACK's)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info)


class CudaCholeskySolve(CudaEngine, CholeskySolve):
    """:class:`~gpmath.solver.CholeskySolve` through ``Xpotrs`` or ``<t>potrsBatched`` (:class:`PotrsSolve`)."""

    def _plan_route(self):
        return PotrsSolve(self.problem, self.workspace, self.lower)

    def _failure_message(self, index, info):
        return P.not_positive_definite("a", index, info)
