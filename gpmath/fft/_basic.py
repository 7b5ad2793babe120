"""Complex FFTs with scipy.fft's signatures: fft, ifft, fft2, ifft2, fftn, ifftn.

Each function validates its arguments and runs a cached :class:`~gpmath.fft.FFT` plan (see
``_functions.py``).  Inputs may be NumPy, CuPy or PyTorch arrays (array-likes become NumPy);
the result is in the input's package and on its device.  Beyond SciPy's parameters, every
function takes keyword-only ``execution`` ({None, "auto", "cuda", "cpu"}: where to run; by
default, or ``"auto"``, where *x* lives, and for host arrays where the calibrated cost model says
it is faster when a GPU is usable), ``stream`` (a CUDA stream on *x*'s device; by default the
package's current stream) and ``device_id`` (the GPU for host arrays; by default the current
device; a device array runs on its own device, and another ``device_id`` raises ``ValueError``).
"""

from __future__ import annotations

from typing import Any, Sequence

from ._functions import Call, run_1d, run_nd

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "reject_plan"]


def reject_plan(plan) -> None:
    """SciPy reserves ``plan=`` for vendor plans; gpmath's plans are :class:`gpmath.fft.FFT` objects."""
    if plan is not None:
        raise NotImplementedError("gpmath takes no precomputed plan= (SciPy reserves it); "
                                  "build a gpmath.fft.FFT plan and call execute()")


def fft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """1-D discrete Fourier transform.

    Parameters
    ----------
    x : array_like
        Input, real or complex (real input gives a complex result; integers count as float64,
        float16 as float32).
    n : int, optional
        Length of the transform: *x* is cropped or zero-padded along *axis* to it.
    axis : int, default -1
        Axis to transform.
    norm : {None, "backward", "ortho", "forward"}
        Normalisation: ``"backward"`` (default) leaves the forward transform unscaled,
        ``"ortho"`` scales both directions by ``1/sqrt(n)``, ``"forward"`` scales by ``1/n``.
    overwrite_x : bool, default False
        Allows *x*'s contents to be destroyed (only complex-to-real transforms use this).
    workers : int, optional
        Threads for the CPU path (as in scipy.fft); ignored on the GPU.
    plan : None
        Reserved by SciPy; must be None.
    execution, stream, device_id
        Where and on which CUDA stream to run (see the module notes).

    Returns
    -------
    array
        Complex result (complex64 for float32/complex64 input, else complex128), in *x*'s
        package and on its device.

    Raises
    ------
    ValueError
        For an invalid *axis*, *n* < 1 or an unknown *norm*.
    TypeError
        For a dtype gpmath cannot compute in (e.g. ``longdouble``).

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal(12)
    >>> bool(np.allclose(fft.fft(x), scipy.fft.fft(x)))
    True
    >>> fft.fft(x, n=16).shape
    (16,)
    """
    reject_plan(plan)
    return run_1d(x, n, axis, Call("c2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def ifft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """1-D inverse discrete Fourier transform.

    Parameters
    ----------
    x : array_like
        Input, real or complex.
    n : int, optional
        Length of the transform: *x* is cropped or zero-padded along *axis* to it.
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`fft`.

    Returns
    -------
    array
        Complex result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal(7) + 1j
    >>> bool(np.allclose(fft.ifft(fft.fft(x)), x))
    True
    """
    reject_plan(plan)
    return run_1d(x, n, axis, Call("c2c", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def fft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """2-D discrete Fourier transform.

    Parameters
    ----------
    x : array_like
        Input with at least two dimensions (real or complex).
    s : sequence of two ints, optional
        Transform lengths; *x* is cropped or zero-padded to them (``-1`` keeps a length).
    axes : sequence of two ints, default (-2, -1)
        Axes to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`fft`.

    Returns
    -------
    array
        Complex result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((3, 5, 6))
    >>> bool(np.allclose(fft.fft2(x), scipy.fft.fft2(x)))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def ifft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """2-D inverse discrete Fourier transform.

    Parameters
    ----------
    x : array_like
        Input with at least two dimensions.
    s : sequence of two ints, optional
        Transform lengths; *x* is cropped or zero-padded to them.
    axes : sequence of two ints, default (-2, -1)
        Axes to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`fft`.

    Returns
    -------
    array
        Complex result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 6)) + 0j
    >>> bool(np.allclose(fft.ifft2(fft.fft2(x)), x))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2c", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def fftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """N-D discrete Fourier transform.

    cuFFT plans up to three axes at once; more axes run as several passes over the result.

    Parameters
    ----------
    x : array_like
        Input (real or complex).
    s : sequence of int, optional
        Transform lengths; *x* is cropped or zero-padded to them (``-1`` keeps a length).
        With *axes* None, the last ``len(s)`` axes are transformed.
    axes : sequence of int, optional
        Axes to transform; all by default (an empty sequence returns *x* converted).
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`fft`.

    Returns
    -------
    array
        Complex result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.fftn(x, s=(8, 3), axes=(0, 2)), scipy.fft.fftn(x, s=(8, 3), axes=(0, 2))))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def ifftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """N-D inverse discrete Fourier transform.

    Parameters
    ----------
    x : array_like
        Input (real or complex).
    s : sequence of int, optional
        Transform lengths; *x* is cropped or zero-padded to them.
    axes : sequence of int, optional
        Axes to transform; all by default.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`fft`.

    Returns
    -------
    array
        Complex result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)) + 1j
    >>> bool(np.allclose(fft.ifftn(fft.fftn(x)), x))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2c", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))
