"""The CUDA engine of Eigh and its routes: gpmath's Jacobi kernel or cuSOLVER (:class:`CusolverEigh`).

Layout conventions and fill modes are explained in :mod:`._cuda` and :mod:`._cuda_cholesky`: the
routines run with the ``LOWER`` fill mode on a swapped copy (the caller's lower triangle) or a
plain one (the upper triangle, ``conj(A)``).  The exception is batched Jacobi (``syevjBatched``)
on real matrices, which loads a plain copy either way and flips the fill mode: a byte copy costs
less host time than a transposing copy kernel, and the fill mode makes no difference to the
Jacobi kernel.
"""

from __future__ import annotations

import ctypes

from .._core.dtypes import DTYPES
from . import _problem as P
from ._crossover import EIGH, choose
from ._cuda import CudaEngine
from ._cuda_jacobi import JacobiKernel, serves
from ._device import LETTER
from ._plans import Eigh
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaEigh", "CusolverEigh"]


class CusolverEigh:
    """Eigenvalues (and vectors unless *eigvals_only*) of the *lower* or upper triangle by
    cuSOLVER's *routine*: ``"syevd"`` (``Xsyevd``, one matrix at a time), ``"syevBatched"``
    (``XsyevBatched``) or ``"syevjBatched"``.

    ``syevd`` cannot be captured in a CUDA graph (the capture is invalidated, measured on an H200):
    under capture its plans run ``XsyevBatched`` instead, in a workspace large enough for both.
    """

    def __init__(self, problem: Problem, ws: Workspace, routine: str, lower: bool, eigvals_only: bool):
        p, lib = problem, ws.lib
        cs, fill = lib.cs, lib.cublas.FillMode
        self.problem, self.ws, self.routine = problem, ws, routine
        self._lower, self._eigvals_only = lower, eigvals_only
        # Jacobi on real matrices: a plain copy (one memcpy) read with the fill mode flipped
        plain = routine == "syevjBatched" and not p.dtype.is_complex
        self._swapped, self._uplo = lower and not plain, (fill.UPPER if plain and lower else fill.LOWER)
        self._fill = fill.LOWER
        real, code = DTYPES[p.dtype.real], p.dtype.cuda
        self._real = real
        jobz = self._jobz = cs.EigMode.NOVECTOR if eigvals_only else cs.EigMode.VECTOR
        count = max(p.batch_count, 1)
        self._capture_routine = "syevBatched" if routine == "syevd" and cs.xsyev_batched_available() else None
        if routine != "syevjBatched":  # the 64-bit API: device and host workspaces
            sizes = (ws.handle, ws.params, jobz, self._fill, p.n, code, 0, p.n, real.cuda, 0, code)
            needs = []
            if routine == "syevd":
                needs.append(cs.xsyevd_buffer_size(*sizes))
            if "syevBatched" in (routine, self._capture_routine):
                needs.append(cs.xsyev_batched_buffer_size(*sizes, count))
            device, host = max(d for d, _ in needs), max(h for _, h in needs)
            self._work = ws.routine_work(device, host)
            return
        self._syevj = cs.create_syevj_info()
        ws.hold(cs.destroy_syevj_info, self._syevj)
        lwork = cs.syevj_batched_buffer_size(LETTER[p.dtype.name], ws.handle, jobz, self._uplo, p.n, 0, p.n,
                                             0, self._syevj, count)
        self._work = (ws.buffer(lwork * p.dtype.itemsize), lwork)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg, cs, count, code = ws.package, ws.lib.cs, max(p.batch_count, 1), p.dtype.cuda
        shape = p.batch_shape + (p.n, p.n)
        a, a_ptr = ws.load("a", arrays["a"], p.dtype, shape, keep=self._eigvals_only, swapped=self._swapped)
        w, w_ptr = ws.work("w", p.batch_shape + (p.n,), self._real)
        routine = self.routine
        if self._capture_routine is not None and ws.lib.runtime.capturing(ws.stream):
            routine = self._capture_routine
        if routine == "syevjBatched":
            work, lwork = self._work
            cs.syevj_batched(LETTER[p.dtype.name], ws.handle, self._jobz, self._uplo, p.n, a_ptr, p.n, w_ptr,
                             work, lwork, ws.info, self._syevj, count)
        elif routine == "syevBatched":
            dwork, dbytes, hwork, hbytes = self._work
            cs.xsyev_batched(ws.handle, ws.params, self._jobz, self._fill, p.n, code, a_ptr, p.n, self._real.cuda,
                             w_ptr, code, dwork, dbytes, ctypes.addressof(hwork), hbytes, ws.info, count)
        else:
            dwork, dbytes, hwork, hbytes = self._work
            step = p.n * p.n * p.dtype.itemsize
            for i in range(count):
                cs.xsyevd(ws.handle, ws.params, self._jobz, self._fill, p.n, code, a_ptr + i * step, p.n,
                          self._real.cuda, w_ptr + i * p.n * self._real.itemsize, code, dwork, dbytes,
                          ctypes.addressof(hwork), hbytes, ws.info + 4 * i)
        w = ws.deliver(w)
        if self._eigvals_only:
            return w
        conj = p.dtype.is_complex and not self._lower  # the upper triangle was factored as conj(A)
        with pkg.on_stream(ws.stream, ws.home):  # C order holds Vᵀ (or conj(V)ᵀ): a view, no copy
            return w, pkg.resolved(pkg.swap(ws.deliver(a), conj))


class CudaEigh(CudaEngine, Eigh):
    """:class:`~gpmath.solver.Eigh` through gpmath's Jacobi kernel, ``cusolverDnXsyevd`` (looped),
    ``<t>syevjBatched`` or ``XsyevBatched``.

    Attributes
    ----------
    routine : str
        The route's routine, once planned (and in error messages).
    """

    def _plan_route(self):
        p, ws = self.problem, self.workspace
        driver = self.driver or choose(EIGH, p.n, p.batch_count, serves(p.dtype, p.n, p.n, self.lib))
        if driver == "kernel":
            route = JacobiKernel(p, ws, svd=False, vectors=not self.eigvals_only, lower=self.lower)
        else:
            if driver == "syevBatched" and not self.lib.cs.xsyev_batched_available():
                if self.driver:
                    raise NotImplementedError('driver="syevBatched" needs cuSOLVER 11.7 (CUDA 12.6) or newer')
                driver = "syevjBatched"  # the default's choice on older cuSOLVER
            routine = driver if driver in ("syevd", "syevBatched") else "syevjBatched"
            route = CusolverEigh(p, ws, routine, self.lower, self.eigvals_only)
        self.routine = route.routine
        return route

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)
