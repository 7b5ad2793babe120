"""Distributed 2-D and 3-D FFTs through NVIDIA cuFFTMp: the :class:`FFT` planner and ``fftn`` & co.

How it works
------------
- **Memory.** cuFFTMp reads and writes its operands in NVSHMEM symmetric memory, in place.  A
  plan owns one such buffer, made by ``cufftXtMalloc`` (cuFFTMp sizes it for this rank's input,
  its output and in-place use).  :meth:`FFT.execute` copies the caller's local part into it on
  the plan's stream (any strides), transforms, and copies this rank's output part into a new
  array of the caller's package; callers never touch NVSHMEM.  Two NVSHMEM barriers on the
  stream (``nvshmemx_sync_all_on_stream``) bracket each transform, so that no rank reads a peer's
  buffer before that peer has filled it, nor overwrites its own while a peer may still read it.
- **Distributions.** complex-to-complex slabs run on cuFFTMp's built-in slab formats
  (``CUFFT_XT_FORMAT_INPLACE`` for slabs of axis 0, ``..._INPLACE_SHUFFLED`` for axis 1): its
  most used and fastest path, with the slab partition gpmath's :class:`Slab` describes, and no
  distribution to describe.  Boxes (pencils), and real-to-complex slabs, go through
  ``cufftXtSetDistribution`` (slabs converted to boxes), the one path that serves any tiling and
  R2C/C2R; for those cuFFTMp takes the real box as "input" and the complex box as "output".
- **NVSHMEM.** The first plan starts NVSHMEM (unique-id bootstrap over the communicator of
  :func:`~gpmath.distributed.initialize`, see ``_runtime``), then every plan attaches with
  ``CUFFT_COMM_NONE``; :func:`~gpmath.distributed.finalize` frees live plans, then NVSHMEM.
  Environment: ``NVSHMEM_SYMMETRIC_SIZE`` (the symmetric heap per GPU, e.g. ``8G``, for large
  arrays where CUDA VMM is off), ``NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME`` (the network interface
  of the unique-id bootstrap, e.g. ``lo`` on one node), ``NVSHMEM_DEBUG=INFO`` to see it start,
  ``GPMATH_NVSHMEM_BOOTSTRAP=mpi`` for NVSHMEM's MPI bootstrap instead.
- **Collectives.** Planning, execution and freeing are collective: every rank makes the same
  calls in the same order.  Argument errors found at plan time are gathered first, so every rank
  raises (the same ``ValueError`` naming the argument and the rank) instead of hanging.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._bindings import cufftmp, nvshmem
from .._core import runtime
from .._core.dtypes import DTYPES, DType
from .._errors import GpmathError
from .._core.operand import as_operand, locate
from .._core.planner import Planner
from .._core.streams import resolve_stream, synchronize
from ..fft._args import check_norm, norm_factor
from ._descriptors import Box, Slab
from ._fft_layout import FFTLayout, fft_layout
from ._runtime import current

__all__ = ["FFT", "fftn", "ifftn", "rfftn", "irfftn"]

_COMPLEX = {"float32": "complex64", "float64": "complex128"}
_TYPES = {("c2c", "complex64"): cufftmp.Type.CUFFT_C2C, ("c2c", "complex128"): cufftmp.Type.CUFFT_Z2Z,
          ("r2c", "float32"): cufftmp.Type.CUFFT_R2C, ("r2c", "float64"): cufftmp.Type.CUFFT_D2Z,
          ("c2r", "complex64"): cufftmp.Type.CUFFT_C2R, ("c2r", "complex128"): cufftmp.Type.CUFFT_Z2D}
_CODES = {"forward": cufftmp.FORWARD, "inverse": cufftmp.INVERSE}


class FFT(Planner):
    """A reusable distributed FFT of a 2-D or 3-D global array split across the ranks (cuFFTMp).

    Collective: every rank builds, plans, executes and frees the same plans in the same order.

    Parameters
    ----------
    x : array
        This rank's local part: a CuPy array or CUDA torch tensor on the GPU that
        :func:`~gpmath.distributed.initialize` chose, of any strides.  complex64/complex128 for
        ``"c2c"`` and ``"c2r"``, float32/float64 for ``"r2c"``.
    distribution : Slab or Box
        How the input is split: ``Slab(0)`` or ``Slab(1)`` (the same on every rank; rank ``r``
        holds cuFFTMp's slab ``r``, the first ``N % P`` ranks one index more), or this rank's
        :class:`Box` (every rank passes its own; the boxes must tile the global array).
    out_box : Box, optional
        With Box input: this rank's output box (default: the input box; for r2c/c2r the input
        box with the last axis mapped between the real length ``n`` and ``n // 2 + 1``).  Slab
        input always gives slabs of the other axis.
    kind : {None, "c2c", "r2c", "c2r"}
        Default: ``"c2c"`` for complex *x*, ``"r2c"`` for real *x*.  ``"c2r"`` takes the
        non-negative half of a Hermitian spectrum (as ``irfftn``).
    s : sequence of int, optional
        c2r only: the global shape of the real result (default: last axis ``2 * (m - 1)``).
    norm : {None, "backward", "ortho", "forward"}
        SciPy's normalisation.
    stream : stream, optional
        CUDA stream on this rank's GPU; default: the package's current stream, resolved now.

    Attributes
    ----------
    shape, out_shape : tuple of int
        Global shapes of the input and of the result.
    in_box, out_box : Box
        This rank's parts of them.
    out_distribution : Slab or Box
        What to pass as ``distribution`` to transform the result back (``Slab(1)`` for
        ``Slab(0)`` input and vice versa; else :attr:`out_box`).

    Examples
    --------
    Under ``mpirun -n 2`` (each rank runs this; see docs/distributed.md)::

        import cupy as cp, numpy as np
        import gpmath.distributed as gd

        ctx = gd.initialize()
        X = np.random.default_rng(0).standard_normal((64, 48, 30)) + 0j    # same on every rank
        box = gd.Slab(0).box(X.shape, ctx.rank, ctx.size)
        with gd.fft.FFT(cp.asarray(X[box.slices]), gd.Slab(0)) as f:
            y = f.plan().execute()             # this rank's part of fftn(X), rows f.out_box
            z = f.execute(direction="inverse")
        gd.finalize()
    """

    def __init__(self, x: Any, distribution: Slab | Box, *, out_box: Box | None = None, kind: str | None = None,
                 s: Sequence[int] | None = None, norm: str | None = None, stream: Any = None):
        super().__init__()
        self.context = context = current()
        self.device_id = context.device_id
        self.norm = check_norm(norm)
        report, found = _local_report(x, distribution, out_box, kind, s, stream, context.device_id)
        reports = context.comm.allgather(report)
        _raise_reported(reports, found, context.rank)
        self.kind, self.dtype = report["kind"], DTYPES[report["dtype"]]
        for r, other in enumerate(reports):
            if (other["kind"], other["dtype"], other["s"]) != (self.kind, report["dtype"], report["s"]):
                raise ValueError(f"every rank must plan the same transform: rank {r} has kind={other['kind']!r}, x of "
                                 f"{other['dtype']}, s={other['s']}, but rank {context.rank} kind={self.kind!r}, "
                                 f"{report['dtype']}, s={report['s']}")
        self.layout: FFTLayout = fft_layout(self.kind, [r["distribution"] for r in reports],
                                            [r["shape"] for r in reports], context.rank,
                                            [r["out_box"] for r in reports], s)
        self.package, self.stream, self._x = found["package"], found["stream"], found["operand"].array
        self.out_dtype = _out_dtype(self.kind, self.dtype)
        self._exec = None
        context.track(self)

    # -- the layout, for callers ---------------------------------------------------------------------
    shape = property(lambda self: self.layout.shape_in, doc="Global shape of the input.")
    out_shape = property(lambda self: self.layout.shape_out, doc="Global shape of the result.")
    in_box = property(lambda self: self.layout.in_box, doc="This rank's part of the input.")
    out_box = property(lambda self: self.layout.out_box, doc="This rank's part of the result.")
    out_distribution = property(lambda self: self.layout.out_distribution,
                                doc="The result's distribution (to pass to the reverse transform).")

    # -- planning -------------------------------------------------------------------------------------
    def plan(self) -> "FFT":
        """Start NVSHMEM if needed, make the cuFFTMp plan and its symmetric buffer (collective)."""
        self._check_alive()
        self._release_held()
        lay = self.layout
        with runtime.on_device(self.device_id):
            self.context.start_nvshmem()
            handle = cufftmp.create()
            self._hold(cufftmp.destroy, handle)
            cufftmp.attach_comm(handle, cufftmp.CommType.CUFFT_COMM_NONE, None)
            cufftmp.set_stream(handle, self.stream)
            if lay.distribution is not None:
                cufftmp.set_distribution(handle, *lay.distribution)
            cufftmp.make_plan(handle, lay.plan_shape, _TYPES[(self.kind, self.dtype.name)])
            desc = cufftmp.xt_malloc(handle, lay.malloc_format)
            self._hold(cufftmp.xt_free, desc)
            self._hold(synchronize, self.stream)  # nvshmem_free is not stream-ordered
        buffer, nbytes = self._buffer(desc)
        in_buffer = self._x is getattr(self, "_in_view", None)  # re-planned: follow to the new buffer
        self._in_view = _view(self.package, buffer, lay.in_box.shape, lay.in_strides, self.dtype, self.device_id)
        self._out_view = _view(self.package, buffer, lay.out_box.shape, lay.out_strides, self.out_dtype,
                               self.device_id)
        if in_buffer:
            self._x = self._in_view
        self.nbytes = nbytes
        self._desc = cufftmp.descriptor(desc)
        self._exec = (cufftmp.exec_descriptor_function(), handle, desc)
        return self

    def _buffer(self, desc: int) -> tuple[int, int]:
        """This rank's symmetric buffer (address, bytes), checked against what the layout needs."""
        xt = cufftmp.descriptor(desc).descriptor.contents
        need = max(span * dt.itemsize for span, dt in zip(self.layout.spans(), (self.dtype, self.out_dtype)))
        if xt.nGPUs != 1 or not xt.data[0] or xt.size[0] < need:
            raise GpmathError(f"cufftXtMalloc gave {xt.nGPUs} buffer(s), the first of {xt.size[0]} bytes at "
                              f"{xt.data[0] or 0:#x}; this rank's input and output need {need} bytes ({self!r})")
        return xt.data[0], xt.size[0]

    # -- execution -----------------------------------------------------------------------------------
    @property
    def operand(self):
        """This rank's input part *inside* the plan's symmetric buffer (plans first if needed).

        Fill it and pass it as the operand (``reset_operands(plan.operand)``) to skip the copy
        in; with ``execute(copy=False)`` too, a transform moves no data besides cuFFTMp's own.
        The transform is in place: the buffer holds the result afterwards, so refill it before
        each execution.
        """
        self._check_alive()
        if self._exec is None:
            self.plan()
        return self._in_view

    def execute(self, direction: str | None = None, *, copy: bool = True) -> Any:
        """Transform the current operand (collective) and return this rank's part of the result.

        Parameters
        ----------
        direction : {None, "forward", "inverse"}
            c2c: either (default forward); r2c runs forward and c2r inverse only.  Either way the
            input is distributed as planned and the result as :attr:`out_distribution`.
        copy : bool, default True
            False: return a view of the result in the plan's symmetric buffer (no copy out),
            valid until the plan executes again or is freed.

        Returns
        -------
        array
            An array of *x*'s package on this rank's GPU, of shape ``out_box.shape``: new, or
            with ``copy=False`` the plan's buffer.
        """
        self._check_alive()
        if self._exec is None:
            self.plan()
        direction = self._direction(direction)
        package = self.package
        if self._x is not self._in_view:  # the operand lives outside the symmetric buffer
            with package.on_stream(self.stream, self.device_id):
                package.copy_into(self._in_view, self._x)
        self._transform(_CODES[direction])
        result = self._out_view
        factor = norm_factor(self.norm, direction == "forward", self.layout.size)
        with package.on_stream(self.stream, self.device_id):
            if copy:
                result = package.empty(self.layout.out_box.shape, self.out_dtype, self.device_id, self.stream)
                package.copy_into(result, self._out_view)
            if factor != 1.0:
                package.scale_inplace(result, factor)
        return result

    def _direction(self, direction) -> str:
        default = "inverse" if self.kind == "c2r" else "forward"
        if direction is None:
            return default
        if direction not in _CODES:
            raise ValueError(f'direction must be "forward" or "inverse", not {direction!r}')
        if self.kind != "c2c" and direction != default:
            raise ValueError(f"a {self.kind} transform runs {default} only, not {direction}")
        return direction

    def _transform(self, code: int) -> None:
        """The transform in the symmetric buffer, between two NVSHMEM barriers on the stream."""
        fn, handle, desc = self._exec
        with runtime.on_device(self.device_id):
            nvshmem.sync_all_on_stream(self.stream)
            self._desc.subFormat = self.layout.subformat
            status = fn(handle, desc, desc, code)
            if status:
                cufftmp.check(status, "cufftXtExecDescriptor")
            nvshmem.sync_all_on_stream(self.stream)

    def reset_operands(self, x: Any) -> None:
        """Transform *x* from now on: this rank's new local part, of the planned package, dtype,
        device and local shape (any strides).  Local: no other rank needs to call it."""
        self._check_alive()
        op = as_operand(x, "x", self.stream)
        if op.package is not self.package or op.device_id != self.device_id or op.dtype is not self.dtype:
            raise ValueError(f"x must stay a {self.package.name} {self.dtype.name} array on cuda:{self.device_id}; "
                             f"got {op.package.name} {op.dtype.name} on {_where(op.device_id)}")
        if tuple(op.shape) != self.layout.in_box.shape:
            raise ValueError(f"x has shape {tuple(op.shape)} but this rank's planned part is {self.layout.in_box.shape}")
        self._x = op.array

    def _after_free(self) -> None:
        self._exec = self._x = self._in_view = self._out_view = self._desc = None

    def __repr__(self) -> str:
        state = "freed" if self._freed else ("planned" if self._exec else "unplanned")
        lay = self.layout
        return (f"<distributed FFT {self.kind} {self.dtype.name}{list(lay.shape_in)} -> {self.out_dtype.name}"
                f"{list(lay.shape_out)}, rank {lay.rank}: {lay.in_box} -> {lay.out_box}, norm={self.norm}, {state}>")


def _where(device_id) -> str:
    return "host memory" if device_id is None else f"cuda:{device_id}"


def _out_dtype(kind: str, dtype: DType) -> DType:
    if kind == "r2c":
        return DTYPES[_COMPLEX[dtype.name]]
    return DTYPES[dtype.real] if kind == "c2r" else dtype


def _check_kind(kind, dtype: DType) -> str:
    if kind is None:
        kind = "c2c" if dtype.is_complex else "r2c"
    if kind not in ("c2c", "r2c", "c2r"):
        raise ValueError(f'kind must be None, "c2c", "r2c" or "c2r", not {kind!r}')
    if (kind, dtype.name) not in _TYPES:
        wanted = "float32 or float64" if kind == "r2c" else "complex64 or complex128"
        raise ValueError(f"x has dtype {dtype.name}, but a distributed {kind} transform takes {wanted}"
                         + (" (rfftn takes real input)" if kind != "r2c" and not dtype.is_complex else ""))
    return kind


def _local_report(x, distribution, out_box, kind, s, stream, device_id) -> tuple[dict, dict]:
    """What this rank tells the others at plan time, and what it keeps (or the error it found)."""
    report = {"kind": None, "dtype": None, "shape": None, "distribution": None, "out_box": None, "s": None,
              "error": None}
    found: dict = {}
    try:  # only plain, picklable values go into the report
        if not isinstance(distribution, (Slab, Box)):
            raise TypeError(f"distribution must be a gpmath.distributed.Slab or Box, not {type(distribution).__name__}")
        report["s"] = None if s is None else tuple(int(n) for n in s)
        _, package, where = locate(x, "x")
        if where is None:
            raise ValueError("x must be a CuPy array or a CUDA torch tensor on this rank's GPU, not host memory")
        if where != device_id:
            raise ValueError(f"x is on cuda:{where} but this rank computes on cuda:{device_id}")
        if out_box is not None and not isinstance(out_box, Box):
            raise TypeError(f"out_box must be a gpmath.distributed.Box or None, not {type(out_box).__name__}")
        found["stream"] = handle = resolve_stream(stream, package, device_id)
        found["operand"] = op = as_operand(x, "x", handle)
        found["package"] = package
        report.update(kind=_check_kind(kind, op.dtype), dtype=op.dtype.name, shape=tuple(op.shape),
                      distribution=distribution, out_box=out_box)
    except Exception as exc:  # reported to every rank, so that none waits for this one
        report["error"] = (type(exc).__name__, str(exc))
        found["error"] = exc
    return report, found


def _raise_reported(reports: list[dict], found: dict, rank: int) -> None:
    """Raise on every rank if any rank found an error (this rank's own exception where it did)."""
    if "error" in found:
        raise found["error"]
    for r, report in enumerate(reports):
        if report["error"] is not None:
            name, message = report["error"]
            cls = ValueError if name == "ValueError" else TypeError if name == "TypeError" else GpmathError
            raise cls(f"rank {r}: {message}")


def _view(package, address: int, shape, strides, dtype: DType, device_id: int):
    """An array of *package* over device memory at *address* (no copy; the plan keeps the memory)."""
    itemsize = dtype.itemsize
    interface = _Interface(address, shape, tuple(s * itemsize for s in strides), np.dtype(dtype.numpy).str)
    return package.over_device_memory(interface, device_id)


class _Interface:
    """A bare ``__cuda_array_interface__`` (version 3, no stream to wait for)."""

    def __init__(self, address: int, shape, strides, typestr: str):
        self.__cuda_array_interface__ = {"data": (address, False), "shape": tuple(shape), "strides": strides,
                                         "typestr": typestr, "version": 3, "stream": None}


def _one_shot(x, distribution, out_box, kind, s, norm, stream, direction):
    with FFT(x, distribution, out_box=out_box, kind=kind, s=s, norm=norm, stream=stream) as plan:
        return plan.plan().execute(direction)


def fftn(x: Any, distribution: Slab | Box, *, out_box: Box | None = None, norm: str | None = None,
         stream: Any = None) -> Any:
    """This rank's part of the n-D FFT of a complex 2-D or 3-D array split across the ranks.

    Collective: every rank calls it with its own local part.  Plans, executes once and frees the
    plan; repeated transforms of one layout should keep an :class:`FFT`.

    Parameters
    ----------
    x : array
        This rank's part (CuPy array or CUDA torch tensor, complex64 or complex128).
    distribution : Slab or Box
        ``Slab(0)``/``Slab(1)``, or this rank's :class:`Box`; see :class:`FFT`.
    out_box : Box, optional
        This rank's output box (Box input; default: the input box).
    norm : {None, "backward", "ortho", "forward"}
        As in :func:`scipy.fft.fftn`.
    stream : stream, optional
        As in :class:`FFT`.

    Returns
    -------
    array
        This rank's part of the result: slabs of the other axis for slab input
        (``Slab(0)`` -> ``Slab(1)``), else *out_box*.

    Examples
    --------
    Under ``mpirun -n 2`` with ``x`` this rank's rows (``gd.Slab(0).box(shape, rank, 2)``)::

        y = gd.fft.fftn(x, gd.Slab(0))       # this rank's columns: gd.Slab(1).box(shape, rank, 2)
        z = gd.fft.ifftn(y, gd.Slab(1))      # back to rows
    """
    return _one_shot(x, distribution, out_box, "c2c", None, norm, stream, "forward")


def ifftn(x: Any, distribution: Slab | Box, *, out_box: Box | None = None, norm: str | None = None,
          stream: Any = None) -> Any:
    """This rank's part of the n-D inverse FFT; arguments and distributions as :func:`fftn`.

    Examples
    --------
    See :func:`fftn`::

        z = gd.fft.ifftn(y, gd.Slab(1))      # Slab(1) input gives Slab(0) output
    """
    return _one_shot(x, distribution, out_box, "c2c", None, norm, stream, "inverse")


def rfftn(x: Any, distribution: Slab | Box, *, out_box: Box | None = None, norm: str | None = None,
          stream: Any = None) -> Any:
    """This rank's part of the n-D FFT of a real array: the half spectrum, last axis ``n // 2 + 1``.

    Arguments as :func:`fftn` (*x* float32 or float64).  Slab input gives slabs of the other axis
    of the complex result; a Box spanning the last axis gives, by default, the same rows of it.

    Examples
    --------
    Under ``mpirun`` (see :func:`fftn`)::

        k = gd.fft.rfftn(u, gd.Slab(0))                  # complex, Slab(1) of (n0, n1, n2 // 2 + 1)
        v = gd.fft.irfftn(k, gd.Slab(1), s=(n0, n1, n2))  # real again, Slab(0)
    """
    return _one_shot(x, distribution, out_box, "r2c", None, norm, stream, "forward")


def irfftn(x: Any, distribution: Slab | Box, *, s: Sequence[int] | None = None, out_box: Box | None = None,
           norm: str | None = None, stream: Any = None) -> Any:
    """This rank's part of the real inverse of :func:`rfftn` (cuFFTMp's C2R).

    Parameters
    ----------
    x, distribution, out_box, norm, stream
        As in :func:`fftn`; *x* is this rank's part of the half spectrum (complex).
    s : sequence of int, optional
        Global shape of the real result (default: last axis ``2 * (m - 1)``; pass it for odd
        lengths).

    Examples
    --------
    See :func:`rfftn`::

        v = gd.fft.irfftn(k, gd.Slab(1), s=(n0, n1, n2))
    """
    return _one_shot(x, distribution, out_box, "c2r", s, norm, stream, "inverse")
