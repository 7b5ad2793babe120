"""The pseudo-inverse on the GPU: an inner :class:`~gpmath.solver.SVD` plan (thin, its own choice of
routine), then :func:`~gpmath.solver._ops.pinv_from_svd` in the operands' package on the plan's stream."""

from __future__ import annotations

from ._cuda import CudaEngine
from ._ops import pinv_from_svd
from ._cuda_svd import ThinSvd
from ._plans import Pinv
from ._workspace import Workspace

__all__ = ["CudaPinv", "SvdPseudoInverse"]


class SvdPseudoInverse:
    """``(b, rank)`` from the thin SVD of the operand *a*, singular values at most
    ``atol + rtol * max(s)`` counted as zero (*cutoff*: ``(atol, rtol)``).

    Attributes
    ----------
    svd : ThinSvd
        The inner SVD (freed with the outer plan).
    """

    def __init__(self, ws: Workspace, a, cutoff: tuple[float, float]):
        self.ws, self._cutoff = ws, cutoff
        self.svd = ThinSvd(ws, a)

    def run(self, arrays):
        ws = self.ws
        u, s, vh = self.svd(arrays["a"])
        with ws.package.on_stream(ws.stream, ws.home):
            return pinv_from_svd(ws.package, u, s, vh, *self._cutoff)


class CudaPinv(CudaEngine, Pinv):
    """:class:`~gpmath.solver.Pinv` through the SVD engine (:class:`SvdPseudoInverse`)."""

    def _plan_route(self):
        return SvdPseudoInverse(self.workspace, self._operands_or_raise()["a"], self.cutoff)

    def _info_values(self):
        """Per-matrix ``info`` of the inner SVD."""
        return self.route.svd.plan._info_values()

    def check(self) -> None:
        """Raise :class:`LinAlgError` where the SVD did not converge."""
        self.route.svd.plan.check()
