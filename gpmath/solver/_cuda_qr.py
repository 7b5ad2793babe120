"""The CUDA engine of QR and its route: ``cusolverDnXgeqrf``, then ``<t>orgqr``/``<t>ungqr`` for Q.

The route factors a swapped copy of each matrix (``A`` itself, column-major ``M x N``,
``lda = M``).  R is read from the upper triangle before ``orgqr`` overwrites the buffer with Q.
For ``mode="full"`` with M > N the copy has M columns, so that ``orgqr`` can build the M x M Q in
place (the first N columns hold the Householder vectors; LAPACK's ``orgqr`` sets up the others).
Batches loop over the matrices (cuSOLVER has no batched ``orgqr``).
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _problem as P
from ._cuda import CudaEngine
from ._device import LETTER
from ._ops import triangle
from ._plans import QR
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaQR", "GeqrfQR"]


class GeqrfQR:
    """``(Q, R)``, or ``(R,)`` for *mode* ``"r"``, through ``Xgeqrf`` and ``<t>orgqr``/``<t>ungqr``."""

    def __init__(self, problem: Problem, ws: Workspace, mode: str):
        p, cs = problem, ws.lib.cs
        self.problem, self.ws, self._mode = problem, ws, mode
        m, n, k, item = p.m, p.n, min(p.m, p.n), p.dtype.itemsize
        self._cols = m if (mode == "full" and m > n) else n  # columns of the column-major buffer
        self._qcols = m if mode == "full" else k
        self._tau = ws.buffer(max(k, 1) * item * max(p.batch_count, 1))
        code = p.dtype.cuda
        device, host = cs.xgeqrf_buffer_size(ws.handle, ws.params, m, n, code, 0, m, code, 0, code)
        lwork = 0 if mode == "r" else cs.orgqr_buffer_size(LETTER[p.dtype.name], ws.handle, m, self._qcols, k, 0, m, 0)
        self._lwork = lwork
        self._work = ws.routine_work(device, host, allocate=max(device, lwork * item, 1))  # orgqr shares it

    def _load_matrix(self, a):
        """The swapped copy of *a*, padded to ``self._cols`` columns.  Unpadded, it is a new array
        each call (Q is returned as a view of it) unless only R is wanted; padded, a plan-held one."""
        p, ws = self.problem, self.ws
        shape = p.batch_shape + (self._cols, p.m)
        if self._cols == p.n:
            return ws.load("a", a, p.dtype, shape, keep=self._mode == "r", swapped=True)
        if ws.staged:
            padded = np.zeros(shape, dtype=p.dtype.numpy)
            padded[..., : p.n, :] = np.swapaxes(a, -1, -2)
            return ws.load("a", padded, p.dtype, shape)
        work, ptr = ws.work("a", shape, p.dtype, keep=True)
        with ws.package.on_stream(ws.stream, ws.home):
            ws.package.copy_into(work[..., : p.n, :], ws.package.swap(a))
        return work, ptr

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg, cs = ws.package, ws.lib.cs
        m, n, k, item, code = p.m, p.n, min(p.m, p.n), p.dtype.itemsize, p.dtype.cuda
        count, step = max(p.batch_count, 1), self._cols * m * item
        work, ptr = self._load_matrix(arrays["a"])
        dwork, dbytes, hwork, hbytes = self._work
        for i in range(count):
            cs.xgeqrf(ws.handle, ws.params, m, n, code, ptr + i * step, m, code, self._tau + i * k * item, code,
                      dwork, dbytes, ctypes.addressof(hwork), hbytes, ws.info + 4 * i)
        rows = k if self._mode == "economic" else m
        with pkg.on_stream(ws.stream, ws.home):
            r = triangle(pkg, pkg.swap(ws.deliver(work))[..., :rows, :n], upper=True)
        if self._mode == "r":
            return (r,)
        for i in range(count):
            cs.orgqr(LETTER[p.dtype.name], ws.handle, m, self._qcols, k, ptr + i * step, m, self._tau + i * k * item,
                     dwork, self._lwork, ws.info + 4 * i)
        with pkg.on_stream(ws.stream, ws.home):  # C order holds Qᵀ: Q is a view, as eigh's vectors
            q = pkg.swap(ws.deliver(work))[..., :, : self._qcols]
            return (q if self._cols == n or ws.staged else pkg.copy(q)), r


class CudaQR(CudaEngine, QR):
    """:class:`~gpmath.solver.QR` through ``Xgeqrf`` and ``<t>orgqr``/``<t>ungqr`` (:class:`GeqrfQR`)."""

    def _plan_route(self):
        return GeqrfQR(self.problem, self.workspace, self.mode)

    def _failure_message(self, index, info):
        return f"QR of {P.matrix_name('a', index)} failed (info = {info})"
