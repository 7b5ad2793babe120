"""``DCT`` and ``DST``: planners for real-to-real transforms, and the stateless path they share.

A DCT/DST is the algorithm of :mod:`gpmath.fft._r2r` around FFTs along the last axis.  The
stateless functions (``dct`` ...) run those FFTs through gpmath's own stateless ``rfft``,
``irfft`` and ``fft`` (whose plan cache and repeat path they share); a :class:`DCT`/:class:`DST`
plan owns one :class:`~gpmath.fft.FFT` plan per FFT it needs (made by :meth:`~DCT.plan`, rebound
to each new intermediate array without checks), so a repeated ``execute`` plans nothing.  Either
way the FFTs choose their engine (cuFFT where the operand lives on a GPU, or for host operands
where one is usable; scipy.fft otherwise) and the steps around them run on the plan's stream:
gpmath's pre- and post-processing kernels for operands on a CUDA device
(:mod:`gpmath.fft._r2r_fused`), the operand's package's own operations otherwise.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._core.engines import on_cpu
from .._core.host_bridge import host_view, in_package
from .._core.packages import as_array, package_of
from .._core.planner import Planner
from .._core.streams import resolve_stream
from ._args import check_workers, nonempty_axes
from ._basic import fft
from ._basic_real import irfft, rfft
from ._functions import host_lane, keep_host_lane, plain, small_on_host
from ._planner import FFT
from ._r2r import FFTs, R2RProblem, describe_r2r, r2r

__all__ = ["DCT", "DST", "run_r2r"]


class _StatelessFFTs(FFTs):
    """The FFTs through gpmath's stateless functions."""

    def __init__(self, pkg, device_id, options: dict):
        super().__init__(pkg, device_id)
        self.options = options

    def rfft(self, v):
        return rfft(v, **self.options)

    def irfft(self, u, n):
        return irfft(u, n, norm="forward", overwrite_x=True, **self.options)

    def fft(self, z, n):
        return fft(z, n, **self.options)


class _PlannedFFTs(FFTs):
    """The FFTs through :class:`FFT` plans made on first use and rebound afterwards; *hold*
    registers each plan's ``free`` with the owning planner.  Work arrays and kernel launches are
    kept too, so that a repeated ``execute`` allocates only the FFT's output and the result."""

    def __init__(self, pkg, device_id, options: dict, hold):
        super().__init__(pkg, device_id)
        self.options, self.hold = options, hold
        self.plans: dict = {}
        self.kept_items: dict = {}

    def kept(self, key, make):
        found = self.kept_items.get(key)
        if found is None:
            found = self.kept_items[key] = make()
        return found

    def launch(self, key, make):
        return self.kept(key, make)

    def owned(self, key, make):
        def made():
            found = make()
            self.hold(found.free)
            return found

        return self.kept(key, made)

    def _run(self, kind: str, array, n: int, **extra):
        key = (kind, n, self.pkg.signature(array))
        plan = self.plans.get(key)
        if plan is None:
            plan = FFT(array, -1, kind=kind, s=(n,), **extra, **self.options).plan()
            self.hold(plan.free)
            self.plans[key] = plan
        else:
            plan.reset_operands_unchecked(array)
        return plan.execute()

    def rfft(self, v):
        return self._run("r2c", v, v.shape[-1])

    def irfft(self, u, n):
        return self._run("c2r", u, n, norm="forward", overwrite_x=True)

    def fft(self, z, n):
        return self._run("c2c", z, n)


def _in_dtype(pkg, x, p: R2RProblem):
    """*x* in the dtype *p* computes in (a converted copy where it differs), lazy views resolved."""
    target = p.out_name
    if pkg.dtype_name(x) != target:
        x = pkg.astype(x, target)
    return pkg.resolved(x)


def _stream(stream, pkg, device_id):
    return None if device_id is None else resolve_stream(stream, pkg, device_id)


def _on_cpu(x, p: R2RProblem, execution, device_id) -> bool:
    """Whether the FFTs of host array *x* run on the CPU: the FFT front's own decision (its
    execution rules and, in automatic placement, its cost model for an rfft of *x*'s size)."""
    return on_cpu("FFT", execution, x, "x", device_id,
                  lambda: FFT._work((tuple(x.shape),), p.real, {"axes": p.axes, "kind": "r2c"}))


