"""``FFT``: the stateful FFT planner, and what its CUDA and CPU engines share.

``FFT(x, ...)`` returns the engine for where the call runs: ``CudaFFT`` (cuFFT) or ``CpuFFT``
(scipy.fft).  Both validate with the same rules and have the same contract.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

from .._core.engines import any_empty
from .._core.operand import Operand, locate
from .._core.dtypes import DTYPES, DType
from .._core.placement import Work
from .._core.planner import Planner
from ._args import check_workers, transform_dtypes
from ._layout import transform_shapes
from ._problem import FFTProblem, describe

__all__ = ["FFT", "transform_work"]


@functools.lru_cache(maxsize=1024)
def _line_flops(length: int) -> float:
    """Flops of one transform of *length* points along an axis: for each prime factor p of the
    length (with multiplicity), ``length / p`` transforms of p points, ``5 p log2 p`` each for p up
    to 11 (``5 L log2 L`` in all for such lengths), and for a larger p Bluestein's three transforms of
    the power of two ``M >= 2p - 1`` (``15 M log2 M``), as pocketfft and cuFFT compute them."""
    flops, rest, factor = 0.0, length, 2
    while rest > 1:
        if factor * factor > rest:
            factor = rest  # what is left is prime
        while rest % factor == 0:
            padded = 1 << (2 * factor - 2).bit_length()
            cost = 5 * factor * math.log2(factor) if factor <= 11 else 15 * padded * math.log2(padded)
            flops, rest = flops + length // factor * cost, rest // factor
        factor += 1
    return flops


def transform_flops(shape: tuple[int, ...], axes: tuple[int, ...], s: tuple[int, ...], kind: str) -> float:
    """The flops :meth:`FFT._work` counts for a transform of *kind* (``"c2c"``, ``"r2c"``,
    ``"c2r"``) of an array of *shape* along *axes* (normalised) with lengths *s*: ``5 N log2 N``
    per transform of N points (:func:`_line_flops` along each axis), half that for real data.

    Examples
    --------
    >>> transform_flops((3, 8), (1,), (8,), "c2c") == 3 * 5 * 8 * 3
    True
    """
    points = math.prod(s)
    transforms = math.prod(d for axis, d in enumerate(shape) if axis not in axes)
    per_transform = sum(points // length * _line_flops(length) for length in s if length)
    return per_transform * transforms * (1 if kind == "c2c" else 0.5)


def transform_work(shape: tuple[int, ...], dtype: DType, axes: tuple[int, ...], s: tuple[int, ...], kind: str) -> Work:
    """:meth:`FFT._work` of a transform of *kind* of an array of *shape* and *dtype* (one gpmath
    transforms) along *axes* with lengths *s*, normalised (as :func:`~gpmath.fft._problem.describe`
    leaves them): :func:`transform_flops`, the array in and the result out; the problem
    ``(shape, dtype name, axes, s, kind)`` as the host shortcut describes it
    (:class:`~gpmath.fft._functions.Placed`).

    Examples
    --------
    >>> transform_work((4, 6), DTYPES["float32"], (1,), (6,), "r2c").bytes_out  # 4 x 4 complex64
    128
    """
    _, out_name = transform_dtypes(dtype.name, kind)
    _, out_shape = transform_shapes(shape, axes, kind, s)
    return Work("fft", dtype.name, transform_flops(shape, axes, s, kind), math.prod(shape) * dtype.itemsize,
                math.prod(out_shape) * DTYPES[out_name].itemsize, problem=(shape, dtype.name, axes, s, kind))


class FFT(Planner):
    """A reusable plan for one n-D FFT of arrays shaped like *x*.

    Parameters
    ----------
    x : array
        NumPy, CuPy or PyTorch array: float16/bfloat16 (computed in float32), float32, float64,
        complex64 or complex128.
    axes : int or sequence of int, optional
        Axes to transform (default: all, or the last ``len(s)``); r2c and c2r halve the last.
    kind : {None, "c2c", "r2c", "c2r"}
        Transform type; by default ``"c2c"`` for complex *x* and ``"r2c"`` for real *x*.
        ``"c2r"`` takes the non-negative half of a Hermitian spectrum (as ``irfftn``).
    s : sequence of int, optional
        Transform lengths: *x* is cropped or zero-padded to them (c2r: the real output's
        lengths, by default ``2 * (m - 1)`` on the last axis).
    norm : {None, "backward", "ortho", "forward"}
        SciPy's normalisation, applied by :meth:`execute` in either direction.
    inplace : bool
        c2c only: write the result over *x* (which must have the transform's dtype and
        lengths) and return *x*.
    overwrite_x : bool
        c2r only: let cuFFT overwrite *x* (it does so for complex-to-real transforms) instead
        of transforming a copy.  *x* is never changed otherwise.
    workers : int, optional
        Threads for the CPU engine (as in scipy.fft); ignored on the GPU.
    execution : {None, "auto", "cuda", "cpu"}
        Where to run: by default (or ``"auto"``) where *x* is, and for host arrays, where the
        calibrated cost model says it is faster when a GPU is usable.
    stream : stream, optional
        CUDA stream: torch/CuPy stream, ``cuda.bindings`` stream or integer handle; by default
        *x*'s package's current stream, resolved now.  It must be on *x*'s device.
    device_id : int, optional
        The GPU for NumPy input (default: the current device); a device array runs on its own
        device, and a different ``device_id`` raises ``ValueError``.

    Notes
    -----
    :meth:`plan` creates the cuFFT plans, their work area and any buffer the layout needs;
    :meth:`execute` then launches the transform and returns a new array (in *x*'s package, on
    its device), or *x* itself when ``inplace=True``.  Inputs whose strides cuFFT's advanced
    layout cannot express, that need zero-padding or a dtype conversion, or that a c2r
    transform would overwrite, are first copied into a buffer the plan owns.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath.fft import FFT
    >>> x = np.random.rand(8, 64) + 1j * np.random.rand(8, 64)
    >>> with FFT(x, axes=-1) as f:
    ...     _ = f.plan()
    ...     y = f.execute()
    ...     z = f.execute(direction="inverse")
    >>> bool(np.allclose(y, scipy.fft.fft(x))), bool(np.allclose(z, scipy.fft.ifft(x)))
    (True, True)
    """

    operand_names = ("x",)

    def __new__(cls, x, axes=None, *, execution=None, device_id=None, **options):
        return cls._new(FFT, execution, [locate(x, "x")], device_id, any_empty(x), {"axes": axes, **options}, (x,))

    @property
    def writes_operands(self) -> bool:
        """Whether an execution may write *x*: an in-place transform, or ``overwrite_x``."""
        p = self.problem
        return p is not None and bool(p.inplace or p.overwrite_x)

    @classmethod
    def _work(cls, shapes: tuple, dtype: str, options: dict) -> Work:
        """``5 N log2 N`` flops per transform of N points (half that for r2c and c2r) times the
        transforms, summed over the axes, with prime factors above 11 of an axis's length costed
        as Bluestein's transforms (:func:`_line_flops`: a 181-point transform costs the CPU five
        times a 128-point one).  *x* goes in, the result comes out.  Dtypes gpmath does not transform
        count as float64 (the engine rejects them)."""
        names = ("axes", "kind", "s", "norm", "inplace", "overwrite_x")
        problem = describe(shapes[0], DTYPES.get(dtype, DTYPES["float64"]),
                           **{name: options[name] for name in names if name in options})
        return transform_work(problem.shape, problem.source, problem.axes, problem.s, problem.kind)

    def __init__(self, x: Any, axes: int | Sequence[int] | None = None, *, kind: str | None = None,
                 s: Sequence[int] | None = None, norm: str | None = None, inplace: bool = False,
                 overwrite_x: bool = False, workers: int | None = None, execution: str | None = None,
                 stream: Any = None, device_id: int | None = None):
        super().__init__()
        self._take_choice(lambda: (execution, [locate(x, "x")], device_id, any_empty(x)))
        self._caller_x = x
        self._x = self._inward("x", x)
        self.workers = check_workers(workers)
        self._options = {"axes": axes, "kind": kind, "s": s, "norm": norm, "inplace": inplace,
                         "overwrite_x": overwrite_x}
        self.problem: FFTProblem | None = None

    def _describe(self, operand: Operand) -> FFTProblem:
        return describe(operand.shape, operand.dtype, **self._options)

    def _check_same(self, old: Operand, new: Operand, strides_matter: bool) -> None:
        """Raise unless *new* can replace *old* in this plan (reset_operands)."""
        if new.package is not old.package or new.device_id != old.device_id:
            raise ValueError(f"x must stay a {old.package.name} array on the same device as when planned "
                             f"({new!r} vs {old!r})")
        if new.dtype is not old.dtype or tuple(new.shape) != tuple(old.shape):
            raise ValueError(f"x must keep dtype {old.dtype.name} and shape {tuple(old.shape)}; "
                             f"got {new.dtype.name} {tuple(new.shape)}")
        if strides_matter and _relevant(new) != _relevant(old):
            raise ValueError(f"x has strides {tuple(new.strides)} but the plan reads strides {tuple(old.strides)}; "
                             "build a new plan for this layout")

    def __repr__(self) -> str:
        problem = self.problem
        state = "freed" if self._freed else self._state()
        if problem is None:
            return f"<{type(self).__name__} {state}>"
        where = "cpu" if self.device_id is None else f"cuda:{self.device_id}"
        return (f"<{type(self).__name__} {problem.kind} {problem.source.name}{list(problem.shape)} axes={problem.axes} "
                f"s={problem.s} -> {problem.out_dtype.name}{list(problem.out_shape)} norm={problem.norm} on {where}, {state}>")

    def _state(self) -> str:
        return "unplanned"


def _relevant(op: Operand) -> tuple[int, ...]:
    """Strides of dimensions longer than 1 (the others are arbitrary)."""
    return tuple(s if e > 1 else 0 for e, s in zip(op.shape, op.strides))
