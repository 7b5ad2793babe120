"""SciPy's ``check_finite``: refuse operands holding an inf or a NaN (the linalg fronts, before
a plan sees them; the solver plans planned with ``check_finite=True``, on every execution).

The test runs in the operand's own package, through the package adapter: the sum of every
element of every operand (one reduction each, added up and read once per package: for device
arrays one sync of the package's current stream) is finite exactly when no element is an inf or
a NaN, unless the sum overflowed; a non-finite sum is followed by ``isfinite(x).all()`` per
operand, which names the operand or finds them all finite.  Array-likes are read as NumPy reads
them.
"""

from __future__ import annotations

import cmath

import numpy as np

from .host_scan import all_finite
from .packages import as_array, known_package

__all__ = ["require_finite", "nonfinite_message"]

MESSAGE = "array must not contain infs or NaNs"  # scipy.linalg's words


def nonfinite_message(name: str) -> str:
    """The ``ValueError`` message for operand *name* holding an inf or a NaN (SciPy's words first).

    Examples
    --------
    >>> nonfinite_message("b")
    'array must not contain infs or NaNs: b holds an inf or a NaN'
    """
    return f"{MESSAGE}: {name} holds an inf or a NaN"


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
    for x in operands.values():  # NumPy arrays, all finite (the common case): one isfinite pass each
        if x is not None and (type(x) is not np.ndarray or not all_finite(x)):
            break
    else:
        return
    values = [x for x in operands.values() if x is not None]
    package = known_package(values[0]) if values else None
    if package is not None and all(known_package(x) is package for x in values):  # one package: one probe
        if cmath.isfinite(complex(package.finite_probe(values))):
            return
        named = [(name, x, package) for name, x in operands.items() if x is not None]
    else:
        named = [(name, *as_array(x, name)) for name, x in operands.items() if x is not None]
        packages = dict.fromkeys(package for _, _, package in named)  # in order, once each
        probes = [package.finite_probe([x for _, x, of in named if of is package]) for package in packages]
        if all(cmath.isfinite(complex(probe)) for probe in probes):  # enqueued above, one read (a sync) each
            return
    for name, x, package in named:  # an inf, a NaN, or a sum that overflowed: name the operand
        if not bool(package.finite_flag(x)):
            raise ValueError(nonfinite_message(name))
