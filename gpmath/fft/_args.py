"""Argument normalisation shared by every FFT function and the planner (pure; no arrays).

SciPy's rules, with errors that name the argument: ``n``/``s`` lengths (``-1`` in ``s`` keeps
the input's length), ``axis``/``axes`` (negative values count from the end, duplicates are
refused), ``norm``, ``workers``, and dtype promotion (integers and bool -> float64, float16
and bfloat16 -> float32, real input to a complex transform -> complex).
"""

from __future__ import annotations

import numbers
import operator
import os

from numpy.exceptions import AxisError

from .._core.dtypes import complex_name

__all__ = [
    "NORMS",
    "check_norm",
    "swap_norm",
    "norm_factor",
    "check_workers",
    "one_axis",
    "listed_axes",
    "unique_axes",
    "many_axes",
    "nonempty_axes",
    "c2r_lengths",
    "promoted_name",
    "transform_dtypes",
]

NORMS = ("backward", "ortho", "forward")
_PRECISION = {
    "float16": "float32",
    "bfloat16": "float32",
    "float32": "float32",
    "complex32": "float32",
    "complex64": "float32",
    "float64": "float64",
    "complex128": "float64",
}
_INTEGER_PREFIXES = ("int", "uint", "bool")


def check_norm(norm) -> str:
    """*norm* as one of :data:`NORMS` (``None`` is ``"backward"``)."""
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise ValueError(f'Invalid norm value {norm!r}, should be "backward", "ortho" or "forward" (or None)')
    return norm


def swap_norm(norm) -> str:
    """*norm* for the opposite direction (hfft/ihfft run as irfft/rfft with swapped norms).

    Examples
    --------
    >>> swap_norm(None), swap_norm("ortho"), swap_norm("forward")
    ('forward', 'ortho', 'backward')
    """
    return {"backward": "forward", "ortho": "ortho", "forward": "backward"}[check_norm(norm)]


def norm_factor(norm: str, forward: bool, size: int) -> float:
    """The factor a transform of *size* points is multiplied by under *norm* (1.0: none).

    Examples
    --------
    >>> norm_factor("backward", True, 8), norm_factor("backward", False, 8)
    (1.0, 0.125)
    >>> norm_factor("ortho", False, 4)
    0.5
    """
    if norm == "ortho":
        return 1.0 / size**0.5
    return 1.0 / size if (norm == "forward") == forward else 1.0


def check_workers(workers) -> int | None:
    """*workers* validated as SciPy does (None, or a non-zero int not below ``-os.cpu_count()``)."""
    if workers is None:
        return None
    workers = _integer(workers, "workers")
    if workers == 0:
        raise ValueError("workers must not be zero")
    if workers < -(os.cpu_count() or 1):
        raise ValueError(f"workers value out of range: {workers} is below -{os.cpu_count()} (-os.cpu_count())")
    return workers


