"""Pure layout maths: strides -> cuFFT advanced-layout plans (no GPU, no arrays, just integers).

cuFFT's advanced layout (``cufftXtMakePlanMany``) addresses element ``(b, i_0, ..., i_{r-1})``
of a rank-*r* batched transform at::

    b * idist + ((i_0 * embed[1] + i_1) * embed[2] + ... + i_{r-1}) * stride

so the transformed axes must *nest*: ordered outermost first, each axis's stride must be an
integer multiple ``embed[k]`` (at least the axis length) of the next one's.  The order of the
transformed axes is free for a complex transform (the n-D DFT is separable), but r2c/c2r halve
cuFFT's innermost axis, which must therefore be SciPy's last axis.  The non-transformed (batch)
axes must fold into one ``idist``; where they fold into several groups, the largest group is
cuFFT's batch and the others are walked by a short loop of launches at offset pointers.

When the caller's strides cannot be expressed (non-nesting strides, zero or negative strides,
padding to a larger *n*, an r2c/c2r whose halved axis is not the innermost, c2r's input that
cuFFT would overwrite, too many loop launches), the input is copied once into a dense,
zero-padded buffer whose batch axes come first and transformed axes last; everything then nests.

The output is always allocated by gpmath, dense, in the input's memory order (so a C-ordered
input gives a C-ordered output).  cuFFT plans rank 1-3; more transformed axes run as several
passes, the later ones in place on the output (c2r: in place on the input buffer, before the
c2r pass).  Size-1 axes carry arbitrary strides and are ignored.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

__all__ = ["Pass", "Layout", "plan_layout", "transform_shapes", "dense_strides", "non_overlapping", "KINDS", "MAX_RANK",
           "MAX_LOOPS"]

KINDS = ("c2c", "r2c", "c2r")
MAX_RANK = 3  # cufftXtMakePlanMany's rank limit
# Launches at offset pointers accepted before copying to a dense buffer instead.  Not measured:
# each extra launch costs a few microseconds of host time, a copy costs two passes over memory.
MAX_LOOPS = 16


@dataclass(frozen=True)
class Pass:
    """One ``cufftXtMakePlanMany`` plan and the launches that run it.

    Attributes
    ----------
    kind : str
        ``"c2c"``, ``"r2c"`` or ``"c2r"``.
    n : tuple of int
        Logical transform lengths, outermost first (rank ``len(n)``, 1 to 3).
    inembed, istride, idist, onembed, ostride, odist, batch
        The advanced layout, in elements of the source and target types.
    direction : int or None
        -1 (forward) or +1 (inverse) where the pass is part of a real transform (r2c: forward,
        c2r: inverse, their c2c passes alike); None where the caller chooses.
    source, target : str
        ``"input"`` (the input buffer: the caller's array or gpmath's copy) or ``"output"``.
    offsets : tuple of (int, int)
        One ``(source offset, target offset)`` pair, in elements, per launch.
    """

    kind: str
    n: tuple[int, ...]
    inembed: tuple[int, ...]
    istride: int
    idist: int
    onembed: tuple[int, ...]
    ostride: int
    odist: int
    batch: int
    direction: int | None
    source: str
    target: str
    offsets: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Layout:
    """How to run one n-D transform.

    Attributes
    ----------
    in_shape : tuple of int
        Shape the input is read with: the caller's array cropped (a view), or the padded copy.
    copy_order : tuple of int or None
        None: read the caller's array in place (cropped to ``in_shape``).  Otherwise copy it into
        a zero-filled dense buffer of ``in_shape`` whose axes, outermost first, are these.
    out_shape : tuple of int
        Shape of the result.
    out_order : tuple of int or None
        The result is dense with these axes outermost first; None when the transform runs in
        place in the input buffer.
    passes : tuple of Pass
        Plans to run in order (empty when the result has no elements).
    """

    in_shape: tuple[int, ...]
    copy_order: tuple[int, ...] | None
    out_shape: tuple[int, ...]
    out_order: tuple[int, ...] | None
    passes: tuple[Pass, ...]


def transform_shapes(shape, axes, kind, s) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(in_shape, out_shape)`` of a *kind* transform of logical lengths *s* over *axes*.

    Examples
    --------
    >>> transform_shapes((4, 10), (1,), "r2c", (16,))
    ((4, 16), (4, 9))
    >>> transform_shapes((4, 9), (1,), "c2r", (16,))
    ((4, 9), (4, 16))
    """
    in_shape, out_shape = list(shape), list(shape)
    for axis, n in zip(axes, s):
        in_shape[axis] = out_shape[axis] = n
    half = s[-1] // 2 + 1
    if kind == "r2c":
        out_shape[axes[-1]] = half
    elif kind == "c2r":
        in_shape[axes[-1]] = half
    return tuple(in_shape), tuple(out_shape)


