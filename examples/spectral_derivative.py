"""Derivative of a periodic function by FFT, and its spectral convergence.

``u'`` is ``irfft(i k rfft(u))``: for a smooth periodic ``u`` the error falls faster than any
power of the grid spacing until it reaches rounding level.  The transforms run on the GPU when
one is usable, else on the CPU; the result is checked against the analytic derivative and
against numpy.fft.  Saves ``spectral_derivative.png`` when matplotlib is installed.
"""

import numpy as np

import gpmath
from _plot import save_figure


def derivative(u):
    """d/dx of samples of 2 pi-periodic functions on a uniform grid (along the last axis)."""
    n = u.shape[-1]
    k = gpmath.fft.rfftfreq(n, 1 / n)  # integer wavenumbers 0 .. n/2
    if n % 2 == 0:
        k[-1] = 0  # the Nyquist mode of a real signal has no derivative
    return gpmath.fft.irfft(1j * k * gpmath.fft.rfft(u), n=n)


def exact(x):
    """u = exp(sin x) and u' = cos x exp(sin x)."""
    return np.exp(np.sin(x)), np.cos(x) * np.exp(np.sin(x))


print(f"gpmath runs on the {'GPU' if gpmath.device_count() else 'CPU'}")
print("   N   max error")
sizes, errors = [8, 12, 16, 24, 32, 48, 64], []
for n in sizes:
    x = 2 * np.pi * np.arange(n) / n
    u, du = exact(x)
    errors.append(np.abs(derivative(u) - du).max())
    print(f"{n:4d}   {errors[-1]:.1e}")
assert errors[-1] < 1e-12 and all(b < a for a, b in zip(errors[:4], errors[1:5]))

# A batch: every row is differentiated at once, and numpy.fft agrees.
x = 2 * np.pi * np.arange(64) / 64
rows = np.stack([np.sin(m * x) for m in range(1, 9)])
d_rows = derivative(rows)
assert np.allclose(d_rows, np.arange(1, 9)[:, None] * np.cos(np.arange(1, 9)[:, None] * x), atol=1e-12)
k = np.fft.rfftfreq(64, 1 / 64)
k[-1] = 0
assert np.allclose(d_rows, np.fft.irfft(1j * k * np.fft.rfft(rows), n=64), atol=1e-12)
print("8 rows differentiated at once: match the analytic derivatives and numpy.fft")


def draw(fig, axes):
    fine = np.linspace(0, 2 * np.pi, 400)
    x16 = 2 * np.pi * np.arange(16) / 16
    axes[0].plot(fine, exact(fine)[1], "k-", label="exact u'")
    axes[0].plot(x16, derivative(exact(x16)[0]), "o", label="spectral, N = 16")
    axes[0].set(xlabel="x", title="u = exp(sin x)")
    axes[0].legend()
    axes[1].semilogy(sizes, np.maximum(errors, 1e-17), "o-")
    axes[1].set(xlabel="N", ylabel="max |error|", title="spectral convergence")


save_figure("spectral_derivative.png", draw, ncols=2, figsize=(9, 3.5))
