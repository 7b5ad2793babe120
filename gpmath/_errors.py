"""The gpmath exception hierarchy.

Every error gpmath raises on purpose derives from :class:`GpmathError`.  Library failures carry
the status name, taken from the library's own status enum, and the C function that returned it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GpmathError",
    "LibraryError",
    "OutOfMemoryError",
    "NoGPUError",
    "LinAlgError",
    "FreedPlanError",
]


class GpmathError(Exception):
    """Base class of every exception gpmath raises on purpose."""


class LibraryError(GpmathError):
    """A CUDA math library returned a failure status.

    Attributes
    ----------
    status : int
        The raw status code.
    status_name : str
        The status enumerator's name, e.g. ``"CUBLAS_STATUS_NOT_SUPPORTED"``.
    func : str
        The C function that failed, e.g. ``"cublasLtMatmul"``.
    """

    def __init__(self, status: int, status_name: str, func: str, detail: str = ""):
        self.status = status
        self.status_name = status_name
        self.func = func
        message = f"{status_name} in {func}"
        if detail:
            message += f": {detail}"
        super().__init__(message)


class OutOfMemoryError(LibraryError, MemoryError):
    """A library or the CUDA memory pool could not allocate device memory."""


class NoGPUError(GpmathError, RuntimeError):
    """GPU execution was requested but no usable driver, device or library was found."""


class LinAlgError(GpmathError, np.linalg.LinAlgError):
    """A numerical failure: a singular matrix, a matrix not positive definite, no convergence."""


class FreedPlanError(GpmathError, RuntimeError):
    """A plan was used after :meth:`free`."""
