"""Real and Hermitian FFTs with scipy.fft's signatures: rfft, irfft, rfft2, irfft2, rfftn,
irfftn, hfft, ihfft.

As in ``_basic.py``: a cached :class:`~gpmath.fft.FFT` plan does the work, the result is in the
input's package and on its device, and keyword-only ``execution``/``stream``/``device_id``
choose where to run.  cuFFT's complex-to-real transforms overwrite their input, so irfft* and hfft transform a
copy unless ``overwrite_x=True``: the caller's array is never changed otherwise.
"""

from __future__ import annotations

from typing import Any, Sequence

from ._basic import reject_plan
from ._args import swap_norm
from ._functions import Call, run_1d, run_nd

__all__ = ["rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft"]


def rfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """1-D discrete Fourier transform of real input: the ``n//2 + 1`` non-negative frequencies.

    Parameters
    ----------
    x : array_like
        Real input (integers count as float64, float16 as float32).
    n : int, optional
        Length of the transform: *x* is cropped or zero-padded along *axis* to it.
    axis : int, default -1
        Axis to transform.
    norm : {None, "backward", "ortho", "forward"}
        Normalisation (see :func:`fft`).
    overwrite_x : bool, default False
        Accepted for SciPy compatibility (real-to-complex transforms keep their input).
    workers : int, optional
        Threads for the CPU path; ignored on the GPU.
    plan : None
        Reserved by SciPy; must be None.
    execution, stream, device_id
        Where and on which CUDA stream to run.

    Returns
    -------
    array
        Complex result whose *axis* has length ``n//2 + 1``.

    Raises
    ------
    TypeError
        If *x* is complex.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((3, 10))
    >>> y = fft.rfft(x)
    >>> y.shape, bool(np.allclose(y, scipy.fft.rfft(x)))
    ((3, 6), True)
    """
    reject_plan(plan)
    return run_1d(x, n, axis, Call("r2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def irfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`rfft`: a real signal from its non-negative frequencies.

    Parameters
    ----------
    x : array_like
        The non-negative half of a Hermitian spectrum (real input is taken as complex).
    n : int, optional
        Length of the real output; *x* is cropped or zero-padded along *axis* to ``n//2 + 1``.
        By default ``2 * (m - 1)`` for input length ``m`` (pass ``n`` for odd lengths).
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Real result whose *axis* has length *n*.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal(9)
    >>> bool(np.allclose(fft.irfft(fft.rfft(x), n=9), x))
    True
    """
    reject_plan(plan)
    return run_1d(x, n, axis, Call("c2r", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def rfft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """2-D discrete Fourier transform of real input (the last axis is halved).

    Parameters
    ----------
    x : array_like
        Real input with at least two dimensions.
    s : sequence of two ints, optional
        Transform lengths; *x* is cropped or zero-padded to them.
    axes : sequence of two ints, default (-2, -1)
        Axes to transform; the last of them has ``s[-1]//2 + 1`` outputs.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Complex result.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((6, 7))
    >>> bool(np.allclose(fft.rfft2(x), scipy.fft.rfft2(x)))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("r2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def irfft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`rfft2`.

    Parameters
    ----------
    x : array_like
        Half spectrum (the last axis holds the non-negative frequencies).
    s : sequence of two ints, optional
        Lengths of the real output (last: by default ``2 * (m - 1)``).
    axes : sequence of two ints, default (-2, -1)
        Axes to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Real result.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((6, 7))
    >>> bool(np.allclose(fft.irfft2(fft.rfft2(x), s=x.shape), x))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2r", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def rfftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """N-D discrete Fourier transform of real input (the last transformed axis is halved).

    Parameters
    ----------
    x : array_like
        Real input.
    s : sequence of int, optional
        Transform lengths; *x* is cropped or zero-padded to them.
    axes : sequence of int, optional
        Axes to transform (all by default); the last has ``s[-1]//2 + 1`` outputs.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Complex result.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.rfftn(x, axes=(2, 0)), scipy.fft.rfftn(x, axes=(2, 0))))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("r2c", "forward", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def irfftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`rfftn`.

    Parameters
    ----------
    x : array_like
        Half spectrum (the last transformed axis holds the non-negative frequencies).
    s : sequence of int, optional
        Lengths of the real output (last: by default ``2 * (m - 1)``).
    axes : sequence of int, optional
        Axes to transform; all by default.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Real result.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.irfftn(fft.rfftn(x), s=x.shape), x))
    True
    """
    reject_plan(plan)
    return run_nd(x, s, axes, Call("c2r", "inverse", norm, overwrite_x, workers, execution, stream, device_id=device_id))


def hfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """FFT of a signal with Hermitian symmetry, given its first half: a real spectrum.

    Computed as ``irfft(conj(x))`` with the normalisation directions swapped.

    Parameters
    ----------
    x : array_like
        The first ``n//2 + 1`` points of a Hermitian-symmetric signal.
    n : int, optional
        Length of the (real) output; by default ``2 * (m - 1)``.
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Real result of length *n* along *axis*.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal(6) + 1j
    >>> bool(np.allclose(fft.hfft(x, n=11), scipy.fft.hfft(x, n=11)))
    True
    """
    reject_plan(plan)
    call = Call("c2r", "inverse", swap_norm(norm), True, workers, execution, stream, device_id=device_id, conj_in=True)
    return run_1d(x, n, axis, call)


def ihfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None, overwrite_x: bool = False,
        workers: int | None = None, *, plan: None = None, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`hfft`: the first half of a Hermitian signal from a real spectrum.

    Computed as ``conj(rfft(x))`` with the normalisation directions swapped.

    Parameters
    ----------
    x : array_like
        Real input.
    n : int, optional
        Length of the transform: *x* is cropped or zero-padded along *axis* to it.
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`rfft`.

    Returns
    -------
    array
        Complex result of length ``n//2 + 1`` along *axis*.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal(11)
    >>> bool(np.allclose(fft.ihfft(x), scipy.fft.ihfft(x)))
    True
    """
    reject_plan(plan)
    call = Call("r2c", "forward", swap_norm(norm), overwrite_x, workers, execution, stream, device_id=device_id, conj_out=True)
    return run_1d(x, n, axis, call)
