"""Which cuSOLVER routine a batched call uses: the crossover table, as data to tune from measurements.

Each table lists ``(min_batch, max_n, choice)`` rows; the first row with ``batch >= min_batch``
and ``n <= max_n`` wins (``max_n`` None: any size).  The first values come from PERF_NOTES.md:
batched Jacobi (``syevjBatched``) stays at 0.3-21 ms for 128 matrices up to n=128 where a loop of
``syevd`` takes 59-206 ms, with no cliff at n=33; ``gesvdjBatched`` exists for m, n <= 32 only.
Re-measure with ``bench/linalg.py`` and edit the rows.
"""

from __future__ import annotations

__all__ = ["EIGH", "SVD", "FACTOR", "choose"]

EIGH = (
    (2, 512, "syevjBatched"),
    (1, None, "syevd"),
)
SVD = (
    (2, 32, "gesvdjBatched"),  # one launch for the whole batch
    (2, 256, "gesvdj"),  # Jacobi, one matrix at a time
    (1, None, "gesvd"),
)
FACTOR = (  # Cholesky and LU: the batched (pointer-array) routines for many small matrices
    (2, 128, "batched"),
    (1, None, "looped"),
)


def choose(table, n: int, batch: int) -> str:
    """The routine the table picks for a batch of *batch* matrices of size *n*."""
    for min_batch, max_n, choice in table:
        if batch >= min_batch and (max_n is None or n <= max_n):
            return choice
    raise ValueError(f"the crossover table has no row for n={n}, batch={batch}")
