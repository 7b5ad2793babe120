"""Stateful planners for dense linear algebra (cuSOLVER on the GPU, LAPACK on the CPU).

Each planner follows gpmath's contract: build it from operands, ``plan()``, ``execute()`` many
times, ``reset_operands()`` to swap inputs of the same shape and dtype, ``free()`` (or use it as
a context manager).  :mod:`gpmath.linalg` offers the same operations as SciPy-style functions.
:func:`calibrate` measures the routing crossovers on the user's GPU and keeps them in :mod:`gpmath.wisdom`.
"""

from ._plans import (
    EIGH_DRIVERS,
    IRS_PRECISIONS,
    LU,
    QR,
    SVD,
    SVD_DRIVERS,
    Cholesky,
    CholeskySolve,
    Det,
    Eig,
    Eigh,
    Inv,
    Lstsq,
    LUSolve,
    Pinv,
    Solve,
    SolveTriangular,
)
from ._calibrate import calibrate
from ._problem import Refinement

__all__ = [
    "Cholesky", "CholeskySolve", "LU", "LUSolve", "Solve", "SolveTriangular", "QR", "Eig", "Eigh", "SVD", "Lstsq",
    "Pinv", "Inv", "Det", "Refinement", "EIGH_DRIVERS", "SVD_DRIVERS", "IRS_PRECISIONS", "calibrate",
]
