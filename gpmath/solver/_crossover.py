"""Which cuSOLVER routine a batched call uses, and the inner precision of a mixed-precision solve:
the crossover tables, as data to tune from measurements.

Each table lists ``(min_batch, max_n, choice)`` rows; the first row with ``batch >= min_batch``
and ``n <= max_n`` wins (``max_n`` None: any size).  Re-measure with ``bench/linalg.py`` (its
``crossover`` and ``irs`` sections and the driver rows) and edit the rows; :func:`gpmath.solver.calibrate`
measures FACTOR's and MIXED's on the user's GPU and keeps the rows in :mod:`gpmath.wisdom`, where
:func:`calibrated` finds them for plans on GPUs of that model and cuSOLVER.

Measured on an NVIDIA H100 80GB HBM3 (cuSOLVER of CUDA 13, torch 2.11 build), 2026-11-25, f64 ms:

- FACTOR, batch 64, pointer-array batched vs a loop of the 64-bit API:
  cholesky n=64 0.16 vs 1.47, n=128 0.24 vs 3.08, n=256 0.48 vs 6.57, n=512 1.33 vs 13.7;
  solve (LU) n=64 0.30 vs 9.57, n=128 0.55 vs 17.2, n=256 1.80 vs 34.9, n=512 5.71 vs 78.1.
- SOLVE (fourth session), 10 000 matrices, 1 rhs: gpmath's kernel vs getrfBatched + getrsBatched:
  n=32 f64 0.205 vs 0.556 (torch 0.499), n=16 0.124, n=8 0.091 (torch 0.16, 0.12); n=32 f32
  0.152, c128 0.552 (torch 0.387, 1.26).  The kernel holds a row per lane: n <= 32.
- CHOLESKY (sixth session, H200), ms per stateless call, gpmath's kernel vs potrf(Batched) (torch):
  f64 10 000 x 32² 0.141 vs 0.386 (0.410), 10 000 x 8² 0.061 vs 0.115, one 32² 0.052 vs 0.107
  (0.090); f32 10 000 x 32² 0.121 vs 0.322; c128 10 000 x 32² 0.498 vs 0.687 (0.736).  The solve
  with assume_a="pos" by the same kernel (H100): 10 000 x 32² f64, 1 rhs, 0.226 ms; torch's
  cholesky + cholesky_solve 0.955, CuPy's LU solve 0.590.
- EIGH, batch 32, syevjBatched vs looped syevd: n=128 9.6 vs 53.6, n=256 28.4 vs 66.8,
  n=512 135 vs 153; batch 128: syevjBatched 0.19 (n=16) to 20.5 ms (n=128), no cliff at n=33.
  Batch 128, syevjBatched vs syevBatched (third session): n=16 0.154 vs 0.233, n=32 0.257 vs
  0.340, n=33 0.518 vs 0.697, n=48 0.800 vs 0.619, n=64 1.13 vs 0.759, n=96 2.68 vs 1.37,
  n=128 20.0 vs 1.90.
- Jacobi kernel, slot layout (sixth session, H100, 2026-11-26), f64 µs per stateless call, kernel
  vs syevjBatched (CuPy's route) / gesvdjBatched: batch 128: eigh n=4 61 vs 113, n=16 103 vs 164,
  n=32 203-220 vs 266-271; svd n=16 126 vs 314, n=32 261-267 vs 402-411.  Batch 1000, n=32: eigh
  687 vs 807, svd 1073 vs 2502; batch 10 000: eigh n=16 664 vs 995, n=32 5611 vs 6201; svd n=32
  9404 vs 22 710.  One matrix, n=32: eigh 191 vs 279 (syevd), svd 261 vs 748 (gesvdj).  f32 alike
  (batch 10 000, n=32: eigh 2725 vs 3024).  The kernel wins at every n <= 32 and batch measured.
  Above n = 32 (two columns a lane; H200, batch 128, ms): eigh n=33 0.49 vs 0.73 (syevjBatched),
  n=48 0.61 vs 0.84, n=64 0.91 vs 0.99 (syevBatched); svd n=33 0.62 vs 144 (gesvdj), n=48 0.78
  vs 176, n=64 1.25 (CuPy 1.36 s at f32).  Batch 1000: eigh n=48 3.81 vs 2.85, n=64 6.15 vs 3.91
  (syevBatched wins); svd n=48 5.4 vs 1347.  One matrix, f64: eigh n=33 0.30 vs syevd 0.60 (torch
  0.52), n=48 0.49 vs 0.72, n=64 0.84 vs 0.85 (torch 0.78); svd n=33 0.45 vs gesvdp 1.61 (torch
  1.27), n=64 1.25 vs 2.30 (1.57); f32 n=64: eigh 0.46 vs 0.78, svd 0.65 vs 2.35.
- SVD, batch 128: gesvdj (looped) vs gesvd: n=48 177 vs 263, n=64 183 vs 355, n=96 316 vs 869,
  n=128 465 vs 1056; one 2048 matrix: gesvdp 66.7 (f32) / 75.3 (f64) vs gesvdj 208 / 352 vs
  gesvd 347 / 535.
- SVD accuracy (eighth session, H100), max |s - s_ref| / s_ref[0] against float64 LAPACK, one
  matrix: gesvdp in f32 6.2 (300x200 of rank 100), 9.9 (1024x512 of rank 256), 27 (2048², full
  rank): wrong values, not rounding; in f64 1e-10 to 3e-10 for matrices of half rank (gesvd 1e-15).
  gesvdj: f32 2e-4 to 3e-4 at 2048² (torch's, which runs it, alike), f64 7e-13.  gesvd: 6e-8 to
  3e-7 (f32), 9e-15 (f64) everywhere.  So the one-matrix default is gesvd; gesvdp stays an
  explicit driver.
"""

