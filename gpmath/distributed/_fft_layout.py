"""Where a distributed FFT's data lie: global shapes, every rank's boxes, and what cuFFTMp is told.

Pure Python (no MPI, no GPU): :func:`fft_layout` takes what every rank reported at plan time
(its local shape, and its boxes where the caller gave boxes) and returns a :class:`FFTLayout`, or
raises ``ValueError`` naming the argument and the rank at fault.  Every rank computes the same
layout from the same gathered reports, so every rank raises the same error.

Conventions (see :mod:`gpmath.distributed._fft` for why):

- ``Slab(0)`` input gives ``Slab(1)`` output and ``Slab(1)`` gives ``Slab(0)``; c2c slabs use
  cuFFTMp's built-in slab formats (``CUFFT_XT_FORMAT_INPLACE`` = slabs of axis 0,
  ``..._INPLACE_SHUFFLED`` = slabs of axis 1), r2c/c2r slabs become boxes.
- Boxes go to ``cufftXtSetDistribution``; for r2c and c2r its "input" is always the real box and
  its "output" the complex box (cuFFTMp's rule), and the data start in
  ``CUFFT_XT_FORMAT_DISTRIBUTED_INPUT`` (c2c, r2c) or ``..._DISTRIBUTED_OUTPUT`` (c2r).
- Local data are C-ordered in the symmetric buffer; a real box holding whole rows of the last
  axis is padded to ``2 * (n // 2 + 1)`` elements per row, as cuFFTMp's in-place samples do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .._bindings.cufftmp import SubFormat
from ._descriptors import Box, Slab, check_tiling

__all__ = ["FFTLayout", "fft_layout", "complex_shape", "default_out_box", "contiguous_strides"]

KINDS = ("c2c", "r2c", "c2r")


def complex_shape(real_shape: Sequence[int]) -> tuple[int, ...]:
    """The Hermitian half-spectrum's shape of a real array: last axis ``n // 2 + 1``.

    Examples
    --------
    >>> from gpmath.distributed._fft_layout import complex_shape
    >>> complex_shape((6, 7, 9))
    (6, 7, 5)
    """
    return tuple(real_shape[:-1]) + (real_shape[-1] // 2 + 1,)


def contiguous_strides(shape: Sequence[int], row: int | None = None) -> tuple[int, ...]:
    """C-order element strides of *shape*, with rows (the last axis) *row* elements apart.

    Examples
    --------
    >>> from gpmath.distributed._fft_layout import contiguous_strides
    >>> contiguous_strides((2, 3, 5)), contiguous_strides((2, 3, 5), row=6)
    ((15, 5, 1), (18, 6, 1))
    """
    strides, step = [], 1
    for i, n in enumerate(reversed(shape)):
        strides.append(step)
        step *= (row if row is not None and i == 0 else n)
    return tuple(reversed(strides))


@dataclass(frozen=True)
class FFTLayout:
    """The layout of one distributed transform (all ranks), and this rank's part of it."""

    kind: str
    rank: int
    shape_in: tuple[int, ...]  # global input shape
    shape_out: tuple[int, ...]  # global output shape
    plan_shape: tuple[int, ...]  # what cufftMakePlan2d/3d gets (the real shape for r2c/c2r)
    in_boxes: tuple[Box, ...]
    out_boxes: tuple[Box, ...]
    in_slab: int | None  # split axis of Slab input, else None
    in_strides: tuple[int, ...]  # this rank's input in the symmetric buffer (elements)
    out_strides: tuple[int, ...]
    subformat: int  # the descriptor's subformat before execution
    malloc_format: int  # for cufftXtMalloc
    distribution: tuple | None  # cufftXtSetDistribution's six sequences, or None (built-in slabs)

    @property
    def in_box(self) -> Box:
        return self.in_boxes[self.rank]

    @property
    def out_box(self) -> Box:
        return self.out_boxes[self.rank]

    @property
    def out_distribution(self) -> Slab | Box:
        """``Slab`` of the other axis for slab input, else this rank's output :class:`Box`."""
        return self.out_box if self.in_slab is None else Slab(1 - self.in_slab)

    @property
    def size(self) -> int:
        """Elements of the logical transform (what ``norm`` divides by)."""
        return math.prod(self.plan_shape)

    def spans(self) -> tuple[int, int]:
        """Elements from the first to one past the last of this rank's input and output."""
        return tuple(_span(box.shape, strides) for box, strides in
                     ((self.in_box, self.in_strides), (self.out_box, self.out_strides)))


def _span(shape, strides) -> int:
    if 0 in shape:
        return 0
    return sum((n - 1) * s for n, s in zip(shape, strides)) + 1


