"""The stateless FFT path: promote, normalise arguments, then run a cached :class:`FFT` plan.

Plans live in the ``"fft"`` plan cache of :mod:`gpmath._core.stateless`, keyed by the transform
(kind, axes, lengths, norm ...), the input's layout, the device and the stream (the cache adds
the thread), so a plan and its work area are never shared by two streams, devices or threads.
``fft`` and ``ifft`` of the same input share one plan: the direction is an argument of
``execute``, not of the plan.

One shortcut comes first: a host transform that the CPU computes, small (:func:`small_on_host`)
or larger where the engine choice surely puts it on the CPU, is scipy.fft's at once, without a
plan (:func:`small_transform`).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from .._core.dtypes import DTYPES
from .._core.host_bridge import host_view, in_package
from .._core.packages import as_array, known_package
from .._core.engines import surely_on_cpu
from .._core.placement import Work, get_placement, precision, stays_on_host
from .._core.stateless import Stateless, lane_key
from .._core.streams import resolve_stream
from ._args import c2r_lengths, check_norm, check_workers, many_axes, nonempty_axes, one_axis, promoted_name
from ._planner import FFT, transform_work
from ._problem import scipy_name

__all__ = ["Call", "run_1d", "run_nd", "small_on_host", "small_transform", "host_lane", "keep_host_lane", "plain",
           "SMALL_SIZE"]

SMALL_SIZE = 4096  # elements (after padding or cropping) of the transforms small_transform takes: far
# below any GPU's crossover (an H200's is 23-92 thousand complex64 elements), and 4-7 µs a call less
# than the plan path's key and lookup at 2048-4096 elements on a 2-core machine

_PATH = Stateless("fft")


class Call:
    """One stateless call's options (everything but the array and its axes)."""

    __slots__ = ("kind", "direction", "norm", "overwrite_x", "workers", "execution", "stream", "conj_in", "conj_out",
                 "device_id", "tag")

    def __init__(self, kind, direction, norm, overwrite_x, workers, execution, stream, conj_in=False, conj_out=False,
                 device_id=None):
        self.kind, self.direction = kind, direction
        self.norm = "backward" if norm is None else check_norm(norm)  # (the defaults without a call: per-call cost)
        self.overwrite_x, self.workers = bool(overwrite_x), None if workers is None else check_workers(workers)
        self.execution, self.stream = execution, stream
        self.conj_in, self.conj_out = conj_in, conj_out
        self.device_id = device_id
        # the options of a lane key (None: a call that takes no lane)
        plain = execution is None and stream is None and device_id is None and not (conj_in or conj_out)
        self.tag = (kind, direction, self.norm, self.overwrite_x) if plain else None


def _prepared(x):
    """``(x, package)`` with *x* in a dtype gpmath computes in (integers -> float64 ...) and torch's
    lazy conjugation or negation applied."""
    pkg = known_package(x)
    if pkg is None:
        x, pkg = as_array(x)
    name = pkg.dtype_name(x)
    if name not in DTYPES:
        x = pkg.astype(x, promoted_name(name))
    return pkg.resolved(x), pkg


def small_on_host(x, axes: tuple[int, ...], s: tuple[int, ...], execution, stream, device_id) -> bool:
    """Whether a transform of *x* along *axes* with lengths *s* is a small host one that the CPU
    computes: *x* a host array (NumPy, torch CPU), at most :data:`SMALL_SIZE` elements in and out,
    no *stream* or *device_id*, and ``execution="cpu"`` or automatic placement.

    No GPU moves such an array in and the result out in the time scipy.fft takes, so automatic
    placement puts it on the CPU; the stateless FFTs (:func:`small_transform`) and DCTs/DSTs
    then take scipy.fft's transform at once, without the plan cache's key and lookup or the cost
    model, which cost more than the transform.  ``set_placement("cuda")`` and
    ``execution="cuda"`` take the plans.

    Examples
    --------
    >>> import numpy as np
    >>> small_on_host(np.ones(8), (0,), (8,), "cpu", None, None), small_on_host(np.ones(8), (0,), (8,), "cuda", None, None)
    (True, False)
    """
    if _host_package(x, stream, device_id) is None:
        return False
    size = math.prod(x.shape)
    transformed = math.prod([x.shape[axis] for axis in axes]) if len(axes) > 1 else x.shape[axes[0]]
    if size > SMALL_SIZE or not transformed or size // transformed * math.prod(s) > SMALL_SIZE:
        return False  # large, or an empty axis padded (a batch of any size)
    return stays_on_host(execution)


