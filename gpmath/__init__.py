"""gpmath: fast, friendly access to NVIDIA's math libraries from NumPy, CuPy and PyTorch.

``gpmath.matmul`` (cuBLASLt), ``gpmath.fft`` (cuFFT) and ``gpmath.linalg`` (cuSOLVER) take
arrays of any of the three packages and return results in the same package and memory space;
planners (``gpmath.blas.Matmul`` ...) make repeated calls cheap.  Without a GPU, the same API
computes with NumPy/SciPy.
"""

from importlib import import_module
from typing import Any

from ._core.cache import cache_clear, cache_info, get_cache_limits, set_cache_limits
from ._errors import (
    FreedPlanError,
    GpmathError,
    LibraryError,
    LinAlgError,
    NoGPUError,
    OutOfMemoryError,
)
from ._core.runtime import device_count

# Imported on first use (PEP 562), so that ``import gpmath`` costs only what every call needs:
# the name, and the module that defines it.
_LAZY = {"blas": ".blas", "fft": ".fft", "linalg": ".linalg", "solver": ".solver", "distributed": ".distributed",
         "matmul": ".blas", "show_config": "._core.config", "set_placement": "._core.placement",
         "get_placement": "._core.placement", "wisdom": ".wisdom", "graph": "._core.graph",
         "Graph": "._core.graph"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gpmath' has no attribute {name!r}")
    found = import_module(module, __name__)
    value = found if module == f".{name}" else getattr(found, name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "matmul",
    "cache_info",
    "cache_clear",
    "set_cache_limits",
    "get_cache_limits",
    "device_count",
    "show_config",
    "set_placement",
    "get_placement",
    "wisdom",
    "graph",
    "Graph",
    "GpmathError",
    "LibraryError",
    "OutOfMemoryError",
    "NoGPUError",
    "LinAlgError",
    "FreedPlanError",
]
