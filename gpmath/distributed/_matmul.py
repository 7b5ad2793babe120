"""Distributed matrix product on block-cyclic matrices, through cuBLASMp.

Every rank passes its local parts (column-major CuPy arrays or CUDA tensors on the GPU that
:func:`~gpmath.distributed.initialize` chose) and the :class:`BlockCyclic` descriptors of the
global matrices.  Planning and execution are collective: every rank must build and execute the
same plans in the same order.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

from .._bindings import cublasmp as mp
from .._core import runtime
from .._errors import GpmathError, LibraryError
from .._core.memory import DeviceBuffer
from .._core.operand import Operand, as_operand
from .._core.planner import Planner
from .._core.streams import resolve_stream, synchronize
from ..blas._lt_descriptors import COMPUTE, scale
from ..blas._planner import _check_compute, _scalars
from ._block_cyclic import BlockCyclic
from ._runtime import current

__all__ = ["Matmul", "matmul"]

logger = logging.getLogger("gpmath")

_NAMES = ("a", "b", "c")


class Matmul(Planner):
    """A reusable distributed plan for ``D = alpha * op(A) @ op(B) + beta * C`` (cuBLASMp).

    Parameters
    ----------
    a, b : array
        This rank's local parts of the global matrices ``A`` and ``B``, where ``op(A)`` is
        ``(m, k)`` and ``op(B)`` is ``(k, n)``: Fortran-ordered (column-major) 2-D CuPy arrays or
        CUDA tensors of one dtype (float16, bfloat16, float32, float64, complex64, complex128),
        shaped as their descriptors' :meth:`~BlockCyclic.local_shape` says.
    c : array, optional
        This rank's part of ``C``, distributed like the result.
    a_dist, b_dist : BlockCyclic
        The distributions of ``A`` and ``B`` as stored, each over all the ranks.  cuBLASMp needs
        the column blocks of ``op(A)`` to equal the row blocks of ``op(B)`` (without transposes:
        ``a_dist.blocks[1] == b_dist.blocks[0]``).
    out_dist : BlockCyclic, optional
        The distribution of the result (and of ``C``); default: the row blocks of ``op(A)`` and
        the column blocks of ``op(B)``, on ``a_dist``'s grid (its transpose where ``A`` is
        transposed).  On one grid, cuBLASMp runs its general (PBLAS) algorithm: broadcasts,
        then local products, without overlap.  The grids may differ (each of all the ranks);
        cuBLASMp still needs the result's blocks to be those of ``op(A)``'s rows and ``op(B)``'s
        columns.  Panels are the tensor-parallel layout:
        ``A`` in row panels on a ``(P, 1)`` grid (blocks ``(m / P, k)``), ``B`` in column panels on
        ``(1, P)`` (blocks ``(k, n / P)``) and the result in row panels on ``(P, 1)`` (blocks
        ``(m / P, n / P)``): every rank multiplies its rows of ``A`` by all of ``B``, gathered.
        With cuBLASMp 0.8 or later (NCCL 2.29+) the plan's workspace is NCCL symmetric memory,
        so that cuBLASMp overlaps gathering ``B`` with the local products (see
        *symmetric_workspace*).
    alpha, beta : number
        As in :func:`gpmath.matmul`.
    trans_a, trans_b : {"N", "T", "C"}, default "N"
        ``op(X)`` as in PBLAS ``p?gemm``: ``X``, its transpose, or its conjugate transpose (the
        transpose for real dtypes).  With ``trans_a="T"`` and ``A`` in column panels on a
        ``(1, P)`` grid (blocks ``(k, m / P)``), the panel layout is NVIDIA's TN AllGather+GEMM.
    compute : {None, "tf32", "pedantic", "fast_f16", "fast_bf16"}
        As in :func:`gpmath.matmul`.
    symmetric_workspace : bool, default True
        Take the workspace from NCCL symmetric memory where cuBLASMp can (0.8+), so that it
        overlaps communication with the local products; the attribute of the same name says,
        once planned, whether it did.  Registering it is collective and costs about 6 ms at plan
        time (2 × H200), which a plan executed many times repays; False: ordinary
        stream-ordered memory, as :func:`matmul` takes.
    stream : stream, optional
        CUDA stream on this rank's GPU; default: the package's current stream.

    Examples
    --------
    Under ``mpirun -n 2`` (each rank runs this; see docs/distributed.md)::

        import cupy as cp, numpy as np
        import gpmath.distributed as gd

        ctx = gd.initialize()
        da, db = gd.BlockCyclic((512, 256)), gd.BlockCyclic((256, 128))
        A, B = np.random.rand(512, 256), np.random.rand(256, 128)   # same seed on every rank
        a = cp.asfortranarray(cp.asarray(da.local_part(A, ctx.rank)))
        b = cp.asfortranarray(cp.asarray(db.local_part(B, ctx.rank)))
        with gd.Matmul(a, b, a_dist=da, b_dist=db) as mm:
            d = mm.plan().execute()          # this rank's part of A @ B, laid out as mm.out_dist
        gd.finalize()
    """

    symmetric_workspace = False  # set by plan(): whether the workspace is NCCL symmetric memory

    def __init__(self, a: Any, b: Any, c: Any = None, *, a_dist: BlockCyclic, b_dist: BlockCyclic,
                 out_dist: BlockCyclic | None = None, alpha: Any = 1, beta: Any = None, trans_a: str = "N",
                 trans_b: str = "N", compute: str | None = None, symmetric_workspace: bool = True, stream: Any = None):
        super().__init__()
        self._symmetric_wanted = bool(symmetric_workspace)
        self.context = context = current()
        self.device_id = context.device_id
        self.alpha, self.beta = _scalars(alpha, beta, c)
        self.compute = _check_compute(compute)
        first = as_operand(a, "a")
        self.trans = (_operation(trans_a, "trans_a", first.dtype), _operation(trans_b, "trans_b", first.dtype))
        self.out_dist = _output_distribution(a_dist, b_dist, out_dist, context.size, *self.trans)
        self._mnk = (*self.out_dist.shape, _op(a_dist, self.trans[0])[0][1])
        dists = {"a": a_dist, "b": b_dist, "c": self.out_dist}
        self.package = first.package
        if first.on_host:
            raise TypeError("gpmath.distributed.matmul takes device arrays (CuPy or PyTorch) on this rank's GPU, "
                            "not host arrays")
        self.stream = resolve_stream(stream, self.package, self.device_id)
        ops = {name: None if x is None else as_operand(x, name, self.stream) for name, x in zip(_NAMES, (a, b, c))}
        self.dtype = first.dtype
        self._lds = {name: self._check_local(name, op, dists[name]) for name, op in ops.items() if op is not None}
        self._dists = dists
        self._ops = ops
        self._args = self._last_out = None
        context.track(self)  # finalize() frees the plan before the grids its workspace is registered with

    # -- validation ---------------------------------------------------------------------------------
    def _check_local(self, name: str, op: Operand, dist: BlockCyclic) -> int:
        """Raise unless *op* is this rank's column-major part of *dist*; return its leading dimension."""
        if op.package is not self.package or op.device_id != self.device_id:
            raise ValueError(f"{name} is a {op.package.name} array on {_where(op.device_id)}, but this rank computes "
                             f"with {self.package.name} arrays on cuda:{self.device_id}")
        if op.dtype is not self.dtype:
            raise TypeError(f"{name} is {op.dtype.name} but a is {self.dtype.name}; pass operands of one dtype")
        if (self.dtype.real, self.compute) not in COMPUTE:
            raise ValueError(f"compute={self.compute!r} does not apply to {self.dtype.name} operands")
        expected = dist.local_shape(self.context.rank)
        if tuple(op.shape) != expected:
            raise ValueError(f"{name} has shape {tuple(op.shape)} but rank {self.context.rank}'s part of {dist!r} "
                             f"is {expected}")
        rows, cols = expected
        lld = op.strides[1] if cols > 1 else max(rows, 1)
        if (rows > 1 and op.strides[0] != 1) or lld < max(rows, 1):
            raise ValueError(f"{name} must be column-major (Fortran-ordered); its strides are {tuple(op.strides)}")
        return lld

    # -- planning -----------------------------------------------------------------------------------
    def plan(self) -> "Matmul":
        """Create the cuBLASMp grid, descriptors and workspaces (collective); returns the plan."""
        self._check_alive()
        self._release_held()
        ctx = self.context
        with runtime.on_device(self.device_id):
            handle = ctx.resource(("cublasmp-handle", self.stream), lambda: mp.create(self.stream), mp.destroy)
            self._d_ld = max(self.out_dist.local_shape(ctx.rank)[0], 1)
            lds = dict(self._lds, d=self._d_ld)
            descs = {name: self._descriptor(self._dists.get(name, self.out_dist), lds[name]) for name in lds}
            desc = mp.matmul_descriptor_create(COMPUTE[(self.dtype.real, self.compute)])
            self._hold(mp.matmul_descriptor_destroy, desc)
            for attribute, trans in zip((mp.MatmulAttribute.TRANSA, mp.MatmulAttribute.TRANSB), self.trans):
                if trans != "N":
                    mp.matmul_descriptor_set_attribute(desc, attribute, _OPERATIONS[trans])
            self._alpha, self._beta = scale(self.dtype, self.alpha), scale(self.dtype, self.beta)
            m, n, k = self._mnk
            vp = ctypes.c_void_p
            c_desc = descs.get("c", descs["d"])
            args = [vp(handle), vp(desc), m, n, k, vp(ctypes.addressof(self._alpha)),
                    vp(), 1, 1, vp(descs["a"]), vp(), 1, 1, vp(descs["b"]),
                    vp(ctypes.addressof(self._beta)), vp(), 1, 1, vp(c_desc), vp(), 1, 1, vp(descs["d"])]
            self._args = args
            probe = self._new_result()
            self._set_pointers(self.package.ptr(probe))
            device_bytes, host_bytes = mp.matmul_buffer_size(*args)
            self._host_work = ctypes.create_string_buffer(max(host_bytes, 1))
            args += [vp(self._workspace(device_bytes)), ctypes.c_size_t(device_bytes),
                     vp(ctypes.addressof(self._host_work)), ctypes.c_size_t(host_bytes)]
        self.nbytes = device_bytes
        self._fn = mp.matmul_function()
        return self

    def _grid(self, dist: BlockCyclic) -> int:
        """The cuBLASMp process grid of *dist* (one per grid shape, shared by the context's plans)."""
        ctx, (nprow, npcol) = self.context, dist.grid
        return ctx.resource(("cublasmp-grid", nprow, npcol),
                            lambda: mp.grid_create(nprow, npcol, mp.GridLayout.COL_MAJOR, ctx.nccl_comm),
                            mp.grid_destroy)

    def _descriptor(self, dist: BlockCyclic, lld: int) -> int:
        """A cuBLASMp matrix descriptor of *dist* on its process grid."""
        (m, n), (mb, nb), (rsrc, csrc) = dist.shape, dist.blocks, dist.source
        desc = mp.matrix_descriptor_create(m, n, mb, nb, rsrc, csrc, lld, self.dtype.cuda, self._grid(dist))
        self._hold(mp.matrix_descriptor_destroy, desc)
        return desc

    def _workspace(self, nbytes: int) -> int:
        """The device workspace's address: NCCL symmetric memory registered with the result's grid
        where cuBLASMp allocates it (0.8+; collective), else stream-ordered memory.  Without a
        registered workspace cuBLASMp gathers, then multiplies, one after the other."""
        ptr = self._symmetric_workspace(nbytes) if self._symmetric_wanted and mp.has_symmetric_memory() else None
        self.symmetric_workspace = ptr is not None
        if ptr is not None:
            return ptr
        work = DeviceBuffer(nbytes, self.stream, self.device_id)
        self._hold(work.release)
        return work.ptr

    def _symmetric_workspace(self, nbytes: int) -> int | None:
        """``cublasMpMalloc`` on every rank; ``None`` where no rank could (NCCL without symmetric
        memory for this communicator, e.g. no CUDA VMM): the plan then takes ordinary memory."""
        grid = self._grid(self.out_dist)
        try:
            ptr, failure = mp.malloc(grid, max(nbytes, 1)), None
        except LibraryError as exc:
            ptr, failure = None, str(exc)
        failures = {rank: text for rank, text in enumerate(self.context.comm.allgather(failure)) if text}
        if failures and len(failures) < self.context.size:  # every rank raises: the plans would differ
            raise GpmathError(f"cuBLASMp allocated the workspace in NCCL symmetric memory on some ranks but not on "
                              f"ranks {sorted(failures)}: {next(iter(failures.values()))}")
        if failures:
            logger.info("distributed matmul: no NCCL symmetric memory (%s); the workspace is ordinary memory, "
                        "and cuBLASMp will not overlap communication with the local products", failure)
            return None
        self._hold(mp.free, grid, ptr)
        self._hold(synchronize, self.stream)  # cublasMpFree is not stream-ordered
        return ptr

    def _new_result(self):
        """A new column-major local result array (the transpose of a C-order one)."""
        rows, cols = self.out_dist.local_shape(self.context.rank)
        return self.package.empty((cols, rows), self.dtype, self.device_id, self.stream).T

    def _set_pointers(self, d_ptr: int) -> None:
        args, ops = self._args, self._ops
        args[6].value, args[10].value, args[19].value = ops["a"].ptr, ops["b"].ptr, d_ptr
        args[15].value = ops["c"].ptr if ops["c"] is not None else d_ptr

    # -- execution ----------------------------------------------------------------------------------
    def execute(self, out: Any = None) -> Any:
        """Compute this rank's part of ``D`` (collective) and return it, distributed as :attr:`out_dist`.

        Parameters
        ----------
        out : array, optional
            Where to write this rank's part: a column-major array of the operands' package,
            dtype and device, shaped ``out_dist.local_shape(rank)``, with no padding between
            columns (``cupy.empty(shape, dtype, order="F")``, or ``torch.empty(cols, rows).T``).
            Checked once; passing the same array again costs nothing.  Default: a new array.

        Returns
        -------
        array
            *out*, or a new column-major array in the operands' package.
        """
        self._check_alive()
        if self._args is None:
            self.plan()
        result = self._new_result() if out is None else self._checked_out(out)
        self._set_pointers(self.package.ptr(result))
        with runtime.on_device(self.device_id):
            status = self._fn(*self._args)
        if status:
            mp.check(status)
        return result

    def _checked_out(self, out):
        """*out* validated against the planned result (cached for the last one seen)."""
        if out is self._last_out:
            return out
        self._as_planned("out", out, self.out_dist, self._d_ld)  # columns with no padding between them
        self._last_out = out
        return out

    def reset_operands(self, a: Any = None, b: Any = None, c: Any = None) -> None:
        """Use new local parts of the same package, dtype, shape and layout as the planned ones."""
        self._check_alive()
        for name, x in zip(_NAMES, (a, b, c)):
            if x is None:
                continue
            if self._ops[name] is None:
                raise ValueError(f"the plan was built without {name}; build a new plan to add it")
            self._ops[name] = self._as_planned(name, x, self._dists[name], self._lds[name])

    def _as_planned(self, name: str, x, dist: BlockCyclic, ld: int) -> Operand:
        """*x* as an operand, checked to be this rank's part of *dist* with leading dimension *ld*."""
        op = as_operand(x, name, self.stream)
        if self._check_local(name, op, dist) != ld:
            raise ValueError(f"{name} has strides {tuple(op.strides)}: its leading dimension must be the planned {ld}")
        return op

    def _after_free(self) -> None:
        self._args = self._last_out = None
        self._ops = dict.fromkeys(_NAMES)

    def __repr__(self) -> str:
        m, n, k = self._mnk
        ops = "".join(self.trans)
        state = "freed" if self._freed else ("planned" if self._args else "unplanned")
        return (f"<distributed Matmul {self.dtype.name} {ops} ({m}x{k}) @ ({k}x{n}) on grid {self.out_dist.grid}, "
                f"{state}>")


