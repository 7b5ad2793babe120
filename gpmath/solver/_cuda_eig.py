"""Eigenvalues and right eigenvectors of general matrices: ``cusolverDnXgeev``, one matrix at a time
(:class:`Geev`), or LAPACK's ``geev`` on the host for small matrices (:class:`HostGeev`), as the
``EIG`` crossover row says.

A is loaded column-major (a swapped copy, which geev overwrites).  The eigenvalues are asked for in
the complex type even for real A (cuSOLVER's second option: the arithmetic stays real), so ``w``
needs no reassembly; a real A's eigenvectors come in LAPACK's real packing, column-major, and
:func:`~gpmath.solver._ops.unpack_eigenvectors` makes them complex.  Left eigenvectors are not
computed (cuSOLVER's geev does not).

A real A's eigenvalues are always computed with its right eigenvectors (then dropped where not
asked for): with complex W and no vectors, cuSOLVER 12/13's geev returned the complex eigenvalues of
a real matrix with their imaginary parts zero (NumPy's own eigvals tests on an H200); with
vectors it returns them whole, and a complex A's without vectors too.

cuSOLVER's geev takes milliseconds for a matrix of any small order (its QR iteration runs step by
step), where LAPACK's takes microseconds: below the crossover the plan copies the matrices to the
host, runs the CPU engine's ``geev`` (:func:`gpmath.solver._cpu.eig`, the CPU path's own results) and
copies the results back, on the plan's stream, as torch's MAGMA does on the CPU for every order.
"""

from __future__ import annotations

import ctypes

from .._core.dtypes import DTYPES, complex_name
from . import _problem as P
from ._cuda import CudaEngine
from ._cpu import eig as host_eig
from ._crossover import EIG, choose
from ._ops import unpack_eigenvectors
from ._plans import Eig
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["CudaEig", "Geev", "HostGeev"]


class Geev:
    """``w``, and with *right* ``(w, V)``, through ``cusolverDnXgeev``."""

    routine = "geev"

    def __init__(self, problem: Problem, ws: Workspace, right: bool):
        p, cs = problem, ws.lib.cs
        if not cs.xgeev_available():
            raise NotImplementedError("gpmath.linalg.eig on the GPU needs a cuSOLVER with cusolverDnXgeev (CUDA 13's "
                                      "has it; this one does not): pass execution='cpu' or update the CUDA libraries")
        self.problem, self.ws, self._right = problem, ws, right
        self._vectors = right or not p.dtype.is_complex  # (see the module's docstring)
        self._w_type = DTYPES[complex_name(p.dtype.name)]
        self._novector = cs.EigMode.NOVECTOR
        self._jobvr = cs.EigMode.VECTOR if self._vectors else cs.EigMode.NOVECTOR
        code, lead = p.dtype.cuda, max(p.n, 1)
        device, host = cs.xgeev_buffer_size(ws.handle, ws.params, self._novector, self._jobvr, p.n, code, 0, lead,
                                            self._w_type.cuda, 0, code, 0, lead, code, 0, lead, code)
        self._work = ws.routine_work(device, host)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        pkg, cs = ws.package, ws.lib.cs
        n, lead, code, count = p.n, max(p.n, 1), p.dtype.cuda, max(p.batch_count, 1)
        matrix = p.batch_shape + (n, n)
        _, a_ptr = ws.load("a", arrays["a"], p.dtype, matrix, keep=True, swapped=True)
        w, w_ptr = ws.work("w", p.batch_shape + (n,), self._w_type)
        v, v_ptr = ws.work("v", matrix, p.dtype) if self._vectors else (None, 0)
        dwork, dbytes, hwork, hbytes = self._work
        step, w_step = n * n * p.dtype.itemsize, n * self._w_type.itemsize
        for i in range(count if n else 0):
            cs.xgeev(ws.handle, ws.params, self._novector, self._jobvr, n, code, a_ptr + i * step, lead,
                     self._w_type.cuda, w_ptr + i * w_step, code, 0, lead, code, v_ptr + i * step if v_ptr else 0, lead,
                     code, dwork, dbytes, ctypes.addressof(hwork), hbytes, ws.info + 4 * i)
        w = ws.deliver(w)
        if not self._right:
            return w
        v = ws.deliver(v)
        with pkg.on_stream(ws.stream, ws.home):  # C order holds Vᵀ: a view, column-major V
            v = pkg.swap(v)
            return w, (v if p.dtype.is_complex else unpack_eigenvectors(pkg, v, w))


class HostGeev:
    """``w``, and with *right* ``(w, V)``, by LAPACK's ``geev`` on the host: the matrices copied down
    (a sync of the plan's stream), the results copied up on it."""

    routine = "host geev"

    def __init__(self, problem: Problem, ws: Workspace, right: bool):
        self.ws, self._right = ws, right

    def run(self, arrays):
        ws = self.ws
        pkg = ws.package
        with pkg.on_stream(ws.stream, ws.home):
            found = host_eig(pkg.to_numpy(arrays["a"]), self._right)
            if self._right:
                return tuple(pkg.asarray(x, ws.home) for x in found)
            return pkg.asarray(found, ws.home)


class CudaEig(CudaEngine, Eig):
    """:class:`~gpmath.solver.Eig` through ``cusolverDnXgeev`` (:class:`Geev`) or, for small
    matrices, LAPACK's ``geev`` on the host (:class:`HostGeev`).

    Attributes
    ----------
    routine : str
        ``"geev"`` or ``"host geev"``, once planned (and in error messages).
    """

    def _plan_route(self):
        p, ws = self.problem, self.workspace
        if choose(EIG, p.n, max(p.batch_count, 1), device_id=ws.device_id) == "host":
            route = HostGeev(p, ws, self.right)
        else:
            route = Geev(p, ws, self.right)
        self.routine = route.routine
        return route

    def _failure_message(self, index, info):
        return P.not_converged(self.routine, "a", index, info)
