"""The scipy.fft backend protocol (uarray): ``scipy.fft.set_backend(gpmath.fft)``.

Every function gpmath implements (fft ... ihfft) runs through gpmath for NumPy, CuPy and
PyTorch inputs: NumPy arrays make a GPU round trip where a GPU is usable, else the CPU path.
Anything else (hfftn, dct, fht ..., dtypes such as ``longdouble``) returns ``NotImplemented``,
so SciPy falls back to its own backend.
"""

from __future__ import annotations

from . import _basic, _basic_real
from ._args import promoted_name
from .._core.packages import as_array

__all__ = ["ua_domain", "ua_function"]

ua_domain = "numpy.scipy.fft"
_IMPLEMENTED = {name: getattr(module, name) for module in (_basic, _basic_real) for name in module.__all__
                if name != "reject_plan"}


def _supported(x) -> bool:
    try:
        x, pkg = as_array(x)
        promoted_name(pkg.dtype_name(x))
    except TypeError:
        return False
    return True


def ua_function(method, args, kwargs):
    """Run *method* (a scipy.fft multimethod) through gpmath, or return ``NotImplemented``.

    Examples
    --------
    >>> import numpy as np, scipy.fft, gpmath.fft
    >>> x = np.random.default_rng(0).standard_normal(16)
    >>> with scipy.fft.set_backend(gpmath.fft):
    ...     y = scipy.fft.rfft(x)
    >>> bool(np.allclose(y, np.fft.rfft(x)))
    True
    """
    fn = _IMPLEMENTED.get(method.__name__)
    x = args[0] if args else kwargs.get("x")
    if fn is None or not _supported(x):
        return NotImplemented
    return fn(*args, **kwargs)
