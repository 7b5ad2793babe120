"""The mixed-precision route of Solve: cuSOLVER's iterative-refinement solver ``cusolverDnIRSXgesv``.

The LU runs in a lower precision (``precision=``) and classical refinement brings the solution to
``max|r| < IRS_TOLERANCE * eps * ‖A‖∞ * max|x|`` in the input's precision, falling back to a
full-precision solve where it does not converge.
"""

from __future__ import annotations

import numpy as np

from . import _problem as P
from ._cuda_factor import deliver_rhs, load_rhs
from ._ops import inf_norms
from ._problem import Problem
from ._workspace import Workspace

__all__ = ["IrsSolve", "IRS_REFINEMENT", "IRS_TOLERANCE"]

IRS_REFINEMENT = "CLASSICAL"  # CLASSICAL_GMRES measured no faster (H100, n = 8192) and needs nrhs = 1
# IRS stops when max|r| < IRS_TOLERANCE * eps * ‖A‖∞ * max|x| (cuSOLVER's tolerance value, set per
# matrix, is the factor of max|x|); None keeps cuSOLVER's default, sqrt(N) in place of
# IRS_TOLERANCE.  ``bench/linalg.py irs-tol`` measures the choice.
IRS_TOLERANCE: float | None = P.MIXED_TOLERANCE
_IRS_LOW = {  # (input is complex, precision=) -> the name of cusolverDnIRSXgesv's lowest precision
    (False, "f32"): "R_32F", (False, "tf32"): "R_TF32", (False, "f16"): "R_16F", (False, "bf16"): "R_16BF",
    (True, "f32"): "C_32F", (True, "tf32"): "C_TF32", (True, "f16"): "C_16F", (True, "bf16"): "C_16BF",
}


class IrsSolve:
    """``A x = b`` by ``cusolverDnIRSXgesv``, one matrix at a time, its LU in *precision*.

    Attributes
    ----------
    refinement : Refinement or None
        What the last execution's refinement did.
    """

    def __init__(self, problem: Problem, ws: Workspace, precision: str):
        p, lib = problem, ws.lib
        cs = lib.cs
        self.problem, self.ws = problem, ws
        self.refinement: P.Refinement | None = None
        self._params = cs.irs_params_create()
        ws.hold(cs.irs_params_destroy, self._params)
        wide = "64F" if p.dtype.real == "float64" else "32F"
        main = cs.PrecType[("C_" if p.dtype.is_complex else "R_") + wide]
        cs.irs_params_set_solver_precisions(self._params, main, cs.PrecType[_IRS_LOW[(p.dtype.is_complex, precision)]])
        cs.irs_params_set_refinement_solver(self._params, cs.IRSRefinement[IRS_REFINEMENT])
        cs.irs_params_enable_fallback(self._params)  # the tolerance is set per matrix in run
        self._infos = cs.irs_infos_create()
        ws.hold(cs.irs_infos_destroy, self._infos)
        nbytes = cs.irs_xgesv_buffer_size(ws.handle, self._params, p.n, p.rhs.nrhs)
        self._work = (ws.buffer(nbytes), nbytes)

    def run(self, arrays):
        p, ws = self.problem, self.ws
        cs = ws.lib.cs
        k, count = p.rhs.nrhs, max(p.batch_count, 1)
        # IRS has no transposed mode: A itself, column-major
        a, a_ptr = ws.load("a", arrays["a"], p.dtype, p.batch_shape + (p.n, p.n), keep=True, swapped=True)
        _, b_ptr = load_rhs(ws, p, arrays["b"])
        x, x_ptr = ws.work("x", p.rhs.batch_shape + (k, p.n), p.dtype)
        a_step, b_step = p.n * p.n * p.dtype.itemsize, p.n * k * p.dtype.itemsize
        work, nbytes = self._work
        tolerances = self._tolerances(arrays["a"], a)
        most, fell_back = 0, False
        for i in range(count):
            if tolerances is not None:
                cs.irs_params_set_tol(self._params, float(tolerances[i]))
            niters = cs.irs_xgesv(ws.handle, self._params, self._infos, p.n, k, a_ptr + i * a_step, p.n,
                                  b_ptr + i * b_step, p.n, x_ptr + i * b_step, p.n, work, nbytes, ws.info + 4 * i)
            most, fell_back = max(most, abs(niters)), fell_back or niters < 0
        outer = cs.irs_infos_get_outer_niters(self._infos)
        self.refinement = P.Refinement(most, outer, fell_back)
        return deliver_rhs(ws, p, x)

    def _tolerances(self, a, loaded):
        """cuSOLVER's tolerance per matrix, ``IRS_TOLERANCE * eps * ‖A‖∞`` (reading the norms syncs the stream)."""
        if IRS_TOLERANCE is None:
            return None
        p, ws = self.problem, self.ws
        pkg = ws.package
        if ws.staged:
            norms = np.broadcast_to(inf_norms(pkg, a), p.batch_shape)
        else:
            with pkg.on_stream(ws.stream, ws.home):  # the loaded copy holds Aᵀ
                norms = pkg.to_numpy(inf_norms(pkg, loaded, transposed=True))
        return (IRS_TOLERANCE * float(np.finfo(p.dtype.numpy).eps)) * np.asarray(norms, dtype=np.float64).reshape(-1)
