"""Matrix multiplication through cuBLASLt: ``gpmath.blas.Matmul`` (planner) and ``matmul``."""

from ._functions import matmul
from ._planner import Matmul

__all__ = ["Matmul", "matmul"]
