"""LAPACK for the CPU engines of :mod:`gpmath.solver`: SciPy's routines looked up once a dtype, the
layout rule that lets LAPACK read a C-ordered matrix without a copy, batches run matrix by matrix,
and the searches that name the matrix of a failed batch."""

from __future__ import annotations

import functools
from typing import Callable, NoReturn

import numpy as np
from scipy.linalg import lapack

from .._errors import LinAlgError
from . import _problem as P

__all__ = ["lapack_routine", "lapack_for", "read_transposed", "one_norm", "raise_not_positive_definite",
           "raise_not_converged", "as_matrices", "per_matrix", "work_size"]


def lapack_routine(name: str, x: np.ndarray):
    """The LAPACK routine *name* for *x*'s dtype (looked up once a dtype)."""
    return lapack_for(name, x.dtype.char)


@functools.cache
def lapack_for(name: str, char: str):
    return lapack.get_lapack_funcs(name, dtype=np.dtype(char))


def read_transposed(m: np.ndarray) -> bool:
    """Whether LAPACK, given ``m.T``, reads *m*'s bytes without a copy: *m* is C-ordered (and not
    also Fortran-ordered), so its bytes are ``mᵀ`` in LAPACK's column-major layout."""
    return m.flags.c_contiguous and not m.flags.f_contiguous


def one_norm(m: np.ndarray) -> float:
    """``‖m‖₁`` of one matrix by LAPACK's ``lange`` on its bytes as LAPACK reads them (a C-ordered
    *m* is ``mᵀ``, whose ∞-norm it is); 0 for an empty matrix.

    Examples
    --------
    >>> one_norm(np.array([[1.0, -2.0], [3.0, 4.0]]))
    6.0
    """
    if not m.size:
        return 0.0
    lange = lapack_routine("lange", m)
    return float(lange("I", m.T) if read_transposed(m) else lange("1", m))


def raise_not_positive_definite(a: np.ndarray, lower: bool) -> NoReturn:
    """Raise for the first matrix of *a* (read from its *lower* or upper triangle) whose ``potrf``
    reports a leading minor that is not positive."""
    potrf = lapack_routine("potrf", a)
    for index in np.ndindex(*a.shape[:-2]):
        minor = potrf(a[index], lower=lower)[1]
        if minor > 0:
            raise LinAlgError(P.not_positive_definite("a", index, int(minor)))
    raise LinAlgError("LAPACK's potrf reported a failure that no single matrix of the batch reproduces")


def raise_not_converged(a: np.ndarray, routine: str, decompose: Callable[[np.ndarray], object]) -> NoReturn:
    for index in np.ndindex(*a.shape[:-2]):
        if not np.isfinite(a[index]).all():  # (check_finite=False let it through) SciPy's ValueError
            raise ValueError(f"{routine}: {P.matrix_name('a', index)} holds NaN or infinite entries, for which it "
                             "is undefined (LAPACK reports an illegal value)")
        try:
            decompose(a[index])
        except np.linalg.LinAlgError:
            raise LinAlgError(P.not_converged(routine, "a", index, 1)) from None
    raise LinAlgError(f"{routine} did not converge")


def as_matrices(a: np.ndarray, b: np.ndarray, rhs: P.Rhs) -> tuple[np.ndarray, np.ndarray]:
    """*a* and *b* broadcast to ``(*batch, n, n)`` and ``(*batch, n, k)``."""
    b = b[..., None] if rhs.vector else b
    if a.ndim == b.ndim == 2 and not rhs.batch_shape:  # one matrix: nothing to broadcast
        return a, b
    a = np.broadcast_to(a, rhs.batch_shape + a.shape[-2:])
    return a, np.broadcast_to(b, rhs.batch_shape + b.shape[-2:])


def per_matrix(func: Callable, out_shape: tuple[int, ...], dtype, *arrays: np.ndarray) -> np.ndarray:
    """``out[i] = func(*(x[i] for x in arrays))`` over the leading batch axes of ``out_shape``
    (one matrix: *func*'s own result, in LAPACK's layout)."""
    if len(out_shape) == 2 and out_shape[0] * out_shape[1]:
        return np.asarray(func(*arrays), dtype=dtype)
    out = np.empty(out_shape, dtype=dtype)
    for index in np.ndindex(*out_shape[:-2]) if out.size else ():  # LAPACK rejects empty matrices
        out[index] = func(*(x[index] for x in arrays))
    return out


def work_size(value) -> int:
    """A LAPACK work-size answer (a float, possibly rounded down in single precision) as an int
    large enough."""
    return max(int(np.real(value) * (1 + 2 ** -20)) + 1, 1)
