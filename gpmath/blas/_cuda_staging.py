"""``CudaMatmul``'s path for host operands (:class:`StagedProducts`, a base class of it): device
buffers for the operands and the result, allocated once at plan time; the operands copied up, the
product, the result copied back into a NumPy array, the host waiting for the plan's stream only;
for one large C-order ``a``, its rows in blocks, each block's upload, product and download
overlapping the next block's.
"""

from __future__ import annotations

import ctypes
import logging
import math

from .._bindings import cublaslt as lt
from .._core import runtime
from .._core.memory import DeviceBuffer
from .._core.operand import as_operand
from .._core.packages import NUMPY
from .._core.streams import side_stream
from .._core.transfer import SLOT_BYTES, host_empty, is_pinned, through_blocks, to_device, to_host
from ._layout import OP_N

__all__ = ["NAMES", "StagedProducts"]

logger = logging.getLogger("gpmath")
NAMES = ("a", "b", "c", "bias")  # the operands, in the planner's order


class StagedProducts:
    """The staged execution of :class:`~gpmath.blas._cuda.CudaMatmul` (which holds the state these
    methods read: the problem, layout, argument list, operands and their device buffers)."""

    def _plan_row_blocks(self, handle: int, desc: int, layouts: tuple, pref: int) -> list[tuple]:
        """``(first row, rows, B layout, D layout, heuristic result)`` per block of the user's a,
        for host operands whose a is one large C-order matrix (no c, one call): a block is
        uploaded and multiplied (into the same rows of the result, which go back while the next
        block is copied) before the next, so that copies and the product overlap.  Empty where
        the product is not of that kind or a is smaller than two pinned slots."""
        layout, problem = self.layout, self.problem
        item, m, k, n = problem.dtype.itemsize, problem.m, problem.k, problem.n
        eligible = (layout.batch_count == 1 and len(layout.outer_offsets) == 1 and not self._has_c
                    and layout.b.op == OP_N and layout.b.ld == k and layout.d.op == OP_N and layout.d.ld == n
                    and m * k * item >= 2 * SLOT_BYTES)
        if not eligible:
            return []
        # blocks start 256-byte aligned in a and in the result (as the whole buffers do)
        quantum = math.lcm(256 // math.gcd(256, k * item), 256 // math.gcd(256, n * item))
        step = max(quantum, SLOT_BYTES // (k * item) // quantum * quantum)
        made: dict[int, tuple] = {}
        blocks = []
        for first in range(0, m, step):
            rows = min(step, m - first)
            if rows not in made:
                b_desc = lt.matrix_layout_create(problem.dtype.cuda, k, rows, k)
                self._hold(lt.matrix_layout_destroy, b_desc)
                d_desc = lt.matrix_layout_create(problem.dtype.cuda, n, rows, n)
                self._hold(lt.matrix_layout_destroy, d_desc)
                found = lt.matmul_algo_get_heuristic(handle, desc, layouts[0], b_desc, d_desc, d_desc, pref, 1)
                if not found:
                    return []
                made[rows] = (b_desc, d_desc, found[0])
            blocks.append((first, rows, *made[rows]))
        logger.info("matmul: %r pipelines its host operands in %d blocks of a's rows", self, len(blocks))
        return blocks

    def _upload_buffers(self) -> dict[str, DeviceBuffer]:
        buffers = {}
        for name, op in self._operands.items():
            if op is not None:
                buffers[name] = DeviceBuffer(op.size * op.dtype.itemsize, self.stream, self.device_id)
        out_bytes = self.problem.dtype.itemsize
        for extent in self.problem.out_shape:
            out_bytes *= extent
        buffers["out"] = DeviceBuffer(out_bytes, self.stream, self.device_id)
        for buf in buffers.values():
            self._hold(buf.release)
        return buffers

    def _execute_staged(self, out):
        """Host operands: copy in, compute, copy the result back, wait for this stream only; the
        result leaves through the plan's staging, in the caller's package."""
        pkg, stream, uploads, staging = self.package, self.stream, self._uploads, self.staging
        caller_out, target = (self._caller_out, self._out) if out is None else (out, self._inward("out", out))
        if target is not None and target is not self._out:
            self._check_out(as_operand(target, "out"), self._operands)
        result = host_empty(self.problem.out_shape, self.problem.dtype.numpy)
        if self._row_blocks and is_pinned(pkg.ptr(result)):
            self._pipelined(pkg.ptr(result))
        else:
            self._upload()
            self._launch(uploads["out"].ptr)
            to_host(pkg.ptr(result), uploads["out"].ptr, uploads["out"].nbytes, stream)
        if target is None:
            return staging.outward(result)
        pkg.copy_into(target, result)
        return staging.written(caller_out, target)

    def _pipelined(self, result_ptr: int) -> None:
        """The staged product block by block (:meth:`_plan_row_blocks`) into the pinned result at
        *result_ptr* (:func:`~gpmath._core.transfer.through_blocks`): b (and bias) up first, then a
        in one pipelined copy, each block multiplied on the plan's stream as soon as its rows are
        enqueued, its rows of the result back while the rest of a is copied."""
        uploads, item, dev = self._uploads, self.problem.dtype.itemsize, self.device_id
        arrays = dict(zip(NAMES, self._arrays))
        shared = [(uploads[name].ptr, NUMPY.ptr(arrays[name]), uploads[name].nbytes)
                  for name in ("b", "bias") if arrays[name] is not None]
        a_dev, d_dev = uploads["a"].ptr, uploads["out"].ptr
        row_a, row_d = self.problem.k * item, self.problem.n * item
        vp = ctypes.c_void_p
        call = list(self._args)

        def multiply(index: int) -> tuple[int, int, int]:
            first, rows, b_desc, d_desc, found = self._row_blocks[index]
            call[5], call[6] = vp(a_dev + first * row_a), vp(b_desc)
            call[8] = call[10] = vp(d_dev + first * row_d)
            call[9] = call[11] = vp(d_desc)
            call[12] = vp(ctypes.addressof(found.algo))
            status = self._fn(*call)
            if status:
                lt.check(status, "cublasLtMatmul")
            return result_ptr + first * row_d, d_dev + first * row_d, rows * row_d

        with runtime.on_device(dev):
            through_blocks(a_dev, NUMPY.ptr(arrays["a"]), [rows * row_a for _, rows, *_ in self._row_blocks],
                           (side_stream(dev, "upload"), self.stream, side_stream(dev, "download")), multiply, shared)

    def _upload(self) -> None:
        """Copy the host operands into the plan's device buffers (on the plan's stream)."""
        for name, host in zip(NAMES, self._arrays):
            if host is not None:
                buffer = self._uploads[name]
                to_device(buffer.ptr, NUMPY.ptr(host), buffer.nbytes, self.stream)
