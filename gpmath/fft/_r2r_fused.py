"""DCT/DST of types 1-4 as one pre-processing kernel, one FFT and one post-processing kernel.

For real operands on a CUDA device (rows of contiguous samples along the last axis, float32 or
float64), :func:`transform` replaces the composed steps of :mod:`gpmath.fft._r2r` by gpmath's
kernels ``kernels/r2r.cu`` around the same :class:`~gpmath.fft._r2r.FFTs`: the pre kernel writes
the FFT's input (reordering, extension, pre-twiddle) and the post kernel reads its output and
writes the result (post-twiddle, reordering, SciPy's norm factor and the ``orthogonalize`` end
factors).  The FFTs are the same length as the composed path's for types 1-3 (DCT-I and DST-I:
an rfft of the even or odd extension, ``2(N - 1)`` or ``2(N + 1)`` points) and half as long
(complex) for type 4; the source's header gives the index math.  Type 4 whose FFT length N/2 is a
power of two from 16 to 4096 (2048 in float64) runs as one kernel, ``r2r_whole4``, its FFT in
shared memory (:data:`WHOLE4`): one pass over the rows in and one out, where cuFFT's kernel took
2.2 times as long with the callbacks in it as without.  Types 4 and 1 run as one cuFFT transform
otherwise where cuFFT takes gpmath's element functions as callbacks
(:mod:`gpmath.fft._r2r_callback`).

A :class:`Recipe` says which kernels, FFT and factors a transform takes; it is pure, so that the
tests can run a NumPy model of the kernels from it on the CPU.  Odd-length DCT-IV/DST-IV keep
the composed path (:func:`recipe` returns None).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import struct
from dataclasses import dataclass
from typing import Callable


from .._core import kernels, runtime
from . import _r2r_callback as callback
from .._core.dtypes import DTYPES, complex_name
from .._core.kernels import Kernel, Launch

__all__ = ["Recipe", "recipe", "usable", "transform", "whole4_layout", "KERNEL_PATH", "WHOLE4"]

KERNEL_PATH = os.path.join(os.path.dirname(__file__), "kernels", "r2r.cu")
logger = logging.getLogger("gpmath")
_MAX_GRID = 2**31 - 1
WHOLE4 = (16, 4096)  # the FFT lengths N/2 (powers of two) of the one-kernel type 4: L/8 threads a block
_SHARED_MOST = 48 << 10  # its dynamic shared memory, without opting in to more
_DOUBLE, _DOUBLE_BITS = struct.Struct("=d"), struct.Struct("=q")


@dataclass(frozen=True)
class Recipe:
    """The kernels, FFT and factors of one unnormalised-plus-scaled transform along the last axis.

    Attributes
    ----------
    pre, post : str
        The kernels' names in ``r2r.cu`` without the ``r2r_`` prefix.
    fft : {"r2c", "c2r", "c2c"}
        The FFT between them, of *fft_n* points.
    fft_n : int
    width : int
        The last-axis length of the FFT's input (the pre kernel's output).
    complex_input : bool
        Whether that input is complex.
    sine : bool
        A DST of type 2-4 (the kernels fold its signs and reversals into their indexing).
    pre_factors, post_factors : tuple of float
        ``(scale, first, last)`` of each kernel: the factor of every sample and of the first
        and last internal one (input side: ``orthogonalize``'s sqrt(2); output side: the norm
        factor, times ``orthogonalize``'s 1/sqrt(2) at the ends).
    """

    pre: str
    post: str
    fft: str
    fft_n: int
    width: int
    complex_input: bool
    sine: bool
    pre_factors: tuple[float, float, float]
    post_factors: tuple[float, float, float]


def _end_factors(family: str, type: int, orthogonalize: bool) -> tuple[float, float]:
    """``orthogonalize``'s output factors of the first and last internal sample: DCT-I both ends,
    types 2 and 3 the first (a DST's last sample is its DCT's first); inputs take the inverse."""
    if not orthogonalize or type == 4 or (type == 1 and family == "dst"):
        return 1.0, 1.0
    end = 1 / math.sqrt(2)
    return end, end if type == 1 else 1.0


def recipe(family: str, type: int, n: int, orthogonalize: bool, factor: float) -> Recipe | None:
    """The recipe of the *family* transform of *type* of length *n*, its result scaled by *factor*;
    None for an odd-length type 4 (the composed path computes it)."""
    if type == 4 and n % 2:
        return None
    first, last = _end_factors(family, type, orthogonalize)
    inputs = (1.0, 1 / first, 1 / last) if type in (1, 3) else (1.0, 1.0, 1.0)
    outputs = (factor, factor * first, factor * last) if type in (1, 2) else (factor,) * 3
    if type == 1:
        length = 2 * (n - 1) if family == "dct" else 2 * (n + 1)
        return Recipe(f"pre_{family}1", f"post_{family}1", "r2c", length, length, False, False, inputs, outputs)
    steps = {2: ("r2c", n, n, False), 3: ("c2r", n, n // 2 + 1, True), 4: ("c2c", n // 2, n // 2, True)}[type]
    return Recipe(f"pre{type}", f"post{type}", *steps, family == "dst", inputs, outputs)


def usable(f) -> bool:
    """Whether the FFTs *f* serve operands on a CUDA device where gpmath's kernels compile."""
    return f.device_id is not None and kernels.compiler_available()


@functools.cache
def _kernel(name: str, real: str) -> Kernel:
    return Kernel(KERNEL_PATH, f"r2r_{name}", {"GPM_REAL": DTYPES[real].itemsize})


def _bits(value: float) -> int:
    """The 8 bytes of the double *value*, as :meth:`Launch.set` takes them."""
    return _DOUBLE_BITS.unpack(_DOUBLE.pack(value))[0]


def _block(n: int) -> int:
    """Threads a row: whole warps, at most 256 (the kernels stride along longer rows)."""
    return min(256, 32 * -(-n // 32))


def _launch(f, name: str, real: str, rows: int, n: int, pointers: tuple[int, int], sine: bool,
            factors: tuple[float, float, float]) -> None:
    """Run kernel *name* on *rows* rows of length *n* on *f*'s stream (one block a row)."""
    _run(f, _kernel(name, real), ("r2r-launch", name, real), pointers,
         (rows, n, int(sine), *(_bits(v) for v in factors)), min(rows, _MAX_GRID), _block(n))


def _run(f, kernel: Kernel, key: tuple, pointers: tuple[int, int], fixed: tuple[int, ...], grid: int, block: int,
         shared: int = 0, tables: Callable[[], tuple] | None = None) -> None:
    """Launch *kernel* on *f*'s stream, its parameters the input and output *pointers*, then
    *fixed*, then the addresses of the arrays ``tables()`` returns.  The launch is kept by *f*
    under *key* (which names the kernel) and *fixed*; those parameters and the tables' are set
    when it is made (it holds the tables), so that a repeat sets the two pointers alone."""
    def make():
        held = tables() if tables is not None else ()
        values = (*fixed, *(f.pkg.ptr(table) for table in held))
        launch = Launch(kernel.function(f.device_id), 2 + len(values), grid=grid, block=block, shared=shared,
                        held=held)
        for index, value in enumerate(values, 2):
            launch.set(index, value)
        return launch

    def run():
        launch = f.launch((*key, *fixed), make)
        launch.set(0, pointers[0])
        launch.set(1, pointers[1])
        launch(f.stream())

    runtime.call_on_device(f.device_id, None, run)


def whole4_layout(r: Recipe, n: int, real: str, pointer: int) -> tuple[int, int] | None:
    """``(rows a block, bytes of shared memory)`` of ``r2r_whole4`` for recipe *r* of length *n* in
    *real* on rows at *pointer*, or None where it does not serve it: type 4 with N/2 a power of two
    within :data:`WHOLE4`, its rows' padded arrays within :data:`_SHARED_MOST`, rows that start
    where a complex element may (the kernel reads them as sample pairs), and one output factor for
    every sample (type 4's: the kernel applies the first).  A block holds 2048 / (N/2) rows (256
    threads) up to N/2 = 2048, one beyond."""
    half, item = n // 2, DTYPES[real].itemsize
    if r.pre != "pre4" or not WHOLE4[0] <= half <= WHOLE4[1] or half & (half - 1) or pointer % (2 * item):
        return None
    if len(set(r.post_factors)) != 1:
        return None
    rows = max(1, 2048 // half)
    nbytes = rows * 2 * (half + (half >> (5 if item == 4 else 4))) * item  # a padding slot every 32 floats, 16 doubles
    return (rows, nbytes) if nbytes <= _SHARED_MOST else None


@functools.cache
def _whole4_kernel(real: str, half: int) -> Kernel:
    return Kernel(KERNEL_PATH, "r2r_whole4", {"GPM_REAL": DTYPES[real].itemsize, "GPM_HALF": half})


def _whole4(f, r: Recipe, real: str, rows: int, n: int, pointers: tuple[int, int], layout: tuple[int, int]) -> None:
    """Run ``r2r_whole4`` (compiled for *n*) on *rows* rows of length *n* on *f*'s stream."""
    per_block, shared = layout
    _run(f, _whole4_kernel(real, n // 2), ("r2r-launch", "whole4", real), pointers,
         (rows, n, int(r.sine), *(_bits(v) for v in r.post_factors)), min(-(-rows // per_block), _MAX_GRID),
         per_block * n // 16, shared,
         lambda: tuple(f.twiddle(name, n, real) for name in ("dct4-pre", "dct4-post", "dct4-roots")))


def _fft(f, r: Recipe, buffer):
    if r.fft == "r2c":
        return f.rfft(buffer)
    if r.fft == "c2r":
        return f.irfft(buffer, r.fft_n)
    return f.fft(buffer, r.fft_n)


def transform(x, r: Recipe, f, real: str):
    """The transform *r* of the C-contiguous real array *x* (dtype *real*) along its last axis,
    through the FFTs *f* (a new array; the FFT's input is ``f.kept``)."""
    pkg, device_id, stream = f.pkg, f.device_id, f.stream()
    shape = tuple(x.shape)
    batch, n = shape[:-1], shape[-1]
    rows = math.prod(batch)
    out = pkg.empty(shape, DTYPES[real], device_id, stream)
    if rows == 0:
        return out
    layout = whole4_layout(r, n, real, pkg.ptr(x))
    if layout is not None:
        logger.debug("dct/dst: %s/%s in one kernel (a %d-point FFT in shared memory), %d rows", r.pre, r.post,
                     r.fft_n, rows)
        _whole4(f, r, real, rows, n, (pkg.ptr(x), pkg.ptr(out)), layout)
        return out
    plan = callback.plan_for(f, KERNEL_PATH, r, n, real, rows) if callback.serves(r, device_id, pkg.ptr(x), real) \
        else None
    if plan is not None and plan.stores:
        logger.debug("dct/dst: %s/%s as cuFFT callbacks of a %d-point %s FFT, %d rows", r.pre, r.post, r.fft_n, r.fft,
                     rows)
        runtime.call_on_device(device_id, None, plan.run, pkg.ptr(x), pkg.ptr(out))
        return out
    if plan is not None:  # type 1: the load callback, cuFFT's spectrum, the post kernel
        logger.debug("dct/dst: %s as a cuFFT load callback of a %d-point %s FFT, then %s, %d rows", r.pre, r.fft_n,
                     r.fft, r.post, rows)
        spectrum = f.kept(("r2r-spectrum", batch, r.fft_n // 2 + 1, complex_name(real)),
                          lambda: pkg.empty((*batch, r.fft_n // 2 + 1), DTYPES[complex_name(real)], device_id, stream))
        runtime.call_on_device(device_id, None, plan.run, pkg.ptr(x), pkg.ptr(spectrum))
    else:
        logger.debug("dct/dst: fused %s/%s kernels around a %d-point %s FFT, %d rows", r.pre, r.post, r.fft_n, r.fft,
                     rows)
        dtype = complex_name(real) if r.complex_input else real
        buffer = f.kept(("r2r-buffer", batch, r.width, dtype),
                        lambda: pkg.empty((*batch, r.width), DTYPES[dtype], device_id, stream))
        _launch(f, r.pre, real, rows, n, (pkg.ptr(x), pkg.ptr(buffer)), r.sine, r.pre_factors)
        spectrum = pkg.contiguous(_fft(f, r, buffer))
    _launch(f, r.post, real, rows, n, (pkg.ptr(spectrum), pkg.ptr(out)), r.sine, r.post_factors)
    return out
