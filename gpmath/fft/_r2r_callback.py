"""DCT/DST of types 4 and 1 as one cuFFT transform whose callbacks do the pre- and
post-processing.

The fused path (:mod:`gpmath.fft._r2r_fused`) runs a pre kernel, the FFT and a post kernel: three
passes over the data.  For types 4 and 1 each FFT input is a few samples of the caller's row
(twiddled, for type 4) and each type-4 result one FFT output (twiddled), so ``r2r.cu``, compiled
with ``GPM_CALLBACK``, turns the same element functions into cuFFT *LTO callbacks*: cuFFT links
them into its own kernels when the plan is made (nvJitLink) and its first pass reads the caller's
rows through the load callback, so the FFT's input never exists in memory.  Type 4 (a complex FFT
of N/2 points, its input and output the size of the caller's rows) also writes its result through
the store callback; its callbacks read their twiddle factors from tables (the FFTs' ``dct4-pre``
and ``dct4-post`` vectors, passed as cuFFT's caller info) rather than computing a ``sincospi`` an
element.  Type 1 does not: its FFT's output (M/2 + 1 complex points a row, M about 2N)
is larger than the caller's result, and cuFFT may use an out-of-place output as scratch where its
plan takes more than one kernel, so the FFT writes a spectrum buffer of its own size and the post
kernel follows.  The transform's length, kind and factors are compiled into the callbacks (their
LTO-IR sits in the kernel cache), so a :class:`CallbackPlan` serves one transform of one length,
dtype, batch and stream; the stateless functions keep them in the ``"fft"`` plan cache, a DCT/DST
plan holds its own.

Used where cuFFT is 12 or newer (CUDA 13: ``cufftXtSetJITCallback`` with a symbol name), nvJitLink
is found and ``GPMATH_FFT_CALLBACKS`` is not ``0``; where making a plan fails, gpmath logs why once
and the fused kernels compute that transform (length and dtype) on that device from then on.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

from .._bindings import cufft
from .._core import runtime
from .._core.dtypes import DTYPES, complex_name
from .._errors import LibraryError, NoGPUError, OutOfMemoryError
from .._core.kernels import link_ir

__all__ = ["CallbackPlan", "serves", "plan_for", "ENVIRONMENT"]

ENVIRONMENT = "GPMATH_FFT_CALLBACKS"
logger = logging.getLogger("gpmath")
_TYPES = {"pre4": 4, "pre_dct1": 1, "pre_dst1": 1}  # the recipes the callbacks serve, by pre kernel
_refused: set[tuple] = set()  # (device, pre kernel, FFT length, dtype) where no callback plan could be made


@functools.cache
def _linkable() -> bool:
    """Whether cuFFT takes LTO callbacks by symbol name and nvJitLink can be loaded (never raises)."""
    try:
        version = cufft.get_version()
    except Exception as exc:  # no cuFFT: the fused path says why when it needs it
        logger.debug("fft: no cuFFT for callbacks (%s)", exc)
        return False
    if version < cufft.JIT_CALLBACK_VERSION:
        logger.info("fft: cuFFT %d takes no LTO callbacks by name: DCT/DST types 1 and 4 run as three passes", version)
        return False
    try:
        from cuda import pathfinder

        pathfinder.load_nvidia_dynamic_lib("nvJitLink")  # loaded here, cuFFT's own lookup finds it
    except Exception as exc:
        logger.info("fft: nvJitLink not found (%s): DCT/DST types 1 and 4 run as three passes", exc)
        return False
    return True


def serves(recipe, device_id: int, pointer: int, real: str) -> bool:
    """Whether a callback plan computes *recipe* of the rows at *pointer* (dtype *real*) on
    *device_id*: type 4 or 1 around an FFT of 2 points or more, callbacks not switched off nor
    refused for this transform on the device, and rows that start where a complex element may
    (cuFFT's alignment for its data pointers; type 4 hands them to cuFFT as its complex input)."""
    if recipe.pre not in _TYPES or recipe.fft_n < 2 or os.environ.get(ENVIRONMENT, "1") == "0":
        return False
    if (device_id, recipe.pre, recipe.fft_n, real) in _refused:
        return False
    return pointer % (2 * DTYPES[real].itemsize) == 0 and _linkable()


class CallbackPlan:
    """A cuFFT plan of *rows* transforms *recipe* of length *n* in precision *real*, its load and
    store callbacks (from the CUDA source file *source*) linked in, bound to *stream* on
    *device_id* (made current by the caller); *tables* (type 4: the pre- and post-twiddle device
    arrays, kept by the plan) are the callbacks' caller info, their addresses *addresses*.

    Attributes
    ----------
    nbytes : int
        The work area cuFFT allocated for it.
    stores : bool
        Whether the store callback writes the transform's result (type 4); otherwise (type 1) the
        plan writes the FFT's spectrum, for the post kernel.
    freed : bool
    """

    __slots__ = ("handle", "device_id", "nbytes", "stores", "freed", "_exec", "_callbacks", "_tables")

    def __init__(self, source: str, recipe, n: int, real: str, rows: int, device_id: int, stream: int,
                 tables: tuple = (), addresses: tuple[int, int] = (0, 0)):
        type = _TYPES[recipe.pre]
        common = {"GPM_REAL": DTYPES[real].itemsize, "GPM_TYPE": type, "GPM_N": n,
                  "GPM_SINE": int(recipe.sine or recipe.pre == "pre_dst1")}
        real_code, complex_code = DTYPES[real].cuda, DTYPES[complex_name(real)].cuda
        double = real == "float64"
        load_kind = (cufft.CallbackType.CUFFT_CB_LD_COMPLEX_DOUBLE if double else cufft.CallbackType.CUFFT_CB_LD_COMPLEX) \
            if type == 4 else (cufft.CallbackType.CUFFT_CB_LD_REAL_DOUBLE if double else cufft.CallbackType.CUFFT_CB_LD_REAL)
        store_kind = cufft.CallbackType.CUFFT_CB_ST_COMPLEX_DOUBLE if double else cufft.CallbackType.CUFFT_CB_ST_COMPLEX
        self.device_id, self.stores, self.freed, self._exec = device_id, type == 4, False, cufft.xt_exec_function()
        self._callbacks = []  # (name, LTO-IR) of each callback, kept for the plan's life: cuFFT holds pointers to them
        self._tables = tables  # (their memory is read by every execution)
        self.handle = cufft.create()
        try:
            sides = ((1, b"gpm_r2r_load", load_kind, recipe.pre_factors, addresses[0]),
                     (2, b"gpm_r2r_store", store_kind, recipe.post_factors, addresses[1]))
            for side, symbol, kind, factors, info in sides[:2 if self.stores else 1]:
                scale, first, last = (repr(float(v)) for v in factors)
                ir = link_ir(source, {**common, "GPM_CALLBACK": side, "GPM_SCALE": scale, "GPM_FIRST": first,
                                              "GPM_LAST": last}, device_id)
                self._callbacks.append((symbol, ir))
                cufft.xt_set_jit_callback(self.handle, symbol, ir, kind, info)
            if type == 4:  # rows of n/2 complex points, in and out
                width = n // 2
                shape = ((width,), (width,), 1, width, complex_code, (width,), 1, width, complex_code)
            else:  # rows of M real inputs and M/2 + 1 complex outputs
                width = recipe.fft_n
                shape = ((width,), (width,), 1, width, real_code, (width // 2 + 1,), 1, width // 2 + 1, complex_code)
            self.nbytes = cufft.xt_make_plan_many(self.handle, *shape, rows, complex_code)
            cufft.set_stream(self.handle, stream)
        except BaseException:
            cufft.destroy(self.handle)
            raise

    def run(self, src: int, dst: int) -> None:
        """The transforms of the rows at device address *src* into the rows at *dst* (the
        results where :attr:`stores`, else the FFT's spectrum), on the plan's stream (the plan's
        device current)."""
        status = self._exec(self.handle, ctypes.c_void_p(src), ctypes.c_void_p(dst), cufft.FORWARD)
        if status:
            cufft.check(status, "cufftXtExec")

    def free(self) -> None:
        """Destroy the cuFFT plan (idempotent)."""
        if not self.freed:
            self.freed = True
            runtime.call_on_device(self.device_id, None, cufft.destroy, self.handle)


def plan_for(f, source: str, recipe, n: int, real: str, rows: int) -> CallbackPlan | None:
    """The callback plan of *recipe* (callbacks from the CUDA source file *source*) for *rows*
    rows of length *n* on the FFTs *f*'s device and stream, kept by *f*
    (:meth:`~gpmath.fft._r2r.FFTs.owned`); None where *f* keeps nothing (a plan made for one
    call would cost its link every call) and, logged once, where cuFFT or NVRTC cannot make one
    (the caller then takes the fused kernels for this transform from then on; running out of
    memory raises)."""
    stream = f.stream()
    key = ("r2r-callback", f.device_id, stream, recipe, n, real, rows)

    def make() -> CallbackPlan:
        tables = (f.twiddle("dct4-pre", n, real), f.twiddle("dct4-post", n, real)) if _TYPES[recipe.pre] == 4 else ()
        addresses = tuple(f.pkg.ptr(t) for t in tables) or (0, 0)
        return runtime.call_on_device(f.device_id, None, CallbackPlan, source, recipe, n, real, rows, f.device_id,
                                      stream, tables, addresses)
    try:
        return f.owned(key, make)
    except OutOfMemoryError:
        raise
    except (LibraryError, NoGPUError) as exc:
        _refused.add((f.device_id, recipe.pre, recipe.fft_n, real))
        logger.info("fft: no cuFFT callback plan for %s of %d points on device %d (%s): it runs as three passes",
                    recipe.pre, n, f.device_id, exc)
        return None
