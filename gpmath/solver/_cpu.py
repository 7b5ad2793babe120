"""The CPU engines of the solver planners: each front with :class:`~._base.CpuEngine` mixed in."""

from __future__ import annotations

from ._base import CpuEngine
from ._plans import LU, QR, SVD, Cholesky, CholeskySolve, Det, Eigh, Inv, Lstsq, LUSolve, Solve

__all__ = []


class CpuCholesky(CpuEngine, Cholesky):
    """Cholesky on the CPU."""


class CpuCholeskySolve(CpuEngine, CholeskySolve):
    """CholeskySolve on the CPU."""


class CpuLU(CpuEngine, LU):
    """LU on the CPU."""


class CpuLUSolve(CpuEngine, LUSolve):
    """LUSolve on the CPU."""


class CpuSolve(CpuEngine, Solve):
    """Solve on the CPU."""


class CpuQR(CpuEngine, QR):
    """QR on the CPU."""


class CpuEigh(CpuEngine, Eigh):
    """Eigh on the CPU."""


class CpuSVD(CpuEngine, SVD):
    """SVD on the CPU."""


class CpuLstsq(CpuEngine, Lstsq):
    """Lstsq on the CPU."""


class CpuInv(CpuEngine, Inv):
    """Inv on the CPU."""


class CpuDet(CpuEngine, Det):
    """Det on the CPU."""
