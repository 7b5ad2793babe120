"""``P b`` for the LU solves of few large matrices, by gpmath's kernel ``kernels/lu_permute.cu``.

``cusolverDnXgetrs`` applies getrf's row interchanges to the right-hand sides with one thread
that reads each pivot from global memory: 0.44-0.59 ms of a 13 ms solve at n = 4096 on an H100,
where torch's own permutation kernel takes 0.34 ms.  :class:`PermutedRhs` (part of the LU solve
routes of the Solve and LUSolve engines, for the one-matrix-at-a-time factorisation) composes the
permutation in shared memory and gathers ``y = P b`` in one launch; ``Xgetrs`` then runs with no
pivots (``ipiv = NULL``, which cuSOLVER takes as "no interchanges").
"""

from __future__ import annotations

import os

from ._cuda_factor import LuFactorization
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["PermutedRhs", "permuted_rhs", "PERMUTE_MAX_N", "KERNEL_PATH"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "lu_permute.cu")
PERMUTE_MAX_N = 12288  # the permutation lives in shared memory: 4 n bytes <= 48 KB
_B, _Y, _PIVOTS, _N, _NRHS = 0, 3, 6, 7, 8


def permuted_rhs(problem: Problem, ws: Workspace, lu: LuFactorization) -> PermutedRhs | None:
    """The kernel for *lu*'s one-matrix-at-a-time factorisation where NVRTC is available and the
    permutation fits in shared memory; else None (``getrs`` applies the interchanges)."""
    p = problem
    if not lu.batched and p.batch_count >= 1 and p.n <= PERMUTE_MAX_N and ws.lib.compiler_available():
        return PermutedRhs(problem, ws)
    return None


class PermutedRhs:
    """``y = P b`` for column-major right-hand sides (as :func:`~._cuda_factor.load_rhs` lays them out)."""

    def __init__(self, problem: Problem, ws: Workspace):
        p, lib = problem, ws.lib
        self.problem, self.ws = problem, ws
        n, k = p.n, p.rhs.nrhs
        kernel = lib.kernel(KERNEL_PATH, "lu_permute", GPM_BYTES=p.dtype.itemsize)
        launch = self._launch = lib.launch(kernel, ws.device_id, 9, grid=p.batch_count, block=256, shared=4 * n)
        for index, value in ((1, n * k), (2, n), (4, n * k), (5, n), (_N, n), (_NRHS, k)):
            launch.set(index, value)

    def apply(self, b_ptr: int, pivots: int) -> tuple[object, int]:
        """``(y, address)``: a new work array (column-major, as the loaded b) holding ``P b`` for
        the 1-based int64 *pivots* (``n`` per matrix)."""
        p = self.problem
        y, y_ptr = self.ws.work("y", p.rhs.batch_shape + (p.rhs.nrhs, p.n), p.dtype, keep=not p.rhs.vector)
        launch = self._launch
        launch.set(_B, b_ptr)
        launch.set(_Y, y_ptr)
        launch.set(_PIVOTS, pivots)
        launch(self.ws.stream)
        return y, y_ptr
