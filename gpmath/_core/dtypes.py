"""The dtype table: one row per floating dtype gpmath computes in.

Dtypes are named by strings (``"float32"``, ``"bfloat16"`` ...) because NumPy has no bfloat16;
each package adapter maps its own dtype objects onto these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DType", "DTYPES", "lookup", "SUPPORTED_NAMES"]


@dataclass(frozen=True)
class DType:
    """One floating or complex dtype.

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"complex64"``.
    itemsize : int
        Bytes per element.
    cuda : int
        The ``cudaDataType`` enumerator (``library_types.h``).
    is_complex : bool
        Whether elements are complex.
    real : str
        Name of the matching real dtype (itself for real dtypes).
    numpy : numpy.dtype or None
        NumPy's dtype, or None where NumPy has none (bfloat16).
    """

    name: str
    itemsize: int
    cuda: int
    is_complex: bool
    real: str
    numpy: np.dtype | None


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("float16", 2, 2, False, "float16", np.dtype(np.float16)),
        DType("bfloat16", 2, 14, False, "bfloat16", None),
        DType("float32", 4, 0, False, "float32", np.dtype(np.float32)),
        DType("float64", 8, 1, False, "float64", np.dtype(np.float64)),
        DType("complex64", 8, 4, True, "float32", np.dtype(np.complex64)),
        DType("complex128", 16, 5, True, "float64", np.dtype(np.complex128)),
    )
}
SUPPORTED_NAMES = tuple(DTYPES)
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128", "complex64": "complex64", "complex128": "complex128"}


def complex_name(name: str) -> str:
    """The complex dtype of the precision of float32, float64, complex64 or complex128 *name*."""
    return _COMPLEX_OF[name]


def lookup(name: str, argument: str) -> DType:
    """The :class:`DType` called *name*, or a ``TypeError`` naming *argument*."""
    try:
        return DTYPES[name]
    except KeyError:
        raise TypeError(
            f"{argument} has dtype {name}, which gpmath does not compute in; "
            f"supported dtypes are {', '.join(SUPPORTED_NAMES)}"
        ) from None
