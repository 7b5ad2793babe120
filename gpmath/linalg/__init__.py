"""SciPy-style dense linear algebra on NumPy, CuPy and PyTorch arrays (cuSOLVER or LAPACK).

The functions mirror :mod:`scipy.linalg`'s signatures, defaults and results, accept leading
batch dimensions, and return results in the input's package and memory space.  Numerical
failures raise :class:`gpmath.LinAlgError` (a :class:`numpy.linalg.LinAlgError`) naming the
matrix of the batch and its pivot or minor.  For repeated calls on same-shaped inputs, the
planners (:class:`Cholesky`, :class:`Solve`, :class:`Eigh` ..., defined in :mod:`gpmath.solver`
and exported here too) skip the per-call set-up.
"""

from .._core.host_bridge import host_bridged
from .._errors import LinAlgError
from ..solver import (LU, QR, SVD, Cholesky, CholeskySolve, Det, Eig, Eigh, Inv, Lstsq, LUSolve, Pinv, Refinement,
                      Solve, SolveTriangular)
from . import _decompositions, _lu, _norm, _solvers

# torch CPU tensors take the NumPy path (gpmath._core.host_bridge): no torch operation between LAPACK calls
lu = host_bridged(_lu.lu)
norm = host_bridged(_norm.norm)
cho_factor, cholesky, eig, eigh, eigvals, eigvalsh, lu_factor, qr, svd, svdvals = (
    host_bridged(getattr(_decompositions, name)) for name in
    ("cho_factor", "cholesky", "eig", "eigh", "eigvals", "eigvalsh", "lu_factor", "qr", "svd", "svdvals"))
cho_solve, det, inv, lstsq, lu_solve, pinv, slogdet, solve, solve_triangular = (
    host_bridged(getattr(_solvers, name)) for name in
    ("cho_solve", "det", "inv", "lstsq", "lu_solve", "pinv", "slogdet", "solve", "solve_triangular"))

__all__ = [
    "lu",
    "norm",
    "solve", "solve_triangular", "lu_factor", "lu_solve", "cholesky", "cho_factor", "cho_solve", "qr", "eig", "eigvals",
    "eigh", "eigvalsh", "svd", "svdvals", "lstsq", "pinv", "inv", "det", "slogdet", "LinAlgError", "Refinement",
    "Cholesky", "CholeskySolve", "LU", "LUSolve", "Solve", "SolveTriangular", "QR", "Eig", "Eigh", "SVD", "Lstsq", "Pinv",
    "Inv", "Det",
]
