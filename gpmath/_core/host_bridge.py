"""Host arrays of another package (torch CPU tensors) through the NumPy path of a function.

A stateless linalg call on torch CPU tensors computes on the host, as on NumPy arrays, but the
package's own operations between the LAPACK calls (masks, identities, conversions, condition
estimates) are torch's, and each wakes torch's thread pool, whose spinning threads then share the
cores with OpenBLAS's (an ``inv(a, assume_a="sym")`` of 256² took 9.0 ms against 1.7 on NumPy
arrays on a 2-core machine), besides costing 20-30 µs a call in attribute reads at small sizes.
:func:`host_bridged` hands such a call to the function as NumPy views of the tensors' values
(:meth:`~gpmath._core.packages.Package.host_values`) and gives the results back as tensors over
the NumPy results.

It takes a call only where every array among the arguments (and the arrays inside tuple
arguments, as ``cho_solve``'s ``(c, lower)``) is a host array of one package other than NumPy, of
a LAPACK dtype, and no ``overwrite_*`` argument is true (SciPy's in-place results are the
operands themselves); any other call (NumPy arrays, device arrays, mixed packages, other dtypes)
goes to the function as it came.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from .packages import NUMPY, known_package, package_of

__all__ = ["host_bridged"]

_LAPACK = frozenset(("float32", "float64", "complex64", "complex128"))


def host_bridged(function: Callable) -> Callable:
    """*function* taking host arrays of another package through its NumPy path (see the module
    docstring); its signature and docstring are *function*'s.

    Examples
    --------
    >>> import numpy as np
    >>> norm = host_bridged(lambda a: np.sqrt((a * a).sum()))
    >>> float(norm(np.array([3.0, 4.0])))  # NumPy arrays: the function as it is
    5.0
    """
    names = list(inspect.signature(function).parameters)
    overwrites = [i for i, name in enumerate(names) if name.startswith("overwrite_")]

    @functools.wraps(function)
    def bridged(*args, **kwargs):
        if args and type(args[0]) is np.ndarray:  # the common case, at once
            return function(*args, **kwargs)
        pkg = _host_package(args, kwargs)
        if pkg is None:
            return function(*args, **kwargs)
        for i in overwrites:
            if args[i] if i < len(args) else kwargs.get(names[i]):
                return function(*args, **kwargs)
        args = [_inward(pkg, value, names[i] if i < len(names) else "x") for i, value in enumerate(args)]
        kwargs = {name: _inward(pkg, value, name) for name, value in kwargs.items()}
        return _outward(pkg, function(*args, **kwargs))

    return bridged


def _package(value):
    """The package of an array *value* (None for anything else: scalars, strings, None, lists)."""
    pkg = known_package(value)
    if pkg is None and hasattr(value, "__dlpack__") and hasattr(value, "shape"):
        try:
            pkg = package_of(value, "x")
        except TypeError:
            return None
    return pkg


def _host_package(args: tuple, kwargs: dict):
    """The one package other than NumPy of the call's arrays where all of them are its host arrays
    of a LAPACK dtype; else None."""
    found = None
    for value in (*args, *kwargs.values()):
        for item in value if type(value) is tuple else (value,):
            pkg = _package(item)
            if pkg is None:
                continue
            if pkg is NUMPY or (found is not None and pkg is not found) or pkg.device_id(item) is not None:
                return None
            if pkg.dtype_name(item) not in _LAPACK:
                return None
            found = pkg
    return found


def _inward(pkg, value, name: str) -> Any:
    """*value* with each array of *pkg* (in a tuple too) as the NumPy view of its values (warning,
    as the planners do, where argument *name* requires grad)."""
    if type(value) is tuple:
        return tuple(_inward(pkg, item, name) for item in value)
    if known_package(value) is not pkg:
        return value
    pkg.warn_if_differentiable(value, name)
    return pkg.host_values(value)


def _outward(pkg, value) -> Any:
    """*value* with each NumPy array or scalar (in a tuple too) as an array of *pkg* on the host."""
    if type(value) is tuple:
        return tuple(_outward(pkg, item) for item in value)
    if isinstance(value, np.generic):
        value = np.asarray(value)
    return pkg.asarray(value, None) if isinstance(value, np.ndarray) else value
