"""SciPy's ``check_finite``: refuse operands holding an inf or a NaN before any plan sees them.

The test runs in the operand's own package (``numpy``, ``cupy`` or ``torch``, found through
``sys.modules`` from the array's type, never imported here): ``isfinite(x).all()`` read as a bool,
which for device arrays is one sync of the package's current stream.
"""

from __future__ import annotations

import sys

__all__ = ["require_finite"]

MESSAGE = "array must not contain infs or NaNs"  # scipy.linalg's words


def _all_finite(x) -> bool:
    """Whether every element of *x* is finite (True for objects no array package claims)."""
    isfinite = getattr(sys.modules.get(type(x).__module__.partition(".")[0]), "isfinite", None)
    return True if isfinite is None else bool(isfinite(x).all())


def require_finite(check: bool, **operands) -> None:
    """Raise ``ValueError`` (SciPy's message, naming the operand) when *check* is true and an
    operand holds an inf or a NaN; operands that are None are skipped.

    Examples
    --------
    >>> import numpy as np
    >>> require_finite(True, a=np.eye(2), b=np.array([1.0, np.nan]))
    Traceback (most recent call last):
    ...
    ValueError: array must not contain infs or NaNs: b holds an inf or a NaN
    >>> require_finite(False, b=np.array([np.inf]))
    """
    if not check:
        return
    for name, x in operands.items():
        if x is not None and not _all_finite(x):
            raise ValueError(f"{MESSAGE}: {name} holds an inf or a NaN")
