"""The pseudo-inverse on the GPU: an inner :class:`~gpmath.solver.SVD` plan (thin, its own choice of
routine), then :func:`~gpmath.solver._ops.pinv_from_svd` in the operands' package on the plan's stream."""

from __future__ import annotations

from ._cuda import CudaEngine
from ._ops import pinv_from_svd
from ._plans import SVD, Pinv

__all__ = ["CudaPinv"]


class CudaPinv(CudaEngine, Pinv):
    """:class:`~gpmath.solver.Pinv` through the SVD engine."""

    def _plan_cuda(self):
        a = self._operands_or_raise()["a"]
        self._svd = SVD(a, full_matrices=False, execution="cuda", stream=self.stream, device_id=self.device_id).plan()
        self._hold(self._svd.free)

    def _run(self, arrays):
        self._svd._rebind({"a": arrays["a"]})
        u, s, vh = self._svd.execute()
        with self.package.on_stream(self.stream, self._home):
            return pinv_from_svd(self.package, u, s, vh, *self.cutoff)

    def _info_values(self):
        """Per-matrix ``info`` of the inner SVD."""
        return self._svd._info_values()

    def check(self) -> None:
        """Raise :class:`LinAlgError` where the SVD did not converge."""
        self._svd.check()
