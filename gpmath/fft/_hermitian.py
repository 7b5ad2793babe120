"""The n-D Hermitian FFTs with scipy.fft's signatures: hfft2, hfftn, ihfft2, ihfftn.

As SciPy defines them: ``hfftn(x)`` is ``irfftn(conj(x))`` and ``ihfftn(x)`` is
``conj(rfftn(x))``, each with the normalisation directions swapped; they run as the same cached
:class:`~gpmath.fft.FFT` plans as :func:`~gpmath.fft.irfftn` and :func:`~gpmath.fft.rfftn`, with
the conjugations as the input's package's own operations (``hfftn`` conjugates a copy: the
caller's array is never changed).
"""

from __future__ import annotations

from typing import Any, Sequence

from ._args import swap_norm
from ._basic import reject_plan
from ._functions import Call, run_nd

__all__ = ["hfft2", "hfftn", "ihfft2", "ihfftn"]


def _hfftn(x, s, axes, norm, workers, execution, stream, device_id):
    call = Call("c2r", "inverse", swap_norm(norm), True, workers, execution, stream, device_id=device_id, conj_in=True)
    return run_nd(x, s, axes, call)


def _ihfftn(x, s, axes, norm, overwrite_x, workers, execution, stream, device_id):
    call = Call("r2c", "forward", swap_norm(norm), overwrite_x, workers, execution, stream, device_id=device_id,
                conj_out=True)
    return run_nd(x, s, axes, call)


def hfftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None, device_id: int | None = None) -> Any:
    """N-D FFT of a Hermitian-symmetric signal given as its half (the last axis halved): a real result.

    Parameters
    ----------
    x : array_like
        The half of a Hermitian-symmetric signal (the last transformed axis holds ``n//2 + 1`` points).
    s : sequence of int, optional
        Lengths of the real output (last: by default ``2 * (m - 1)``).
    axes : sequence of int, optional
        Axes to transform; all by default.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`~gpmath.fft.hfft`.

    Returns
    -------
    array
        Real result, in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6)) + 1j
    >>> bool(np.allclose(fft.hfftn(x, s=(4, 5, 9)), scipy.fft.hfftn(x, s=(4, 5, 9))))
    True
    """
    reject_plan(plan)
    return _hfftn(x, s, axes, norm, workers, execution, stream, device_id)


def hfft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None, device_id: int | None = None) -> Any:
    """2-D FFT of a Hermitian-symmetric signal: :func:`hfftn` over two axes.

    Parameters
    ----------
    x : array_like
        Half of a Hermitian-symmetric signal.
    s : sequence of two ints, optional
        Lengths of the real output.
    axes : sequence of two ints, default (-2, -1)
        Axes to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`~gpmath.fft.hfft`.

    Returns
    -------
    array
        Real result.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((6, 5)) - 1j
    >>> bool(np.allclose(fft.hfft2(x, norm="ortho"), scipy.fft.hfft2(x, norm="ortho")))
    True
    """
    reject_plan(plan)
    return _hfftn(x, s, axes, norm, workers, execution, stream, device_id)


def ihfftn(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None, device_id: int | None = None) -> Any:
    """Inverse of :func:`hfftn`: the half of a Hermitian-symmetric signal from a real spectrum.

    Parameters
    ----------
    x : array_like
        Real input.
    s : sequence of int, optional
        Transform lengths; *x* is cropped or zero-padded to them.
    axes : sequence of int, optional
        Axes to transform (all by default); the last has ``s[-1]//2 + 1`` outputs.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`~gpmath.fft.ihfft`.

    Returns
    -------
    array
        Complex result.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.ihfftn(x, axes=(2, 0)), scipy.fft.ihfftn(x, axes=(2, 0))))
    True
    """
    reject_plan(plan)
    return _ihfftn(x, s, axes, norm, overwrite_x, workers, execution, stream, device_id)


def ihfft2(x: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = (-2, -1), norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, *, plan: None = None, execution: str | None = None,
        stream: Any = None, device_id: int | None = None) -> Any:
    """Inverse of :func:`hfft2`: :func:`ihfftn` over two axes.

    Parameters
    ----------
    x : array_like
        Real input.
    s : sequence of two ints, optional
        Transform lengths.
    axes : sequence of two ints, default (-2, -1)
        Axes to transform.
    norm, overwrite_x, workers, plan, execution, stream, device_id
        As in :func:`~gpmath.fft.ihfft`.

    Returns
    -------
    array
        Complex result.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((6, 7))
    >>> bool(np.allclose(fft.ihfft2(x), scipy.fft.ihfft2(x)))
    True
    """
    reject_plan(plan)
    return _ihfftn(x, s, axes, norm, overwrite_x, workers, execution, stream, device_id)