def _host_package(x, stream, device_id):
    """The package of *x*, a host array of a known package called without a *stream* or a
    *device_id* (what the host shortcuts take); else None."""
    pkg = known_package(x)
    if pkg is None or stream is not None or device_id is not None or pkg.device_id(x) is not None:
        return None
    return pkg


def small_transform(x, axes: tuple[int, ...], s: tuple[int, ...], call: Call, host_key: tuple | None = None):
    """scipy.fft's transform of a host array *x* (in a dtype gpmath computes in) along *axes*
    with lengths *s*, as a function of NumPy arrays (:func:`~gpmath.fft._cpu.scipy_function`),
    where the call conjugates nothing (``hfft`` and ``ihfft`` take the plans) and the CPU
    computes it: a small transform (:func:`small_on_host`), or a larger one the engine choice
    gives the CPU engine (:func:`_larger_on_cpu`); else None.  It is kept for the
    host lane *host_key* where given (with what the choice rests on, for a larger one).  The CPU
    engine's answer: the same scipy.fft call on the same values (*x*'s ``host_values``: in
    native byte order).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.fft._functions import Call, small_transform
    >>> small_transform(np.arange(4.0), (0,), (4,), Call("r2c", "forward", None, False, None, "cpu", None))(
    ...     np.arange(4.0)).tolist()
    [(6+0j), (-2+2j), (-2+0j)]
    >>> small_transform(np.ones(4), (0,), (4,), Call("c2c", "forward", None, False, None, "cuda", None)) is None
    True
    """
    if call.conj_in or call.conj_out:
        return None
    small = small_on_host(x, axes, s, call.execution, call.stream, call.device_id)
    placed = None if small else _larger_on_cpu(x, axes, s, call)
    if placed is False:
        return None
    if call.kind == "r2c" and known_package(x).is_complex(x):  # the plan's error, which names the dtype
        return None
    transform = _scipy_transform(scipy_name(call.kind, call.direction), axes, s, tuple(x.shape), call.norm,
                                 call.overwrite_x, call.workers)
    if host_key is not None:
        keep_host_lane(host_key, transform, placed)
    return transform


def _larger_on_cpu(x, axes: tuple[int, ...], s: tuple[int, ...], call: Call) -> Placed | bool:
    """Where a transform of host array *x* beyond :data:`SMALL_SIZE` is placed (:class:`Placed`),
    if the FFT front gives it its CPU engine (:func:`~gpmath._core.engines.surely_on_cpu`), else
    False.  The estimate (``FFT._work``'s) is made only where no verdict is kept for the
    transform yet, or to keep it for a host lane: a call that goes on to the plans asks one lookup."""
    pkg = _host_package(x, call.stream, call.device_id)
    if pkg is None:
        return False
    if not all(x.shape[axis] for axis in axes):  # an empty axis padded: the plans' rules
        return False
    shape, name = tuple(x.shape), pkg.dtype_name(x)
    placed = Placed((shape, name, axes, s, call.kind))
    return placed if placed.on_cpu(call.execution) else False


class Placed:
    """A transform past :data:`SMALL_SIZE` that a host lane may keep: its *problem* (shape, dtype
    name, axes, lengths, kind: the key of its kept verdict) and :meth:`work`, its estimate, made
    at the first need."""

    __slots__ = ("problem", "_work")

    def __init__(self, problem: tuple):
        self.problem, self._work = problem, None

    def work(self) -> Work:
        """``FFT._work``'s estimate of the transform (made once)."""
        if self._work is None:
            shape, name, axes, s, kind = self.problem
            self._work = transform_work(shape, DTYPES[name], axes, s, kind)
        return self._work

    def on_cpu(self, execution: str | None = None) -> bool:
        """Whether the engine choice gives the transform the CPU engine with *execution*
        (:func:`~gpmath._core.engines.surely_on_cpu`)."""
        return surely_on_cpu("FFT", "fft", precision(self.problem[1]), None, execution, self.work, self.problem)