def dense_strides(shape, order) -> tuple[int, ...]:
    """Element strides of a dense array of *shape* whose axes, outermost first, are *order*.

    Examples
    --------
    >>> dense_strides((2, 3, 4), (0, 1, 2))
    (12, 4, 1)
    >>> dense_strides((2, 3, 4), (2, 0, 1))
    (3, 1, 6)
    """
    strides = [0] * len(shape)
    step = 1
    for axis in reversed(order):
        strides[axis] = step
        step *= shape[axis]
    return tuple(strides)


def _memory_order(shape, strides) -> tuple[int, ...]:
    """Axes outermost first by stride; size-1 axes keep their positions (their strides are noise)."""
    slots = [i for i, extent in enumerate(shape) if extent != 1]
    ranked = sorted(slots, key=lambda i: (-abs(strides[i]), i))
    order = list(range(len(shape)))
    for slot, axis in zip(slots, ranked):
        order[slot] = axis
    return tuple(order)


def _copy_order(shape, strides, axes, kind) -> tuple[int, ...]:
    """Memory order of the dense copy: batch axes first, transformed axes last.

    r2c/c2r put the halved axis innermost.  With more than three transformed axes the batch
    axes go just outside the innermost three, so both passes see a single foldable batch.
    """
    memory = _memory_order(shape, strides)
    head = [a for a in memory if a not in axes]
    tail = [a for a in memory if a in axes and (kind == "c2c" or a != axes[-1])]
    if kind != "c2c":
        tail.append(axes[-1])
    long_axes = [i for i, a in enumerate(tail) if shape[a] != 1]
    split = long_axes[-MAX_RANK] if len(long_axes) > MAX_RANK else 0
    return tuple(tail[:split] + head + tail[split:])


def _transform_order(order, shape, axes, kind) -> list[int] | None:
    """Transformed axes in memory order, size-1 ones dropped; None if r2c/c2r cannot nest."""
    if kind == "c2c":
        kept = [a for a in order if a in axes and shape[a] != 1]
        return kept or [axes[-1]]
    halved = axes[-1]
    kept = [a for a in order if a in axes and shape[a] != 1 and a != halved]
    if shape[halved] != 1 and [a for a in order if a in axes and shape[a] != 1][-1] != halved:
        return None
    return kept + [halved]


def _effective_strides(shape, strides, taxes) -> list[int]:
    """Strides with the innermost transformed axis given stride 1 when it has length 1."""
    eff = list(strides)
    if shape[taxes[-1]] == 1:
        eff[taxes[-1]] = 1
    return eff


def _embed(shape, strides, taxes) -> tuple[tuple[int, ...], int] | None:
    """``(embed, stride)`` nesting *taxes* (outermost first), or None when they do not nest."""
    eff = _effective_strides(shape, strides, taxes)
    if any(eff[a] <= 0 for a in taxes):
        return None
    embed = [shape[taxes[0]]]
    for outer, axis in zip(taxes, taxes[1:]):
        ratio, rest = divmod(eff[outer], eff[axis])
        if rest or ratio < shape[axis]:
            return None
        embed.append(ratio)
    return tuple(embed), eff[taxes[-1]]


