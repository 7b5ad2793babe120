"""DCT and DST of types 1-4, written once for every package on top of gpmath's FFTs.

Each transform is a few array operations of the operand's own package (slices, flips,
concatenations, products with twiddle vectors, real/imaginary parts, strided copies: see
:class:`~gpmath._core.packages.Package`) around one FFT along the last axis, which an
:class:`FFTs` object runs (cuFFT on a GPU, scipy.fft on the CPU).  The pre/post steps therefore
run where the operand lives, on the plan's stream.  Unnormalised transforms follow SciPy's
definitions (``y[k] = 2 * sum(x[n] * cos(pi * k * (2n + 1) / (2N)))`` for DCT-II ...):

- DCT-I: the even extension ``[x0 .. x(N-1), x(N-2) .. x1]`` (length ``2(N-1)``), its rfft's real part.
- DST-I: the odd extension ``[0, x, 0, -reversed(x)]`` (length ``2(N+1)``), minus its rfft's imaginary
  part (computed as the imaginary part of the rfft of minus that extension).
- DCT-II (Makhoul): ``v = [x0, x2, ..., x5, x3, x1]`` (even samples, then the odd ones reversed);
  with ``z[k] = 2 exp(-i pi k / 2N) rfft(v)[k]``, ``y[k] = Re z[k]`` and ``y[N-k] = -Im z[k]``.
- DCT-III: the inverse of those steps: an unnormalised irfft of
  ``exp(i pi k / 2N) (y[k] - i y[N-k])``, its samples put back in even/odd order.
- DCT-IV, even N: the half-length complex FFT of ``(x[2m] + i x[N-1-2m]) exp(-i pi m / N)``;
  ``u[k] = 2 exp(-i pi (4k+1) / 4N) FFT[k]`` gives ``y[2k] = Re u[k]``, ``y[N-1-2k] = -Im u[k]``.
  Odd N: ``y[k] = 2 Re(exp(-i pi (2k+1) / 4N) FFT_2N(x[n] exp(-i pi n / 2N))[k]``, a complex FFT
  of the input zero-padded to ``2N``.
- DST-k for k = 2, 3, 4 from DCT-k: ``DST-II(x) = reversed(DCT-II(s x))``, ``DST-III(x) =
  s DCT-III(reversed(x))``, ``DST-IV(x) = reversed(DCT-IV(s x))`` with ``s = (1, -1, 1, ...)``.
"""

from __future__ import annotations

import functools
import math
import numbers
import threading
from dataclasses import dataclass

import numpy as np

from .._core.cache import named_cache
from .._core.dtypes import DTYPES
from .._core.streams import synchronize
from . import _r2r_fused as fused
from ._args import check_norm, many_axes, norm_factor, one_axis, promoted_name

__all__ = ["R2RProblem", "describe_r2r", "FFTs", "fused_recipe", "r2r", "TooShortForDctI"]

FAMILIES = ("dct", "dst")
_INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}


class TooShortForDctI(ValueError, RuntimeError):
    """A DCT-I along an axis of fewer than 2 points: a ``ValueError``, as gpmath documents it, and
    a ``RuntimeError``, as scipy.fft raises it ("zero-length FFT requested")."""


@dataclass(frozen=True)
class R2RProblem:
    """A validated DCT/DST request (pure; no arrays).

    Attributes
    ----------
    family : {"dct", "dst"}
    type : {1, 2, 3, 4}
        The forward transform's type (an inverse of type 2 computes type 3 and vice versa).
    axes, s : tuple of int
        Transformed axes (non-negative, in the caller's order) and their lengths.
    norm : {"backward", "ortho", "forward"}
    orthogonalize : bool
    real : str
        The precision computed in (``"float32"`` or ``"float64"``).
    complex_input : bool
        Complex input: its real and imaginary parts are transformed separately.
    """

    family: str
    type: int
    axes: tuple[int, ...]
    s: tuple[int, ...]
    norm: str
    orthogonalize: bool
    real: str
    complex_input: bool

    @property
    def out_name(self) -> str:
        """The result's dtype name."""
        return {"float32": "complex64", "float64": "complex128"}[self.real] if self.complex_input else self.real


