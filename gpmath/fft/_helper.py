"""Helpers with SciPy's signatures: sample frequencies, shifts, fast lengths."""

from __future__ import annotations

from typing import Any, Sequence

import operator

import numpy as np

from .._core.packages import as_array
from ._args import listed_axes

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift", "next_fast_len", "prev_fast_len"]


def _spacing(n, d) -> tuple[int, float]:
    if isinstance(n, bool):  # (SciPy's TypeError; operator.index would read it as 0 or 1)
        raise TypeError(f"n must be an integer, not {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise ValueError(f"n must be an integer, not {n!r}") from None
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    return n, 1.0 / (n * d)


def _to_namespace(values: np.ndarray, xp, device):
    """*values* in namespace *xp*, in its default floating dtype (torch's is float32), as SciPy gives."""
    if xp is None or xp is np:
        return values
    dtype = xp.asarray(0.0).dtype
    return xp.asarray(values, dtype=dtype) if device is None else xp.asarray(values, dtype=dtype, device=device)


def fftfreq(n: int, d: float = 1.0, *, xp: Any = None, device: Any = None) -> Any:
    """Sample frequencies of an ``n``-point FFT with sample spacing ``d``.

    Parameters
    ----------
    n : int
        Window length.
    d : float, default 1.0
        Sample spacing (inverse of the sampling rate).
    xp : module, optional
        Array namespace of the result (``numpy``, ``cupy``, ``torch``); NumPy by default.
    device : optional
        Device of the result, for namespaces that take one.

    Returns
    -------
    array
        ``[0, 1, ..., n//2 - 1 + n%2, -(n//2), ..., -1] / (d * n)``, float64 (or *xp*'s default
        floating dtype).

    Examples
    --------
    >>> from gpmath.fft import fftfreq
    >>> fftfreq(5, d=0.1)
    array([ 0.,  2.,  4., -4., -2.])
    """
    n, scale = _spacing(n, d)
    k = np.arange(n, dtype=np.float64)
    k[(n + 1) // 2 :] -= n
    return _to_namespace(k * scale, xp, device)


def rfftfreq(n: int, d: float = 1.0, *, xp: Any = None, device: Any = None) -> Any:
    """Sample frequencies of :func:`rfft`'s output for an ``n``-point input.

    Parameters
    ----------
    n : int
        Window length.
    d : float, default 1.0
        Sample spacing.
    xp : module, optional
        Array namespace of the result; NumPy by default.
    device : optional
        Device of the result, for namespaces that take one.

    Returns
    -------
    array
        ``[0, 1, ..., n//2] / (d * n)``, float64 (or *xp*'s default floating dtype).

    Examples
    --------
    >>> from gpmath.fft import rfftfreq
    >>> rfftfreq(6, d=2.0)
    array([0.        , 0.08333333, 0.16666667, 0.25      ])
    """
    n, scale = _spacing(n, d)
    return _to_namespace(np.arange(n // 2 + 1, dtype=np.float64) * scale, xp, device)


def _shifted(x, axes, sign: int):
    x, pkg = as_array(x)
    shifts: dict[int, int] = {}  # an axis named twice is shifted twice, as by numpy.fft.fftshift
    for axis in range(x.ndim) if axes is None else listed_axes(x.ndim, axes):  # no lengths: 0 is fine
        shifts[axis] = shifts.get(axis, 0) + sign * (x.shape[axis] // 2)
    if not shifts:  # no axes: a copy, as NumPy's (torch.roll takes no empty shifts)
        return pkg.copy(x)
    return pkg.roll(x, list(shifts.values()), tuple(shifts))


def fftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """Move the zero-frequency term to the centre of the spectrum.

    Parameters
    ----------
    x : array
        NumPy, CuPy or PyTorch array (array-likes become NumPy arrays).
    axes : int or sequence of int, optional
        Axes to shift; all by default.

    Returns
    -------
    array
        The shifted array, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.fft import fftshift, fftfreq
    >>> fftshift(fftfreq(5))
    array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    return _shifted(x, axes, 1)


def ifftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """The inverse of :func:`fftshift` (they differ for odd lengths).

    Parameters
    ----------
    x : array
        NumPy, CuPy or PyTorch array (array-likes become NumPy arrays).
    axes : int or sequence of int, optional
        Axes to shift; all by default.

    Returns
    -------
    array
        The shifted array, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.fft import fftshift, ifftshift
    >>> x = np.arange(5)
    >>> ifftshift(fftshift(x))
    array([0, 1, 2, 3, 4])
    """
    return _shifted(x, axes, -1)


def next_fast_len(target: int, real: bool = False) -> int:
    """The smallest length at least *target* that cuFFT transforms fastest.

    cuFFT's kernels are built for lengths ``2**a * 3**b * 5**c * 7**d``; other lengths (large
    primes above all) run through slower Bluestein algorithms.  Zero-pad to this length (``n=``
    or ``s=``) when the exact length does not matter.

    Parameters
    ----------
    target : int
        Minimum length (0 returns 0, as in SciPy).
    real : bool, default False
        For real transforms (rfft, irfft ...): the length is also even, since cuFFT computes a
        real transform of even length through a complex one of half the length.

    Returns
    -------
    int

    Examples
    --------
    >>> from gpmath.fft import next_fast_len
    >>> next_fast_len(1021), next_fast_len(11), next_fast_len(11, real=True)
    (1024, 12, 12)
    >>> next_fast_len(13), next_fast_len(13, real=True)
    (14, 14)
    """
    target = _length(target)
    if target <= 1:
        return target
    least_twos = 1 if real else 0
    best = 1 << max(least_twos, (target - 1).bit_length())
    for odd in _odd_smooth(best - 1):  # each odd part, times the fewest twos reaching target
        best = min(best, odd << max(least_twos, (-(-target // odd) - 1).bit_length()))
    return best


def _length(target) -> int:
    """*target* as a non-negative integer (a TypeError or ValueError naming it otherwise)."""
    try:
        target = operator.index(target)
    except TypeError:
        raise TypeError(f"target must be an integer, not {target!r}") from None
    if target < 0:
        raise ValueError(f"target must be non-negative, not {target}")
    return target


def _odd_smooth(limit: int):
    """The numbers ``3**b * 5**c * 7**d`` up to *limit*."""
    p7 = 1
    while p7 <= limit:
        p5 = p7
        while p5 <= limit:
            odd = p5
            while odd <= limit:
                yield odd
                odd *= 3
            p5 *= 5
        p7 *= 7


def prev_fast_len(target: int, real: bool = False) -> int:
    """The largest length at most *target* that cuFFT transforms fastest: ``2**a * 3**b * 5**c *
    7**d``, even for real transforms (as :func:`next_fast_len`).  Crop to it (``n=``/``s=``) to
    discard the fewest samples.

    Parameters
    ----------
    target : int
        Maximum length (0 returns 0 and 1 returns 1, as in SciPy; negative raises ``ValueError``).
    real : bool, default False
        For real transforms (rfft, irfft ...): the length is also even.

    Returns
    -------
    int

    Examples
    --------
    >>> from gpmath.fft import prev_fast_len
    >>> prev_fast_len(1021), prev_fast_len(13), prev_fast_len(7, real=True)
    (1008, 12, 6)
    """
    target = _length(target)
    if target <= 2:
        return target
    least_twos = 1 if real else 0
    return max(odd << ((target // odd).bit_length() - 1) for odd in _odd_smooth(target >> least_twos))