def _batch_groups(order, shape, strides, taxes) -> list[list[int]] | None:
    """Runs of non-transformed axes (memory order) that fold into one distance each."""
    groups: list[list[int]] = []
    previous_transformed = True
    for axis in order:
        if shape[axis] == 1:
            continue
        if axis in taxes:
            previous_transformed = True
            continue
        if strides[axis] <= 0:
            return None
        last = groups[-1][-1] if groups and not previous_transformed else None
        if last is not None and strides[last] == strides[axis] * shape[axis]:
            groups[-1].append(axis)
        else:
            groups.append([axis])
        previous_transformed = False
    return groups


def _group_size(group, shape) -> int:
    size = 1
    for axis in group:
        size *= shape[axis]
    return size


def _span(embed, stride) -> int:
    """Elements one signal spans: the distance between signals of a batch of one."""
    for extent in embed:
        stride *= extent
    return stride


def _offsets(loop_axes, shape, src_strides, dst_strides) -> tuple[tuple[int, int], ...]:
    ranges = [range(shape[a]) for a in loop_axes]
    out = []
    for index in itertools.product(*ranges):
        out.append(
            (
                sum(i * src_strides[a] for i, a in zip(index, loop_axes)),
                sum(i * dst_strides[a] for i, a in zip(index, loop_axes)),
            )
        )
    return tuple(out)


def _make_pass(kind, taxes, s_of, src, dst, order, direction, source, target, max_loops) -> Pass | None:
    """One pass over *taxes*; *src*/*dst* are ``(shape, strides)``; None if it cannot be expressed
    (or needs more than *max_loops* launches, when that is not None)."""
    src_shape, src_strides = src
    dst_shape, dst_strides = dst
    ins, outs = _embed(src_shape, src_strides, taxes), _embed(dst_shape, dst_strides, taxes)
    groups = _batch_groups(order, src_shape, src_strides, taxes)
    if ins is None or outs is None or groups is None:
        return None
    groups.sort(key=lambda g: _group_size(g, src_shape))
    batch_group = groups.pop() if groups else []
    if max_loops is not None and _group_size([a for g in groups for a in g], src_shape) > max_loops:
        return None
    loop_axes = [a for g in groups for a in g]
    inner = batch_group[-1] if batch_group else None
    idist = src_strides[inner] if inner is not None else _span(*ins)
    odist = dst_strides[inner] if inner is not None else _span(*outs)
    return Pass(
        kind=kind,
        n=tuple(s_of[a] for a in taxes),
        inembed=ins[0],
        istride=ins[1],
        idist=idist,
        onembed=outs[0],
        ostride=outs[1],
        odist=odist,
        batch=_group_size(batch_group, src_shape),
        direction=direction,
        source=source,
        target=target,
        offsets=_offsets(loop_axes, src_shape, src_strides, dst_strides),
    )


def _chunks(taxes) -> list[list[int]]:
    """Split the transformed axes into rank <= 3 groups, the innermost group first."""
    return [taxes[max(0, end - MAX_RANK) : end] for end in range(len(taxes), 0, -MAX_RANK)]


def _passes(kind, taxes, s_of, src, dst, order, inplace, max_loops=None) -> list[Pass] | None:
    """All passes of the transform, or None when one cannot be expressed on these layouts.

    A complex-to-real transform whose halved axis has one point takes that axis alone in its last
    pass: cuFFT's multi-dimensional c2r with a last length of 1 returns wrong values (H200, CUDA 13)."""
    chunks = _chunks(taxes)
    if kind == "c2r" and s_of[taxes[-1]] == 1 and len(taxes) > 1:
        chunks = [taxes[-1:]] + _chunks(taxes[:-1])
    direction = {"c2c": None, "r2c": -1, "c2r": 1}[kind]
    if inplace:
        steps = [("c2c", c, src, src, "input", "input") for c in chunks]
    elif kind == "c2r":
        steps = [("c2c", c, src, src, "input", "input") for c in chunks[1:]]
        steps.append(("c2r", chunks[0], src, dst, "input", "output"))
    else:
        steps = [(kind, chunks[0], src, dst, "input", "output")]
        steps += [("c2c", c, dst, dst, "output", "output") for c in chunks[1:]]
    passes = []
    for step_kind, chunk, a, b, source, target in steps:
        p = _make_pass(step_kind, chunk, s_of, a, b, order, direction, source, target, max_loops)
        if p is None:
            return None
        passes.append(p)
    return passes