def _scipy_r2r(x, pkg, p: R2RProblem, inverse: bool, workers, lane: tuple | None = None):
    """SciPy's own transform of host array *x* (in *p*'s dtype), in *x*'s package: on the CPU a
    DCT/DST is scipy.fft's, at its speed (the composed steps around an rfft cost several times
    more on small arrays).  A complex *x* is transformed as its real and imaginary parts, each
    alone: SciPy's transform of a complex array ignores an ``orthogonalize`` that differs from
    ``norm == "ortho"`` (SciPy 1.17), which gpmath's GPU path and SciPy's own real transforms honour.
    The function is kept for the host *lane* where one is given (:func:`~gpmath.fft._functions.keep_host_lane`)."""
    transformed = _scipy_r2r_function(p, inverse, workers, tuple(x.shape))
    if lane is not None:
        keep_host_lane(lane, transformed)
    values = pkg.host_values(x)
    if p.complex_input:
        real, imaginary = transformed(values.real), transformed(values.imag)
        y = np.empty(real.shape, np.result_type(real.dtype, np.complex64))
        y.real, y.imag = real, imaginary
    else:
        y = transformed(values)
    return y if pkg.host_only else pkg.asarray(y, None)


def _scipy_r2r_function(p: R2RProblem, inverse: bool, workers, shape: tuple[int, ...]):
    """scipy.fft's real transform *p* (*inverse*) as a function of real host arrays of *shape*
    (``orthogonalize`` left to SciPy's default where it is that: True for ``norm="ortho"`` only)."""
    from ._cpu import scipy_function  # (scipy.fft: imported on the CPU path only)

    orthogonalize = None if p.orthogonalize == (p.norm == "ortho") else p.orthogonalize
    return scipy_function(("i" if inverse else "") + p.family, p.axes, p.s, shape=shape, type=p.type, norm=p.norm,
                          workers=workers, orthogonalize=orthogonalize)


def run_r2r(x, family: str, type: int, s, axes, norm, orthogonalize, inverse: bool, *, one_d: bool, workers,
            execution, stream, device_id):
    """The stateless DCT/DST: validate as SciPy does, then transform by scipy.fft where the FFTs
    would run on the CPU, else through the stateless FFTs (and gpmath's kernels on a GPU).  A
    repeated small call on a real NumPy array (or plain torch CPU tensor, through its NumPy view) takes its
    host lane (:func:`~gpmath.fft._functions.host_lane`)."""
    view, viewed = host_view(x)
    lane = None if view is None else _host_lane_key(view, family, type, s, axes, norm, orthogonalize, inverse, one_d,
                                                    workers, (execution, stream, device_id))
    small = host_lane(lane)
    if small is not None:
        return in_package(viewed, small(view))
    given = x
    x, pkg = as_array(x)
    workers = check_workers(workers)
    p = describe_r2r(tuple(x.shape), pkg.dtype_name(x), family, type, s, axes, norm, orthogonalize, one_d)
    if not p.axes:  # nothing to transform: SciPy returns x itself, gpmath a copy of it
        return pkg.copy(x)
    x = _in_dtype(pkg, x, p)
    home = pkg.device_id(x)
    if home is None and small_on_host(x, p.axes, p.s, execution, stream, device_id):
        pkg.warn_if_differentiable(x, "x")  # (as the plans' operands are)
        kept = lane if lane is not None and x is given and not p.complex_input else None
        return _scipy_r2r(x, pkg, p, inverse, workers, kept)
    if home is None and _on_cpu(x, p, execution, device_id):
        return _scipy_r2r(x, pkg, p, inverse, workers)
    options = dict(workers=workers, execution=execution, stream=stream, device_id=device_id)
    with pkg.on_stream(_stream(stream, pkg, home), home):
        return r2r(x, p, inverse, _StatelessFFTs(pkg, home, options))


def _host_lane_key(x, *arguments) -> tuple | None:
    """The host lane key of a DCT/DST of *x* (a NumPy array or view) with *arguments* (the last one
    ``(execution, stream, device_id)``, all None): the arguments and *x*'s shape and dtype, in
    native byte order, whose lengths and axes are plain ints; else None."""
    if arguments[-1] != (None, None, None) or not x.dtype.isnative:
        return None
    _, kind, s, axes, _, _, _, _, workers, _ = arguments
    if not (kind.__class__ is int and plain(s) and plain(axes) and plain(workers)):  # (4.0 == 4 as a key)
        return None
    return ("r2r", *arguments[:-1], x.shape, x.dtype)