def _where(device_id) -> str:
    return "host memory" if device_id is None else f"cuda:{device_id}"


_OPERATIONS = {"N": 0, "T": 1, "C": 2}  # cublasOperation_t
_OP_NAMES = {"N": "", "T": "^T", "C": "^H"}


def _operation(trans, name: str, dtype) -> str:
    """*trans* checked: "N", "T" or "C" (any case); "C" of a real dtype is "T"."""
    if not isinstance(trans, str) or trans.upper() not in _OPERATIONS:
        raise ValueError(f'{name} must be "N", "T" or "C", not {trans!r}')
    trans = trans.upper()
    return "T" if trans == "C" and not dtype.is_complex else trans


def _op(dist: BlockCyclic, trans: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Shape and blocks of op(X) for X distributed as *dist*."""
    return (dist.shape, dist.blocks) if trans == "N" else (dist.shape[::-1], dist.blocks[::-1])


def _output_distribution(a: BlockCyclic, b: BlockCyclic, out: BlockCyclic | None, nranks: int,
                         trans_a: str = "N", trans_b: str = "N") -> BlockCyclic:
    """The result's distribution, after checking the three against each other and cuBLASMp's rules."""
    for name, dist in (("a_dist", a), ("b_dist", b), ("out_dist", out)):
        if dist is not None and not isinstance(dist, BlockCyclic):
            raise TypeError(f"{name} must be a gpmath.distributed.BlockCyclic, not {type(dist).__name__}")
    ((m, k), (mb, kb)), ((k_b, n), (kb_b, nb)) = _op(a, trans_a), _op(b, trans_b)
    a_name, b_name = f"A{_OP_NAMES[trans_a]}", f"B{_OP_NAMES[trans_b]}"
    if k != k_b:
        raise ValueError(f"{a_name} is {(m, k)} and {b_name} is {(k_b, n)}: their inner dimensions differ")
    if out is None:
        grid, source = (a.grid, a.source) if trans_a == "N" else (a.grid[::-1], a.source[::-1])
        out = BlockCyclic((m, n), (mb, nb), grid, source=source)
    if out.shape != (m, n):
        raise ValueError(f"out_dist is of shape {out.shape} but {a_name} @ {b_name} has shape {(m, n)}")
    for name, dist in (("a_dist", a), ("b_dist", b), ("out_dist", out)):
        if dist.nranks != nranks:
            raise ValueError(f"{name}'s {dist.grid} grid has {dist.nranks} processes but {nranks} ranks take part")
    a_rows, a_cols = ("row", "column") if trans_a == "N" else ("column", "row")
    b_rows, b_cols = ("row", "column") if trans_b == "N" else ("column", "row")
    rules = ((kb, kb_b, f"a_dist's {a_cols} blocks", f"b_dist's {b_rows} blocks"),
             (mb, out.blocks[0], f"a_dist's {a_rows} blocks", "out_dist's row blocks"),
             (nb, out.blocks[1], f"b_dist's {b_cols} blocks", "out_dist's column blocks"))
    for x, y, x_name, y_name in rules:
        if x != y:
            raise ValueError(f"cuBLASMp needs {x_name} ({x}) to equal {y_name} ({y})")
    return out


def matmul(a: Any, b: Any, c: Any = None, *, a_dist: BlockCyclic, b_dist: BlockCyclic,
           out_dist: BlockCyclic | None = None, alpha: Any = 1, beta: Any = None, trans_a: str = "N",
           trans_b: str = "N", compute: str | None = None, stream: Any = None) -> Any:
    """This rank's part of ``alpha * op(A) @ op(B) + beta * C`` for block-cyclic ``A``, ``B`` (and ``C``).

    Collective: every rank calls it with its own local parts.  Builds a :class:`Matmul` plan,
    executes it once and frees it; repeated products of one layout should keep a plan.  The
    one-off plan takes ordinary workspace memory: registering NCCL symmetric memory (cuBLASMp
    0.8+) costs more than its overlap gains in one product (6 ms per call on 2 × H200, where a
    16384³ bf16 product takes 7).

    Parameters
    ----------
    a, b, c, a_dist, b_dist, out_dist, alpha, beta, trans_a, trans_b, compute, stream
        As in :class:`Matmul`.

    Returns
    -------
    array
        This rank's column-major part of the result, distributed as *out_dist* (by default
        the row blocks of ``op(A)`` and the column blocks of ``op(B)``, on ``a_dist``'s grid).

    Examples
    --------
    See :class:`Matmul` and docs/distributed.md (it needs ``mpirun`` and a GPU per rank)::

        d = gd.matmul(a, b, a_dist=da, b_dist=db)
    """
    with Matmul(a, b, c, a_dist=a_dist, b_dist=b_dist, out_dist=out_dist, alpha=alpha, beta=beta,
                trans_a=trans_a, trans_b=trans_b, compute=compute, symmetric_workspace=False,
                stream=stream) as plan:
        return plan.plan().execute()
