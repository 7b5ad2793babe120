"""gpmath: fast, friendly access to NVIDIA's math libraries from NumPy, CuPy and PyTorch.

``gpmath.matmul`` (cuBLASLt), ``gpmath.fft`` (cuFFT) and ``gpmath.linalg`` (cuSOLVER) take
arrays of any of the three packages and return results in the same package and memory space;
planners (``gpmath.blas.Matmul`` ...) make repeated calls cheap.  Without a GPU, the same API
computes with NumPy/SciPy.
"""

from ._core.cache import cache_clear, cache_info, get_cache_limits, set_cache_limits
from ._core.config import show_config
from ._errors import (
    FreedPlanError,
    GpmathError,
    LibraryError,
    LinAlgError,
    NoGPUError,
    OutOfMemoryError,
)
from ._core.runtime import device_count
from . import blas, fft, linalg
from .blas import matmul

__version__ = "0.1.0"

__all__ = [
    "matmul",
    "cache_info",
    "cache_clear",
    "set_cache_limits",
    "get_cache_limits",
    "device_count",
    "show_config",
    "GpmathError",
    "LibraryError",
    "OutOfMemoryError",
    "NoGPUError",
    "LinAlgError",
    "FreedPlanError",
]