@functools.lru_cache(maxsize=256)
def _scipy_transform(name: str, axes: tuple[int, ...], s: tuple[int, ...], shape: tuple[int, ...], norm: str,
                     overwrite_x: bool, workers: int | None) -> Callable:
    """:func:`~gpmath.fft._cpu.scipy_function` of these (normalised) arguments, made once: a
    repeated host transform that takes no host lane (options other than the defaults, lengths
    given as NumPy integers, a big-endian array) finds it here."""
    from ._cpu import scipy_function  # (scipy.fft: imported on the CPU path only)

    return scipy_function(name, axes, s, shape=shape, norm=norm, overwrite_x=overwrite_x, workers=workers)


_HOST_LANES: dict[tuple, tuple] = {}  # host lane key -> (scipy.fft's function for the call, its placement)
_MOST_HOST_LANES = 512  # (a program cycling through more shapes starts the table again)


def _by_lanes(call: Call, x, *where) -> tuple:
    """``(result, device lane key, host lane key)`` of a call on *x* with the length and axis
    arguments *where*: the result of the device lane's plan (:func:`_lane`) or of the host lane
    (:func:`_by_host_lane`) where one is kept, else None with the keys the call may keep."""
    lane, plan = _lane(call, x, *where)
    if plan is not None:
        return plan.execute_with(x, direction=call.direction), None, None
    host_key, done = _by_host_lane(call, x, lane, *where)
    return done, lane, host_key


def _numpy_lane(call: Call, x, marker: str, lengths, axes) -> Callable | None:
    """The host lane's function (:func:`host_lane`) for a call on a NumPy array *x* with *lengths*
    and *axes* (*marker* names them), looked up first: a lane is kept only by a call whose array
    the package adapter placed on the host (:func:`small_on_host`), and a hit skips the device
    lane's key and the package lookup.  None for any other array."""
    return host_lane(_host_lane_key(call, x, marker, lengths, axes)) if type(x) is np.ndarray else None


def _by_host_lane(call: Call, x, lane, *where) -> tuple:
    """``(host lane key, the result)`` of a call on *x* that took no device lane (*lane* None)
    with the length and axis arguments *where*: a NumPy array, or a plain host tensor through its
    NumPy view (:meth:`~gpmath._core.packages.Package.plain_host_view`; the result in its
    package); the result None where no lane is kept for the key (or the key None: no lane)."""
    if lane is not None:
        return None, None
    x, pkg = host_view(x)
    if x is None:
        return None, None
    key = _host_lane_key(call, x, *where)
    small = host_lane(key)
    return key, None if small is None else in_package(pkg, small(x))


def _host_lane_key(call: Call, x, marker: str, lengths, axes) -> tuple | None:
    """The host lane key (:func:`keep_host_lane`) of a call with default options and plain
    *lengths* and *axes* (*marker* names them) on a NumPy array *x* (or view) in native byte
    order; else None."""
    if call.tag is None or not (plain(lengths) and plain(axes)) or not x.dtype.isnative:
        return None
    return call.tag, call.workers, marker, lengths, axes, x.shape, x.dtype


def host_lane(key: tuple | None) -> Callable | None:
    """scipy.fft's function kept for the host lane *key* (:func:`keep_host_lane`) while automatic
    placement keeps host arrays on the host (any mode but ``"cuda"``) and, for a transform past
    :data:`SMALL_SIZE`, while the engine choice still gives it the CPU engine; else None."""
    kept = _HOST_LANES.get(key)
    if kept is None or get_placement() == "cuda":
        return None
    transform, placed = kept
    return transform if placed is None or placed.on_cpu() else None


def keep_host_lane(key: tuple, transform: Callable, placed: Placed | None = None) -> None:
    """Keep *transform* (scipy.fft's function of a NumPy array, from :func:`small_transform`) for
    the host lane *key*: the call's arguments and the array's shape and (native) dtype, all that
    it depends on but the placement mode, which :func:`host_lane` reads at each use, and, for a
    transform past :data:`SMALL_SIZE`, where the engine choice puts it (*placed*), asked again at
    each use (the GPU in use and its calibration may change)."""
    if len(_HOST_LANES) >= _MOST_HOST_LANES:
        _HOST_LANES.clear()
    _HOST_LANES[key] = transform, placed