def fft_layout(kind: str, distributions: Sequence, local_shapes: Sequence[tuple[int, ...]], rank: int,
               out_boxes: Sequence[Box | None] | None = None, s: Sequence[int] | None = None) -> FFTLayout:
    """The :class:`FFTLayout` for the parts every rank reported, or a ``ValueError``.

    Parameters
    ----------
    kind : {"c2c", "r2c", "c2r"}
    distributions : sequence of Slab or Box
        Every rank's ``distribution`` argument, in rank order: one :class:`Slab` on every rank,
        or a :class:`Box` per rank.
    local_shapes : sequence of tuple
        Every rank's local input shape, in rank order.
    rank : int
        This rank.
    out_boxes : sequence of Box or None, optional
        Every rank's ``out_box`` argument (Box distributions; None: the default).
    s : sequence of int, optional
        c2r: the global real output shape (default: last axis ``2 * (m - 1)``).

    Examples
    --------
    >>> from gpmath.distributed import Slab
    >>> from gpmath.distributed._fft_layout import fft_layout
    >>> lay = fft_layout("c2c", [Slab(0), Slab(0)], [(3, 4, 5), (2, 4, 5)], rank=1)
    >>> lay.shape_in, lay.out_box, lay.out_distribution
    ((5, 4, 5), Box(lower=(0, 2, 0), upper=(5, 4, 5)), Slab(1))
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    nranks = len(local_shapes)
    ndim = _check_ndim(local_shapes)
    distribution = _common_kind(distributions)
    if out_boxes is None:
        out_boxes = [None] * nranks
    if isinstance(distribution, Slab):
        axis = distribution._axis(ndim)
        if axis not in (0, 1):
            raise ValueError(f"distribution={distribution!r}: cuFFTMp's slabs split axis 0 or 1; pass a Box per rank "
                             "for other layouts")
        shape_in = _slab_global_shape(local_shapes, axis)
        in_boxes = Slab(axis).boxes(shape_in, nranks)
        _check_local_shapes(local_shapes, in_boxes, f"its part of {distribution!r}")
        shape_out = _output_shape(kind, shape_in, s)
        out_boxes = Slab(1 - axis).boxes(shape_out, nranks)
        for name, shape, ax in (("input", shape_in, axis), ("output", shape_out, 1 - axis)):
            if shape[ax] < nranks:
                raise ValueError(f"distribution={distribution!r}: the {name}'s axis {ax} has {shape[ax]} indices, fewer "
                                 f"than the {nranks} ranks; use fewer ranks or Boxes")
    elif isinstance(distribution, Box):
        axis = None
        in_boxes = _gathered_boxes(distributions, ndim, "distribution")
        shape_in = tuple(max(b.upper[i] for b in in_boxes) for i in range(ndim))
        _check_boxes(in_boxes, shape_in, "distribution")
        _check_local_shapes(local_shapes, in_boxes, "its Box")
        shape_out = _output_shape(kind, shape_in, s)
        out_boxes = [default_out_box(kind, box, shape_in, shape_out) if out is None else out
                     for box, out in zip(in_boxes, _gathered_boxes(out_boxes, ndim, "out_box", allow_none=True))]
        _check_boxes(out_boxes, shape_out, "out_box")
    return _cufftmp_layout(kind, rank, shape_in, shape_out, tuple(in_boxes), tuple(out_boxes), axis)


def _common_kind(distributions):
    """This layout's kind of distribution: the Slab every rank passed, or a Box (each its own)."""
    for r, dist in enumerate(distributions):
        if not isinstance(dist, (Slab, Box)):
            raise TypeError(f"distribution must be a gpmath.distributed.Slab or Box, not {type(dist).__name__} "
                            f"(rank {r})")
    first = distributions[0]
    same = all(d == first for d in distributions) if isinstance(first, Slab) else all(isinstance(d, Box)
                                                                                       for d in distributions)
    if not same:
        raise ValueError(f"distribution must be the same Slab on every rank, or a Box on every rank; the ranks "
                         f"passed {list(distributions)}")
    return first


def _check_ndim(local_shapes) -> int:
    ndims = {len(shape) for shape in local_shapes}
    for r, shape in enumerate(local_shapes):
        if len(shape) not in (2, 3):
            raise ValueError(f"x must be 2-D or 3-D (cuFFTMp transforms 2-D and 3-D arrays), but rank {r}'s part "
                             f"has shape {tuple(shape)}")
    if len(ndims) > 1:
        raise ValueError(f"x must have the same number of axes on every rank; got shapes {list(map(tuple, local_shapes))}")
    return ndims.pop()


def _slab_global_shape(local_shapes, axis: int) -> tuple[int, ...]:
    first = local_shapes[0]
    for r, shape in enumerate(local_shapes):
        others = [n for i, n in enumerate(shape) if i != axis]
        if others != [n for i, n in enumerate(first) if i != axis]:
            raise ValueError(f"x on rank {r} has shape {tuple(shape)} but rank 0's is {tuple(first)}: slabs of axis "
                             f"{axis} must agree on every other axis")
    shape = list(first)
    shape[axis] = sum(s[axis] for s in local_shapes)
    return tuple(shape)


