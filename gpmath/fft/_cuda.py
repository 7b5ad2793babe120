"""``CudaFFT``: the FFT planner's cuFFT engine.

Plan time does the work: DLPack intake with the stream handshake, the layout decision
(:mod:`gpmath.fft._layout`), one ``cufftXtMakePlanMany`` per pass with auto-allocation off, one
shared work area from the stream-ordered pool, and any input buffer the layout needs.
``execute`` on an unchanged plan allocates the result and makes one ``cufftXtExec`` call with
pre-resolved pointers, stream and direction; copies, normalisation and conjugation run (only
when needed) as the caller's package's own operations on the plan's stream.  Host operands are
staged through device buffers (their norm factor applied there, by cuBLAS's ``scal``), and the
host waits for the plan's stream only in that case.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import math
from typing import Any

import numpy as np

from .._bindings import cublas, cufft
from .._core import handles, runtime
from .._core.dtypes import DTYPES
from .._errors import OutOfMemoryError
from .._core.memory import DeviceBuffer, _trim_pool
from .._core.transfer import SLOT_BYTES, host_empty, is_pinned, through_blocks, to_device, to_host
from .._core.operand import as_operand
from .._core.streams import order_after, own_stream, resolve_stream, side_stream, synchronize
from ._layout import Layout, Pass, non_overlapping, plan_layout
from ._planner import FFT

__all__ = ["CudaFFT"]

logger = logging.getLogger("gpmath")
_CODES = {"forward": cufft.FORWARD, "inverse": cufft.INVERSE}


def _inverse(order) -> tuple[int, ...]:
    inverse = [0] * len(order)
    for position, axis in enumerate(order):
        inverse[axis] = position
    return tuple(inverse)


def _ordered(shape, order) -> tuple[int, ...]:
    return tuple(shape[a] for a in order)


def _dense(op) -> bool:
    """Whether *op* fills its span exactly, starting at its first element (uploadable as bytes)."""
    lo, hi = op.span()
    return lo == op.ptr and hi - lo == op.size * op.dtype.itemsize and non_overlapping(op.shape, op.strides)


_SCAL = {"float32": ("S", ctypes.c_float), "float64": ("D", ctypes.c_double),
         "complex64": ("Cs", ctypes.c_float), "complex128": ("Zd", ctypes.c_double)}


def scale_on_device(ptr: int, count: int, dtype, factor: float, stream: int, device_id: int) -> None:
    """Multiply the *count* elements of *dtype* at device address *ptr* by the real *factor*, on
    *stream* (cuBLAS's ``scal``: one pass over device memory, where the host would take a pass
    over the result after its copy)."""
    kind, real = _SCAL[np.dtype(dtype).name]
    handle = handles.get_handle("cublas", device_id, cublas.create, cublas.destroy)
    handles.bind_stream(handle, stream, cublas.set_stream)
    alpha = real(factor)
    with runtime.on_device(device_id):
        cublas.scal(kind, handle, count, ctypes.addressof(alpha), ptr)


class CudaFFT(FFT):
    """FFT through cuFFT on one CUDA device (see :class:`gpmath.fft.FFT`)."""

    def __init__(self, x, axes=None, *, kind=None, s=None, norm=None, inplace=False, overwrite_x=False,
                 workers=None, execution=None, stream=None, device_id=None):
        super().__init__(x, axes, kind=kind, s=s, norm=norm, inplace=inplace, overwrite_x=overwrite_x,
                         workers=workers, execution=execution, stream=stream, device_id=device_id)
        pkg, dev = self.package, self.device_id
        self.staged = self.staging is not None  # host operands computed on the GPU
        self.stream = own_stream(dev) if self.staged and stream is None else resolve_stream(stream, pkg, dev)
        self._stream_object = stream
        self._operand = as_operand(self._x, "x", None if self.staged else self.stream)
        self.problem = self._describe(self._operand)
        self._device_query = pkg.device_query()
        self.layout: Layout | None = None
        self._steps = None
        self._direct: dict = {}  # direction -> cuFFT code, where execute is one allocation and one call
        self._handles: list[int] = []
        self._blocks: list[tuple[int, int, int, int, int]] = []

    # -- planning ---------------------------------------------------------------------------
    def plan(self) -> "CudaFFT":
        """Create the cuFFT plans, their work area and the buffers the layout needs.

        Returns the plan.
        """
        self._check_alive()
        self._direct, self._steps = {}, None  # unplanned until this planning completes
        self._release_held()
        p = self.problem
        self.layout = layout = self._decide_layout()
        with runtime.on_device(self.device_id):
            self._handles = [self._make_plan(step) for step in layout.passes]
            self._blocks = self._plan_blocks(layout)  # (their plans join the handles, after the passes')
            work_bytes = max((cufft.get_size(h) for h in self._handles), default=0)
            work = DeviceBuffer(work_bytes, self.stream, self.device_id)
            self._hold(work.release)
            for handle in self._handles:
                cufft.set_work_area(handle, work.ptr)
            self.nbytes = work.nbytes + self._make_buffers(layout)
        self._fn = cufft.xt_exec_function()
        self._steps = [self._step(step, handle) for step, handle in zip(layout.passes, self._handles)]
        self._codes = {None: _CODES[p.default_direction()]}
        self._codes.update(_CODES if p.kind == "c2c" else {p.default_direction(): self._codes[None]})
        self._factors = {code: p.factor(name) for name, code in _CODES.items()}
        order = layout.out_order
        self._alloc_shape = None if order is None else _ordered(layout.out_shape, order)
        self._unpermute = None if order is None or order == tuple(sorted(order)) else _inverse(order)
        self._new_result = None if self.staged or self._alloc_shape is None else \
            self.package.allocator(self._alloc_shape, p.out_dtype, self.device_id)
        self._planned_direct = self._direct_codes()
        if self._x is not None:  # (planned after release_operands: nothing to read until a reset)
            self._bind_input()
            self._direct = self._planned_direct
        return self

    def _plan_blocks(self, layout: Layout) -> list[tuple[int, int, int, int, int]]:
        """``(input offset, input bytes, output offset, output bytes, cuFFT plan)`` per block of
        the batch, for host operands uploaded as they are whose one transform reads and writes
        its batch as consecutive runs of memory and is larger than two pinned slots: a block is
        transformed (into its part of the result, which goes back while the next is copied) as
        soon as it is uploaded, so that copies and transforms overlap.  Blocks start on the
        complex element's alignment; each block size has its plan.  Empty where the transform is
        not of that kind."""
        p = self.problem
        if not self.staged or p.inplace or layout.copy_order is not None or len(layout.passes) != 1:
            return []
        step = layout.passes[0]
        row_in, row_out = step.idist * p.in_dtype.itemsize, step.odist * p.out_dtype.itemsize
        lo, hi = self._operand.span()
        if ((step.source, step.target, step.offsets, step.istride, step.ostride) != ("input", "output", ((0, 0),), 1, 1)
                or step.batch * row_in != hi - lo or step.batch * row_out != math.prod(layout.out_shape) * p.out_dtype.itemsize
                or hi - lo < 2 * SLOT_BYTES):
            return []
        align = self._alignment
        quantum = math.lcm(align // math.gcd(align, row_in), align // math.gcd(align, row_out))
        step_rows = max(quantum, SLOT_BYTES // row_in // quantum * quantum)
        if step_rows >= step.batch:  # one block: nothing to overlap
            return []
        plans: dict[int, int] = {}
        blocks = []
        for first in range(0, step.batch, step_rows):
            rows = min(step_rows, step.batch - first)
            if rows not in plans:
                plans[rows] = self._make_plan(dataclasses.replace(step, batch=rows))
                self._handles.append(plans[rows])
            blocks.append((first * row_in, rows * row_in, first * row_out, rows * row_out, plans[rows]))
        logger.info("fft: %r pipelines its host operand in %d blocks of its batch", self, len(blocks))
        return blocks

    def _direct_codes(self) -> dict:
        """The directions whose execution is one allocation and one ``cufftXtExec`` reading the
        caller's array: one pass, no staging, input copy, permutation, scaling or device switch."""
        if (self.staged or self._in_buffer is not None or self._alloc_shape is None or self._unpermute is not None
                or len(self._steps) != 1 or runtime.device_count() > 1):
            return {}
        handle, src_is_out, dst_is_out, offsets, fixed = self._steps[0]
        if src_is_out or not dst_is_out or offsets != [(0, 0)] or fixed is not None:
            return {}
        self._handle = handle
        return {d: code for d, code in self._codes.items() if self._factors[code] == 1.0}

    def _decide_layout(self) -> Layout:
        """Device operands are read in place where cuFFT can express their strides; host
        operands are uploaded as they are when dense, else through a dense host copy.  Either
        falls back to the copy when a launch pointer would be misaligned for cuFFT."""
        p, op = self.problem, self._operand
        if self.staged:  # the upload is a copy (at an aligned address): cuFFT may overwrite it
            must_copy, base = p.needs_cast or not _dense(op), 0
        else:
            reversed_axis = any(st < 0 for st, e in zip(op.strides, op.shape) if e > 1)  # cuFFT strides are positive
            # a conjugate or negative view: its memory is not its values (none bound: reset_operands refuses one)
            lazy = self._x is not None and self.package.resolved(self._x) is not self._x
            must_copy = p.needs_cast or reversed_axis or lazy or (p.kind == "c2r" and not p.overwrite_x)
            base = op.ptr
        inplace = p.inplace and not self.staged
        layout = plan_layout(op.shape, op.strides, p.axes, p.kind, p.s, must_copy=must_copy, inplace=inplace)
        if layout.copy_order is None and not self._aligned(layout, base):
            if inplace:
                raise ValueError(f"inplace=True: x at {base:#x} is not aligned to {self._alignment} bytes as cuFFT needs")
            layout = plan_layout(op.shape, op.strides, p.axes, p.kind, p.s, must_copy=True)
        if layout.copy_order is not None and not self.staged:
            logger.info("fft: %r reads a copy of x (strides %s, padding, a dtype change, alignment or c2r)",
                        self, op.strides)
        return layout

    @property
    def _alignment(self) -> int:
        """cuFFT needs every data pointer aligned to the complex element of the precision."""
        return 2 * DTYPES[self.problem.out_dtype.real].itemsize

    def _aligned(self, layout: Layout, in_ptr: int) -> bool:
        """Whether every launch of *layout* gets aligned pointers (results are allocated aligned)."""
        p, align = self.problem, self._alignment
        for step in layout.passes:
            src = (in_ptr, p.in_dtype.itemsize) if step.source == "input" else (0, p.out_dtype.itemsize)
            dst = (in_ptr, p.in_dtype.itemsize) if step.target == "input" else (0, p.out_dtype.itemsize)
            for a, b in step.offsets:
                if (src[0] + a * src[1]) % align or (dst[0] + b * dst[1]) % align:
                    return False
        return True

    def _make_plan(self, step: Pass) -> int:
        """One cuFFT plan for *step*, bound to the plan's stream, without a work area yet."""
        precision = self.problem.out_dtype.real
        real, complex_ = DTYPES[precision].cuda, DTYPES["complex64" if precision == "float32" else "complex128"].cuda
        types = {"c2c": (complex_, complex_), "r2c": (real, complex_), "c2r": (complex_, real)}[step.kind]
        handle = cufft.create()
        self._hold(cufft.destroy, handle)
        cufft.set_auto_allocation(handle, False)
        args = (handle, step.n, step.inembed, step.istride, step.idist, types[0], step.onembed, step.ostride,
                step.odist, types[1], step.batch, complex_)
        try:
            cufft.xt_make_plan_many(*args)
        except OutOfMemoryError:
            logger.info("fft: cuFFT could not allocate while planning; trimming the memory pool and retrying")
            synchronize(self.stream)
            _trim_pool(self.device_id)
            cufft.xt_make_plan_many(*args)
        cufft.set_stream(handle, self.stream)
        return handle

    def _step(self, step: Pass, handle: int) -> tuple:
        p = self.problem
        in_item = (p.in_dtype if step.source == "input" else p.out_dtype).itemsize
        out_item = (p.out_dtype if step.target == "output" else p.in_dtype).itemsize
        offsets = [(a * in_item, b * out_item) for a, b in step.offsets]
        return handle, step.source == "output", step.target == "output", offsets, step.direction

    def _make_buffers(self, layout: Layout) -> int:
        """Allocate the input copy (and, for host operands, device staging); return their bytes."""
        p, pkg = self.problem, self.package
        self._in_dev = self._out_dev = self._in_buffer = None
        self._crop = tuple(slice(0, min(m, n)) for m, n in zip(p.shape, layout.in_shape))
        self._padded = any(n > m for m, n in zip(p.shape, layout.in_shape))
        copy_bytes = 0 if layout.copy_order is None else math.prod(layout.in_shape) * p.in_dtype.itemsize
        if self.staged:
            lo, hi = self._operand.span()
            self._in_dev = DeviceBuffer(copy_bytes or hi - lo, self.stream, self.device_id)
            self._out_dev = DeviceBuffer(math.prod(layout.out_shape) * p.out_dtype.itemsize, self.stream, self.device_id)
            self._hold(self._in_dev.release)
            self._hold(self._out_dev.release)
            if layout.copy_order is not None:
                self._host_in = np.zeros(_ordered(layout.in_shape, layout.copy_order), p.in_dtype.numpy)
                self._host_view = self._host_in.transpose(_inverse(layout.copy_order))
            return self._in_dev.nbytes + self._out_dev.nbytes
        if layout.copy_order is not None:
            buffer = pkg.empty(_ordered(layout.in_shape, layout.copy_order), p.in_dtype, self.device_id, self.stream)
            self._in_buffer = self.package.permuted(buffer, _inverse(layout.copy_order))
            self._in_buffer_ptr = pkg.ptr(buffer)
        return copy_bytes

    # -- operands ---------------------------------------------------------------------------
    def _bind_input(self) -> None:
        """Resolve the address cuFFT reads from: the caller's array or the plan's buffer."""
        if self.staged:
            self._host_x = self._x
            self._in_ptr = self._in_dev.ptr
        elif self.layout.copy_order is None:
            self._in_ptr = self._operand.ptr if self._operand.array is self._x else self.package.ptr(self._x)
        else:
            self._in_ptr = self._in_buffer_ptr

    def reset_operands(self, x) -> None:
        """Use *x* from now on: same package, device, dtype and shape as planned, and the same
        strides where the plan reads the caller's array directly.

        Raises ``ValueError`` naming the difference otherwise.
        """
        self._check_alive()
        new = as_operand(self._inward("x", x), "x", None if self.staged else self.stream)
        direct = self.layout is None or self.layout.copy_order is None
        self._check_same(self._operand, new, strides_matter=direct)
        if direct and self.layout is not None and not self.staged:
            if not self._aligned(self.layout, new.ptr):
                raise ValueError(f"x at {new.ptr:#x} is not aligned to {self._alignment} bytes as this plan needs; "
                                 "build a new plan for it")
            if self.package.resolved(x) is not x:
                raise ValueError("x is a lazily conjugated or negated view but this plan reads x's memory in place; "
                                 "pass x.resolve_conj().resolve_neg(), or build a new plan for x")
        self._operand = new
        self.reset_operands_unchecked(x)

    def reset_operands_unchecked(self, x) -> None:
        """Like :meth:`reset_operands` without validation or stream handshake: the fast rebind.

        The caller guarantees *x* matches the planned operand and that work producing *x* is
        ordered before the plan's stream; anything else gives wrong results.
        """
        self._caller_x = x
        self._x = x if self.staging is None else self.staging.inward(x)
        if self._steps is not None:
            self._bind_input()
            self._direct = self._planned_direct

    def release_operands(self) -> None:
        """Drop the references to the operand (see :meth:`Planner.release_operands`)."""
        self._x = self._caller_x = self._host_x = None
        if self._operand is not None:  # None once freed
            self._operand.detach()
        self._direct = {}  # the bare path reads no operand: take the one that checks

    # -- execution --------------------------------------------------------------------------
    def execute_with(self, x, direction: str | None = None, stream: Any = None) -> Any:
        """As :meth:`Planner.execute_with <gpmath._core.planner.Planner.execute_with>`; where the
        transform is one ``cufftXtExec`` from the caller's array into a new one (see
        :meth:`_direct_codes`), just that call, binding nothing."""
        code = self._planned_direct.get(direction) if stream is None and self._steps is not None else None
        if code is None:
            return super().execute_with(x, direction=direction, stream=stream)
        if self._x is not None:  # leave it as the protocol does: nothing bound
            self.release_operands()
        runtime.bind_thread(self.device_id)
        result = self._new_result(self.stream)
        status = self._fn(self._handle, self.package.ptr(x), self.package.ptr(result), code)
        if status:
            cufft.check(status, "cufftXtExec")
        return result

    def execute(self, direction: str | None = None, stream: Any = None) -> Any:
        """Transform the current operand and return the result.

        Parameters
        ----------
        direction : {None, "forward", "inverse"}
            c2c: either (default forward); r2c runs forward and c2r inverse only.
        stream : stream, optional
            Run on this stream from now on (the plan's earlier work is ordered first).

        Returns
        -------
        array
            A new array in *x*'s package and on its device (*x* itself when in place).
        """
        code = self._direct.get(direction)
        if code is not None and stream is None:  # the common case, kept to the bare calls
            runtime.bind_thread(self.device_id)
            result = self._new_result(self.stream)
            status = self._fn(self._handle, self._in_ptr, self.package.ptr(result), code)
            if status:
                cufft.check(status, "cufftXtExec")
            return result
        if self._steps is None:
            self._check_alive()
            self.plan()
        if self._x is None:
            raise ValueError("this plan has no operand bound; pass it with reset_operands()")
        code = self._codes.get(direction)
        if code is None:
            self.problem.check_direction(direction)
        if stream is not None:
            self._switch_stream(resolve_stream(stream, self.package, self.device_id))
            self._stream_object = stream
        if self.staged:
            return self._execute_staged(code)
        if self._in_buffer is not None:
            self._fill_input()
        if self._alloc_shape is None:  # in place
            self._launch(self._in_ptr, self._in_ptr, code)
            return self._finish(self._x, code)
        result = self._new_result(self.stream)
        self._launch(self._in_ptr, self.package.ptr(result), code)
        if self._unpermute is not None:
            result = self.package.permuted(result, self._unpermute)
        return self._finish(result, code)

    def _fill_input(self) -> None:
        """Copy (crop, cast) the caller's array into the plan's buffer, zero-padded."""
        pkg = self.package
        with pkg.on_stream(self.stream, self.device_id):
            if self._padded:
                pkg.zero(self._in_buffer)
            self.package.copy_into(self._in_buffer[self._crop], self._x[self._crop])

    def _finish(self, result, code: int):
        factor = self._factors[code]
        if factor != 1.0:
            with self.package.on_stream(self.stream, self.device_id):
                self.package.scale_inplace(result, factor)
        return result

    def _launch(self, in_ptr: int, out_ptr: int, code: int) -> None:
        runtime.call_on_device(self.device_id, self._device_query, self._call_all, in_ptr, out_ptr, code)

    def _call_all(self, in_ptr: int, out_ptr: int, code: int) -> None:
        fn = self._fn
        for handle, src_is_out, dst_is_out, offsets, fixed in self._steps:
            src = out_ptr if src_is_out else in_ptr
            dst = out_ptr if dst_is_out else in_ptr
            sign = code if fixed is None else fixed
            for src_off, dst_off in offsets:
                status = fn(handle, src + src_off, dst + dst_off, sign)
                if status:
                    cufft.check(status, "cufftXtExec")

    def _execute_staged(self, code: int):
        """Host operands: stage in, transform, copy the result back, wait for this stream only."""
        p, layout, host = self.problem, self.layout, self._host_x
        if layout.copy_order is None:  # dense: upload its bytes as they are
            source = host
        else:
            if self._padded:
                self._host_in.fill(0)
            self._host_view[self._crop] = host[self._crop]
            source = self._host_in
        result = host_empty(_ordered(layout.out_shape, layout.out_order), p.out_dtype.numpy)
        if self._blocks and is_pinned(result.ctypes.data):
            self._pipelined(source.ctypes.data, result.ctypes.data, code)
        else:
            to_device(self._in_dev.ptr, source.ctypes.data, self._in_dev.nbytes, self.stream)
            self._launch(self._in_dev.ptr, self._out_dev.ptr, code)
            self._scale(self._out_dev.ptr, self._out_dev.nbytes, code)
            to_host(result.ctypes.data, self._out_dev.ptr, self._out_dev.nbytes, self.stream)
        result = result.transpose(_inverse(layout.out_order))
        if p.inplace:
            self._x[...] = result
            return self.staging.written(self._caller_x, self._x)
        return self.staging.outward(result)

    def _pipelined(self, source_ptr: int, result_ptr: int, code: int) -> None:
        """The staged transform block by block (:meth:`_plan_blocks`) into the pinned result at
        *result_ptr* (:func:`~gpmath._core.transfer.through_blocks`): each block transformed
        and scaled on the plan's stream as soon as it is uploaded, and sent back while later
        blocks are copied."""
        in_dev, out_dev, dev = self._in_dev.ptr, self._out_dev.ptr, self.device_id
        fixed = self._steps[0][4]
        sign = code if fixed is None else fixed

        def transform(index: int) -> tuple[int, int, int]:
            in_offset, _, out_offset, out_bytes, handle = self._blocks[index]
            status = self._fn(handle, in_dev + in_offset, out_dev + out_offset, sign)
            if status:
                cufft.check(status, "cufftXtExec")
            self._scale(out_dev + out_offset, out_bytes, code)
            return result_ptr + out_offset, out_dev + out_offset, out_bytes

        with runtime.on_device(dev):
            through_blocks(in_dev, source_ptr, [block[1] for block in self._blocks],
                           (side_stream(dev, "upload"), self.stream, side_stream(dev, "download")), transform)

    def _scale(self, ptr: int, nbytes: int, code: int) -> None:
        """Apply the norm factor of direction *code* to *nbytes* of results at device address *ptr*."""
        factor, dtype = self._factors[code], self.problem.out_dtype.numpy
        if factor != 1.0 and nbytes:
            scale_on_device(ptr, nbytes // dtype.itemsize, dtype, factor, self.stream, self.device_id)

    def _switch_stream(self, stream: int) -> None:
        if stream != self.stream:
            order_after(stream, self.stream)
            self.stream = stream
            for handle in self._handles:
                cufft.set_stream(handle, stream)

    def _state(self) -> str:
        if self._steps is None:
            return "unplanned"
        copy = "copies x, " if self.layout.copy_order is not None else ""
        return f"planned ({len(self._steps)} pass(es), {copy}stream {self.stream:#x})"

    def _after_free(self) -> None:
        self._steps = None
        self._direct = {}
        self._handles = []
        self._blocks = []
        self._x = self._caller_x = self._operand = self._in_buffer = self._host_x = None
