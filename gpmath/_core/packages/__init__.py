"""Array packages gpmath accepts (NumPy, CuPy, PyTorch): one adapter class each.

This is the only place in gpmath that knows an array package.  An input is classified by
``type(x).__module__``; torch and cupy are never imported by gpmath, only looked up in
``sys.modules`` once the caller has imported them.  Each adapter gives the fast attribute reads
the per-call path needs (pointer, cache-key signature, current stream), creates results in the
caller's package on the caller's device, hands host arrays to the GPU path as native NumPy
arrays (:meth:`Package.host_values`), and performs the few array operations the engines need
(copies, transposed views, triangles, conjugation, scaling ...).
"""

from __future__ import annotations

import numpy as np

from ._base import ALIGNMENT, Package
from ._cupy import CupyPackage
from ._numpy import NUMPY
from ._torch import TorchPackage

__all__ = ["Package", "package_of", "known_package", "as_array", "NUMPY", "ALIGNMENT"]

_BY_MODULE: dict[str, Package] = {"numpy": NUMPY, "cupy": CupyPackage(), "torch": TorchPackage()}
_BY_TYPE: dict[type, Package] = {np.ndarray: NUMPY}  # (other types as package_of first meets them)


def package_of(x, argument: str) -> Package:
    """The adapter for *x*'s package, or a ``TypeError`` naming *argument*."""
    kind = type(x)
    pkg = _BY_TYPE.get(kind)
    if pkg is None:
        root = kind.__module__.partition(".")[0]
        pkg = _BY_MODULE.get(root)
        if pkg is None or not hasattr(x, "shape"):
            raise TypeError(
                f"{argument} is a {kind.__module__}.{kind.__qualname__}; gpmath accepts NumPy arrays, "
                "CuPy arrays and PyTorch tensors"
            )
        _BY_TYPE[kind] = pkg
    return pkg


def known_package(x) -> Package | None:
    """The adapter of an array type already seen, else None (a dict lookup, for hot paths)."""
    return _BY_TYPE.get(type(x))


def as_array(x, argument: str = "x"):
    """``(x, package)``: *x* itself for NumPy/CuPy/PyTorch arrays, else ``numpy.asarray(x)``.

    Array-likes (lists, tuples, scalars) convert as NumPy converts them; a ragged sequence raises
    ``ValueError`` and a sequence of objects ``TypeError``, both naming *argument*; a SciPy sparse
    array or matrix raises ``ValueError``, as SciPy's dense functions do.
    """
    try:
        return x, package_of(x, argument)
    except TypeError:
        if type(x).__module__.startswith("scipy.sparse"):  # SciPy's ValueError and hint
            raise ValueError(f"{argument} is a sparse {type(x).__name__}: sparse arrays and matrices are not "
                             "supported here; convert with .toarray(), or see scipy.sparse.linalg") from None
        try:
            array = np.asarray(x)
        except ValueError as exc:
            raise ValueError(f"{argument} is not a regular array: {exc}") from None
        except Exception:
            raise TypeError(f"{argument} must be an array or array-like, not {type(x).__name__}") from None
        if array.dtype == object:
            raise TypeError(f"{argument} must hold numbers, not {type(x).__name__} of objects")
        return array, NUMPY
