"""The fast Hankel transform (FFTLog, Hamilton 2000): fht, ifht, fhtoffset.

For *a* sampled at ``r_j = r_c exp((j - j_c) dln)`` (``j_c = (n-1)/2``), biased by the power
law ``(r/r_c)^-q``, the transform is ``reversed(irfft(rfft(a) * u))`` with Hamilton's
coefficients ``u_m = (k_c r_c)^(-2 pi i m / L) U_mu(q + 2 pi i m / L)``, ``L = n dln`` and
``U_mu(x) = 2^x Gamma((mu+1+x)/2) / Gamma((mu+1-x)/2)``; the output is unbiased by
``(k/k_c)^-q (k_c r_c)^-q``.  The inverse divides by ``conj(u)`` instead.  The coefficients
and the bias vectors are computed on the host (``scipy.special.loggamma``) and uploaded; the
FFTs are gpmath's (cuFFT where the operand lives on a GPU) and the products the operand's
package's own operations.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from .._core.dtypes import DTYPES
from .._core.packages import as_array
from ._args import promoted_name
from ._basic_real import irfft, rfft

__all__ = ["fht", "ifht", "fhtoffset"]


def _special():
    import scipy.special  # on first use: importing gpmath imports no SciPy

    return scipy.special


def _log_gamma_ratio(mu: float, q: float, t: np.ndarray) -> np.ndarray:
    """``log(2^(q+2it) Gamma((mu+1+q)/2 + it) / Gamma((mu+1-q)/2 - it))`` for each *t*."""
    special = _special()
    upper = special.loggamma((mu + 1 + q) / 2 + 1j * t)
    lower = np.conj(special.loggamma((mu + 1 - q) / 2 + 1j * t))  # loggamma(conj z) = conj(loggamma z)
    return (q + 2j * t) * math.log(2) + upper - lower


def _coefficients(n: int, dln: float, mu: float, offset: float, bias: float, inverse: bool) -> np.ndarray:
    """The ``n//2 + 1`` coefficients the spectrum is multiplied by (``u``, or ``1/conj(u)`` for the
    inverse), warning at every call where the transform is singular, as SciPy does."""
    factor, singular = _kept_coefficients(n, dln, mu, offset, bias, inverse)
    if singular:
        warnings.warn(f"singular {'inverse ' if inverse else ''}transform; consider changing the bias", RuntimeWarning,
                      stacklevel=4)
    return factor


@functools.lru_cache(maxsize=64)
def _kept_coefficients(n: int, dln: float, mu: float, offset: float, bias: float,
                       inverse: bool) -> tuple[np.ndarray, bool]:
    """``(coefficients, singular)``: :func:`_coefficients`'s, computed once for its arguments."""
    t = np.pi * np.arange(n // 2 + 1) / (n * dln)
    u = np.exp(_log_gamma_ratio(mu, bias, t) - 2j * t * offset)
    if n % 2 == 0:
        u[-1] = u[-1].real  # the Nyquist term of a real signal: keep the transform real
    if not np.isfinite(u[0]):  # Gamma poles: the ratio's limit, 2^q Gamma(x+)/Gamma(x-) = 2^q poch(x-, x+ - x-)
        upper, lower = (mu + 1 + bias) / 2, (mu + 1 - bias) / 2
        u[0] = 2.0**bias * _special().poch(lower, upper - lower)
    if not inverse:
        singular = bool(np.isinf(u[0]))
        if singular:
            u[0] = 0
        return u, singular
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1 / np.conj(u)
    factor[u == 0] = 0  # what division by an infinite coefficient would give
    return factor, bool(u[0] == 0)


def _bias(n: int, dln: float, exponent: float, shift: float) -> np.ndarray:
    """``exp(exponent * ((j - j_c) dln + shift))`` for ``j = 0 .. n-1``."""
    return np.exp(exponent * ((np.arange(n) - (n - 1) / 2) * dln + shift))


def _hankel(a, dln: float, mu: float, offset: float, bias: float, inverse: bool):
    if dln == 0:  # (SciPy's error type: its coefficients divide by dln)
        raise ZeroDivisionError("dln must not be zero: it is the samples' logarithmic spacing")
    a, pkg = as_array(a, "a")
    name = promoted_name(pkg.dtype_name(a), "a")
    if name.startswith("complex"):
        raise TypeError(f"a must be real for a fast Hankel transform, not {name}")
    dtype, complex_dtype = DTYPES[name], DTYPES[{"float32": "complex64", "float64": "complex128"}[name]]
    device = pkg.device_id(a)
    n = a.shape[-1]
    sign = 1 if inverse else -1
    if bias != 0:
        a = a * pkg.from_numpy(_bias(n, dln, sign * bias, offset if inverse else 0.0), dtype, device)
    spectrum = rfft(a, axis=-1) * pkg.from_numpy(_coefficients(n, float(dln), float(mu), float(offset), float(bias),
                                                                inverse), complex_dtype, device)
    result = pkg.flip(irfft(spectrum, n, axis=-1, overwrite_x=True), -1)
    if bias != 0:
        result = result * pkg.from_numpy(_bias(n, dln, sign * bias, 0.0 if inverse else offset), dtype, device)
    return result


def fht(a: Any, dln: float, mu: float, offset: float = 0.0, bias: float = 0.0) -> Any:
    """Fast Hankel transform of a logarithmically spaced periodic sequence (FFTLog).

    Computes ``A(k) = integral of a(r) J_mu(k r) k dr`` for *a* sampled at
    ``r_j = r_c exp((j - j_c) dln)``; *A* is sampled at ``k_j = k_c exp((j - j_c) dln)`` with
    ``log(k_c r_c) = offset``.

    Parameters
    ----------
    a : array_like (..., n)
        Real input, transformed along the last axis (float32 stays float32, integers become float64).
    dln : float
        Uniform logarithmic spacing of *a*.
    mu : float
        Order of the Hankel transform.
    offset : float, default 0.0
        Offset of the output's logarithmic spacing (see :func:`fhtoffset` for a low-ringing one).
    bias : float, default 0.0
        Exponent ``q`` of the power-law bias.

    Returns
    -------
    array
        The transform, in *a*'s package and on its device.

    Warns
    -----
    RuntimeWarning
        If the transform is singular for this *mu* and *bias*.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> r = np.logspace(-4, 4, 64)
    >>> a = r ** 1.3 * np.exp(-r ** 2 / 2)
    >>> dln = np.log(r[1] / r[0])
    >>> bool(np.allclose(fft.fht(a, dln, mu=0.3), scipy.fft.fht(a, dln, mu=0.3)))
    True
    """
    return _hankel(a, dln, mu, offset, bias, inverse=False)


def ifht(A: Any, dln: float, mu: float, offset: float = 0.0, bias: float = 0.0) -> Any:
    """Inverse of :func:`fht`: ``ifht(fht(a, ...), ...)`` returns *a*.

    Parameters
    ----------
    A : array_like (..., n)
        Real input, transformed along the last axis.
    dln, mu, offset, bias : float
        As in :func:`fht`.

    Returns
    -------
    array
        The inverse transform, in *A*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> a = np.random.default_rng(0).standard_normal(32)
    >>> bool(np.allclose(fft.ifht(fft.fht(a, 0.1, 0.5, bias=0.2), 0.1, 0.5, bias=0.2), a))
    True
    """
    return _hankel(A, dln, mu, offset, bias, inverse=True)


def fhtoffset(dln: float, mu: float, initial: float = 0.0, bias: float = 0.0) -> float:
    """The offset closest to *initial* that meets FFTLog's low-ringing condition.

    The condition (Hamilton 2000) makes the coefficient at the Nyquist frequency real:
    ``(ln 2 - offset) / dln + (arg Gamma((mu+1+q)/2 + i pi/(2 dln)) + arg Gamma((mu+1-q)/2 +
    i pi/(2 dln))) / pi`` must be an integer.

    Parameters
    ----------
    dln : float
        Uniform logarithmic spacing of the transform.
    mu : float
        Order of the Hankel transform.
    initial : float, default 0.0
        The offset to start from.
    bias : float, default 0.0
        Exponent of the power-law bias.

    Returns
    -------
    float
        The offset.

    Examples
    --------
    >>> import scipy.fft
    >>> from gpmath import fft
    >>> bool(abs(fft.fhtoffset(0.1, 2.0, 0.5) - scipy.fft.fhtoffset(0.1, 2.0, 0.5)) < 1e-12)
    True
    """
    y = np.pi / (2 * dln)
    loggamma = _special().loggamma
    phase = loggamma((mu + 1 + bias) / 2 + 1j * y).imag + loggamma((mu + 1 - bias) / 2 + 1j * y).imag
    turns = (math.log(2) - initial) / dln + phase / np.pi
    return float(initial + (turns - round(turns)) * dln)
