"""Host arrays of another package (torch CPU tensors) through the NumPy path of a function.

A stateless linalg call on torch CPU tensors computes on the host, as on NumPy arrays, but the
package's own operations between the LAPACK calls (masks, identities, conversions, condition
estimates) are torch's, and each wakes torch's thread pool, whose spinning threads then share the
cores with OpenBLAS's (an ``inv(a, assume_a="sym")`` of 256² took 9.0 ms against 1.7 on NumPy
arrays on a 2-core machine; a 16² ``solve`` 44 µs a call against 33 through the bridge).
:func:`host_bridged` hands such a call to the function as NumPy views of the tensors' memory
(:meth:`~gpmath._core.packages.Package.plain_host_view`) and gives the results back as tensors
over the NumPy results.

It takes a call only where every array among the arguments (and the arrays inside tuple
arguments, as ``cho_solve``'s ``(c, lower)``) is a plain host array of one package other than
NumPy (its memory holds its values: no lazy conjugation or negation, no autograd) of a LAPACK
dtype, and no ``overwrite_*`` argument is true (SciPy's in-place results are the operands
themselves); any other call (NumPy arrays, device arrays, mixed packages, lazy views, tensors
that require grad, other dtypes) goes to the function as it came.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from .packages import known_package, package_of

__all__ = ["host_bridged", "host_view", "in_package"]


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
        if args:  # NumPy arrays and device arrays (the common cases), at once
            first = args[0]
            if type(first) is np.ndarray:
                return function(*args, **kwargs)
            pkg = known_package(first)
            if pkg is not None and pkg.device_id(first) is not None:
                return function(*args, **kwargs)
        found = _host_views(args, kwargs)
        if found is None:
            return function(*args, **kwargs)
        pkg, views, keyword_views = found
        for i in overwrites:
            if args[i] if i < len(args) else kwargs.get(names[i]):
                return function(*args, **kwargs)
        return _outward(pkg, function(*views, **keyword_views))

    return bridged


def _host_views(args: tuple, kwargs: dict):
    """``(package, args, kwargs)`` with every array (in tuples too) a plain host view
    (:meth:`~gpmath._core.packages.Package.plain_host_view`) of one package other than NumPy;
    None where an array is not such a one (NumPy's, a device's, another package's, lazily
    conjugated, requiring grad, of another dtype) or there is no array."""
    pkg = None
    views = []
    for value in args:
        view, pkg = _view(value, pkg)
        if view is _REFUSED:
            return None
        views.append(view)
    keyword_views = {}
    for name, value in kwargs.items():
        keyword_views[name], pkg = _view(value, pkg)
        if keyword_views[name] is _REFUSED:
            return None
    return None if pkg is None else (pkg, views, keyword_views)


_REFUSED = object()  # (an array the bridge does not take)


def _view(value, pkg) -> tuple:
    """``(value or its plain host view, the package so far)``; ``_REFUSED`` for an array that is
    no plain host view of *pkg* (or of one package where *pkg* is None)."""
    if type(value) is tuple:
        items = []
        for item in value:
            view, pkg = _view(item, pkg)
            if view is _REFUSED:
                return _REFUSED, pkg
            items.append(view)
        return tuple(items), pkg
    found = _package(value)
    if found is None:
        return value, pkg
    view = found.plain_host_view(value)
    if view is None or (pkg is not None and found is not pkg):
        return _REFUSED, pkg
    return view, found


def _package(value):
    """The package of an array *value* (None for anything else: scalars, strings, None, lists)."""
    pkg = known_package(value)
    if pkg is None and hasattr(value, "__dlpack__") and hasattr(value, "shape"):
        try:
            pkg = package_of(value, "x")
        except TypeError:
            return None
    return pkg


def _outward(pkg, value) -> Any:
    """*value* with each NumPy array or scalar (in a tuple too) as an array of *pkg* on the host."""
    if type(value) is tuple:
        return tuple(_outward(pkg, item) for item in value)
    if isinstance(value, np.generic):
        value = np.asarray(value)
    return pkg.asarray(value, None) if isinstance(value, np.ndarray) else value


def host_view(x) -> tuple:
    """``(x, None)`` for a NumPy array, ``(its NumPy view, its package)`` for a plain host array of
    another package (:meth:`~gpmath._core.packages.Package.plain_host_view`), else ``(None, None)``:
    what the host shortcuts (NumPy's product, scipy.fft's transforms) may be given.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones(2)
    >>> host_view(x)[0] is x, host_view([1.0])
    (True, (None, None))
    """
    if type(x) is np.ndarray:
        return x, None
    pkg = known_package(x)
    view = None if pkg is None else pkg.plain_host_view(x)
    return (None, None) if view is None else (view, pkg)


def in_package(pkg, y):
    """A host shortcut's NumPy result *y* in package *pkg* (None: NumPy's, as it is)."""
    return y if pkg is None else pkg.asarray(y, None)
