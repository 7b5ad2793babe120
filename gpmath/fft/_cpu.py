"""``CpuFFT``: the FFT planner's CPU engine (scipy.fft).

Operands of any package are read on the host (device arrays are copied there when
``execution="cpu"``) and the result goes back to the operand's package and device.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

import numpy as np
import scipy.fft

from .._core.operand import as_operand
from ._planner import FFT
from ._problem import FFTProblem, scipy_name

__all__ = ["CpuFFT", "transform", "transform_function", "scipy_transform", "scipy_function"]

_DIRECTIONS = (None, "forward", "inverse")  # execute's direction arguments (others raise in check_direction)


def _scipy_backend_module():
    """The module SciPy's own backend computes NumPy arrays with: ``scipy.fft._duccfft`` from
    SciPy 1.18, ``scipy.fft._pocketfft`` from 1.4; None for a SciPy with neither (uarray's
    dispatch is taken instead)."""
    for name in ("scipy.fft._duccfft", "scipy.fft._pocketfft"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None  # pragma: no cover - a SciPy that moved it again


SCIPY_BACKEND = _scipy_backend_module()


def transform(x: np.ndarray, problem: FFTProblem, direction: str, workers: int | None = None) -> np.ndarray:
    """*problem*'s transform of host array *x* in *direction*, computed by scipy.fft
    (:func:`transform_function`'s, once).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath._core.dtypes import DTYPES
    >>> from gpmath.fft._problem import describe
    >>> x = np.arange(8.0)
    >>> y = transform(x, describe(x.shape, DTYPES["float64"], kind="c2c"), "forward")
    >>> bool(np.allclose(y, np.fft.fft(x)))
    True
    """
    return transform_function(problem, direction, workers)(x)


def transform_function(problem: FFTProblem, direction: str, workers: int | None = None):
    """*problem*'s transform in *direction* as a function of host arrays, by scipy.fft, its result
    in the problem's output dtype (made once; a plan keeps it)."""
    p = problem
    computed = scipy_function(scipy_name(p.kind, direction), p.axes, p.s, shape=p.shape, norm=p.norm,
                              overwrite_x=p.overwrite_x, workers=workers)
    out = p.out_dtype.numpy
    return lambda x: computed(x).astype(out, copy=False)


def scipy_transform(name: str, x: np.ndarray, axes: tuple[int, ...], s: tuple[int, ...], **options) -> np.ndarray:
    """scipy.fft's transform *name* (``"fft"``, ``"dct"`` ...) of host array *x* along *axes*
    with lengths *s* (:func:`scipy_function`).

    Examples
    --------
    >>> import numpy as np
    >>> scipy_transform("dct", np.array([1.0, 2.0]), (0,), (2,), type=2).tolist()
    [6.0, -1.414213562373095]
    """
    return scipy_function(name, axes, s, **options)(x)


def _lengths_given(name: str, axes: tuple[int, ...], s: tuple[int, ...], shape: tuple[int, ...] | None):
    """*s*, or None where *shape* is given and *s* is what SciPy's *name* takes by default for an
    input of that shape (SciPy then skips its crop-or-pad step: a third of a 64-point ``fft``)."""
    if shape is None:
        return s
    default = [shape[axis] for axis in axes]
    if name == "irfft":  # complex-to-real: the last axis's default length is 2 (m - 1)
        default[-1] = 2 * (default[-1] - 1)
    return None if tuple(default) == tuple(s) else s


def _beyond_defaults(fn, arguments: dict[str, Any], shape: tuple[int, ...] | None) -> dict[str, Any]:
    """*arguments* of SciPy's *fn* less those equal to its defaults, in value and type (each keyword
    costs SciPy's wrapper about 0.1 µs: 0.6 of a 64-point ``fft``'s 3), ``norm="backward"`` read as
    SciPy's None, the last axis of an array of *shape* as its -1 and axes that name what SciPy's
    default axes name, in its order, as those (an n-D function given ``axes`` checks them: 1.1 µs
    of an 8×8 ``rfftn``'s 5)."""
    if arguments.get("norm") == "backward":
        arguments["norm"] = None
    if shape is not None and arguments.get("axis") == len(shape) - 1:
        arguments["axis"] = -1
    defaults = _defaults(fn)
    if shape is not None and "axes" in defaults and type(arguments.get("axes")) is tuple:
        default, last = defaults["axes"], tuple(range(-len(shape), 0))  # (None: every axis, in order)
        if tuple(axis - len(shape) if axis >= 0 else axis for axis in arguments["axes"]) == (
                last if default is None else default):
            arguments["axes"] = default
    return {key: value for key, value in arguments.items() if key not in defaults or not _is(value, defaults[key])}


def _is(value, default) -> bool:
    """Whether *value* is SciPy's *default* in value and type (``2.0`` is not the default type 2)."""
    return value is default or (type(value) is type(default) and value == default)


@functools.cache
def _defaults(fn) -> dict[str, Any]:
    """The default values of *fn*'s parameters."""
    return {name: parameter.default for name, parameter in inspect.signature(fn).parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def scipy_function(name: str, axes: tuple[int, ...], s: tuple[int, ...], *, shape: tuple[int, ...] | None = None,
                   **options):
    """scipy.fft's transform *name* (``"fft"``, ``"dct"`` ...) along *axes* with lengths *s*, as a
    function of a host array (of *shape*, where given: lengths equal to SciPy's defaults for it
    are then left to SciPy): its 1-D function for one axis (a third less time than its n-D one on
    small arrays), else its n-D one (*name* + ``"n"``); never back into gpmath when gpmath is
    SciPy's backend.

    The arrays go straight to the functions SciPy's own backend calls for NumPy arrays
    (:data:`SCIPY_BACKEND`: the same values, without uarray's dispatch, which costs more than
    a small transform); with a SciPy without that module, through ``scipy.fft.set_backend("scipy")``.

    Examples
    --------
    >>> import numpy as np
    >>> scipy_function("rfft", (0,), (4,), norm="ortho")(np.arange(4.0)).real.tolist()
    [3.0, -1.0, -1.0]
    """
    one_axis = len(axes) == 1
    given = _lengths_given(name, axes, s, shape)
    name = name if one_axis else name + "n"
    where = {"n": given and given[0], "axis": axes[0]} if one_axis else {"s": given, "axes": axes}
    fn = getattr(SCIPY_BACKEND, name, None)
    if fn is not None:
        beyond = _beyond_defaults(fn, {**where, **options}, shape)
        return functools.partial(fn, **beyond) if beyond else fn

    def through_scipy(x):
        with scipy.fft.set_backend("scipy", only=True):
            return getattr(scipy.fft, name)(x, **where, **options)
    return through_scipy


class CpuFFT(FFT):
    """FFT computed by scipy.fft on the host (see :class:`gpmath.fft.FFT`)."""

    def __init__(self, x, axes=None, *, kind=None, s=None, norm=None, inplace=False, overwrite_x=False,
                 workers=None, execution=None, stream=None, device_id=None):
        super().__init__(x, axes, kind=kind, s=s, norm=norm, inplace=inplace, overwrite_x=overwrite_x,
                         workers=workers, execution=execution, stream=stream, device_id=device_id)
        self._operand = as_operand(x, "x").detach()  # the layout only
        self.problem = self._describe(self._operand)
        self._planned = False
        self._functions: dict = {}  # execute's direction argument -> its transform_function

    def plan(self) -> "CpuFFT":
        """Nothing to prepare on the CPU; kept for the common contract.  Returns the plan."""
        self._check_alive()
        self._planned = True
        return self

    def reset_operands(self, x) -> None:
        """Use *x* (same package, device, dtype and shape as planned) from now on."""
        self._check_alive()
        self._check_same(self._operand, as_operand(x, "x"), strides_matter=False)
        self._x = x

    def reset_operands_unchecked(self, x) -> None:
        """Like :meth:`reset_operands` without validation (the caller guarantees compatibility)."""
        self._x = x

    def release_operands(self) -> None:
        """Drop the reference to the operand (see :meth:`Planner.release_operands`)."""
        self._x = self._caller_x = None

    def execute(self, direction: str | None = None, stream: Any = None) -> Any:
        """Transform the current operand and return the result (*x* itself when in place).

        Parameters
        ----------
        direction : {None, "forward", "inverse"}
            c2c: either (default forward); r2c runs forward and c2r inverse only.
        stream : ignored on the CPU.
        """
        self._check_alive()
        if self._x is None:
            raise ValueError("this plan has no operand bound; pass it with reset_operands()")
        problem = self.problem
        computed = self._functions.get(direction) if direction in _DIRECTIONS else None
        if computed is None:
            computed = transform_function(problem, problem.check_direction(direction), self.workers)
            self._functions[direction] = computed
        pkg = self.package
        result = pkg.from_numpy(computed(pkg.to_numpy(self._x)), problem.out_dtype, self._operand.device_id)
        if problem.inplace:
            pkg.copy_into(self._x, result)
            return self._x
        return result

    def _state(self) -> str:
        return "planned" if self._planned else "unplanned"

    def _after_free(self) -> None:
        self.release_operands()
