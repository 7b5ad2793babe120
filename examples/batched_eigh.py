"""Thousands of small symmetric eigenproblems in one gpmath.linalg.eigh call: Anderson localisation.

Each matrix is the Hamiltonian of an electron hopping on a ring of 24 sites with random on-site
energies of strength W (the Anderson model).  One call diagonalises 2000 samples for each of
three disorder strengths; stronger disorder localises the eigenstates, which the inverse
participation ratio ``sum |v_i|^4`` measures (1/24 for a spread state, 1 for a single site).
Runs on the GPU when one is usable, else on the CPU; checked against numpy.linalg.eigh, the
eigen-equation and the clean ring's known spectrum.  Saves ``batched_eigh.png`` when
matplotlib is installed.
"""

import numpy as np

import gpmath
from _plot import save_figure
from gpmath import linalg

rng = np.random.default_rng(0)
sites, samples, strengths = 24, 2000, (0.5, 2.0, 8.0)
print(f"gpmath runs on the {'GPU' if gpmath.device_count() else 'CPU'}")

hop = -(np.eye(sites, k=1) + np.eye(sites, k=-1) + np.eye(sites, k=sites - 1) + np.eye(sites, k=1 - sites))
disorder = np.array(strengths)[:, None, None] * rng.uniform(-0.5, 0.5, (len(strengths), samples, sites))
h = hop + disorder[..., None] * np.eye(sites)  # (3, 2000, 24, 24): batch dimensions stay as given

w, v = linalg.eigh(h)
print(f"{h.shape[0] * h.shape[1]} matrices of {sites} x {sites}: eigenvalues {w.shape}, eigenvectors {v.shape}")
assert np.allclose(w, np.linalg.eigh(h)[0], atol=1e-12)
assert np.abs(h @ v - v * w[..., None, :]).max() < 1e-12
assert np.abs(np.swapaxes(v, -1, -2) @ v - np.eye(sites)).max() < 1e-12
assert np.allclose(linalg.eigh(hop, eigvals_only=True), np.sort(-2 * np.cos(2 * np.pi * np.arange(sites) / sites)))
print("eigenvalues match numpy.linalg.eigh; h v = v w and v^T v = 1 to 1e-12; the clean ring gives -2 cos(2 pi k / 24)")

ipr = (v**4).sum(axis=-2)  # one value per eigenvector
for strength, mean in zip(strengths, ipr.mean(axis=(1, 2))):
    print(f"W = {strength:3}: mean inverse participation ratio {mean:.3f}")
assert np.all(np.diff(ipr.mean(axis=(1, 2))) > 0)  # stronger disorder, more localised states


def draw(fig, axes):
    for strength, energies, ratios in zip(strengths, w, ipr):
        axes[0].hist(energies.ravel(), bins=80, density=True, histtype="step", label=f"W = {strength}")
        axes[1].plot(energies.ravel(), ratios.ravel(), ".", ms=1, alpha=0.3)
    axes[0].set(xlabel="energy", ylabel="density of states")
    axes[0].legend()
    axes[1].set(xlabel="energy", ylabel="inverse participation ratio", yscale="log")


save_figure("batched_eigh.png", draw, ncols=2, figsize=(9, 3.5))
