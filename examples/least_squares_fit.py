"""Least-squares fitting with gpmath.linalg.lstsq: one polynomial fit, then 2000 series at once.

A single fit solves the Vandermonde system like numpy.polyfit.  A batch of series, each sampled
at its own times, stacks its design matrices into one ``(batch, samples, terms)`` array and is
fitted in one call.  Runs on the GPU when one is usable, else on the CPU; checked against
numpy.polyfit and numpy.linalg.lstsq.  Saves ``least_squares_fit.png`` when matplotlib is
installed.
"""

import numpy as np

import gpmath
from _plot import save_figure
from gpmath import linalg

rng = np.random.default_rng(0)
print(f"gpmath runs on the {'GPU' if gpmath.device_count() else 'CPU'}")

# One noisy cubic, fitted as numpy.polyfit does (highest power first).
t = np.linspace(-1, 1, 200)
y = 0.5 * t**3 - t**2 + 0.3 * t + 2 + 0.05 * rng.standard_normal(t.size)
coef = linalg.lstsq(np.vander(t, 4), y)[0]
assert np.allclose(coef, np.polyfit(t, y, 3))
print("cubic coefficients:", coef.round(3), "(numpy.polyfit agrees)")



def damped(t):
    """The model's terms: y = a e^(-t) cos(3t) + b e^(-t) sin(3t) + c is linear in (a, b, c)."""
    return np.stack([np.exp(-t) * np.cos(3 * t), np.exp(-t) * np.sin(3 * t), np.ones_like(t)], axis=-1)


# 2000 damped oscillations, each series sampled at its own 50 random times.
batch, samples = 2000, 50
times = np.sort(rng.uniform(0, 4, (batch, samples)), axis=1)
design = damped(times)                                                  # (batch, samples, 3)
truth = rng.uniform(-2, 2, (batch, 3))
data = np.einsum("bsk,bk->bs", design, truth) + 0.02 * rng.standard_normal((batch, samples))

fit, residues, rank, sv = linalg.lstsq(design, data[..., None])      # b read as (..., N, K)
fit = fit[..., 0]
loop = np.stack([np.linalg.lstsq(d, s, rcond=None)[0] for d, s in zip(design, data)])
assert np.allclose(fit, loop) and np.all(rank == 3)
rms = np.sqrt(residues[:, 0] / samples)
assert np.abs(np.median(rms) - 0.02) < 0.002  # the residuals are the noise
print(f"{batch} series fitted in one call: match numpy.linalg.lstsq; "
      f"median rms residual {np.median(rms):.4f} (noise 0.02); "
      f"max parameter error {np.abs(fit - truth).max():.3f}")


def draw(fig, axes):
    axes[0].plot(t, y, ".", ms=3, label="data")
    axes[0].plot(t, np.vander(t, 4) @ coef, "k-", label="cubic fit")
    axes[0].set(xlabel="t", title="one polynomial fit")
    axes[0].legend()
    fine = np.linspace(0, 4, 200)
    for i in range(4):
        line, = axes[1].plot(times[i], data[i], ".", ms=4)
        axes[1].plot(fine, damped(fine) @ fit[i], "-", color=line.get_color())
    axes[1].set(xlabel="t", title=f"4 of {batch} series fitted at once")


save_figure("least_squares_fit.png", draw, ncols=2, figsize=(9, 3.5))
