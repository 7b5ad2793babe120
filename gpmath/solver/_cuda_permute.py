"""``P b`` for the LU solves of few large matrices, by gpmath's kernel ``kernels/lu_permute.cu``.

``cusolverDnXgetrs`` applies getrf's row interchanges to the right-hand sides with one thread
that reads each pivot from global memory: 0.44-0.59 ms of a 13 ms solve at n = 4096 on an H100,
where torch's own permutation kernel takes 0.34 ms.  :class:`PermutedRhs` (mixed into the Solve and
LUSolve engines, for the one-matrix-at-a-time route) composes the permutation in shared memory and gathers
``y = P b`` in one launch; ``Xgetrs`` then runs with no pivots (``ipiv = NULL``, which cuSOLVER
takes as "no interchanges").
"""

from __future__ import annotations

import functools
import os

from .._core import kernels
from .._core.kernels import Kernel, Launch

__all__ = ["PermutedRhs", "PERMUTE_MAX_N", "KERNEL_PATH"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "lu_permute.cu")
PERMUTE_MAX_N = 12288  # the permutation lives in shared memory: 4 n bytes <= 48 KB
_B, _Y, _PIVOTS, _N, _NRHS = 0, 3, 6, 7, 8


@functools.cache
def _kernel(itemsize: int) -> Kernel:
    return Kernel(KERNEL_PATH, "lu_permute", {"GPM_BYTES": itemsize})


class PermutedRhs:
    """The kernel route of the row interchanges (mixed in before :class:`~._cuda.CudaEngine`)."""

    def _plan_permute_if_it_serves(self) -> None:
        """After ``_plan_getrf``: prepare the kernel for the one-matrix-at-a-time route where NVRTC
        is available and the permutation fits in shared memory; else ``_permute`` is None."""
        p = self.problem
        self._permute = None
        if self._factor_route == "looped" and p.batch_count >= 1 and p.n <= PERMUTE_MAX_N and kernels.compiler_available():
            self._plan_permute()

    def _plan_permute(self) -> None:
        p = self.problem
        n, k = p.n, p.rhs.nrhs
        launch = self._permute = Launch(_kernel(p.dtype.itemsize).function(self.device_id), 9, grid=p.batch_count,
                                        block=256, shared=4 * n)
        for index, value in ((1, n * k), (2, n), (4, n * k), (5, n), (_N, n), (_NRHS, k)):
            launch.set(index, value)

    def _permuted(self, b_ptr: int, pivots: int):
        """``(y, address)``: a new work array (column-major, as the loaded b) holding ``P b`` for
        the 1-based int64 *pivots* (``n`` per matrix)."""
        p = self.problem
        y, y_ptr = self._work("y", p.rhs.batch_shape + (p.rhs.nrhs, p.n), p.dtype, keep=not p.rhs.vector)
        launch = self._permute
        launch.set(_B, b_ptr)
        launch.set(_Y, y_ptr)
        launch.set(_PIVOTS, pivots)
        launch(self.stream)
        return y, y_ptr
