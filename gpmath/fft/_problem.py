"""What one FFT computes (pure; no GPU): kind, axes, lengths, dtypes, shapes, normalisation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._core.dtypes import DTYPES, DType
from ._args import c2r_lengths, check_norm, many_axes, nonempty_axes, norm_factor, transform_dtypes
from ._layout import KINDS, transform_shapes

__all__ = ["FFTProblem", "describe", "DIRECTIONS", "scipy_name"]

DIRECTIONS = ("forward", "inverse")


def scipy_name(kind: str, direction: str) -> str:
    """The scipy.fft function of a transform of *kind* in *direction* (r2c runs forward and c2r
    inverse only).

    Examples
    --------
    >>> scipy_name("c2c", "inverse"), scipy_name("r2c", "forward")
    ('ifft', 'rfft')
    """
    return {"r2c": "rfft", "c2r": "irfft"}.get(kind, "fft" if direction == "forward" else "ifft")


@dataclass(frozen=True)
class FFTProblem:
    """A validated transform request.

    Attributes
    ----------
    kind : {"c2c", "r2c", "c2r"}
    shape : tuple of int
        The input's shape.
    axes : tuple of int
        Transformed axes (non-negative, SciPy's order; r2c/c2r halve the last).
    s : tuple of int
        Logical transform lengths per axis (c2r: the real output's lengths).
    norm : {"backward", "ortho", "forward"}
    source : DType
        The input's dtype.
    in_dtype, out_dtype : DType
        What cuFFT reads and writes.
    in_shape, out_shape : tuple of int
        The input as transformed (cropped or zero-padded to *s*) and the result.
    inplace, overwrite_x : bool
    """

    kind: str
    shape: tuple[int, ...]
    axes: tuple[int, ...]
    s: tuple[int, ...]
    norm: str
    source: DType
    in_dtype: DType
    out_dtype: DType
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    inplace: bool
    overwrite_x: bool

    @property
    def size(self) -> int:
        """Points per transform: the product of *s*."""
        return math.prod(self.s)

    @property
    def needs_cast(self) -> bool:
        """Whether the input's dtype differs from what cuFFT reads (a converting copy)."""
        return self.source is not self.in_dtype

    def factor(self, direction: str) -> float:
        """Normalisation factor of a transform in *direction* (1.0: none)."""
        return norm_factor(self.norm, direction == "forward", self.size)

    def default_direction(self) -> str:
        return "inverse" if self.kind == "c2r" else "forward"

    def check_direction(self, direction) -> str:
        """*direction* validated for this kind (None: forward, or inverse for c2r)."""
        if direction is None:
            return self.default_direction()
        if direction not in DIRECTIONS:
            raise ValueError(f'direction must be "forward" or "inverse", not {direction!r}')
        if self.kind != "c2c" and direction != self.default_direction():
            raise ValueError(f"a {self.kind} transform runs {self.default_direction()} only, not {direction}")
        return direction


def describe(shape, dtype: DType, axes=None, kind=None, s=None, norm=None, *, inplace=False,
             overwrite_x=False) -> FFTProblem:
    """Validate a transform of an array of *shape* and *dtype* and describe it.

    Raises ``ValueError`` naming the argument for bad axes, lengths, kind or norm, and
    ``TypeError`` for dtypes the kind cannot take (complex input to r2c).

    Examples
    --------
    >>> from gpmath._core.dtypes import DTYPES
    >>> p = describe((4, 6), DTYPES["float32"], axes=(-1,), kind="r2c")
    >>> p.out_shape, p.out_dtype.name
    ((4, 4), 'complex64')
    """
    shape = tuple(shape)
    if kind is None:
        kind = "c2c" if dtype.is_complex else "r2c"
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(repr(k) for k in KINDS)} or None, not {kind!r}")
    axes, lengths = many_axes(shape, s, axes)
    nonempty_axes(axes)
    if kind == "c2r":
        lengths = c2r_lengths(shape, axes, lengths, given=s is not None)
    in_name, out_name = transform_dtypes(dtype.name, kind)
    in_shape, out_shape = transform_shapes(shape, axes, kind, lengths)
    problem = FFTProblem(kind, shape, axes, lengths, check_norm(norm), dtype, DTYPES[in_name], DTYPES[out_name],
                         in_shape, out_shape, bool(inplace), bool(overwrite_x))
    if inplace:
        _check_inplace(problem)
    return problem


def _check_inplace(problem: FFTProblem) -> None:
    if problem.kind != "c2c":
        raise ValueError(f"inplace=True needs a complex-to-complex transform; this one is {problem.kind}")
    if problem.needs_cast:
        raise TypeError(f"inplace=True needs a {problem.in_dtype.name} input, not {problem.source.name}")
    if problem.in_shape != problem.shape:
        raise ValueError(f"inplace=True cannot crop or pad: s={problem.s} differs from the input's lengths")