from __future__ import annotations

import contextlib
import logging
import threading

__all__ = ["CHOLESKY", "EIG", "EIGH", "SVD", "FACTOR", "SOLVE", "MIXED", "IRS_PRECISIONS", "Table", "choose", "calibrated",
           "overriding", "valid_rows"]

IRS_PRECISIONS = ("f32", "tf32", "f16", "bf16")  # the inner precisions of refine="mixed" on the GPU (cuSOLVER IRS)


class Table(tuple):
    """A crossover table: its ``(min_batch, max_n, choice)`` rows, the *name* that rows
    calibrated for a GPU (:func:`gpmath.solver.calibrate`) are kept under, and the *choices* such
    rows may name (by default those of the built-in rows)."""

    name: str
    choices: frozenset

    def __new__(cls, name: str, rows, choices=None):
        table = super().__new__(cls, rows)
        table.name = name
        table.choices = frozenset(row[2] for row in rows) if choices is None else frozenset(choices)
        return table


_lock = threading.Lock()
_overrides: dict[tuple[int, str], tuple] = {}  # (device, table name) -> rows, while calibrate() times them
_refused: set[tuple[str, str]] = set()  # (machine, table name) whose recorded rows were refused (warned once)
logger = logging.getLogger("gpmath")

EIGH = Table("EIGH", (  # "kernel": gpmath's Jacobi kernel (real matrices, where NVRTC is available)
    (1, 32, "kernel"),
    (256, 33, "syevjBatched"),  # many matrices: cuSOLVER's batch routines (1000 x 64²: 3.9 ms, kernel 6.2)
    (256, 128, "syevBatched"),
    (2, 64, "kernel"),  # fewer: the kernel to n = 64 (128 x 64²: 0.91 ms, syevBatched 0.99)
    (1, 48, "kernel"),  # one matrix: to n = 48 (48²: 0.49, syevd 0.63-0.72; 64²: 0.81-0.84, syevd 0.77-0.85)
    (2, 33, "syevjBatched"),  # Jacobi wins for tiny matrices
    (2, 128, "syevBatched"),  # tridiagonal reduction of the whole batch: 1.3-10x faster than Jacobi at n = 48-128
    (2, 512, "syevjBatched"),  # (syevBatched not measured above n = 128)
    (1, None, "syevd"),
))
SVD = Table("SVD", (  # "kernel": gpmath's Jacobi kernel (real square matrices, where NVRTC is available)
    (1, 64, "kernel"),  # 130-290x faster than gesvdj's loop at n = 33-64 (one 64²: 1.25 ms, gesvdj 1.55, gesvdp 2.30)
    (2, 32, "gesvdjBatched"),  # one launch for the whole batch
    (2, 256, "gesvdj"),  # Jacobi, one matrix at a time
    (1, None, "gesvd"),  # QR iteration: the only LAPACK-accurate one (gesvdp, 3-5x faster, was wrong in f32)
))
SOLVE = Table("SOLVE", (  # A x = b: gpmath's one-launch kernels (one warp a matrix; LU, or Cholesky for assume_a="pos")
    (1, 32, "kernel"),
    (1, None, "factor"),  # getrf + getrs, by the FACTOR table
))
CHOLESKY = Table("CHOLESKY", (  # the Cholesky factor: gpmath's one-launch kernel (one warp a matrix) where NVRTC is available
    (1, 32, "kernel"),
    (1, None, "factor"),  # potrf, by the FACTOR table
))
MIXED = Table("MIXED", (  # refine="mixed": the inner precision of cuSOLVER's IRS LU, by the GPU's rates
    # H100 (2026-11-25), f64 solve vs torch.linalg.solve: n = 16384 f32 0.94x (f64 has tensor cores on
    # Hopper: an f32 LU is no faster), tf32 1.30x, f16 1.37x; n = 32768 tf32 1.78x, f16 2.05x (residual
    # 5.9x and 3.8x torch's); n = 8192 all within 5 %.  tf32 keeps float32's range; float16's ends at
    # 65504, beyond which its LU overflows (f16: asked for, never chosen).  calibrate() times f32, tf32
    # and bf16 on the user's GPU (another replaces tf32 where it is 10 % faster).
    (1, None, "tf32"),
), choices=IRS_PRECISIONS)
EIG = Table("EIG", (  # general eigenproblems of device operands: "host": LAPACK's geev on the CPU, the
    # matrices copied down and the results up; "geev": cusolverDnXgeev, one matrix at a time.  cuSOLVER's
    # geev takes milliseconds at any small order (H100, one 64² f64: 6.4 ms with vectors; torch's MAGMA
    # 4.9), LAPACK's about 1 ms on a 2-core CPU; at 512 the GPU's is twice as fast.  Host / geev, H100 host
    # (16 cores), session 32, eig with vectors: f64 n=64 0.43, 128 0.60, 192 0.77, 256 1.13; f32 128 0.86,
    # 256 1.36; c128 64 0.89, 128 1.06 (eigvals: 0.61); batch 8 of 128² f64 0.62 (torch 1.6x the host's time).
    (1, 128, "host"),
    (1, None, "geev"),
))
FACTOR = Table("FACTOR", (  # Cholesky and LU: the batched (pointer-array) routines for many small matrices
    (2, 512, "batched"),
    (1, None, "looped"),
))


