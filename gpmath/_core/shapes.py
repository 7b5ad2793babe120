"""Shape helpers shared by the planners (pure)."""

from __future__ import annotations

__all__ = ["broadcast_batch"]


def broadcast_batch(a_batch: tuple[int, ...], b_batch: tuple[int, ...], a_shape, b_shape) -> tuple[int, ...]:
    """The broadcast of two batch shapes, or a ``ValueError`` quoting both operands' shapes."""
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
        out.append(max(x, y))
    return tuple(out)
