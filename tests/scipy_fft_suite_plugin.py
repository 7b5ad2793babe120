"""pytest plugin: gpmath.fft as scipy.fft's only global backend (see test_scipy_fft_suite.py)."""

import scipy.fft

import gpmath.fft


def pytest_configure(config):
    scipy.fft.set_global_backend(gpmath.fft, only=True)
