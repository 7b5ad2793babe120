"""Which of SciPy's and NumPy's functions the suite replaces by gpmath's, and how.

SciPy's linear-algebra names map to :mod:`gpmath.linalg`'s functions of the same name (their
signatures are SciPy's).  NumPy's map to thin adapters that translate :mod:`numpy.linalg`'s
conventions (``UPLO``, ``mode="reduced"``, ``rcond``, named-tuple results) and :mod:`numpy.fft`'s
(``out=``, the words of a bad length) onto gpmath's functions: the numerical work is gpmath's in every case.
"""

from __future__ import annotations

import types
from typing import Callable

import numpy as np

from gpmath import fft as gf
from gpmath import linalg as gl

__all__ = ["SCIPY", "NUMPY", "NUMPY_FFT", "SCIPY_FFT_BACKEND", "swapped_module"]

SCIPY_NAMES = ("solve", "solve_triangular", "lu", "lu_factor", "lu_solve", "cholesky", "cho_factor", "cho_solve", "qr",
               "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals", "lstsq", "pinv", "inv", "det", "norm")
SCIPY: dict[str, Callable] = {name: getattr(gl, name) for name in SCIPY_NAMES if hasattr(gl, name)}

_QR_MODES = {"reduced": "economic", "complete": "full", "r": "r", "raw": "raw"}


def _solve(a, b):
    return gl.solve(a, b)


def _inv(a):
    return gl.inv(a)


def _det(a):
    a = np.asarray(a)
    d = gl.det(a)
    return d.astype(np.result_type(a.dtype, np.float64) if a.dtype.kind in "biu" else a.dtype)


def _slogdet(a):
    return np.linalg._linalg.SlogdetResult(*gl.slogdet(a))


def _cholesky(a, /, *, upper=False):
    return gl.cholesky(a, lower=not upper)


def _qr(a, mode="reduced"):
    if mode not in _QR_MODES:
        raise ValueError(f"Unrecognized mode '{mode}'")
    out = gl.qr(a, mode=_QR_MODES[mode])
    if mode == "r":  # NumPy's R is the reduced one, (..., K, N)
        r = out[0]
        return r[..., :min(r.shape[-2:]), :]
    if mode == "raw":  # NumPy's h is LAPACK's, transposed: (..., N, M)
        (h, tau), _ = out
        return np.swapaxes(h, -1, -2), tau
    return np.linalg._linalg.QRResult(*out)


# the installed NumPy's eig rules for real input: real eigenvalues come back real before NumPy 2.5,
# complex from 2.5 on; so do none (an empty matrix) in NumPy 2.4
_REAL_STAYS_REAL = np.linalg.eigvals(np.eye(1)).dtype.kind == "f"
_EMPTY_STAYS_REAL = np.linalg.eigvals(np.zeros((0, 0))).dtype.kind == "f"


def _numpys_dtypes(a, *results):
    """gpmath's eig results (as SciPy's: complex eigenvalues, eigenvectors real where a is real and
    every eigenvalue is real) in the installed NumPy's dtypes: real where a is real and every
    eigenvalue is real before NumPy 2.5 (an empty matrix's only in 2.4), else complex."""
    w = np.asarray(results[0])
    real = np.asarray(a).dtype.kind != "c" and not np.any(w.imag) and (w.size or _EMPTY_STAYS_REAL)
    if _REAL_STAYS_REAL and real:
        return tuple(r.real for r in results)
    return tuple(r.astype(w.dtype, copy=False) for r in results)


def _eig(a):
    return np.linalg._linalg.EigResult(*_numpys_dtypes(a, *gl.eig(a)))


def _eigvals(a):
    return _numpys_dtypes(a, gl.eigvals(a))[0]


def _eigh(a, UPLO="L"):
    return np.linalg._linalg.EighResult(*gl.eigh(a, lower=_lower(UPLO)))


def _eigvalsh(a, UPLO="L"):
    return gl.eigvalsh(a, lower=_lower(UPLO))


def _lower(uplo: str) -> bool:
    if uplo not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return uplo == "L"


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    out = gl.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return np.linalg._linalg.SVDResult(*out) if compute_uv else out


def _svdvals(x, /):
    return gl.svdvals(x)


