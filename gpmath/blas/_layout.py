"""From a :class:`~gpmath.blas._problem.MatmulProblem` to cuBLASLt's column-major terms (pure).

gpmath computes the transposed product: row-major ``D = A @ B`` is column-major
``Dᵀ = Bᵀ Aᵀ``, so cuBLASLt's "A" is the user's ``Bᵀ`` and its "B" the user's ``Aᵀ``.  A matrix
view is usable without a copy when one of its strides is 1 (or its extent along it is 1, where
any stride will do) and the other is a valid leading dimension; transposed views become the
``T`` operation.  Batch dimensions fold into one strided batch where the strides allow, and
the rest become a short loop of calls at fixed offsets; so does a folded batch of more matrices
than cuBLASLt's int32 ``BATCH_COUNT`` holds, cut into equal calls.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .._core.shapes import fold_batches
from ._problem import Matrix, MatmulProblem

__all__ = ["LtOperand", "LtLayout", "column_major", "lt_layout", "unusable_operands", "OP_N", "OP_T"]

OP_N, OP_T = 0, 1
MAX_BATCH_COUNT = 2**31 - 1  # cuBLASLt's BATCH_COUNT is an int32_t
MAX_SPLIT_CALLS = 1 << 16  # a larger batch is cut into at most this many equal calls


@dataclass(frozen=True)
class LtOperand:
    """One cuBLASLt operand: the operation, the stored column-major matrix and its batch stride."""

    op: int
    rows: int
    cols: int
    ld: int
    batch_stride: int


@dataclass(frozen=True)
class LtLayout:
    """Everything cuBLASLt needs about the shapes: ``d = a_lt @ b_lt (+ c)``, column-major."""

    m: int
    n: int
    k: int
    a: LtOperand  # the user's B, transposed
    b: LtOperand  # the user's A, transposed
    c: LtOperand | None
    d: LtOperand
    batch_count: int
    outer_offsets: tuple[tuple[int, int, int, int], ...]  # element offsets of (user a, user b, c, d); () = no call


def column_major(rows: int, cols: int, row_stride: int, col_stride: int) -> tuple[int, int, int, int] | None:
    """``(op, stored_rows, stored_cols, ld)`` for a logical ``rows×cols`` view, or None.

    ``op`` is ``OP_N`` when the view is column-major as it is, ``OP_T`` when its transpose is.
    """
    if rows == 1 or row_stride == 1:
        ld = col_stride if cols > 1 else max(rows, 1)
        if ld >= max(rows, 1):
            return OP_N, rows, cols, ld
    if cols == 1 or col_stride == 1:
        ld = row_stride if rows > 1 else max(cols, 1)
        if ld >= max(cols, 1):
            return OP_T, cols, rows, ld
    return None


def _transposed(x: Matrix) -> tuple[int, int, int, int]:
    return x.cols, x.rows, x.col_stride, x.row_stride


def unusable_operands(problem: MatmulProblem, d: Matrix) -> list[str]:
    """Names of the operands ("a", "b", "c", "out") whose layout needs one copy first."""
    bad = []
    for name, x, transposes in (("a", problem.a, True), ("b", problem.b, True), ("c", problem.c, False), ("out", d, False)):
        if x is None:
            continue
        found = column_major(*_transposed(x))
        if found is None or (not transposes and found[0] != OP_N):
            bad.append(name)
    return bad


def _outer_offsets(extents: list[int], strides: list[list[int]]) -> tuple[tuple[int, ...], ...]:
    offsets = []
    for index in itertools.product(*(range(e) for e in extents)):
        offsets.append(tuple(sum(i * s[j] for i, s in zip(index, strides)) for j in range(4)))
    return tuple(offsets) or ((0, 0, 0, 0),)


def _split_count(count: int) -> tuple[int, int]:
    """``(calls, per_call)``: the fewest equal calls of at most :data:`MAX_BATCH_COUNT` matrices each.

    Raises ``ValueError`` when *count* has no divisor that makes at most :data:`MAX_SPLIT_CALLS`
    such calls (a prime count above the limit, for one).
    """
    calls = -(-count // MAX_BATCH_COUNT)
    while count % calls:
        calls += 1
        if calls > MAX_SPLIT_CALLS:
            raise ValueError(
                f"the batch of {count} matrices is larger than cuBLASLt's {MAX_BATCH_COUNT} per call and cannot "
                f"be cut into at most {MAX_SPLIT_CALLS} equal calls: compute it in parts"
            )
    return calls, count // calls


def _within_batch_limit(inner_count: int, inner: list[int], outer_extents: list[int], outer: list[list[int]]):
    """The folded batch with an inner count above cuBLASLt's limit cut into an extra outer loop."""
    if inner_count <= MAX_BATCH_COUNT:
        return inner_count, inner, outer_extents, outer
    calls, per_call = _split_count(inner_count)
    return per_call, inner, [*outer_extents, calls], [*outer, [per_call * s for s in inner]]


def _is_empty(problem: MatmulProblem) -> bool:
    """Whether the result has no elements: then no call is made (``outer_offsets`` is empty)."""
    return problem.m == 0 or problem.n == 0 or 0 in problem.batch_shape


def lt_layout(problem: MatmulProblem, d: Matrix) -> LtLayout:
    """The cuBLASLt layout of *problem* writing the result *d* (all operands must be usable)."""
    c = problem.c if problem.c is not None else d
    inner_count, inner, outer_extents, outer = _within_batch_limit(*fold_batches(
        problem.batch_shape, [problem.a.batch_strides, problem.b.batch_strides, c.batch_strides, d.batch_strides]
    ))

    def operand(x: Matrix, batch_stride: int) -> LtOperand:
        op, rows, cols, ld = column_major(*_transposed(x))
        return LtOperand(op, rows, cols, ld, batch_stride)

    return LtLayout(
        problem.n,
        problem.m,
        problem.k,
        operand(problem.b, inner[1]),
        operand(problem.a, inner[0]),
        None if problem.c is None else operand(problem.c, inner[2]),
        operand(d, inner[3]),
        inner_count,
        () if _is_empty(problem) else _outer_offsets(outer_extents, outer),
    )