def _integer(value, name: str, error: type[Exception] = TypeError) -> int:
    """*value* as an int, else *error* naming *name*: SciPy raises ``TypeError`` for ``n``, ``axis``
    and ``workers``, and ``ValueError`` for the ``s`` and ``axes`` of the n-D functions."""
    if isinstance(value, bool):
        raise error(f"{name} must be an integer, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise error(f"{name} must be an integer, not {value!r}") from None


def _axis(axis, ndim: int, name: str, error: type[Exception] = TypeError) -> int:
    axis = _integer(axis, name, error)
    if not -ndim <= axis < ndim:
        raise AxisError(axis, ndim, msg_prefix=name)
    return axis % ndim


def _length(n, name: str) -> int:
    n = _integer(n, name)
    if n < 1:
        raise ValueError(f"invalid number of data points ({n}) specified: {name} must be at least 1")
    return n


def _sequence(value, name: str) -> list:
    if isinstance(value, numbers.Integral) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


def one_axis(shape, n, axis) -> tuple[tuple[int], tuple[int]]:
    """``((axis,), (n,))`` of a 1-D transform over *axis* of an array of *shape*.

    Examples
    --------
    >>> one_axis((4, 6), None, -1)
    ((1,), (6,))
    """
    axis = _axis(axis, len(shape), "axis")
    length = shape[axis] if n is None else n
    return (axis,), (_length(length, "n"),)


def listed_axes(ndim: int, axes, error: type[Exception] = TypeError) -> tuple[int, ...] | None:
    """*axes* (an int or a sequence) as non-negative axes of an *ndim*-D array, repeats kept (as
    ``numpy.fft.fftshift`` takes them); None stays.

    A non-integer axis raises *error* (``TypeError`` as ``numpy.fft.fftshift``; the n-D
    transforms pass ``ValueError``, as SciPy's raise).

    Examples
    --------
    >>> listed_axes(3, -1), listed_axes(3, (0, -1, 0)), listed_axes(3, None)
    ((2,), (0, 2, 0), None)
    """
    if axes is None:
        return None
    return tuple(_axis(a, ndim, "axes", error) for a in _sequence(axes, "axes"))


def unique_axes(ndim: int, axes, error: type[Exception] = TypeError) -> tuple[int, ...] | None:
    """:func:`listed_axes`, each axis once (``ValueError`` otherwise).

    Examples
    --------
    >>> unique_axes(3, -1), unique_axes(3, (0, -1)), unique_axes(3, None)
    ((2,), (0, 2), None)
    """
    axes = listed_axes(ndim, axes, error)
    if axes is not None and len(set(axes)) != len(axes):
        raise ValueError(f"axes must be unique, got {axes}")
    return axes


def many_axes(shape, s, axes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(axes, s)`` of an n-D transform, following ``scipy.fft.fftn``'s rules.

    ``axes=None`` means the last ``len(s)`` axes, or every axis when *s* is None too; ``-1``
    in *s* keeps the input's length.  Empty *axes* transform nothing, whatever lengths *s*
    holds (they must be integers), as in SciPy.

    Examples
    --------
    >>> many_axes((2, 3, 4), None, None)
    ((0, 1, 2), (2, 3, 4))
    >>> many_axes((2, 3, 4), (5, -1), None)
    ((1, 2), (5, 4))
    >>> many_axes((2, 3, 4), None, (-1, 0))
    ((2, 0), (4, 2))
    >>> many_axes((2, 3, 4), (5, 6), ())
    ((), ())
    """
    ndim = len(shape)
    axes = unique_axes(ndim, axes, ValueError)
    if s is None:
        axes = tuple(range(ndim)) if axes is None else axes
        lengths = [shape[a] for a in axes]
    else:
        lengths = [_integer(v, "s", ValueError) for v in _sequence(s, "s")]
        if axes is None:
            if len(lengths) > ndim:
                raise ValueError(f"shape requires more axes than are present: s has {len(lengths)} lengths, "
                                 f"the input {ndim} axes")
            axes = tuple(range(ndim - len(lengths), ndim))
        elif axes and len(lengths) != len(axes):
            raise ValueError("when given, axes and shape arguments have to be of the same length: s has "
                             f"{len(lengths)} and axes {len(axes)}")
        lengths = [shape[a] if v == -1 else v for v, a in zip(lengths, axes)]
    if any(v < 1 for v in lengths):
        raise ValueError(f"invalid number of data points ({lengths}) specified: every length of s must be at least 1")
    return axes, tuple(lengths)


def nonempty_axes(axes: tuple[int, ...]) -> None:
    """Raise ``ValueError`` where *axes* name no axis: a planned transform needs one.

    Examples
    --------
    >>> nonempty_axes(())
    Traceback (most recent call last):
    ...
    ValueError: at least 1 axis must be transformed: axes names none
    """
    if not axes:
        raise ValueError("at least 1 axis must be transformed: axes names none")


def c2r_lengths(shape, axes, s, given: bool, one_d: bool = False) -> tuple[int, ...]:
    """Output lengths of a complex-to-real transform: the last defaults to ``2 * (m - 1)`` for
    *m* input points; for an n-D transform (not *one_d*) of one point, to one point (as
    ``scipy.fft.irfftn`` and ``hfftn`` give it; ``irfft`` and ``hfft`` raise).

    Examples
    --------
    >>> c2r_lengths((4, 5), (1,), (5,), given=False)
    (8,)
    >>> c2r_lengths((4, 1), (0, 1), (4, 1), given=False)
    (4, 1)
    """
    if given:
        return tuple(s)
    m = shape[axes[-1]]
    return (*s[:-1], _length(1 if m == 1 and not one_d else 2 * (m - 1), "n"))


def promoted_name(name: str, argument: str = "x") -> str:
    """The dtype an input of dtype *name* is computed from (SciPy's promotion).

    Examples
    --------
    >>> promoted_name("int32"), promoted_name("float16"), promoted_name("complex64")
    ('float64', 'float32', 'complex64')
    """
    if name.startswith(_INTEGER_PREFIXES):
        return "float64"
    if name == "complex32":
        return "complex64"
    if name in ("float16", "bfloat16"):
        return "float32"
    if name not in _PRECISION:
        raise TypeError(
            f"{argument} has dtype {name}; gpmath.fft computes in float32/complex64 and float64/complex128 "
            "(integers, bool, float16 and bfloat16 are promoted)"
        )
    return name


def transform_dtypes(name: str, kind: str, argument: str = "x") -> tuple[str, str]:
    """``(transform input dtype, result dtype)`` of a *kind* transform of an input of dtype *name*.

    Examples
    --------
    >>> transform_dtypes("float32", "c2c")
    ('complex64', 'complex64')
    >>> transform_dtypes("int64", "r2c")
    ('float64', 'complex128')
    >>> transform_dtypes("float32", "c2r")
    ('complex64', 'float32')
    """
    real = _PRECISION[promoted_name(name, argument)]
    if kind == "r2c":
        if name.startswith("complex"):
            raise TypeError(f"{argument} must be a real sequence for a real-to-complex transform, not {name}")
        return real, complex_name(real)
    if kind == "c2r":
        return complex_name(real), real
    return complex_name(real), complex_name(real)
