"""How a distributed array is split across ranks: ``Box``, ``Slab`` and ``BlockCyclic``.

Pure Python and NumPy (no GPU, no MPI): each descriptor answers which part of the global array a
rank holds, and can cut a rank's part out of a global NumPy array or put the parts back together
(for tests, and to build inputs).  Ranks are numbered as in the communicator given to
:func:`gpmath.distributed.initialize`.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

__all__ = ["Box", "Slab", "process_grid", "numroc", "check_tiling"]  # BlockCyclic: _block_cyclic.py


def _ints(values, name: str, minimum: int) -> tuple[int, ...]:
    try:
        out = tuple(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of integers, not {type(values).__name__}") from None
    for v in out:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must hold integers, not {v!r}")
        if v < minimum:
            raise ValueError(f"{name} must hold integers >= {minimum}, got {out}")
    return tuple(int(v) for v in out)


def _count(value, name: str, minimum: int = 1) -> int:
    return _ints((value,), name, minimum)[0]


class Box:
    """The part ``[lower, upper)`` (half-open on every axis) of a global array held by one rank.

    Parameters
    ----------
    lower, upper : sequence of int
        First index and one past the last index on each axis; ``lower <= upper``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.distributed import Box
    >>> box = Box((0, 2), (4, 6))
    >>> box.shape
    (4, 4)
    >>> np.arange(48).reshape(6, 8)[box.slices].shape
    (4, 4)
    """

    __slots__ = ("lower", "upper")

    def __init__(self, lower: Sequence[int], upper: Sequence[int]):
        lower, upper = _ints(lower, "lower", 0), _ints(upper, "upper", 0)
        if len(lower) != len(upper):
            raise ValueError(f"lower {lower} and upper {upper} have different lengths")
        if any(lo > up for lo, up in zip(lower, upper)):
            raise ValueError(f"lower {lower} must not exceed upper {upper} on any axis")
        self.lower, self.upper = lower, upper

    @property
    def shape(self) -> tuple[int, ...]:
        """Extent on each axis."""
        return tuple(up - lo for lo, up in zip(self.lower, self.upper))

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def slices(self) -> tuple[slice, ...]:
        """Index of this box in the global array."""
        return tuple(slice(lo, up) for lo, up in zip(self.lower, self.upper))

    def intersect(self, other: "Box") -> "Box | None":
        """The common part of two boxes, or None when they share no element."""
        lower = tuple(max(a, b) for a, b in zip(self.lower, other.lower))
        upper = tuple(min(a, b) for a, b in zip(self.upper, other.upper))
        if any(lo >= up for lo, up in zip(lower, upper)):
            return None
        return Box(lower, upper)

    def __eq__(self, other) -> bool:
        return isinstance(other, Box) and (self.lower, self.upper) == (other.lower, other.upper)

    def __hash__(self) -> int:
        return hash((self.lower, self.upper))

    def __repr__(self) -> str:
        return f"Box(lower={self.lower}, upper={self.upper})"


def check_tiling(boxes: Sequence[Box], global_shape: Sequence[int]) -> None:
    """Raise ``ValueError`` unless *boxes* (one per rank) tile *global_shape* exactly once.

    Examples
    --------
    >>> from gpmath.distributed import Box, check_tiling
    >>> check_tiling([Box((0, 0), (2, 4)), Box((2, 0), (4, 4))], (4, 4))
    """
    shape = _ints(global_shape, "global_shape", 0)
    for rank, box in enumerate(boxes):
        if len(box.lower) != len(shape):
            raise ValueError(f"rank {rank}'s {box!r} has {len(box.lower)} axes but the array has {len(shape)}")
        if any(up > n for up, n in zip(box.upper, shape)):
            raise ValueError(f"rank {rank}'s {box!r} reaches beyond the global shape {shape}")
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            if a.intersect(boxes[j]) is not None:
                raise ValueError(f"rank {i}'s {a!r} overlaps rank {j}'s {boxes[j]!r}")
    covered = sum(box.size for box in boxes)
    if covered != math.prod(shape):
        raise ValueError(f"the boxes cover {covered} elements of the {math.prod(shape)} in the global shape {shape}")


class Slab:
    """Slabs along one axis: rank ``r`` holds a contiguous range of indices on *axis* and all
    of every other axis.

    An extent ``N`` over ``P`` ranks gives the first ``N % P`` ranks ``N // P + 1`` indices and
    the others ``N // P`` (cuFFTMp's slab layout).

    Parameters
    ----------
    axis : int
        The split axis (negative counts from the end).

    Examples
    --------
    >>> from gpmath.distributed import Slab
    >>> [b.shape for b in Slab(0).boxes((10, 4), 4)]
    [(3, 4), (3, 4), (2, 4), (2, 4)]
    """

    __slots__ = ("axis",)

    def __init__(self, axis: int):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"axis must be an integer, not {type(axis).__name__}")
        self.axis = int(axis)

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"axis {self.axis} is out of range for a {ndim}-D array")
        return self.axis % ndim

    def box(self, global_shape: Sequence[int], rank: int, nranks: int) -> Box:
        """The :class:`Box` rank *rank* of *nranks* holds."""
        shape = _ints(global_shape, "global_shape", 0)
        nranks = _count(nranks, "nranks")
        if not 0 <= rank < nranks:
            raise ValueError(f"rank {rank} is not in 0..{nranks - 1}")
        axis = self._axis(len(shape))
        base, extra = divmod(shape[axis], nranks)
        start = rank * base + min(rank, extra)
        lower, upper = [0] * len(shape), list(shape)
        lower[axis], upper[axis] = start, start + base + (rank < extra)
        return Box(lower, upper)

    def boxes(self, global_shape: Sequence[int], nranks: int) -> list[Box]:
        """Every rank's :class:`Box`, in rank order."""
        return [self.box(global_shape, r, nranks) for r in range(_count(nranks, "nranks"))]

    def __eq__(self, other) -> bool:
        return isinstance(other, Slab) and other.axis == self.axis

    def __hash__(self) -> int:
        return hash(("Slab", self.axis))

    def __repr__(self) -> str:
        return f"Slab({self.axis})"


def numroc(n: int, nb: int, iproc: int, isrcproc: int, nprocs: int) -> int:
    """Length of the part of an ``n``-long axis, in blocks of ``nb`` dealt round-robin over
    *nprocs* processes starting at *isrcproc*, that process *iproc* holds (ScaLAPACK's NUMROC).

    Examples
    --------
    >>> from gpmath.distributed import numroc
    >>> [numroc(10, 3, p, 0, 2) for p in range(2)]
    [6, 4]
    """
    dist = (nprocs + iproc - isrcproc) % nprocs
    blocks = n // nb
    count = (blocks // nprocs) * nb
    extra = blocks % nprocs
    if dist < extra:
        count += nb
    elif dist == extra:
        count += n % nb
    return count


def process_grid(nranks: int) -> tuple[int, int]:
    """The most nearly square ``(nprow, npcol)`` grid of *nranks* processes, ``nprow <= npcol``.

    Examples
    --------
    >>> from gpmath.distributed import process_grid
    >>> process_grid(1), process_grid(2), process_grid(4), process_grid(6)
    ((1, 1), (1, 2), (2, 2), (2, 3))
    """
    nranks = _count(nranks, "nranks")
    rows = next(p for p in range(math.isqrt(nranks), 0, -1) if nranks % p == 0)
    return rows, nranks // rows
