"""Repeated transforms with the gpmath.fft.FFT planner, and gpmath as scipy.fft's backend."""

import numpy as np
import scipy.fft
import scipy.signal

import gpmath
from gpmath.fft import FFT

rng = np.random.default_rng(0)
batch = rng.standard_normal((16, 256)) + 1j * rng.standard_normal((16, 256))

# Plan once, execute many times; swap in new data of the same layout with reset_operands.
with FFT(batch, axes=-1, norm="ortho") as plan:
    plan.plan()
    spectrum = plan.execute()                      # forward
    restored = plan.execute(direction="inverse")   # inverse of the same input
    assert np.allclose(spectrum, scipy.fft.fft(batch, norm="ortho"))
    assert np.allclose(restored, scipy.fft.ifft(batch, norm="ortho"))
    for _ in range(3):
        fresh = rng.standard_normal((16, 256)) + 0j
        plan.reset_operands(fresh)
        assert np.allclose(plan.execute(), scipy.fft.fft(fresh, norm="ortho"))
    print(plan)

# Stateless calls reuse plans from a bounded cache.
gpmath.fft.fft(batch)
gpmath.fft.ifft(batch)
print("fft plan cache:", gpmath.cache_info()["fft"])

# SciPy code (here scipy.signal's FFT convolution) runs on gpmath through the backend protocol.
a, b = rng.standard_normal(1000), rng.standard_normal(300)
with scipy.fft.set_backend(gpmath.fft):
    via_gpmath = scipy.signal.fftconvolve(a, b)
assert np.allclose(via_gpmath, np.convolve(a, b))
print("scipy.signal.fftconvolve through gpmath.fft matches np.convolve")
