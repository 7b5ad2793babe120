"""The scipy.fft backend protocol (uarray): ``scipy.fft.set_backend(gpmath.fft)``.

Every scipy.fft function (the FFTs, the Hermitian FFTs, the DCTs and DSTs, fht and ifht) runs
through gpmath for NumPy, CuPy and PyTorch inputs: NumPy arrays compute on a GPU where one is
usable, else on the CPU.  Dtypes gpmath does not compute in (``longdouble``, ``clongdouble``)
return ``NotImplemented``, so SciPy falls back to its own backend (under
``set_backend(gpmath.fft, only=True)`` SciPy then raises ``BackendNotImplementedError``).
"""

from __future__ import annotations

from . import _basic, _basic_real, _fftlog, _hermitian, _realtransforms
from ._args import promoted_name
from .._core.packages import as_array

__all__ = ["ua_domain", "ua_function"]

ua_domain = "numpy.scipy.fft"
_MODULES = (_basic, _basic_real, _hermitian, _realtransforms, _fftlog)
_IMPLEMENTED = {name: getattr(module, name) for module in _MODULES for name in module.__all__
                if name not in ("reject_plan", "fhtoffset")}  # SciPy's fhtoffset is no multimethod


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
    x = args[0] if args else kwargs.get("A" if method.__name__ == "ifht" else "a" if method.__name__ == "fht" else "x")
    if fn is None or not _supported(x):
        return NotImplemented
    return fn(*args, **kwargs)
