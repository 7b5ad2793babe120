"""Shape and dtype rules of the linear-algebra functions, and their error messages (pure; no GPU).

A matrix argument is ``(..., M, N)``: the last two axes are the matrix, the leading ones a batch.
A right-hand side ``b`` is a vector ``(N,)`` only when it is 1-D; otherwise it is ``(..., N, K)``
(NumPy 2's rule), and its batch dimensions broadcast with the matrix's.  The CPU backend and the
GPU planners both validate through this module, so both raise the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .._core.shapes import broadcast_batch
from .._core.dtypes import DType
from .._core.operand import Operand

__all__ = [
    "LINALG_DTYPES",
    "check_dtype",
    "check_same_dtype",
    "square",
    "matrix",
    "Rhs",
    "rhs",
    "broadcast_batch",
    "matrix_name",
    "not_positive_definite",
    "singular",
    "not_converged",
    "Refinement", "MIXED_TOLERANCE",
    "Problem",
    "check_index_range",
    "describe_square",
    "describe_matrix",
    "describe_system",
]

LINALG_DTYPES = ("float32", "float64", "complex64", "complex128")


def check_dtype(name: str, dtype_name: str) -> None:
    """``TypeError`` unless *dtype_name* is one the solvers compute in."""
    if dtype_name not in LINALG_DTYPES:
        raise TypeError(
            f"{name} has dtype {dtype_name}; gpmath.linalg computes in {', '.join(LINALG_DTYPES)}: "
            f"convert {name} first (e.g. {name}.astype('float64'))"
        )


def check_eigh_type(type) -> None:
    """SciPy's ``ValueError`` for a generalized eigenproblem ``type`` other than 1, 2 or 3."""
    if type not in (1, 2, 3):
        raise ValueError(f'"type" keyword only accepts 1, 2, and 3, not {type!r}')


def check_same_dtype(a_dtype: str, b_dtype: str, b_name: str = "b") -> None:
    """``TypeError`` when the right-hand side's dtype differs from the matrix's."""
    if a_dtype != b_dtype:
        raise TypeError(
            f"a is {a_dtype} but {b_name} is {b_dtype}; gpmath.linalg does not mix dtypes: "
            f"convert {b_name} to {a_dtype}"
        )