def choose(table: Table, n: int, batch: int, kernel: bool = True, device_id: int | None = None) -> str:
    """The routine the table picks for a batch of *batch* matrices of size *n* (skipping the
    ``"kernel"`` rows unless *kernel*: gpmath's kernel can take the matrices); with *device_id*,
    from the rows calibrated for that GPU where there are some (:func:`calibrated`)."""
    rows = table if device_id is None else calibrated(table, device_id)
    for min_batch, max_n, choice in rows:
        if batch >= min_batch and (max_n is None or n <= max_n) and (kernel or choice != "kernel"):
            return choice
    raise ValueError(f"the crossover table has no row for n={n}, batch={batch}")


@contextlib.contextmanager
def overriding(table: Table, device_id: int, rows):
    """Within the block, *device_id*'s plans made in this process route by *rows* in place of
    *table*'s (how :func:`gpmath.solver.calibrate` times each route)."""
    key = (device_id, table.name)
    with _lock:
        _overrides[key] = tuple(tuple(row) for row in rows)
    try:
        yield
    finally:
        with _lock:
            _overrides.pop(key, None)


def calibrated(table: Table, device_id: int) -> tuple:
    """*table*'s rows for *device_id*: those recorded in :mod:`gpmath.wisdom` by
    :func:`gpmath.solver.calibrate` on a GPU of the same model with the same cuSOLVER, else the
    table's own (a plain tuple, e.g. a test's, is its own rows)."""
    name = getattr(table, "name", None)
    if name is None:
        return table
    rows = _overrides.get((device_id, name))
    if rows is not None:
        return rows
    from .._core import wisdom

    if not wisdom.holds("solver"):  # (and no GPU query where there is no calibration)
        return table
    from ._device import LIBRARIES

    machine = wisdom.machine(device_id, "cusolver", LIBRARIES.cs.get_version())
    choice = wisdom.lookup("solver", machine, name)
    if choice is None:
        return table
    rows = valid_rows(table, choice.get("rows"))
    if rows is None and (machine, name) not in _refused:
        _refused.add((machine, name))
        logger.warning("solver: the %s rows gpmath.wisdom holds for %s are not a crossover table (%r); the built-in "
                       "rows route instead (run gpmath.solver.calibrate() again)", name, machine, choice.get("rows"))
    return table if rows is None else rows


def valid_rows(table: Table, rows) -> tuple | None:
    """*rows* as a table of *table*'s choices, or None where they are not one: each row
    ``(min_batch >= 1, max_n >= 1 or None, a choice of table's)``, the last for every batch and
    size ``(1, None, choice)``.

    Examples
    --------
    >>> valid_rows(FACTOR, [[2, 768, "batched"], [1, None, "looped"]])
    ((2, 768, 'batched'), (1, None, 'looped'))
    >>> valid_rows(FACTOR, [[2, 768, "batched"]]) is None  # no row for one matrix
    True
    """
    choices = getattr(table, "choices", None) or {row[2] for row in table}
    count = lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 1  # noqa: E731
    try:
        found = tuple((b, n, c) for b, n, c in rows)
    except (TypeError, ValueError):  # not a sequence of triples
        return None
    fine = all(count(b) and (n is None or count(n)) and isinstance(c, str) and c in choices for b, n, c in found)
    return found if fine and found and found[-1][:2] == (1, None) else None
