"""``BlockCyclic``: ScaLAPACK's 2-D block-cyclic distribution of a matrix (what cuBLASMp reads).

The global ``m x n`` matrix is cut into ``mb x nb`` blocks, dealt round-robin over a
``nprow x npcol`` process grid: block ``(I, J)`` goes to grid position
``((I + rsrc) % nprow, (J + csrc) % npcol)``.  Ranks fill the grid in column-major order
(rank ``r`` sits at ``(r % nprow, r // nprow)``), as cuBLASMp's ``CUBLASMP_GRID_LAYOUT_COL_MAJOR``.
Each rank stores its blocks as one column-major (Fortran-ordered) local matrix.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._descriptors import _count, _ints, numroc, process_grid

__all__ = ["BlockCyclic"]


class BlockCyclic:
    """A matrix in 2-D block-cyclic distribution over a process grid.

    Parameters
    ----------
    shape : (int, int)
        Global shape ``(m, n)``.
    blocks : (int, int), optional
        Block shape ``(mb, nb)``; by default ``(ceil(m / nprow), ceil(n / npcol))``: one block
        per process (a plain 2-D block distribution).
    grid : (int, int), optional
        Process grid ``(nprow, npcol)``; by default :func:`process_grid` of *nranks*.
    nranks : int, optional
        Number of ranks, to choose the grid; by default the size of the communicator given to
        :func:`gpmath.distributed.initialize`.
    source : (int, int), default (0, 0)
        Grid position of the first block.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.distributed import BlockCyclic
    >>> d = BlockCyclic((5, 4), blocks=(2, 2), grid=(2, 1))
    >>> d.local_shape(0), d.local_shape(1)
    ((3, 4), (2, 4))
    >>> a = np.arange(20.0).reshape(5, 4)
    >>> parts = [d.local_part(a, r) for r in range(2)]
    >>> parts[1][:, 0].tolist()
    [8.0, 12.0]
    >>> bool((d.assemble(parts) == a).all())
    True
    """

    __slots__ = ("shape", "blocks", "grid", "source")

    def __init__(self, shape: Sequence[int], blocks: Sequence[int] | None = None, grid: Sequence[int] | None = None,
                 *, nranks: int | None = None, source: Sequence[int] = (0, 0)):
        self.shape = _pair(shape, "shape", 1)
        if grid is None:
            grid = process_grid(_default_nranks() if nranks is None else nranks)
        elif nranks is not None and math.prod(_pair(grid, "grid", 1)) != nranks:
            raise ValueError(f"grid {tuple(grid)} has {math.prod(grid)} processes but nranks={nranks}")
        self.grid = _pair(grid, "grid", 1)
        if blocks is None:
            blocks = tuple(-(-n // p) for n, p in zip(self.shape, self.grid))
        self.blocks = _pair(blocks, "blocks", 1)
        self.source = _pair(source, "source", 0)
        if any(s >= p for s, p in zip(self.source, self.grid)):
            raise ValueError(f"source {self.source} is outside the {self.grid} grid")

    @property
    def nranks(self) -> int:
        """Processes in the grid."""
        return self.grid[0] * self.grid[1]

    def coords(self, rank: int) -> tuple[int, int]:
        """Grid position ``(prow, pcol)`` of *rank* (column-major)."""
        if not 0 <= rank < self.nranks:
            raise ValueError(f"rank {rank} is not in the {self.grid} grid (0..{self.nranks - 1})")
        return rank % self.grid[0], rank // self.grid[0]

    def local_shape(self, rank: int) -> tuple[int, int]:
        """Shape of the local matrix *rank* holds."""
        prow, pcol = self.coords(rank)
        (m, n), (mb, nb), (nprow, npcol), (rsrc, csrc) = self.shape, self.blocks, self.grid, self.source
        return numroc(m, mb, prow, rsrc, nprow), numroc(n, nb, pcol, csrc, npcol)

    def local_indices(self, rank: int) -> tuple[np.ndarray, np.ndarray]:
        """Global row and column indices of *rank*'s local rows and columns, in local order."""
        position = self.coords(rank)
        return tuple(_owned(n, nb, p, src, procs) for n, nb, p, src, procs in
                     zip(self.shape, self.blocks, position, self.source, self.grid))

    def local_part(self, matrix: Any, rank: int) -> np.ndarray:
        """*rank*'s local matrix cut out of the global NumPy *matrix* (Fortran-ordered copy)."""
        matrix = np.asarray(matrix)
        if matrix.shape != self.shape:
            raise ValueError(f"the matrix has shape {matrix.shape} but the distribution is of {self.shape}")
        rows, cols = self.local_indices(rank)
        return np.asfortranarray(matrix[np.ix_(rows, cols)])

    def assemble(self, parts: Sequence) -> np.ndarray:
        """The global matrix from every rank's local matrix (NumPy arrays, in rank order)."""
        if len(parts) != self.nranks:
            raise ValueError(f"{len(parts)} parts given for a grid of {self.nranks} processes")
        parts = [np.asarray(p) for p in parts]
        out = np.empty(self.shape, dtype=np.result_type(*parts))
        for rank, part in enumerate(parts):
            if part.shape != self.local_shape(rank):
                raise ValueError(f"rank {rank}'s part has shape {part.shape}, not {self.local_shape(rank)}")
            out[np.ix_(*self.local_indices(rank))] = part
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, BlockCyclic) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, s) for s in self.__slots__))

    def __repr__(self) -> str:
        return f"BlockCyclic(shape={self.shape}, blocks={self.blocks}, grid={self.grid}, source={self.source})"


def _pair(values, name: str, minimum: int) -> tuple[int, int]:
    pair = _ints(values, name, minimum)
    if len(pair) != 2:
        raise ValueError(f"{name} must have two entries, not {len(pair)}")
    return pair


def _owned(n: int, nb: int, position: int, source: int, procs: int) -> np.ndarray:
    """Global indices along one axis owned by grid *position*, in local order."""
    first_block = (position - source) % procs
    starts = np.arange(first_block * nb, n, procs * nb)
    if starts.size == 0:
        return np.zeros(0, dtype=np.intp)
    idx = (starts[:, None] + np.arange(nb)[None, :]).ravel()
    return idx[idx < n]


def _default_nranks() -> int:
    from ._runtime import current

    return _count(current().size, "nranks")