def matrix(name: str, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    """``(batch_shape, m, n)`` of a ``(..., M, N)`` argument."""
    if len(shape) < 2:
        raise ValueError(f"Input array {name} must have at least 2 dimensions (..., M, N), "
                         f"but has shape {tuple(shape)}")
    return tuple(shape[:-2]), shape[-2], shape[-1]


def square(name: str, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """``(batch_shape, n)`` of a ``(..., N, N)`` argument (SciPy's words where it is not one).

    >>> square("a", (2, 3))
    Traceback (most recent call last):
    ...
    ValueError: Expected a square matrix or batch thereof for a, (..., N, N): Last 2 dimensions of the array must be square, but a has shape (2, 3)
    """
    if len(shape) < 2:
        raise ValueError(f"Expected a square matrix or batch thereof for {name}, (..., N, N): {name} must be at least "
                         f"two-dimensional, but has shape {tuple(shape)}")
    if shape[-1] != shape[-2]:
        raise ValueError(f"Expected a square matrix or batch thereof for {name}, (..., N, N): Last 2 dimensions of the "
                         f"array must be square, but {name} has shape {tuple(shape)}")
    return tuple(shape[:-2]), shape[-1]


@dataclass(frozen=True)
class Rhs:
    """A validated right-hand side: ``batch_shape`` is the broadcast of the matrix's and b's."""

    batch_shape: tuple[int, ...]
    rows: int
    nrhs: int
    vector: bool  # b was 1-D: x is 1-D too

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.batch_shape + ((self.rows,) if self.vector else (self.rows, self.nrhs))


def rhs(a_shape: tuple[int, ...], b_shape: tuple[int, ...], rows: int, a_batch: tuple[int, ...]) -> Rhs:
    """Validate ``b`` against a matrix with *rows* rows and batch shape *a_batch*."""
    if len(b_shape) == 0:
        raise ValueError("b must have at least 1 dimension (N,) or (..., N, K), but is a scalar")
    if len(b_shape) == 1:
        b_batch, b_rows, nrhs, vector = (), b_shape[0], 1, True
    else:
        b_batch, b_rows, nrhs, vector = tuple(b_shape[:-2]), b_shape[-2], b_shape[-1], False
    if b_rows != rows:
        layout = "(N,)" if vector else "(..., N, K)"
        raise ValueError(
            f"Shape mismatch: a has shape {tuple(a_shape)} but b has shape {tuple(b_shape)}: b, read as "
            f"{layout}, must have N = {rows} rows"
        )
    return Rhs(broadcast_batch(a_batch, b_batch, a_shape, b_shape), rows, nrhs, vector)


@dataclass(frozen=True)
class Problem:
    """A validated call: the batch shape, the matrix extents, the dtype and the right-hand side."""

    batch_shape: tuple[int, ...]
    m: int
    n: int
    dtype: DType
    rhs: Rhs | None = None

    @property
    def batch_count(self) -> int:
        count = 1
        for extent in self.batch_shape:
            count *= extent
        return count


def describe_matrix(a: Operand) -> Problem:
    """The problem of a one-matrix call on ``(..., M, N)``."""
    check_dtype("a", a.dtype.name)
    batch, m, n = matrix("a", tuple(a.shape))
    return Problem(batch, m, n, a.dtype)


def describe_square(a: Operand) -> Problem:
    """The problem of a one-matrix call on ``(..., N, N)``."""
    check_dtype("a", a.dtype.name)
    batch, n = square("a", tuple(a.shape))
    return Problem(batch, n, n, a.dtype)


def describe_system(a: Operand, b: Operand, square_a: bool = True, a_name: str = "a") -> Problem:
    """The problem of ``A x = b`` (A square unless *square_a* is False, as in least squares)."""
    check_dtype(a_name, a.dtype.name)
    check_same_dtype(a.dtype.name, b.dtype.name)
    if square_a:
        square(a_name, tuple(a.shape))
    batch, m, n = matrix(a_name, tuple(a.shape))
    system = rhs(tuple(a.shape), tuple(b.shape), m, batch)
    return Problem(system.batch_shape, m, n, a.dtype, system)


INT32_MAX = 2**31 - 1
_COLUMNS_OF_ONE_CALL = ("CudaSolveTriangular",)  # one trsm over every right-hand side of the batch


def index_arguments(problem: Problem, routine: str) -> dict[str, int]:
    """The values *problem* gives the int32 arguments of *routine*'s cuSOLVER/cuBLAS calls.

    Every engine has a route through the 32-bit API (``potrfBatched``, ``getrfBatched``,
    ``trsm``, ``orgqr``, ``ormqr``, ``syevjBatched``, ``gesvdj``, the IRS solvers), whose
    extents, leading dimensions and batch counts are ``int``.
    """
    values = {"m (rows of a, a leading dimension)": problem.m, "n (columns of a, lda)": problem.n,
              "batch count (batchSize of the batched routines)": problem.batch_count}
    if problem.rhs is not None:
        values["nrhs (columns of b)"] = problem.rhs.nrhs
        if routine in _COLUMNS_OF_ONE_CALL:
            values["batch count * nrhs (the columns of one trsm)"] = problem.batch_count * problem.rhs.nrhs
    return values


def check_index_range(problem: Problem, routine: str) -> None:
    """Raise ``ValueError`` naming the argument when *problem* overflows one of *routine*'s int32 arguments.

    Examples
    --------
    >>> from gpmath._core.dtypes import DTYPES
    >>> check_index_range(Problem((2**31,), 4, 4, DTYPES["float64"]), "CudaCholesky")
    Traceback (most recent call last):
    ...
    ValueError: CudaCholesky: batch count (batchSize of the batched routines) = 2147483648 exceeds cuSOLVER/cuBLAS's int32 limit 2147483647; split the call
    """
    for name, value in index_arguments(problem, routine).items():
        if value > INT32_MAX:
            raise ValueError(f"{routine}: {name} = {value} exceeds cuSOLVER/cuBLAS's int32 limit {INT32_MAX}; split the call")


def matrix_name(name: str, index: tuple[int, ...]) -> str:
    """``"a"`` or ``"a[2, 0]"``: one matrix of a batch, for error messages."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def not_positive_definite(name: str, index: tuple[int, ...], minor: int) -> str:
    """The message for a failed Cholesky factorisation (LAPACK/cuSOLVER ``info = minor``)."""
    return (
        f"{matrix_name(name, index)} is not positive definite: its leading minor of order {minor} "
        "is not positive (the matrix is singular or indefinite), so the Cholesky factorisation failed "
        f"(Internal potrf return info = {minor}, as SciPy says)"
    )


def singular(name: str, index: tuple[int, ...], pivot: int) -> str:
    """The message for an exactly singular LU factor (``info = pivot``, 1-based)."""
    return (
        f"{matrix_name(name, index)} is singular: pivot U[{pivot - 1}, {pivot - 1}] of its LU "
        "factorisation is exactly zero"
    )


def singular_symmetric(name: str, index: tuple[int, ...], block: int) -> str:
    """The message for an exactly singular symmetric or Hermitian indefinite factor (``?sytrf``'s
    or ``?hetrf``'s ``info = block``, 1-based)."""
    return (
        f"{matrix_name(name, index)} is singular: D[{block - 1}, {block - 1}] of its symmetric indefinite "
        "(Bunch-Kaufman) factorisation is exactly zero"
    )


def not_solved(name: str, index: tuple[int, ...]) -> str:
    """The message for a solve whose result is not finite though no pivot was exactly zero."""
    return (
        f"{matrix_name(name, index)} is singular or too ill-conditioned for its precision: the solution "
        "holds infinities or NaNs"
    )


def zero_diagonal(name: str, index: tuple[int, ...], position: int) -> str:
    """The message for a triangular matrix with an exactly zero diagonal entry (LAPACK ``trtrs``'s
    ``info = position``, 1-based)."""
    i = position - 1
    return (
        f"{matrix_name(name, index)} is singular: its diagonal entry [{i}, {i}] is exactly zero, so the "
        "triangular solve would divide by zero"
    )


def not_converged(routine: str, name: str, index: tuple[int, ...], info: int) -> str:
    """The message for an eigen- or singular-value solver that did not converge."""
    return (f"{routine} did not converge for {matrix_name(name, index)} (info = {info}); a matrix holding a NaN or an "
            "inf does not converge (check_finite=True refuses such operands first)")


MIXED_TOLERANCE = 1.0
"""A mixed-precision solve refines until ``max|b - A x| <= MIXED_TOLERANCE * eps * ‖A‖∞ * max|x|``
(eps of the input's precision): a residual near a direct solve's (cuSOLVER's own default
stops at sqrt(N) times that, measured 150-1270x torch's residual at N = 32768)."""


class Refinement(NamedTuple):
    """What a mixed-precision solve (``refine="mixed"``) did.

    Attributes
    ----------
    iterations : int
        Refinement iterations run (cuSOLVER's ``niters``; on the CPU, the most any matrix needed).
    outer_iterations : int
        Outer iterations of a GMRES-based refinement (equal to ``iterations`` otherwise).
    fell_back : bool
        Whether some matrix did not converge in the lower precision and was solved again in the
        input's precision.
    """

    iterations: int
    outer_iterations: int
    fell_back: bool