def _lane(call: Call, x, *where):
    """``(lane key, plan)`` of a call on *x* with the length and axis arguments *where* (a marker,
    the lengths, the axes)
    (:func:`~gpmath._core.stateless.lane_key`; the plan None where its lane is not kept yet), or
    ``(None, None)`` where the call takes no lane: its options are not the defaults, or a length or
    axis is not a plain int (or tuple of them), which a key would confuse with one (``4.0 == 4``)
    though the full path refuses it."""
    lane = None if call.tag is None else lane_key((call.tag, *where), x)  # (None at once for host arrays)
    if lane is None or not (plain(where[1]) and plain(where[2])):
        return None, None
    return lane, _PATH.lane(lane)


def plain(value) -> bool:
    """Whether *value* is None, an int or a tuple of ints (bools and NumPy integers are not)."""
    return value is None or type(value) is int or (type(value) is tuple and all(type(v) is int for v in value))


def _execute(x, pkg, axes, s, call: Call, lane=None, host_key=None):
    small = small_transform(x, axes, s, call, host_key)  # a host transform of the CPU's: scipy.fft's, at its speed
    if small is not None:
        pkg.warn_if_differentiable(x, "x")  # (as the plans' operands are)
        y = small(pkg.host_values(x))
        return y if pkg.host_only else pkg.asarray(y, None)
    if call.conj_in:
        with pkg.on_stream(*_stream_of(call, pkg, x)):
            x = pkg.conj(x)
    options = {"axes": axes, "s": s, "kind": call.kind, "norm": call.norm, "overwrite_x": call.overwrite_x,
               "workers": call.workers}
    ran = _PATH(FFT, (x,), options, call.execution, call.stream, call.device_id, {"direction": call.direction},
                with_plan=call.conj_out, lane=lane)
    return _conjugated(*ran) if call.conj_out else ran


def _conjugated(result, plan):
    """*result* conjugated in place, on *plan*'s stream."""
    pkg = known_package(result)
    with pkg.on_stream(plan.stream, pkg.device_id(result)):  # a host result: no stream
        pkg.conj_inplace(result)
    return result


def _stream_of(call: Call, pkg, x):
    device_id = pkg.device_id(x)
    if device_id is None:
        return None, None
    return resolve_stream(call.stream, pkg, device_id), device_id


def run_1d(x, n, axis, call: Call):
    """A 1-D transform of *x* along *axis* (SciPy's ``n`` rules; c2r: output length)."""
    small = _numpy_lane(call, x, "n", n, axis)
    if small is not None:
        return small(x)
    done, lane, host_key = _by_lanes(call, x, "n", n, axis)
    if done is not None:
        return done
    given = x
    x, pkg = _prepared(x)
    axes, s = one_axis(tuple(x.shape), n, axis)
    if call.kind == "c2r":
        s = c2r_lengths(tuple(x.shape), axes, s, given=n is not None, one_d=True)
    kept = x is given
    return _execute(x, pkg, axes, s, call, lane if kept else None, host_key if kept else None)


def run_nd(x, s, axes, call: Call):
    """An n-D transform of *x* (SciPy's ``s``/``axes`` rules; c2r: output lengths)."""
    small = _numpy_lane(call, x, "s", s, axes)
    if small is not None:
        return small(x)
    done, lane, host_key = _by_lanes(call, x, "s", s, axes)
    if done is not None:
        return done
    given = x
    x, pkg = _prepared(x)
    shape = tuple(x.shape)
    axes, lengths = many_axes(shape, s, axes)
    if not axes:  # nothing to transform: SciPy and NumPy return x itself, gpmath a copy of it
        if call.kind != "c2c":
            nonempty_axes(axes)
        given, pkg = as_array(given)
        return pkg.copy(given)
    if call.kind == "c2r":
        lengths = c2r_lengths(shape, axes, lengths, given=s is not None)
    kept = x is given
    return _execute(x, pkg, axes, lengths, call, lane if kept else None, host_key if kept else None)
