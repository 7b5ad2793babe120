"""gpmath.fft as a scipy.fft backend: ``scipy.fft.set_backend(gpmath.fft)``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

import gpmath.fft
from gpmath.fft import _backend
from helpers import relative_error, to_numpy, to_package, tolerance

gpu = pytest.mark.gpu
PACKAGES = ["numpy", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]


@pytest.fixture
def calls(monkeypatch):
    """Names of the functions gpmath ran as the backend."""
    seen = []
    for name, fn in list(_backend._IMPLEMENTED.items()):
        def spy(*args, _name=name, _fn=fn, **kwargs):
            seen.append(_name)
            return _fn(*args, **kwargs)

        monkeypatch.setitem(_backend._IMPLEMENTED, name, spy)
    return seen


def test_backend_protocol():
    assert gpmath.fft.__ua_domain__ == "numpy.scipy.fft"
    assert callable(gpmath.fft.__ua_function__)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name, kwargs", [("fft", {"n": 20}), ("ifft", {"norm": "ortho"}), ("rfft", {"axis": 0}),
                                          ("irfft", {"n": 15}), ("hfft", {}), ("ihfft", {}), ("fft2", {}),
                                          ("ifftn", {"axes": (0,)}), ("rfftn", {"s": (4, 6)}), ("irfft2", {})])
def test_scipy_functions_run_through_gpmath(rng, calls, package, name, kwargs):
    complex_input = name in ("fft", "ifft", "irfft", "hfft", "fft2", "ifftn", "irfft2")
    data = rng.uniform(-1, 1, (5, 12))
    if name in ("irfft", "hfft"):
        data = scipy.fft.rfft(rng.uniform(-1, 1, (5, 22)))  # genuine half spectra
    elif name == "irfft2":
        data = scipy.fft.rfft2(rng.uniform(-1, 1, (5, 22)))
    elif complex_input:
        data = data + 1j * data[::-1]
    dtype = "complex128" if complex_input else "float64"
    x = to_package(data, package, dtype)
    with scipy.fft.set_backend(gpmath.fft):
        result = getattr(scipy.fft, name)(x, **kwargs)
    assert calls == [name]
    assert type(result).__module__.partition(".")[0] == package
    reference = getattr(scipy.fft, name)(to_numpy(x), **kwargs)
    assert relative_error(result, reference) < tolerance(reference.dtype.name)


def test_every_scipy_multimethod_runs_through_gpmath(rng, calls):
    x = rng.uniform(-1, 1, (6, 8))
    names = ("hfftn", "ihfft2", "dct", "dst", "idctn", "idstn")
    with scipy.fft.set_backend(gpmath.fft, only=True):
        results = [getattr(scipy.fft, name)(x) for name in names]
    for name, result in zip(names, results):
        np.testing.assert_allclose(result, getattr(scipy.fft, name)(x), atol=1e-12)
    assert calls == list(names)


def test_unsupported_dtypes_fall_back_to_scipy(calls):
    x = np.arange(8, dtype=np.longdouble)
    with scipy.fft.set_backend(gpmath.fft):
        result = scipy.fft.fft(x)
    assert result.dtype == np.clongdouble and calls == []


def test_global_backend_and_array_likes(rng, calls):
    scipy.fft.set_global_backend(gpmath.fft)
    try:
        result = scipy.fft.rfft([1.0, 2.0, 3.0])
    finally:
        scipy.fft.set_global_backend("scipy")
    np.testing.assert_allclose(result, np.fft.rfft([1.0, 2.0, 3.0]))
    assert calls == ["rfft"]


def test_argument_errors_are_gpmaths(calls):
    with scipy.fft.set_backend(gpmath.fft, only=True):
        with pytest.raises(ValueError, match="norm"):
            scipy.fft.fft(np.ones(4), norm="bogus")
