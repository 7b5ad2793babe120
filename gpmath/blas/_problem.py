"""Shape semantics of matmul (pure; no GPU): numpy.matmul's rules plus C, bias and out.

``A`` is ``(..., M, K)``, ``B`` is ``(..., K, N)``; a 1-D ``A`` is a row ``(1, K)`` and a 1-D
``B`` a column ``(K, 1)``, and those unit dimensions are dropped from the result, as NumPy does.
Batch dimensions broadcast.  ``C`` has the result's matrix shape ``(M, N)`` with batch
dimensions that broadcast to the result's; ``bias`` has length ``N`` and is added to every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._core.dtypes import DType
from .._core.operand import Operand
from .._core.shapes import broadcast_batch, broadcast_strides, compact_strides

__all__ = ["Matrix", "MatmulProblem", "describe", "out_matrix", "EPILOGS"]

EPILOGS = (None, "relu", "gelu", "bias", "bias_relu", "bias_gelu")


@dataclass(frozen=True)
class Matrix:
    """One operand as a batch of matrices: extents and strides in elements.

    ``batch_strides`` is aligned with :attr:`MatmulProblem.batch_shape`; broadcast dimensions
    have stride 0.
    """

    rows: int
    cols: int
    row_stride: int
    col_stride: int
    batch_strides: tuple[int, ...]


@dataclass(frozen=True)
class MatmulProblem:
    """A validated matmul: ``D[b] = alpha * A[b] @ B[b] + beta * C[b]`` for every batch index b."""

    batch_shape: tuple[int, ...]
    m: int
    n: int
    k: int
    out_shape: tuple[int, ...]
    dtype: DType
    a: Matrix
    b: Matrix
    c: Matrix | None
    a_vector: bool  # a was 1-D: the result has no M axis
    b_vector: bool  # b was 1-D: the result has no N axis

    @property
    def batch_count(self) -> int:
        count = 1
        for extent in self.batch_shape:
            count *= extent
        return count


def _strides(x: Operand) -> tuple[int, ...]:
    """*x*'s strides, or C-order ones when it has no elements (an empty array's strides are
    arbitrary: packages report 0 or 1, which no BLAS leading dimension accepts)."""
    return tuple(x.strides) if x.size else compact_strides(tuple(x.shape))


def _as_matrix_a(a: Operand):
    strides = _strides(a)
    if a.ndim == 1:  # (K,) -> (1, K)
        return (), (), 1, a.shape[0], 0, strides[0]
    return a.shape[:-2], strides[:-2], a.shape[-2], a.shape[-1], strides[-2], strides[-1]


def _as_matrix_b(b: Operand):
    strides = _strides(b)
    if b.ndim == 1:  # (K,) -> (K, 1)
        return (), (), b.shape[0], 1, strides[0], 0
    return b.shape[:-2], strides[:-2], b.shape[-2], b.shape[-1], strides[-2], strides[-1]


def _check_dtypes(a: Operand, others: dict[str, Operand | None]) -> None:
    for name, op in others.items():
        if op is not None and op.dtype is not a.dtype:
            raise TypeError(
                f"a is {a.dtype.name} but {name} is {op.dtype.name}; gpmath.matmul does not mix dtypes: "
                f"convert {name} to {a.dtype.name} (or a to {op.dtype.name})"
            )


def _c_matrix(c: Operand, a_vector: bool, b_vector: bool, m: int, n: int, batch_shape, out_shape) -> Matrix:
    shape, strides = list(c.shape), list(_strides(c))
    if a_vector:  # the result has no M axis: restore it with extent 1
        shape.insert(len(shape) - (0 if b_vector else 1), 1)
        strides.insert(len(strides) - (0 if b_vector else 1), 0)
    if b_vector:
        shape.append(1)
        strides.append(0)
    if len(shape) < 2 or tuple(shape[-2:]) != (m, n):
        raise ValueError(
            f"c has shape {tuple(c.shape)} but the result has shape {tuple(out_shape)}: c must have the "
            "result's matrix shape (batch dimensions may broadcast); use bias= for a vector added to every row"
        )
    batch = broadcast_strides("c", shape[:-2], strides[:-2], batch_shape)
    return Matrix(m, n, strides[-2], strides[-1], batch)


def describe(
    a: Operand, b: Operand, c: Operand | None = None, bias: Operand | None = None, epilog: str | None = None
) -> MatmulProblem:
    """Validate shapes and dtypes and return the :class:`MatmulProblem`.

    Raises
    ------
    ValueError
        For a scalar operand, mismatched contracted dimensions, batch shapes that do not
        broadcast, a ``c`` or ``bias`` of the wrong shape, or an unknown epilog.
    TypeError
        For operands of different dtypes.
    """
    for name, op in (("a", a), ("b", b)):
        if op.ndim == 0:
            raise ValueError(f"{name} is a 0-d array; matmul needs at least one dimension (use multiplication for scalars)")
    if epilog not in EPILOGS:
        raise ValueError(f"epilog must be one of {', '.join(repr(e) for e in EPILOGS)}, not {epilog!r}")
    _check_dtypes(a, {"b": b, "c": c, "bias": bias})
    a_batch, a_bstr, m, ka, a_rs, a_cs = _as_matrix_a(a)
    b_batch, b_bstr, kb, n, b_rs, b_cs = _as_matrix_b(b)
    if ka != kb:
        raise ValueError(
            f"a has shape {tuple(a.shape)} and b has shape {tuple(b.shape)}: the contracted dimensions differ ({ka} != {kb})"
        )
    batch_shape = broadcast_batch(a_batch, b_batch, a.shape, b.shape)
    out_shape = batch_shape + ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())
    c_matrix = None if c is None else _c_matrix(c, a.ndim == 1, b.ndim == 1, m, n, batch_shape, out_shape)
    needs_bias = epilog is not None and epilog.startswith("bias")
    if needs_bias != (bias is not None):
        raise ValueError(f"bias= must be given with epilog {epilog!r}" if needs_bias else "bias= needs epilog='bias', 'bias_relu' or 'bias_gelu'")
    if bias is not None and tuple(bias.shape) != (n,):
        raise ValueError(f"bias has shape {tuple(bias.shape)} but must have shape ({n},), one value per result column")
    return MatmulProblem(
        batch_shape,
        m,
        n,
        ka,
        out_shape,
        a.dtype,
        Matrix(m, ka, a_rs, a_cs, broadcast_strides("a", a_batch, a_bstr, batch_shape)),
        Matrix(kb, n, b_rs, b_cs, broadcast_strides("b", b_batch, b_bstr, batch_shape)),
        c_matrix,
        a.ndim == 1,
        b.ndim == 1,
    )


def out_matrix(problem: MatmulProblem, out_strides: tuple[int, ...]) -> Matrix:
    """The result as a :class:`Matrix`, given the strides of an array of ``problem.out_shape``
    (C-order ones stand in for an empty result's arbitrary strides)."""
    if 0 in problem.out_shape:
        out_strides = compact_strides(problem.out_shape)
    nb = len(problem.batch_shape)
    tail = list(out_strides[nb:])
    if problem.a_vector:
        tail.insert(0, 0)
    if problem.b_vector:
        tail.insert(1, 0)
    batch = tuple(s if e > 1 else 0 for s, e in zip(out_strides[:nb], problem.batch_shape))
    return Matrix(problem.m, problem.n, tail[0], tail[1], batch)