def plan_layout(shape, strides, axes, kind, s, *, must_copy=False, inplace=False) -> Layout:
    """Decide how cuFFT runs a *kind* transform of lengths *s* over *axes* of an array.

    Parameters
    ----------
    shape, strides : sequence of int
        The caller's array; strides in elements (any sign; size-1 axes may carry any stride).
    axes : sequence of int
        Distinct non-negative transformed axes in SciPy's order (r2c/c2r halve the last).
    kind : {"c2c", "r2c", "c2r"}
        Transform type.
    s : sequence of int
        Logical transform length per axis (c2r: the real output length).
    must_copy : bool
        The input may not be read in place (c2r without ``overwrite_x``: cuFFT overwrites it).
    inplace : bool
        c2c only: write the result over the input; a layout cuFFT cannot express is an error.

    Returns
    -------
    Layout

    Raises
    ------
    ValueError
        ``inplace=True`` with a non-c2c kind, padding, or strides cuFFT cannot express.

    Examples
    --------
    A C-ordered batch of rows transforms in place, in one launch:

    >>> lay = plan_layout((8, 64), (64, 1), (1,), "c2c", (64,))
    >>> lay.copy_order, lay.passes[0].n, lay.passes[0].batch, lay.passes[0].idist
    (None, (64,), 8, 64)

    Columns are read with a stride, no copy:

    >>> p = plan_layout((64, 8), (8, 1), (0,), "c2c", (64,)).passes[0]
    >>> p.istride, p.idist, p.batch
    (8, 1, 8)
    """
    shape, strides, axes, s = tuple(shape), tuple(strides), tuple(axes), tuple(s)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if inplace and kind != "c2c":
        raise ValueError(f"inplace=True needs a complex-to-complex transform; kind is {kind!r}")
    in_shape, out_shape = transform_shapes(shape, axes, kind, s)
    padded = any(n > m for n, m in zip(in_shape, shape))
    s_of = dict(zip(axes, s))
    if 0 in out_shape or 0 in in_shape:
        order = _memory_order(shape, strides)
        return Layout(in_shape, order if must_copy else None, out_shape, None if inplace else order, ())
    if inplace and padded:
        raise ValueError("inplace=True cannot zero-pad: n/s must not exceed the input's lengths")
    if not (must_copy or padded):
        layout = _direct(in_shape, strides, axes, kind, s_of, out_shape, inplace)
        if layout is not None:
            return layout
    if inplace:
        raise ValueError(f"inplace=True: cuFFT cannot express strides {strides} for shape {shape}")
    order = _copy_order(in_shape, strides, axes, kind)
    src = (in_shape, dense_strides(in_shape, order))
    dst = (out_shape, dense_strides(out_shape, order))
    taxes = _transform_order(order, in_shape, axes, kind)
    passes = _passes(kind, taxes, s_of, src, dst, order, False)
    return Layout(in_shape, order, out_shape, order, tuple(passes))


def non_overlapping(shape, strides) -> bool:
    """Whether no two elements share an address (a sufficient test: strides nest when sorted)."""
    reach = 1
    for stride, extent in sorted((abs(st), e) for e, st in zip(shape, strides) if e != 1):
        if stride < reach:
            return False
        reach = stride * extent
    return True


def _direct(in_shape, strides, axes, kind, s_of, out_shape, inplace) -> Layout | None:
    """The layout reading the caller's array in place, or None when a copy is needed."""
    if inplace and not non_overlapping(in_shape, strides):
        return None
    order = _memory_order(in_shape, strides)
    taxes = _transform_order(order, in_shape, axes, kind)
    if taxes is None:
        return None
    src = (in_shape, strides)
    dst = (out_shape, dense_strides(out_shape, order))
    passes = _passes(kind, taxes, s_of, src, dst, order, inplace, None if inplace else MAX_LOOPS)
    if passes is None:
        return None
    return Layout(in_shape, None, out_shape, None if inplace else order, tuple(passes))
