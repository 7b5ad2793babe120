"""SciPy's ``check_finite``: refuse operands holding an inf or a NaN before any plan sees them.

The test runs in the operand's own package, through the package adapter (``isfinite(x).all()``
of every operand, combined and read as one bool: for device arrays one sync of the package's
current stream); array-likes
are read as NumPy reads them.
"""

from __future__ import annotations

from .._core.packages import as_array

__all__ = ["require_finite"]

MESSAGE = "array must not contain infs or NaNs"  # scipy.linalg's words


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
    arrays = {name: as_array(x, name) for name, x in operands.items() if x is not None}
    flags = [package.finite_flag(x) for x, package in arrays.values()]  # enqueued, not read yet
    if not flags:
        return
    every = flags[0]
    for flag in flags[1:]:
        every = every & flag
    if bool(every):  # one read: for device arrays, one sync of the package's stream
        return
    for name, flag in zip(arrays, flags):
        if not bool(flag):
            raise ValueError(f"{MESSAGE}: {name} holds an inf or a NaN")
