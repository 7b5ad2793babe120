"""The pseudo-inverse on the GPU: an inner :class:`~gpmath.solver.SVD` plan (thin, its own choice of
routine), then :func:`~gpmath.solver._ops.pinv_from_svd` in the operands' package on the plan's stream."""

from __future__ import annotations

from ._cuda import CudaEngine
from ._ops import pinv_from_svd
from ._plans import SVD, Pinv
from ._workspace import Workspace

__all__ = ["CudaPinv", "SvdPseudoInverse"]


class SvdPseudoInverse:
    """``(b, rank)`` from the thin SVD of the operand *a*, singular values at most
    ``atol + rtol * max(s)`` counted as zero (*cutoff*: ``(atol, rtol)``).

    Attributes
    ----------
    svd : SVD
        The inner plan (freed with the outer one).
    """

    def __init__(self, ws: Workspace, a, cutoff: tuple[float, float]):
        self.ws, self._cutoff = ws, cutoff
        self.svd = SVD(a, full_matrices=False, execution="cuda", stream=ws.stream, device_id=ws.device_id).plan()
        ws.hold(self.svd.free)

    def run(self, arrays):
        ws = self.ws
        self.svd.reset_operands_unchecked(arrays["a"])
        u, s, vh = self.svd.execute()
        self.svd.release_operands()  # the outer plan holds the operands only while it runs
        with ws.package.on_stream(ws.stream, ws.home):
            return pinv_from_svd(ws.package, u, s, vh, *self._cutoff)


class CudaPinv(CudaEngine, Pinv):
    """:class:`~gpmath.solver.Pinv` through the SVD engine (:class:`SvdPseudoInverse`)."""

    def _plan_route(self):
        return SvdPseudoInverse(self.workspace, self._operands_or_raise()["a"], self.cutoff)

    def _info_values(self):
        """Per-matrix ``info`` of the inner SVD."""
        return self.route.svd._info_values()

    def check(self) -> None:
        """Raise :class:`LinAlgError` where the SVD did not converge."""
        self.route.svd.check()
