"""Eigh and SVD of small real matrices (N <= 64) in one launch of gpmath's own Jacobi kernel.

``kernels/small_jacobi.cu`` gives each matrix a block with a thread for one or two columns of each
pair of rows and runs two-sided cyclic Jacobi, N / 2 rotations at once (Kogbetliantz's for the SVD of
a square matrix), the indices laid out so that every round pairs the same rows and columns;
A stays in shared memory, U and V in registers.  It reads ``a`` where it lies (the named triangle
for eigh) and writes sorted values, vectors and ``info`` only.  Accuracy is Jacobi's: values to a
few machine epsilons of ``max|a|``, vectors orthonormal to a few epsilons.  The EIGH and SVD
crossover rows say where it runs; complex matrices, rectangular ones and machines without NVRTC
take cuSOLVER's routes.
"""

from __future__ import annotations

import os

from ._cuda_small import kernel_operand, place
from ._device import SolverLibraries
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["JacobiKernel", "KERNEL_PATH", "ROUTINE", "serves"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "small_jacobi.cu")
ROUTINE = "gpmath's Jacobi kernel"  # the engines' ``routine`` (and error messages) on this route
MAX_N = 64  # a block of up to 32 row pairs of 32 lanes, two columns a lane
_PARAMETERS = 10  # a (4), values, u, v, info, count, lower
_A, _VALUES, _U, _V, _INFO, _COUNT, _LOWER = 0, 4, 5, 6, 7, 8, 9


def _layout(n: int) -> tuple[int, int, int]:
    """M (n rounded up to even), the lanes L of a row pair (the power of two >= M, at most 32) and
    the reals of a row of A in shared memory (L times the columns of a lane), as the kernel's."""
    m = n + (n & 1)
    lanes = min(32, 1 << (m - 1).bit_length())
    return m, lanes, lanes * -(-m // lanes)


def threads(n: int) -> int:
    """The kernel's block: M / 2 row pairs of L lanes, in whole warps (as THREADS)."""
    m, lanes, _ = _layout(n)
    return -(-(m // 2) * lanes // 32) * 32


def shared_bytes(n: int, itemsize: int) -> int:
    """The kernel's dynamic shared memory: A's two buffers of M rows."""
    m, _, row = _layout(n)
    return 2 * m * row * itemsize


def serves(dtype, m: int, n: int, lib: SolverLibraries) -> bool:
    """Whether the kernel can factor real ``m x n`` matrices of *dtype* here (square, N <= 64)."""
    return m == n and 1 <= n <= MAX_N and not dtype.is_complex and lib.compiler_available()


class JacobiKernel:
    """The route of the Eigh (*svd* False; the *lower* or upper triangle) and SVD engines through
    the kernel: values, or with *vectors* ``(w, v)`` (eigh) or ``(u, s, vh)`` (SVD), as new arrays."""

    routine = ROUTINE

    def __init__(self, problem: Problem, ws: Workspace, svd: bool, vectors: bool, lower: bool = True):
        p, lib = problem, ws.lib
        self.problem, self.ws, self._svd, self._vectors = problem, ws, svd, vectors
        kernel = lib.kernel(KERNEL_PATH, "small_jacobi", GPM_N=p.n, GPM_TYPE=int(p.dtype.name == "float64"),
                            GPM_SVD=int(svd))
        launch = self._launch = lib.launch(kernel, ws.device_id, _PARAMETERS, grid=max(1, p.batch_count),
                                           block=threads(p.n), shared=shared_bytes(p.n, p.dtype.itemsize))
        launch.set(_INFO, ws.info)
        launch.set(_COUNT, p.batch_count)
        launch.set(_LOWER, int(lower))

    def run(self, arrays):
        p, ws, launch = self.problem, self.ws, self._launch
        place(launch, _A, *kernel_operand(ws, p, "a", arrays["a"]))
        square = p.batch_shape + (p.n, p.n)
        values, ptr = ws.work("values", p.batch_shape + (p.n,), p.dtype)
        launch.set(_VALUES, ptr)
        v = u = None
        if self._vectors:
            v, ptr = ws.work("v", square, p.dtype)
            launch.set(_V, ptr)
            if self._svd:
                u, ptr = ws.work("u", square, p.dtype)
                launch.set(_U, ptr)
        launch(ws.stream)
        values = ws.deliver(values)
        if not self._vectors:
            return values
        if self._svd:
            return ws.deliver(u), values, ws.deliver(v)
        return values, ws.deliver(v)