def _check_local_shapes(local_shapes, boxes, what: str) -> None:
    for r, (shape, box) in enumerate(zip(local_shapes, boxes)):
        if tuple(shape) != box.shape:
            raise ValueError(f"x on rank {r} has shape {tuple(shape)}, but {what} is {box.shape} ({box!r})")


def _gathered_boxes(boxes, ndim: int, name: str, allow_none: bool = False) -> list:
    for r, box in enumerate(boxes):
        if box is None and allow_none:
            continue
        if not isinstance(box, Box):
            raise TypeError(f"{name} must be a gpmath.distributed.Box on every rank; rank {r} passed "
                            f"{type(box).__name__}")
        if len(box.lower) != ndim:
            raise ValueError(f"{name} on rank {r} is {box!r}, of {len(box.lower)} axes, but x has {ndim}")
    return list(boxes)


def _check_boxes(boxes, shape, name: str) -> None:
    for r, box in enumerate(boxes):
        if box.size == 0:
            raise ValueError(f"{name} on rank {r} is the empty {box!r}: every rank must hold part of the array")
    try:
        check_tiling(boxes, shape)
    except ValueError as exc:
        raise ValueError(f"{name}: the boxes of the ranks do not tile the global shape {tuple(shape)}: {exc}") from None


def _output_shape(kind: str, shape_in: tuple[int, ...], s) -> tuple[int, ...]:
    if kind == "r2c":
        return complex_shape(shape_in)
    if kind == "c2c":
        return shape_in
    if s is None:
        return shape_in[:-1] + (2 * (shape_in[-1] - 1),)
    real = tuple(int(n) for n in s)
    if len(real) != len(shape_in) or real[:-1] != shape_in[:-1] or real[-1] // 2 + 1 != shape_in[-1] or real[-1] < 1:
        raise ValueError(f"s={tuple(s)} does not fit the complex input of global shape {shape_in}: s must equal the "
                         f"input shape but for the last axis, with s[-1] // 2 + 1 == {shape_in[-1]} (no cropping or "
                         "zero-padding in distributed transforms)")
    return real


def default_out_box(kind: str, box: Box, shape_in, shape_out) -> Box:
    """The output box when the caller gave none: the input box, with the last axis mapped
    between real and complex lengths for r2c/c2r (which needs the box to span that axis).

    Examples
    --------
    >>> from gpmath.distributed import Box
    >>> from gpmath.distributed._fft_layout import default_out_box
    >>> default_out_box("r2c", Box((0, 0), (4, 8)), (8, 8), (8, 5))
    Box(lower=(0, 0), upper=(4, 5))
    """
    if kind == "c2c":
        return box
    if (box.lower[-1], box.upper[-1]) != (0, shape_in[-1]):
        raise ValueError(f"out_box is needed: {box!r} does not span the last axis, so its {kind} output box cannot "
                         "be derived from it")
    return Box(box.lower, tuple(box.upper[:-1]) + (shape_out[-1],))


def _real_strides(box: Box, n: int) -> tuple[int, ...]:
    whole_rows = (box.lower[-1], box.upper[-1]) == (0, n)
    return contiguous_strides(box.shape, 2 * (n // 2 + 1) if whole_rows else None)


def _cufftmp_layout(kind, rank, shape_in, shape_out, in_boxes, out_boxes, axis) -> FFTLayout:
    in_box, out_box = in_boxes[rank], out_boxes[rank]
    in_strides, out_strides = contiguous_strides(in_box.shape), contiguous_strides(out_box.shape)
    distribution = None
    plan_shape = shape_out if kind == "c2r" else shape_in
    if kind == "c2c" and axis is not None:
        subformat = SubFormat.CUFFT_XT_FORMAT_INPLACE if axis == 0 else SubFormat.CUFFT_XT_FORMAT_INPLACE_SHUFFLED
        malloc = SubFormat.CUFFT_XT_FORMAT_INPLACE
    else:
        if kind == "r2c":
            in_strides = _real_strides(in_box, shape_in[-1])
            real, cplx, real_strides, cplx_strides = in_box, out_box, in_strides, out_strides
        elif kind == "c2r":
            out_strides = _real_strides(out_box, shape_out[-1])
            real, cplx, real_strides, cplx_strides = out_box, in_box, out_strides, in_strides
        else:
            real, cplx, real_strides, cplx_strides = in_box, out_box, in_strides, out_strides
        distribution = (real.lower, real.upper, cplx.lower, cplx.upper, real_strides, cplx_strides)
        subformat = malloc = (SubFormat.CUFFT_XT_FORMAT_DISTRIBUTED_OUTPUT if kind == "c2r"
                              else SubFormat.CUFFT_XT_FORMAT_DISTRIBUTED_INPUT)
    return FFTLayout(kind, rank, shape_in, shape_out, plan_shape, in_boxes, out_boxes, axis, in_strides, out_strides,
                     int(subformat), int(malloc), distribution)
