"""Fast Fourier transforms through cuFFT, with scipy.fft's functions and a planner.

Functions (SciPy's signatures and semantics, for NumPy, CuPy and PyTorch arrays; the result is
in the input's package and on its device): :func:`fft`, :func:`ifft`, :func:`fft2`,
:func:`ifft2`, :func:`fftn`, :func:`ifftn`, :func:`rfft`, :func:`irfft`, :func:`rfft2`,
:func:`irfft2`, :func:`rfftn`, :func:`irfftn`, :func:`hfft`, :func:`ihfft`, :func:`hfft2`,
:func:`ihfft2`, :func:`hfftn`, :func:`ihfftn`; the real-to-real transforms :func:`dct`,
:func:`idct`, :func:`dst`, :func:`idst`, :func:`dctn`, :func:`idctn`, :func:`dstn`,
:func:`idstn` (types 1-4); the fast Hankel transform :func:`fht`, :func:`ifht`,
:func:`fhtoffset`; helpers :func:`fftfreq`, :func:`rfftfreq`, :func:`fftshift`,
:func:`ifftshift`, :func:`next_fast_len`, :func:`prev_fast_len`.

:class:`FFT` is the planner for repeated transforms of one layout; :class:`DCT` and
:class:`DST` the planners of the real-to-real transforms.  This module is also a
scipy.fft backend: ``scipy.fft.set_backend(gpmath.fft)``.  Without a GPU everything runs on
the CPU with scipy.fft.

Examples
--------
>>> import numpy as np, scipy.fft
>>> from gpmath import fft
>>> x = np.random.default_rng(0).standard_normal((4, 32))
>>> bool(np.allclose(fft.irfft(fft.rfft(x)), x))
True
"""

from ._backend import ua_domain as __ua_domain__  # noqa: F401  (the scipy.fft backend protocol)
from ._backend import ua_function as __ua_function__  # noqa: F401
from ._basic import fft, fft2, fftn, ifft, ifft2, ifftn
from ._basic_real import hfft, ihfft, irfft, irfft2, irfftn, rfft, rfft2, rfftn
from ._fftlog import fht, fhtoffset, ifht
from ._hermitian import hfft2, hfftn, ihfft2, ihfftn
from ._helper import fftfreq, fftshift, ifftshift, next_fast_len, prev_fast_len, rfftfreq
from ._planner import FFT
from ._r2r_planner import DCT, DST
from ._realtransforms import dct, dctn, dst, dstn, idct, idctn, idst, idstn

__all__ = [
    "FFT",
    "DCT",
    "DST",
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "dct",
    "idct",
    "dst",
    "idst",
    "dctn",
    "idctn",
    "dstn",
    "idstn",
    "fht",
    "ifht",
    "fhtoffset",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
    "next_fast_len",
    "prev_fast_len",
]
