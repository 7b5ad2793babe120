"""An unmodified NumPy/SciPy script accelerated with ``scipy.fft.set_backend(gpmath.fft)``.

``analyse`` below is ordinary scipy.fft code: it smooths a 2-D random field with a Gaussian
filter and measures its radially averaged power spectrum.  It runs once as it is, and once under
``with scipy.fft.set_backend(gpmath.fft, only=True):``, where every scipy.fft transform it calls
runs through gpmath (``only=True``: none may fall back to SciPy's own).  gpmath computes on the
GPU when one is usable, else on the CPU; the two runs must agree.  Saves ``scipy_backend.png``
when matplotlib is installed.
"""

import time

import numpy as np
import scipy.fft

import gpmath.fft
from _plot import save_figure


def analyse(field, sigma):
    """Gaussian smoothing (width sigma, in samples) and the radial power spectrum of a square field."""
    n = field.shape[0]
    spectrum = scipy.fft.rfft2(field)
    k = np.hypot(scipy.fft.fftfreq(n)[:, None], scipy.fft.rfftfreq(n)[None, :])
    smooth = scipy.fft.irfft2(spectrum * np.exp(-2 * (np.pi * sigma * k) ** 2), s=field.shape)
    shell = np.minimum(np.rint(k * n).astype(int), n // 2)
    power = np.bincount(shell.ravel(), np.abs(spectrum.ravel()) ** 2) / np.bincount(shell.ravel())
    return smooth, power


# A random field with power spectrum ~ |k|^-3, made in Fourier space with numpy.fft.
n = 512
rng = np.random.default_rng(0)
k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :])
field = np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * np.maximum(k, 1 / n) ** -1.5).real



def timed():
    start = time.perf_counter()
    result = analyse(field, sigma=4)
    return result, time.perf_counter() - start


(smooth, power), plain = timed()
with scipy.fft.set_backend(gpmath.fft, only=True):
    timed()  # the first call loads gpmath's engine and builds its plans
    (smooth_gp, power_gp), backend = timed()

where = "GPU" if gpmath.device_count() else "CPU"
print(f"analyse({n} x {n}): scipy.fft {plain * 1e3:.1f} ms; through gpmath on the {where} {backend * 1e3:.1f} ms")
assert np.allclose(smooth_gp, smooth, atol=1e-12 * np.abs(field).max())
assert np.allclose(power_gp, power, rtol=1e-10)
slope = np.polyfit(np.log(np.arange(4, n // 4)), np.log(power[4 : n // 4]), 1)[0]
print(f"results agree; spectral slope {slope:.2f} (the field was made with -3)")
assert abs(slope + 3) < 0.3


def draw(fig, axes):
    for ax, data, title in zip(axes[:2], (field, smooth_gp), ("random field", "smoothed (sigma = 4)")):
        ax.imshow(data, cmap="viridis")
        ax.set(title=title, xticks=[], yticks=[])
    axes[2].loglog(np.arange(1, n // 2), power_gp[1 : n // 2])
    axes[2].set(xlabel="|k|", ylabel="power", title="radial power spectrum")


save_figure("scipy_backend.png", draw, ncols=3, figsize=(11, 3.5))