def describe_r2r(shape, dtype_name: str, family: str, type: int, s=None, axes=None, norm=None, orthogonalize=None,
                 one_d: bool = False) -> R2RProblem:
    """Validate a DCT/DST of an array of *shape* and *dtype_name* (SciPy's rules and promotions).

    With *one_d*, *s* and *axes* are scipy's ``n`` and ``axis``.

    Examples
    --------
    >>> p = describe_r2r((4, 6), "int64", "dct", 2, s=8, axes=0, one_d=True)
    >>> p.axes, p.s, p.real, p.orthogonalize
    ((0,), (8,), 'float64', False)
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be 'dct' or 'dst', not {family!r}")
    if isinstance(type, bool) or not isinstance(type, numbers.Integral):  # (SciPy's TypeError for 2.0 or "2")
        raise TypeError(f"the {family.upper()} type must be an integer 1, 2, 3 or 4, not {type!r}")
    if type not in (1, 2, 3, 4):
        raise ValueError(f"invalid {family.upper()} type {type!r}: it must be 1, 2, 3 or 4")
    shape = tuple(shape)
    axes, lengths = one_axis(shape, s, axes) if one_d else many_axes(shape, s, axes)
    if family == "dct" and type == 1 and any(n < 2 for n in lengths):
        raise TooShortForDctI(f"a DCT-I needs at least 2 points per axis, not {min(lengths)}")
    norm = check_norm(norm)
    orthogonalize = norm == "ortho" if orthogonalize is None else bool(orthogonalize)
    name = promoted_name(dtype_name)
    real = {"complex64": "float32", "complex128": "float64"}.get(name, name)
    return R2RProblem(family, type, axes, lengths, norm, orthogonalize, real, name.startswith("complex"))


_LAUNCHES = 64  # kernel launches a thread keeps for the stateless transforms
_launches = threading.local()


class FFTs:
    """The FFTs and constants one transform needs, along the last axis (subclasses run them).

    Attributes
    ----------
    pkg : Package
        The operands' package.
    device_id : int or None
        Where the operands live (twiddle vectors go there).
    """

    def __init__(self, pkg, device_id):
        self.pkg, self.device_id = pkg, device_id

    def rfft(self, v):
        """Unnormalised rfft of real *v*."""
        raise NotImplementedError

    def irfft(self, u, n: int):
        """Unnormalised inverse of :meth:`rfft` (no ``1/n``), *n* real outputs; may overwrite *u*."""
        raise NotImplementedError

    def fft(self, z, n: int):
        """Unnormalised complex FFT of *z* zero-padded (or cropped) to *n* points."""
        raise NotImplementedError

    def twiddle(self, name: str, n: int, real: str):
        """The vector *name* (see :func:`_host_twiddle`) for length *n* in precision *real*."""
        return _device_twiddle(self.pkg, self.device_id, name, n, real)

    def stream(self) -> int:
        """The stream the steps around the FFTs run on (the package's current one on the device)."""
        return self.pkg.current_stream(self.device_id)

    def kept(self, key, make):
        """What *make* returns (a work array, a spectrum buffer): made anew for each transform here,
        kept under *key* by a plan's FFTs."""
        return make()

    def launch(self, key, make):
        """The kernel launch *make* returns (:class:`~gpmath._core.kernels.Launch`: its fixed
        parameters set once, the twiddle tables they point to held by it; a repeat sets the two row
        pointers), kept under *key* for the calling thread (the :data:`_LAUNCHES` last ones, of any
        device) here, by the plan for a plan's FFTs: making one took 17 µs of a stateless DCT-IV's
        56 on 64² (H100)."""
        launches = _launches.__dict__.setdefault("kept", {})
        key = (self.device_id, key)
        found = launches.pop(key, None)
        if found is None:
            found = make()
            while len(launches) >= _LAUNCHES:
                del launches[next(iter(launches))]
        launches[key] = found  # (the newest last)
        return found

    def owned(self, key, make):
        """What *make* returns that holds resources until its ``free()`` (a cuFFT plan with
        callbacks; it has ``nbytes`` and ``freed``): kept under *key* for the calling thread in the
        stateless ``"fft"`` plan cache here, by the plan (and freed with it) for a plan's FFTs;
        None where nothing may be kept (the cache's ``maxsize`` is 0)."""
        cache = named_cache("fft")
        return cache.get_or_create(key, make) if cache.maxsize else None


@functools.lru_cache(maxsize=256)
def _host_twiddle(name: str, n: int) -> np.ndarray:
    """Constant vector *name* for transforms of length *n* (float64 or complex128)."""
    if name == "signs":
        return np.where(np.arange(n) % 2, -1.0, 1.0)
    if name == "dct2":
        return 2 * np.exp(-0.5j * np.pi * np.arange(n // 2 + 1) / n)
    if name == "dct3":  # -i exp(i pi k / 2N): the -i turns (Xb + i Xa) into Xa - i Xb
        return -1j * np.exp(0.5j * np.pi * np.arange(n // 2 + 1) / n)
    if name == "dct4-pre":
        m = n // 2 if n % 2 == 0 else n
        return np.exp(-1j * np.pi * np.arange(m) / (n if n % 2 == 0 else 2 * n))
    if name == "dct4-post":
        if n % 2 == 0:
            return 2 * np.exp(-1j * np.pi * (4 * np.arange(n // 2) + 1) / (4 * n))
        return 2 * np.exp(-1j * np.pi * (2 * np.arange(n) + 1) / (4 * n))
    if name == "dct4-roots":  # exp(-2 pi i t / L), t < L = N/2: the one-kernel type 4's FFT twiddles
        return np.exp(-2j * np.pi * np.arange(n // 2) / (n // 2))
    raise ValueError(f"unknown twiddle {name!r}")


@functools.lru_cache(maxsize=256)
def _device_twiddle(pkg, device_id, name: str, n: int, real: str):
    """:func:`_host_twiddle` in *pkg* on *device_id*, kept for every later call: on a device, its copy
    is complete before it is returned (a sync of the stream it was made on, once per vector), so
    transforms on any other stream read it whole."""
    host = _host_twiddle(name, n)
    dtype = DTYPES[real] if host.dtype.kind == "f" else DTYPES[{"float32": "complex64", "float64": "complex128"}[real]]
    vector = pkg.from_numpy(host, dtype, device_id)
    if device_id is not None:
        synchronize(pkg.current_stream(device_id))
    return vector


# -- the unnormalised transforms of real arrays along their last axis ---------------------------
def _dct1(x, f: FFTs):
    return f.pkg.contiguous(f.rfft(f.pkg.concatenate([x, f.pkg.flip(x[..., 1:-1], -1)], -1)).real)


def _dst1(x, f: FFTs):
    pkg, n = f.pkg, x.shape[-1]
    zero = pkg.zeros((*x.shape[:-1], 1), x)
    e = f.rfft(pkg.concatenate([zero, -x, zero, pkg.flip(x, -1)], -1))  # minus the odd extension
    return pkg.contiguous(e.imag[..., 1:n + 1])


def _dct2(x, f: FFTs, real: str):
    pkg, n = f.pkg, x.shape[-1]
    z = f.rfft(pkg.concatenate([x[..., 0::2], pkg.flip(x[..., 1::2], -1)], -1)) * f.twiddle("dct2", n, real)
    half = n // 2 + 1
    out = pkg.zeros(tuple(x.shape), x)
    pkg.copy_into(out[..., :half], z.real)
    if n > half:
        pkg.copy_into(out[..., half:], pkg.flip(z.imag[..., 1:n - half + 1], -1))
        pkg.scale_inplace(out[..., half:], -1.0)
    return out


def _dct3(x, f: FFTs, real: str):
    pkg, n = f.pkg, x.shape[-1]
    half = n // 2 + 1
    mirrored = pkg.concatenate([pkg.zeros((*x.shape[:-1], 1), x), pkg.flip(x[..., n - half + 1:], -1)], -1)
    v = f.irfft(pkg.complex(mirrored, x[..., :half]) * f.twiddle("dct3", n, real), n)
    out = pkg.zeros(tuple(x.shape), x)
    pkg.copy_into(out[..., 0::2], v[..., :(n + 1) // 2])
    pkg.copy_into(out[..., 1::2], pkg.flip(v[..., (n + 1) // 2:], -1))
    return out


def _dct4(x, f: FFTs, real: str):
    pkg, n = f.pkg, x.shape[-1]
    pre, post = f.twiddle("dct4-pre", n, real), f.twiddle("dct4-post", n, real)
    if n % 2:
        zeros = pkg.zeros(tuple(x.shape), x)
        u = f.fft(pkg.complex(x, zeros) * pre, 2 * n)[..., :n] * post
        return pkg.contiguous(u.real)
    u = f.fft(pkg.complex(x[..., 0::2], pkg.flip(x[..., 1::2], -1)) * pre, n // 2) * post
    out = pkg.zeros(tuple(x.shape), x)
    pkg.copy_into(out[..., 0::2], u.real)
    pkg.copy_into(out[..., 1::2], pkg.flip(u.imag, -1))
    pkg.scale_inplace(out[..., 1::2], -1.0)
    return out


def _transform_last(x, family: str, type: int, f: FFTs, real: str):
    """The unnormalised *family* transform of *type* of real *x* along its last axis."""
    if type == 1:
        return _dct1(x, f) if family == "dct" else _dst1(x, f)
    cosine = {2: _dct2, 3: _dct3, 4: _dct4}[type]
    if family == "dct":
        return cosine(x, f, real)
    pkg, signs = f.pkg, f.twiddle("signs", x.shape[-1], real)
    if type == 3:
        return cosine(pkg.flip(x, -1), f, real) * signs
    return pkg.flip(cosine(x * signs, f, real), -1)


# -- normalisation, orthogonalisation, lengths and axes ---------------------------------------
def _period(family: str, type: int, n: int) -> int:
    """The ``2N`` (types 2-4), ``2(N-1)`` (DCT-I) or ``2(N+1)`` (DST-I) of SciPy's norms."""
    return 2 * (n + {"dct": -1, "dst": 1}[family]) if type == 1 else 2 * n


def _ends(family: str, type: int) -> tuple[slice, ...]:
    """The samples that ``orthogonalize`` scales by sqrt(2) (input) or 1/sqrt(2) (output) for
    *type*, as slices of the last axis: DCT-I both ends, DCT-II/III the first, DST-II/III the last."""
    if type == 1:
        return (slice(0, 1), slice(-1, None)) if family == "dct" else ()
    if type in (2, 3):
        return (slice(0, 1),) if family == "dct" else (slice(-1, None),)
    return ()


def _scale_ends(pkg, y, ends, factor: float) -> None:
    for end in ends:
        pkg.scale_inplace(y[..., end], factor)


def _fit(pkg, x, n: int):
    """*x* cropped (a view) or zero-padded (a copy) to *n* points along its last axis."""
    m = x.shape[-1]
    if n <= m:
        return x[..., :n]
    out = pkg.zeros((*x.shape[:-1], n), x)
    pkg.copy_into(out[..., :m], x)
    return out


def _type_and_factor(p: R2RProblem, n: int, inverse: bool) -> tuple[int, float]:
    """The type computed (an inverse of type 2 is a type 3 ...) and SciPy's norm factor."""
    type = _INVERSE_TYPE[p.type] if inverse else p.type
    return type, norm_factor(p.norm, not inverse, _period(p.family, p.type, n))


def fused_recipe(p: R2RProblem, n: int, inverse: bool):
    """The :class:`~gpmath.fft._r2r_fused.Recipe` of *p*'s transform of length *n* (its inverse
    with *inverse*), or None where the composed steps compute it."""
    type, factor = _type_and_factor(p, n, inverse)
    return fused.recipe(p.family, type, n, p.orthogonalize, factor)


def _composed(y, p: R2RProblem, inverse: bool, f: FFTs):
    """The normalised transform of real *y* along its last axis, by the package's own operations."""
    pkg = f.pkg
    type, factor = _type_and_factor(p, y.shape[-1], inverse)
    ends = _ends(p.family, type) if p.orthogonalize else ()
    if ends and type in (1, 3):
        y = pkg.copy(y)
        _scale_ends(pkg, y, ends, math.sqrt(2))
    y = _transform_last(y, p.family, type, f, p.real)
    if ends and type in (1, 2):
        _scale_ends(pkg, y, ends, 1 / math.sqrt(2))
    if factor != 1.0:
        pkg.scale_inplace(y, factor)
    return y


def _one_axis(x, axis: int, n: int, p: R2RProblem, inverse: bool, f: FFTs):
    """The normalised transform of real *x* along *axis*, cropped or padded to *n*."""
    pkg, ndim = f.pkg, len(x.shape)
    order = tuple(a for a in range(ndim) if a != axis) + (axis,)
    y = _fit(pkg, pkg.permuted(x, order), n)
    recipe = fused_recipe(p, n, inverse) if fused.usable(f) else None
    if recipe is None:
        y = _composed(y, p, inverse, f)
    else:
        y = fused.transform(pkg.contiguous(y), recipe, f, p.real)
    back = [0] * ndim
    for position, a in enumerate(order):
        back[a] = position
    return pkg.permuted(y, tuple(back))


def _real_r2r(x, p: R2RProblem, inverse: bool, f: FFTs):
    for axis, n in zip(p.axes, p.s):
        x = _one_axis(x, axis, n, p, inverse, f)
    return x


def r2r(x, p: R2RProblem, inverse: bool, f: FFTs):
    """*p*'s transform (its inverse with *inverse*) of *x*, already in *p*'s dtype, through *f*.

    Complex input transforms its real and imaginary parts.  The caller's array is never changed.
    """
    pkg = f.pkg
    if p.complex_input:
        return pkg.complex(_real_r2r(x.real, p, inverse, f), _real_r2r(x.imag, p, inverse, f))
    return _real_r2r(x, p, inverse, f)
