"""Spectrum of a noisy two-tone signal with gpmath.fft (NumPy in, NumPy out; GPU if present).

The same calls take CuPy arrays or PyTorch tensors and return results of the same package on
the same device.
"""

import numpy as np
import scipy.fft

from gpmath import fft

rate, seconds = 1000.0, 2.0
t = np.arange(int(rate * seconds)) / rate
rng = np.random.default_rng(0)
signal = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t) + 0.2 * rng.standard_normal(t.size)

spectrum = fft.rfft(signal)
freqs = fft.rfftfreq(signal.size, d=1 / rate)
peaks = np.sort(freqs[np.argsort(np.abs(spectrum))[-2:]])
print("strongest frequencies (Hz):", peaks)
assert np.allclose(peaks, [50, 120])

# Zero-padding to a length cuFFT likes, and the round trip back.
n = fft.next_fast_len(signal.size, real=True)
padded = fft.rfft(signal, n=n)
assert np.allclose(fft.irfft(padded, n=n)[: signal.size], signal)

# Any axes, any strides, every norm: the results match scipy.fft.
frames = signal[: 1900].reshape(19, 100)[::2].T  # a strided, transposed view
for norm in (None, "ortho", "forward"):
    assert np.allclose(fft.fft(frames, axis=0, norm=norm), scipy.fft.fft(frames, axis=0, norm=norm))
print("fft of a strided view along axis 0 matches scipy.fft for every norm")
