"""A periodic 2-D Poisson problem, laplacian(u) = f, solved with one forward and one inverse FFT.

On ``[0, 2 pi)^2``: ``u_hat = -f_hat / |k|^2`` (the zero mode set to 0: ``u`` has mean zero).
The right-hand side comes from a known solution, so the error is measured; the residual of the
second-order five-point Laplacian shrinks as ``h^2``.  Runs on the GPU when one is usable, else
on the CPU, and checks the result against scipy.fft.  Saves ``poisson_fft.png`` when matplotlib is
installed.
"""

import numpy as np
import scipy.fft

import gpmath
from _plot import save_figure


def poisson(f, fft=gpmath.fft):
    """Mean-zero u with laplacian(u) = f on a periodic (ny, nx) grid of [0, 2 pi)^2."""
    ny, nx = f.shape
    ky = fft.fftfreq(ny, 1 / ny)[:, None]
    kx = fft.rfftfreq(nx, 1 / nx)[None, :]
    k2 = kx**2 + ky**2
    k2[0, 0] = 1
    u_hat = -fft.rfft2(f) / k2
    u_hat[0, 0] = 0
    return fft.irfft2(u_hat, s=f.shape)


def problem(n):
    """Grid, f and the mean-zero exact u for u = exp(sin x + cos 2y) on an n x n grid."""
    y, x = np.meshgrid(*2 * [2 * np.pi * np.arange(n) / n], indexing="ij")
    u = np.exp(np.sin(x) + np.cos(2 * y))
    f = (np.cos(x) ** 2 - np.sin(x) + 4 * np.sin(2 * y) ** 2 - 4 * np.cos(2 * y)) * u
    return x, y, f, u - u.mean()


def five_point(u):
    """The second-order finite-difference Laplacian on the periodic grid."""
    h = 2 * np.pi / u.shape[0]
    return (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u) / h**2


print(f"gpmath runs on the {'GPU' if gpmath.device_count() else 'CPU'}")
print("   n   max |u - exact|   max |five-point residual|   residual / h^2")
ratios = []
for n in (64, 128, 256, 512):
    x, y, f, exact = problem(n)
    u = poisson(f)
    error, residual = np.abs(u - exact).max(), np.abs(five_point(u) - f).max()
    ratios.append(residual / (2 * np.pi / n) ** 2)
    print(f"{n:4d}   {error:15.1e}   {residual:25.1e}   {ratios[-1]:14.1f}")
    assert error < 1e-10
assert np.ptp(ratios) < 0.05 * ratios[-1], "the five-point residual should fall as h^2"
assert np.allclose(u, poisson(f, fft=scipy.fft), atol=1e-12)
print("matches the same solve with scipy.fft")


def draw(fig, axes):
    for ax, data, title in zip(axes, (f, u), ("f", "u (FFT solve)")):
        image = ax.pcolormesh(x, y, data, shading="auto", cmap="RdBu_r")
        ax.set(title=title, xlabel="x", ylabel="y", aspect="equal")
        fig.colorbar(image, ax=ax)


save_figure("poisson_fft.png", draw, ncols=2, figsize=(9, 4))
