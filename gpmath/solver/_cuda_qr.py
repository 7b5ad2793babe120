"""The cuSOLVER QR engine: ``cusolverDnXgeqrf``, then ``<t>orgqr``/``<t>ungqr`` for Q.

The engine factors a swapped copy of each matrix (``A`` itself, column-major ``M x N``,
``lda = M``).  R is read from the upper triangle before ``orgqr`` overwrites the buffer with Q.
For ``mode="full"`` with M > N the copy has M columns, so that ``orgqr`` can build the M x M Q in
place (the first N columns hold the Householder vectors; LAPACK's ``orgqr`` sets up the others).
Batches loop over the matrices (cuSOLVER has no batched ``orgqr``).
"""

from __future__ import annotations

import ctypes

import numpy as np

from .._bindings import cusolver as cs
from . import _problem as P
from ._cuda import CudaEngine
from ._cuda_lu import LETTER
from ._ops import triangle
from ._plans import QR

__all__ = ["CudaQR"]


class CudaQR(CudaEngine, QR):
    """:class:`~gpmath.solver.QR` through ``Xgeqrf`` and ``<t>orgqr``/``<t>ungqr``."""

    def _plan_cuda(self):
        p = self.problem
        m, n, k, item = p.m, p.n, min(p.m, p.n), p.dtype.itemsize
        self._cols = m if (self.mode == "full" and m > n) else n  # columns of the column-major buffer
        self._qcols = m if self.mode == "full" else k
        self._tau = self._buffer(max(k, 1) * item * max(p.batch_count, 1))
        code = p.dtype.cuda
        device, host = cs.xgeqrf_buffer_size(self.handle, self.params, m, n, code, 0, m, code, 0, code)
        lwork = 0 if self.mode == "r" else cs.orgqr_buffer_size(LETTER[p.dtype.name], self.handle, m, self._qcols, k,
                                                                0, m, 0)
        self._lwork = lwork
        self._geqrf_work = (self._buffer(max(device, lwork * item, 1)), device, (ctypes.c_char * max(host, 1))(), host)

    def _load_matrix(self, a):
        """The swapped copy of *a*, padded to ``self._cols`` columns.  Unpadded, it is a new array
        each call (Q is returned as a view of it) unless only R is wanted; padded, a plan-held one."""
        p = self.problem
        shape = p.batch_shape + (self._cols, p.m)
        if self._cols == p.n:
            return self._load("a", a, p.dtype, shape, keep=self.mode == "r", swapped=True)
        if self.staged:
            padded = np.zeros(shape, dtype=p.dtype.numpy)
            padded[..., : p.n, :] = np.swapaxes(a, -1, -2)
            return self._load("a", padded, p.dtype, shape)
        work, ptr = self._work("a", shape, p.dtype, keep=True)
        with self.package.on_stream(self.stream, self._home):
            self.package.copy_into(work[..., : p.n, :], self.package.swap(a))
        return work, ptr

    def _run(self, arrays):
        p, pkg = self.problem, self.package
        m, n, k, item, code = p.m, p.n, min(p.m, p.n), p.dtype.itemsize, p.dtype.cuda
        count, step = max(p.batch_count, 1), self._cols * m * item
        work, ptr = self._load_matrix(arrays["a"])
        dwork, dbytes, hwork, hbytes = self._geqrf_work
        for i in range(count):
            cs.xgeqrf(self.handle, self.params, m, n, code, ptr + i * step, m, code, self._tau + i * k * item, code,
                      dwork, dbytes, ctypes.addressof(hwork), hbytes, self._info + 4 * i)
        rows = k if self.mode == "economic" else m
        with pkg.on_stream(self.stream, self._home):
            r = triangle(pkg, pkg.swap(self._deliver(work))[..., :rows, :n], upper=True)
        if self.mode == "r":
            return (r,)
        for i in range(count):
            cs.orgqr(LETTER[p.dtype.name], self.handle, m, self._qcols, k, ptr + i * step, m, self._tau + i * k * item,
                     dwork, self._lwork, self._info + 4 * i)
        with pkg.on_stream(self.stream, self._home):  # C order holds Qᵀ: Q is a view, as eigh's vectors
            q = pkg.swap(self._deliver(work))[..., :, : self._qcols]
            return (q if self._cols == n or self.staged else pkg.copy(q)), r

    def _failure_message(self, index, info):
        return f"QR of {P.matrix_name('a', index)} failed (info = {info})"
