"""``CudaMatmul``: the matmul planner's cuBLASLt engine.

Plan time does the work (DLPack intake with the stream handshake, layout analysis, cuBLASLt
descriptors, heuristics, workspace); ``execute`` on an unchanged plan sets the output pointer
and makes one ``cublasLtMatmul`` call.  Host operands (their values as NumPy arrays, see
:mod:`gpmath._core.staging`) take the path of :mod:`gpmath.blas._cuda_staging`.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from typing import Any

from .._bindings import cublaslt as lt
from .._core import runtime, wisdom
from .._errors import LibraryError
from .._core.handles import get_handle
from .._core.memory import DeviceBuffer
from .._core.operand import Operand, as_operand
from .._core.shapes import compact_strides
from .._core.streams import order_after, own_stream, resolve_stream
from ._cuda_staging import NAMES, StagedProducts
from ._cuda_tuning import Autotuned
from ._lt_descriptors import alignment, layout_descs, matmul_desc, preference, scale
from ._layout import LtLayout, lt_layout, unusable_operands
from ._planner import DEFAULT_WORKSPACE, Matmul, check_plan_limits
from ._problem import describe, out_matrix

__all__ = ["CudaMatmul"]

logger = logging.getLogger("gpmath")


class CudaMatmul(Autotuned, StagedProducts, Matmul):
    """Matmul through cuBLASLt on one CUDA device (see :class:`gpmath.blas.Matmul`)."""

    def __init__(self, a, b, c=None, bias=None, *, alpha=1, beta=None, epilog=None, out=None,
                 compute=None, execution=None, stream=None, device_id=None):
        super().__init__(a, b, c, alpha=alpha, beta=beta, epilog=epilog, bias=bias, out=out,
                         compute=compute, execution=execution, stream=stream, device_id=device_id)
        pkg, dev = self.package, self.device_id
        self._device_query = pkg.device_query()
        self.staged = self.staging is not None  # host operands computed on the GPU
        self.stream = own_stream(dev) if self.staged and stream is None else resolve_stream(stream, pkg, dev)
        self._stream_object = stream
        given = {name: self._given[name] for name in NAMES}
        out = self._given["out"]
        ops = {name: None if x is None else as_operand(x, name, self.stream) for name, x in given.items()}
        self.problem = describe(ops["a"], ops["b"], ops["c"], ops["bias"], epilog)
        self._check_scalars_for(self.problem)
        self._out = out
        out_op = None if out is None else as_operand(out, "out", self.stream)
        if out_op is not None:
            self._check_out(out_op, ops)
        self._copies = self._layout_copies(ops, out_op) | {
            name for name, x in given.items() if x is not None and pkg.resolved(x) is not x}  # lazy conj/neg views
        self._operands = {name: self._prepared(name, x, ops[name]) for name, x in given.items()}
        self._direct = not self.staged and not self._copies  # operands used in place: rebinds set pointers only
        self._has_c = c is not None
        self._original = {name: _template(op) for name, op in ops.items()}  # what reset_operands compares against
        d_strides = compact_strides(self.problem.out_shape) if self._out_via_copy or out_op is None or self.staged else out_op.strides
        self._d_strides = d_strides
        self.layout: LtLayout = lt_layout(
            describe(*(self._operands[n] for n in NAMES), epilog), out_matrix(self.problem, d_strides)
        )
        self._given = {}  # the operands live on in self._operands only
        self._args = None
        self._fast = None  # cublasLtMatmul bound to the argument list, where execute(out=) may call it bare
        self._last_out = None
        self._out_kind = self._out_reach = None  # (type, signature) of the last out validated; its byte reach
        self._bound = True  # operands bound (release_operands unbinds them)
        self.algorithms: list = []
        self._row_blocks: list[tuple] = []  # host operands: see _plan_row_blocks
        self._wise: tuple[int, dict] | None = None  # the candidate index and choice wisdom holds for this plan
        self.autotune_timings: dict[int, float] = {}
        self._algorithm_index = None

    # -- operand preparation --------------------------------------------------------------
    def _layout_copies(self, ops: dict[str, Operand | None], out_op: Operand | None) -> set[str]:
        """Operands that need one C-order copy first: host operands, and layouts cuBLASLt cannot express."""
        d = out_matrix(self.problem, compact_strides(self.problem.out_shape) if out_op is None else out_op.strides)
        unusable = set(unusable_operands(self.problem, d))
        self._out_via_copy = "out" in unusable and not self.staged
        copies = {n for n in unusable if n != "out"}
        bias = ops["bias"]
        if bias is not None and bias.shape[0] > 1 and bias.strides[0] != 1:
            copies.add("bias")
        if copies:
            logger.info("matmul: copying %s to C order first: cuBLASLt cannot use their strides", sorted(copies))
        return copies

    def _prepared(self, name: str, x, intake: Operand | None = None) -> Operand | None:
        """The operand as the plan uses it: a C-order copy where needed; on the host when staged.
        *intake* is *x*'s record when one was made already (reused unless a copy is taken)."""
        if x is None:
            return None
        if self.staged or name in self._copies:
            copied = self.package.contiguous(x)
            if copied is not x:
                return as_operand(copied, name, self.stream)
        return intake if intake is not None else as_operand(x, name, self.stream)

    # -- planning ---------------------------------------------------------------------------
    def plan(self, max_workspace: int = DEFAULT_WORKSPACE, max_algorithms: int = 8) -> "CudaMatmul":
        """Create the cuBLASLt descriptors, ask its heuristics for up to *max_algorithms*
        algorithms using at most *max_workspace* bytes, and allocate the workspace.

        Returns the plan (the best heuristic algorithm is selected; see :meth:`autotune`).
        """
        self._check_alive()
        check_plan_limits(max_workspace, max_algorithms)
        self._args = self._fast = None  # unplanned until this planning completes
        self._release_held()
        with runtime.on_device(self.device_id):
            handle = get_handle("cublasLt", self.device_id, lt.create, lt.destroy)
            dtype, layout, hold = self.problem.dtype, self.layout, self._hold
            desc = matmul_desc(dtype, self.compute, self.epilog, layout, hold)
            layouts = layout_descs(dtype, layout, hold)
            self._alignments = self._current_alignments()
            pref = preference(max_workspace, self._alignments, hold)
            results = lt.matmul_algo_get_heuristic(handle, desc, *layouts, pref, max_algorithms)
            if not results:
                status = lt.STATUS_NOT_SUPPORTED
                raise LibraryError(status, lt.status_name(status), "cublasLtMatmulAlgoGetHeuristic",
                                   f"cuBLASLt has no algorithm for {self!r} within {max_workspace} bytes of workspace")
            self._tuning = (wisdom.machine(self.device_id, "cublasLt", lt.get_version()),
                            self._tuning_key(max_workspace))
            recorded = self._recorded(handle, desc, layouts, max_workspace)
            self.algorithms = results if recorded is None else [recorded, *results]
            self._row_blocks = self._plan_row_blocks(handle, desc, layouts, pref) if self.staged else []
            needs = [r.workspaceSize for r in results] + [block[4].workspaceSize for block in self._row_blocks]
            workspace = DeviceBuffer(max(needs), self.stream, self.device_id)
            self._hold(workspace.release)
            self._pref, self._max_workspace, self._widened = pref, max_workspace, False
            self._uploads = self._upload_buffers() if self.staged else None
        self.nbytes = workspace.nbytes + sum(buf.nbytes for buf in (self._uploads or {}).values())
        self._algo = lt.MatmulAlgo()
        self._alpha = scale(self.problem.dtype, self.alpha)
        self._beta = scale(self.problem.dtype, self.beta)
        a_desc, b_desc, c_desc, d_desc = layouts
        addr = ctypes.addressof
        self._desc = desc
        # ctypes objects, so a call converts nothing; pointers that change are updated in place.
        vp = ctypes.c_void_p
        self._args = [vp(handle), vp(desc), vp(addr(self._alpha)), vp(), vp(a_desc), vp(), vp(b_desc), vp(addr(self._beta)),
                      vp(), vp(c_desc), vp(), vp(d_desc), vp(addr(self._algo)), vp(workspace.ptr),
                      ctypes.c_size_t(workspace.nbytes), vp(self.stream)]
        self._fn = lt.matmul_function(self._args)
        self._select(0)
        self._set_pointers()
        bare = (len(self.layout.outer_offsets) == 1 and not self.staged and not self._out_via_copy
                and runtime.device_count() == 1)
        self._fast = functools.partial(self._fn, *self._args) if bare else None
        if not self.staged:
            self._new_result = self.package.allocator(self.problem.out_shape, self.problem.dtype, self.device_id)
        return self

    def _tuning_key(self, max_workspace: int) -> tuple:
        """What decides which cuBLASLt algorithms are valid for this plan and how fast they run:
        the key of its entry in :mod:`gpmath.wisdom`."""
        layout = self.layout
        operands = [None if x is None else (x.op, x.rows, x.cols, x.ld, x.batch_stride)
                    for x in (layout.a, layout.b, layout.c, layout.d)]
        return (self.problem.dtype.name, self.compute, self.epilog, layout.batch_count, operands, self._alignments,
                max_workspace)

    def _recorded(self, handle: int, desc: int, layouts: tuple, max_workspace: int) -> lt.HeuristicResult | None:
        """The algorithm :mod:`gpmath.wisdom` recorded for this plan on this machine, where
        cuBLASLt still accepts it within *max_workspace* (``cublasLtMatmulAlgoCheck``); else None.
        Sets :attr:`_wise` to ``(candidate index, recorded choice)`` or None."""
        self._wise = None
        choice = wisdom.lookup("matmul", *self._tuning)
        if choice is None:
            return None
        try:
            algo = lt.MatmulAlgo.from_buffer_copy(bytes.fromhex(choice["algo"]))
            float(choice["ms"])  # (autotune() reports it)
        except (KeyError, TypeError, ValueError):
            checked = None
        else:
            checked = lt.matmul_algo_check(handle, desc, *layouts, algo)
        if checked is None or checked.workspaceSize > max_workspace:
            logger.info("matmul: %r: cuBLASLt refuses the algorithm wisdom recorded; the heuristics choose", self)
            return None
        self._wise = (0, choice)
        logger.info("matmul: %r starts from the algorithm wisdom recorded (%s ms when tuned)", self, choice.get("ms"))
        return checked

    def _current_alignments(self) -> tuple[int, int, int, int]:
        """Alignments of cuBLASLt's A (user b), B (user a), C and D, from the plan's operands."""
        layout, item = self.layout, self.problem.dtype.itemsize
        steps = [[o[i] * item for o in layout.outer_offsets] for i in range(4)]
        ops = self._operands
        staged = self.staged

        def align(op, lt_op, i):
            return 256 if op is None or staged else alignment(op.ptr, lt_op.batch_stride * item, *steps[i])

        d_ptr = 0 if self._out is None or self._out_via_copy or staged else self.package.ptr(self._out)
        c_align = align(ops["c"], layout.c, 2) if layout.c is not None else 256
        return (align(ops["b"], layout.a, 1), align(ops["a"], layout.b, 0), c_align,
                alignment(d_ptr, layout.d.batch_stride * item, *steps[3]))

    def _select(self, index: int, quiet: bool = False) -> None:
        ctypes.memmove(ctypes.addressof(self._algo), ctypes.addressof(self.algorithms[index].algo), ctypes.sizeof(self._algo))
        self._algorithm_index = index
        if not quiet:
            logger.info("matmul: %r uses heuristic algorithm %d (workspace %d bytes)", self, index, self.algorithms[index].workspaceSize)

    def _set_pointers(self) -> None:
        """Copy the operands' device addresses into the argument list."""
        source = self._uploads if self.staged else self._operands
        args = self._args
        args[3].value, args[5].value = source["b"].ptr, source["a"].ptr
        if self._has_c:
            args[8].value = source["c"].ptr
        if self._operands["bias"] is not None:
            lt.matmul_desc_set_attribute(self._desc, lt.DescAttribute.BIAS_POINTER, ctypes.c_void_p(source["bias"].ptr))

    # -- execution --------------------------------------------------------------------------
    def execute(self, stream: Any = None, out: Any = None) -> Any:
        """Compute ``D`` and return it.

        Parameters
        ----------
        stream : stream, optional
            Run on this stream instead of the plan's (the plan's earlier work is ordered first).
        out : array, optional
            Write here (same shape, dtype and layout as planned); else into the ``out`` given
            at construction, else into a new array that belongs to the caller.

        Returns
        -------
        array
            The result, in the operands' package and on their device.
        """
        if out is not None and out is self._last_out and stream is None and self._fast is not None:
            # the loop's call: the out validated last time (unbinding forgets it), one library call
            d_ptr = self.package.ptr(out)
            self._args[10].value = d_ptr
            if not self._has_c:
                self._args[8].value = d_ptr
            runtime.bind_thread(self.device_id)
            status = self._fast()
            if status:
                lt.check(status, "cublasLtMatmul")
            return out
        if self._freed or not self._bound:
            self._check_bound()
        if self._args is None:
            self.plan()
        if stream is not None:
            self._switch_stream(resolve_stream(stream, self.package, self.device_id))
            self._stream_object = stream
        if self.staged:
            return self._execute_staged(out)
        target = self._out if out is None else self._checked_out(out)
        if target is None or self._out_via_copy:
            result = self._new_result(self.stream)
            self._launch(self.package.ptr(result))
            if target is None:
                return result
            self.package.copy_into(target, result)
            return target
        self._launch(self.package.ptr(target))
        return target

    def execute_with(self, a, b, c=None, bias=None, **kwargs):
        """As :meth:`Planner.execute_with <gpmath._core.planner.Planner.execute_with>`; a plan that
        reads its operands in place and writes a new result with one ``cublasLtMatmul`` (no ``c``,
        bias or ``out``, one device) makes just that call, binding nothing."""
        fast = self._fast
        if (fast is None or c is not None or bias is not None or kwargs or not self._direct or self._has_c
                or self._operands["bias"] is not None or self._out is not None):
            return super().execute_with(a, b, c, bias, **kwargs)
        if self._bound:  # leave it as the protocol does: nothing bound
            self.release_operands()
        ptr, args = self.package.ptr, self._args
        args[3].value, args[5].value = ptr(b), ptr(a)
        result = self._new_result(self.stream)
        args[10].value = args[8].value = ptr(result)
        runtime.bind_thread(self.device_id)
        status = fast()
        if status:
            lt.check(status, "cublasLtMatmul")
        return result

    def _launch(self, d_ptr: int) -> None:
        args = self._args
        args[10].value = d_ptr
        if not self._has_c:
            args[8].value = d_ptr
        runtime.call_on_device(self.device_id, self._device_query, self._call_all, args)

    def _call_all(self, args: list) -> None:
        fn = self._fn
        offsets = self.layout.outer_offsets
        if len(offsets) == 1:
            status = fn(*args)
            if status:
                lt.check(status, "cublasLtMatmul")
            return
        item = self.problem.dtype.itemsize
        base_b, base_a, base_c, base_d = (args[i].value or 0 for i in (3, 5, 8, 10))
        call = list(args)
        vp = ctypes.c_void_p
        for off_a, off_b, off_c, off_d in offsets:
            call[3], call[5] = vp(base_b + off_b * item), vp(base_a + off_a * item)
            call[8], call[10] = vp(base_c + off_c * item), vp(base_d + off_d * item)
            status = fn(*call)
            if status:
                lt.check(status, "cublasLtMatmul")

    def _checked_out(self, out):
        """*out* validated against the planned result layout (cached for the last one seen; an
        array of the layout validated before needs only its address checked: alignment, and no
        overlap with an input)."""
        if out is self._last_out:
            return out
        pkg = self.package
        if self._out_kind is not None and (type(out), pkg.signature(out)) == self._out_kind:
            ptr = pkg.ptr(out)
            if alignment(ptr) >= self._alignments[3] and not self._may_overlap(ptr):
                self._last_out = out
                return out
        op = as_operand(out, "out", self.stream)
        self._check_out(op, self._operands)
        planned = tuple(s if e > 1 else 0 for e, s in zip(self.problem.out_shape, self._d_strides))
        if not self._out_via_copy and tuple(s if e > 1 else 0 for e, s in zip(op.shape, op.strides)) != planned:
            raise ValueError(f"out has strides {tuple(op.strides)} but the plan was built for {self._d_strides}; "
                             "pass out= when building the plan to use another layout")
        if alignment(op.ptr) < self._alignments[3]:
            raise ValueError(f"out is aligned to {alignment(op.ptr)} bytes but the plan needs {self._alignments[3]}")
        self._last_out = out
        lo, hi = op.span()
        self._out_kind, self._out_reach = (type(out), pkg.signature(out)), (lo - op.ptr, hi - op.ptr)
        return out

    def _may_overlap(self, ptr: int) -> bool:
        """Whether an out of the validated layout at *ptr* may share memory with an input (then the
        full check decides: it raises, or accepts ``c`` itself)."""
        lo, hi = ptr + self._out_reach[0], ptr + self._out_reach[1]
        return any(op is not None and op.device_id == self.device_id and op.meets(lo, hi)
                   for op in self._operands.values())

    def _check_bound(self) -> None:
        self._check_alive()
        if not self._bound:
            raise ValueError("this plan has no operands bound; pass them with reset_operands()")

    def _switch_stream(self, stream: int) -> None:
        if stream != self.stream:
            order_after(stream, self.stream)
            self.stream = stream
            self._args[15].value = stream

    # -- operands ---------------------------------------------------------------------------
    @property
    def _arrays(self) -> list:
        return [None if op is None else op.array for op in self._operands.values()]

    def reset_operands(self, a=None, b=None, c=None, bias=None) -> None:
        """Use new operands of the same package, device, shape, dtype and strides.

        Raises ``ValueError`` naming the operand and the difference otherwise, or when a new
        operand is less aligned than the plan's algorithm needs.
        """
        self._check_alive()
        for name, x in zip(NAMES, (a, b, c, bias)):
            if x is None:
                continue
            if self._original[name] is None:
                raise ValueError(f"the plan was built without {name}; build a new plan to add it")
            self._check_same(name, self._original[name], as_operand(self._inward(name, x), name, self.stream))
        saved = dict(self._operands)
        for name, x in zip(NAMES, (a, b, c, bias)):
            if x is not None:
                self._operands[name] = self._prepared(name, self._inward(name, x))
        if self._args is not None:
            current = self._current_alignments()
            for name, planned, now in zip(("b", "a", "c"), self._alignments[:3], current[:3]):
                if now < planned:
                    self._operands = saved
                    raise ValueError(f"{name} is aligned to {now} bytes but the plan's algorithm needs {planned}; "
                                     "build a new plan for this operand")
            self._set_pointers()
        self._bound = True
        self._last_out = None  # new operands: the next out is checked against them again

    def reset_operands_unchecked(self, a=None, b=None, c=None, bias=None) -> None:
        """Like :meth:`reset_operands` without validation: the fast rebind for tight loops.

        The caller guarantees each array matches the planned one in package, device, shape,
        dtype, strides and alignment; anything else gives wrong results.
        """
        self._check_alive()
        ops = self._operands
        self._bound = True
        if self.staging is not None:
            a, b, c, bias = (self.staging.inward(x) for x in (a, b, c, bias))
        if not self._direct:
            for name, x in zip(NAMES, (a, b, c, bias)):
                if x is not None:
                    ops[name] = self._prepared(name, x)
        else:
            ptr = self.package.ptr
            for name, x in (("a", a), ("b", b), ("c", c), ("bias", bias)):
                if x is not None:
                    op = ops[name]
                    op.array, op.ptr, op._capsule = x, ptr(x), None
        if self._args is not None:
            self._set_pointers()

    def release_operands(self) -> None:
        """Drop the references to the operands and the planned ``out`` (see :meth:`Planner.release_operands`)."""
        for op in self._operands.values():
            if op is not None:
                op.detach()
        self._out = self._last_out = self._caller_out = None
        self._bound = False

    # -- autotuning -------------------------------------------------------------------------
    def _state(self) -> str:
        if self._args is None:
            return "unplanned"
        tuned = "autotuned, " if self.autotune_timings else ""
        return f"{tuned}algorithm {self._algorithm_index} of {len(self.algorithms)}, stream {self.stream:#x}"

    def _after_free(self) -> None:
        self._args = self._fast = None
        self._operands = dict.fromkeys(NAMES)
        self._original = {}
        self._out = self._last_out = self._caller_out = None


def _template(op: Operand | None) -> Operand | None:
    """*op*'s layout without its array: what later operands are compared against."""
    if op is None:
        return None
    return Operand(None, op.package, op.ptr, op.shape, op.strides, op.dtype, op.device_id)
