"""A 3-D periodic Poisson problem, solved spectrally across MPI ranks with gpmath.distributed.fft.

Solves ``laplacian(u) = f`` on ``[0, 2 pi)^3`` with periodic boundaries: forward FFT of ``f``,
divide by ``-|k|^2`` (the zero mode set to 0: ``u`` of mean zero), inverse FFT.  The right-hand
side comes from a manufactured solution, so the answer is known.  Every rank holds slabs of
axis 0 of ``f`` and ``u`` (``Slab(0)``) and the spectrum in slabs of axis 1 (``Slab(1)``); no rank
ever holds a whole array.  ``rfftn``/``irfftn`` would halve the work for real data; the complex
transforms here run on cuFFTMp's built-in slab layout.

Run ``mpirun -n 2 python examples/poisson_distributed.py`` (one GPU per rank), or
``python examples/poisson_distributed.py`` for one rank.
"""

import cupy as cp
import numpy as np
from mpi4py import MPI

import gpmath.distributed as gd

shape = (64, 48, 40)  # any sizes: slabs need not be equal
ctx = gd.initialize(MPI.COMM_WORLD)
cp.cuda.Device(ctx.device_id).use()

# This rank's rows of the grid (x), and all of y and z.
rows = gd.Slab(0).box(shape, ctx.rank, ctx.size)
x, y, z = (2 * np.pi * cp.arange(lo, up) / n for lo, up, n in zip(rows.lower, rows.upper, shape))
X, Y, Z = cp.meshgrid(x, y, z, indexing="ij")
u_exact = cp.sin(X) * cp.cos(2 * Y) * cp.sin(3 * Z) + 0.5 * cp.cos(5 * X + Y)
f = -14 * cp.sin(X) * cp.cos(2 * Y) * cp.sin(3 * Z) - 0.5 * 26 * cp.cos(5 * X + Y)

with gd.fft.FFT(f.astype(cp.complex128), gd.Slab(0)) as forward:
    f_hat = forward.plan().execute()  # this rank's Slab(1) part of the spectrum
    cols = forward.out_box

# Integer wavenumbers of this rank's part of the spectrum: all of kx and kz, its range of ky.
kx, ky, kz = (cp.asarray(np.fft.fftfreq(n, 1 / n)[lo:up]) for lo, up, n in zip(cols.lower, cols.upper, shape))
k2 = kx[:, None, None] ** 2 + ky[None, :, None] ** 2 + kz[None, None, :] ** 2
u_hat = cp.where(k2 > 0, -f_hat / cp.where(k2 > 0, k2, 1), 0)

u = gd.fft.ifftn(u_hat, gd.Slab(1)).real  # back to this rank's rows
error = float(cp.abs(u - u_exact).max())
error = MPI.COMM_WORLD.allreduce(error, op=MPI.MAX)
gd.finalize()
if ctx.rank == 0:
    print(f"Poisson {shape} on {ctx.size} rank(s): max error {error:.2e}")
assert error < 1e-10, error