def _lstsq(a, b, rcond=None):
    x, residues, rank, s = gl.lstsq(a, b, cond=rcond)
    m, n = np.shape(a)[-2:]
    if m <= n or rank < n:  # NumPy's residues: none then (SciPy's are NaN for rank < N)
        residues = np.empty((0,), np.asarray(residues).dtype)
    elif np.ndim(b) == 1:  # NumPy's residues of one vector: shape (1,)
        residues = np.reshape(residues, (1,))
    return x, residues, rank, s


def _pinv(a, rcond=None, hermitian=False, *, rtol=None):
    return gl.pinv(a, rtol=rtol if rcond is None else rcond)


NUMPY: dict[str, Callable] = {
    "solve": _solve, "inv": _inv, "det": _det, "slogdet": _slogdet, "cholesky": _cholesky, "qr": _qr, "eig": _eig,
    "eigvals": _eigvals, "eigh": _eigh, "eigvalsh": _eigvalsh, "svd": _svd, "svdvals": _svdvals, "lstsq": _lstsq,
    "pinv": _pinv,
}


def _numpy_words(transform: Callable, *args):
    """*transform*'s result; a length below 1 raises in NumPy's words (gpmath's are SciPy's), so that
    NumPy's tests that match them check gpmath's numbers before and after."""
    try:
        return transform(*args)
    except ValueError as exc:
        if not str(exc).startswith("invalid number of data points"):
            raise
        raise ValueError("Invalid number of FFT data points" + str(exc)[len("invalid number of data points"):]) from exc


def _into(out, y):
    """*y*, or *y* written into NumPy's ``out=`` array (numpy.fft's checks and words)."""
    if out is None:
        return y
    if not isinstance(out, np.ndarray):
        raise TypeError("return arrays must be of ArrayType")
    if out.shape != np.shape(y):
        raise ValueError(f"output array has wrong shape {out.shape}, expected {np.shape(y)}")
    np.copyto(out, y, casting="same_kind")
    return out


def _fft_1d(name: str) -> Callable:
    transform = getattr(gf, name)

    def adapter(a, n=None, axis=-1, norm=None, out=None):
        return _into(out, _numpy_words(transform, a, n, axis, norm))
    adapter.__name__ = name
    return adapter


def _fft_nd(name: str) -> Callable:
    transform = getattr(gf, name)
    default = (-2, -1) if name.endswith("2") else None

    def adapter(a, s=None, axes=default, norm=None, out=None):
        return _into(out, _numpy_words(transform, a, s, axes, norm))
    adapter.__name__ = name
    return adapter


NUMPY_FFT: dict[str, Callable] = {
    **{name: _fft_1d(name) for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")},
    **{name: _fft_nd(name) for name in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn")},
    **{name: getattr(gf, name) for name in ("fftshift", "ifftshift", "fftfreq", "rfftfreq")},
}


def _scipy_fft_backend() -> tuple[tuple[str, dict[str, Callable]], ...]:
    """SciPy's own scipy.fft backend module (``scipy.fft._duccfft`` from SciPy 1.18, else
    ``scipy.fft._pocketfft``), whose tests import its transforms by name: those names, and its
    ``realtransforms`` module's, mapped to gpmath.fft's functions (their signatures are SciPy's)."""
    import importlib

    from gpmath.fft._cpu import SCIPY_BACKEND

    real = importlib.import_module(f"{SCIPY_BACKEND.__name__}.realtransforms")
    return tuple((module.__name__, {name: getattr(gf, name) for name in gf.__all__ if hasattr(module, name)
                                    and callable(getattr(module, name))}) for module in (SCIPY_BACKEND, real))


SCIPY_FFT_BACKEND = _scipy_fft_backend()
"""(module, swaps) pairs for the tests of SciPy's own scipy.fft backend."""


def swapped_module(module: types.ModuleType, swaps: dict[str, Callable]) -> types.ModuleType:
    """A module object reading as *module* except for the names in *swaps* (for test modules that
    call ``linalg.solve`` through the module at run time)."""
    proxy = types.ModuleType(module.__name__, module.__doc__)
    proxy.__dict__.update(vars(module))
    proxy.__dict__.update(swaps)
    return proxy
