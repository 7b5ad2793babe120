"""Shape helpers shared by the planners (pure)."""

from __future__ import annotations

__all__ = ["broadcast_batch", "compact_strides", "broadcast_strides", "fold_batches"]


def broadcast_batch(a_batch: tuple[int, ...], b_batch: tuple[int, ...], a_shape, b_shape) -> tuple[int, ...]:
    """The broadcast of two batch shapes, or a ``ValueError`` quoting both operands' shapes.

    NumPy's rule: equal extents stay, an extent 1 takes the other's (0 included: 0 with 1 is 0).
    """
    n = max(len(a_batch), len(b_batch))
    padded_a = (1,) * (n - len(a_batch)) + tuple(a_batch)
    padded_b = (1,) * (n - len(b_batch)) + tuple(b_batch)
    out = []
    for x, y in zip(padded_a, padded_b):
        if x != y and 1 not in (x, y):
            raise ValueError(
                f"a has shape {tuple(a_shape)} and b has shape {tuple(b_shape)}: "
                f"their batch dimensions {tuple(a_batch)} and {tuple(b_batch)} do not broadcast"
            )
        out.append(y if x == 1 else x)
    return tuple(out)


def compact_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major (C-order) strides in elements of a compact array of *shape*."""
    strides, step = [], 1
    for extent in reversed(shape):
        strides.append(step)
        step *= max(extent, 1)
    return tuple(reversed(strides))


def broadcast_strides(name: str, shape, strides, batch_shape) -> tuple[int, ...]:
    """Strides of *name*'s batch dims aligned right with *batch_shape* (0 where broadcast)."""
    pad = len(batch_shape) - len(shape)
    if pad < 0:
        raise ValueError(f"{name} has batch shape {tuple(shape)}, which does not broadcast to {tuple(batch_shape)}")
    aligned = [0] * pad
    for extent, stride, target in zip(shape, strides, batch_shape[pad:]):
        if extent == target:
            aligned.append(stride if extent > 1 else 0)
        elif extent == 1:
            aligned.append(0)
        else:
            raise ValueError(f"{name} has batch shape {tuple(shape)}, which does not broadcast to {tuple(batch_shape)}")
    return tuple(aligned)


def fold_batches(batch_shape: tuple[int, ...], strides: list[tuple[int, ...]]):
    """Fold batch dims into (inner count, inner strides, outer extents, outer strides).

    An empty batch (an extent 0) folds to an inner count of 0 and no outer dimensions.
    """
    if 0 in batch_shape:
        return 0, [0] * len(strides), [], []
    dims = [(e, [s[i] for s in strides]) for i, e in enumerate(batch_shape) if e > 1]
    folded: list[tuple[int, list[int]]] = []
    for extent, dim_strides in dims:
        if folded:
            prev_extent, prev_strides = folded[-1]
            if all(p == s * extent for p, s in zip(prev_strides, dim_strides)):
                folded[-1] = (prev_extent * extent, dim_strides)
                continue
        folded.append((extent, dim_strides))
    if not folded:
        return 1, [0] * len(strides), [], []
    inner_count, inner_strides = folded[-1]
    return inner_count, inner_strides, [e for e, _ in folded[:-1]], [s for _, s in folded[:-1]]