class DCT(Planner):
    """A reusable plan for the n-D discrete cosine transform (or, :class:`DST`, sine transform)
    of arrays shaped like *x*: ``execute()`` equals ``dctn`` and ``execute("inverse")`` ``idctn``.

    Parameters
    ----------
    x : array
        NumPy, CuPy or PyTorch array (SciPy's promotions: integers to float64, float16 to
        float32; complex input transforms its real and imaginary parts).
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    axes : int or sequence of int, optional
        Axes to transform (default: all, or the last ``len(s)``).
    s : sequence of int, optional
        Lengths: *x* is cropped or zero-padded to them.
    norm : {None, "backward", "ortho", "forward"}
        SciPy's normalisation, in either direction.
    orthogonalize : bool, optional
        SciPy's orthogonalised variant (default: with ``norm="ortho"``).
    workers : int, optional
        Threads for the CPU FFTs.
    execution, stream, device_id
        Where, and on which CUDA stream, the FFTs run (as for :class:`~gpmath.fft.FFT`); the steps
        around them run where *x* lives.

    Notes
    -----
    :meth:`plan` runs the transform once, making the :class:`~gpmath.fft.FFT` plans it needs,
    compiling gpmath's kernels (operands on a CUDA device) or uploading the twiddle vectors, and
    allocating the work arrays; :meth:`execute` then reuses them.  The result is a new array in
    *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath.fft import DCT
    >>> x = np.random.default_rng(0).standard_normal((4, 16))
    >>> with DCT(x, type=2, axes=-1, norm="ortho") as plan:
    ...     _ = plan.plan()
    ...     y = plan.execute()
    ...     z = plan.execute("inverse")
    >>> bool(np.allclose(y, scipy.fft.dct(x, norm="ortho"))), bool(np.allclose(z, scipy.fft.idct(x, norm="ortho")))
    (True, True)
    """

    family = "dct"

    def __init__(self, x: Any, type: int = 2, axes: int | Sequence[int] | None = None, *,
                 s: Sequence[int] | None = None, norm: str | None = None, orthogonalize: bool | None = None,
                 workers: int | None = None, execution: str | None = None, stream: Any = None,
                 device_id: int | None = None):
        super().__init__()
        x, pkg = as_array(x)
        self.package, self.device_id = pkg, pkg.device_id(x)
        self.problem = describe_r2r(tuple(x.shape), pkg.dtype_name(x), self.family, type, s, axes, norm,
                                    orthogonalize)
        nonempty_axes(self.problem.axes)
        self._template = (pkg.dtype_name(x), tuple(x.shape))
        self.stream, self._stream_object = _stream(stream, pkg, self.device_id), stream
        options = dict(workers=check_workers(workers), execution=execution,
                       stream=stream if self.stream is None else self.stream, device_id=device_id)
        self._ffts = _PlannedFFTs(pkg, self.device_id, options, self._holder())
        self._x = x
        self._planned = False

    def plan(self) -> "DCT":
        """Make the FFT plans and twiddle vectors (by running the forward transform once).  Returns the plan."""
        self._check_alive()
        self.execute()
        self._planned = True
        return self

    def execute(self, direction: str | None = None) -> Any:
        """The transform (``"forward"``, the default) or its inverse (``"inverse"``) of the current operand."""
        self._check_alive()
        if direction not in (None, "forward", "inverse"):
            raise ValueError(f'direction must be "forward" or "inverse", not {direction!r}')
        if self._x is None:
            raise ValueError("this plan has no operand bound; pass it with reset_operands()")
        pkg = self.package
        with pkg.on_stream(self.stream, self.device_id):
            return r2r(_in_dtype(pkg, self._x, self.problem), self.problem, direction == "inverse", self._ffts)

    def reset_operands(self, x: Any) -> None:
        """Use *x* (same package, device, dtype and shape as planned) from now on."""
        self._check_alive()
        pkg = package_of(x, "x")
        if pkg is not self.package or pkg.device_id(x) != self.device_id:
            raise ValueError(f"x must stay a {self.package.name} array on the device it was planned on")
        if (pkg.dtype_name(x), tuple(x.shape)) != self._template:
            raise ValueError(f"x must keep dtype {self._template[0]} and shape {self._template[1]}; "
                             f"got {pkg.dtype_name(x)} {tuple(x.shape)}")
        self._x = x

    def reset_operands_unchecked(self, x: Any) -> None:
        """Like :meth:`reset_operands` without validation (the caller guarantees compatibility)."""
        self._x = x

    def release_operands(self) -> None:
        """Drop the reference to the operand (see :meth:`Planner.release_operands`)."""
        self._x = None

    def _after_free(self) -> None:
        self._x = None
        self._ffts.plans.clear()
        self._ffts.kept_items.clear()

    def __repr__(self) -> str:
        p = self.problem
        state = "freed" if self._freed else ("planned" if self._planned else "unplanned")
        where = "cpu" if self.device_id is None else f"cuda:{self.device_id}"
        return (f"<{type(self).__name__} type {p.type} axes={p.axes} s={p.s} norm={p.norm} "
                f"orthogonalize={p.orthogonalize} -> {p.out_name} on {where}, {state}>")


class DST(DCT):
    """A reusable plan for the n-D discrete sine transform: as :class:`DCT`, for ``dstn``/``idstn``.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath.fft import DST
    >>> x = np.random.default_rng(0).standard_normal((3, 5, 6))
    >>> with DST(x, type=4, axes=(0, 2)) as plan:
    ...     y = plan.plan().execute()
    >>> bool(np.allclose(y, scipy.fft.dstn(x, type=4, axes=(0, 2))))
    True
    """

    family = "dst"
