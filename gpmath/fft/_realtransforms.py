"""Discrete cosine and sine transforms with scipy.fft's signatures: dct, idct, dst, idst, dctn,
idctn, dstn, idstn.

Types 1-4, SciPy's ``norm`` and ``orthogonalize`` and its dtype rules (float32 stays float32,
float16 becomes float32, integers float64; complex input transforms its real and imaginary
parts).  The work is :mod:`gpmath.fft._r2r`'s FFT-based algorithms (see ``_r2r_planner.py``):
the FFTs run in cuFFT where the operand lives on a GPU, with gpmath's fused pre- and
post-processing kernels around them (the operand's package's own operations on the host, or where
NVRTC is missing); the result is in the input's package and on its device.
Keyword-only ``execution``, ``stream`` and ``device_id`` choose where the FFTs run, as for
:func:`~gpmath.fft.fft`.  ``overwrite_x`` is accepted and never needed: the input is not changed.
"""

from __future__ import annotations

from typing import Any, Sequence

from ._r2r_planner import run_r2r

__all__ = ["dct", "idct", "dst", "idst", "dctn", "idctn", "dstn", "idstn"]

def dct(x: Any, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, orthogonalize: bool | None = None, *,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """1-D discrete cosine transform of type 1, 2 (default), 3 or 4.

    Parameters
    ----------
    x : array_like
        Input (NumPy, CuPy or PyTorch array, or an array-like).
    type : {1, 2, 3, 4}, default 2
        The DCT's type (SciPy's definitions; DCT-I needs at least 2 points).
    n : int, optional
        Length of the transform: *x* is cropped or zero-padded along *axis* to it.
    axis : int, default -1
        Axis to transform.
    norm : {None, "backward", "ortho", "forward"}
        Normalisation: ``"backward"`` (default) leaves the forward transform unscaled and scales
        the inverse by ``1/(2N)`` (``1/(2(N-1))`` for DCT-I, ``1/(2(N+1))`` for DST-I);
        ``"forward"`` the other way round; ``"ortho"`` the square root of that both ways.
    overwrite_x : bool, default False
        Accepted for SciPy compatibility; *x* is never changed.
    workers : int, optional
        Threads for the CPU FFTs (as in scipy.fft); ignored on the GPU.
    orthogonalize : bool, optional
        SciPy's orthogonalised variant (the first and/or last samples scaled by ``sqrt(2)``);
        by default on with ``norm="ortho"``.
    execution, stream, device_id
        Where and on which CUDA stream the FFTs run (see :func:`gpmath.fft.fft`).

    Returns
    -------
    array
        Real result (complex for complex input) of *x*'s precision, in *x*'s package and on
        its device.

    Raises
    ------
    ValueError
        For an invalid *type*, *norm*, *n* < 1 (or < 2 for DCT-I) or *workers*.
    TypeError
        For a dtype gpmath cannot compute in (e.g. ``longdouble``).
    IndexError
        For an *axis* out of range (NumPy's ``AxisError``).

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((3, 10))
    >>> bool(np.allclose(fft.dct(x, type=3), scipy.fft.dct(x, type=3)))
    True
    """
    return run_r2r(x, "dct", type, n, axis, norm, orthogonalize, False, one_d=True, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def idct(x: Any, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, orthogonalize: bool | None = None, *,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Inverse of :func:`dct` (the DCT of the inverse type, scaled): ``idct(dct(x)) == x``.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    n : int, optional
        Length of the transform along *axis* (crop or zero-pad).
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((3, 11))
    >>> bool(np.allclose(fft.idct(x, type=2, norm='ortho'), scipy.fft.idct(x, type=2, norm='ortho')))
    True
    """
    return run_r2r(x, "dct", type, n, axis, norm, orthogonalize, True, one_d=True, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def dst(x: Any, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, orthogonalize: bool | None = None, *,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """1-D discrete sine transform of type 1, 2 (default), 3 or 4.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    n : int, optional
        Length of the transform along *axis* (crop or zero-pad).
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 9))
    >>> bool(np.allclose(fft.dst(x, type=1, n=12, axis=0), scipy.fft.dst(x, type=1, n=12, axis=0)))
    True
    """
    return run_r2r(x, "dst", type, n, axis, norm, orthogonalize, False, one_d=True, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def idst(x: Any, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None,
        overwrite_x: bool = False, workers: int | None = None, orthogonalize: bool | None = None, *,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Inverse of :func:`dst`.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    n : int, optional
        Length of the transform along *axis* (crop or zero-pad).
    axis : int, default -1
        Axis to transform.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 9))
    >>> bool(np.allclose(fft.idst(x, type=3, norm='forward'), scipy.fft.idst(x, type=3, norm='forward')))
    True
    """
    return run_r2r(x, "dst", type, n, axis, norm, orthogonalize, True, one_d=True, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def dctn(x: Any, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
        norm: str | None = None, overwrite_x: bool = False, workers: int | None = None,
        orthogonalize: bool | None = None, *, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """N-D discrete cosine transform: :func:`dct` along each axis.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    s : sequence of int, optional
        Lengths (crop or zero-pad); with *axes* None, the last ``len(s)`` axes.
    axes : sequence of int, optional
        Axes to transform, one after the other; all by default.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.dctn(x, type=4, axes=(0, 2)), scipy.fft.dctn(x, type=4, axes=(0, 2))))
    True
    """
    return run_r2r(x, "dct", type, s, axes, norm, orthogonalize, False, one_d=False, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def idctn(x: Any, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
        norm: str | None = None, overwrite_x: bool = False, workers: int | None = None,
        orthogonalize: bool | None = None, *, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`dctn`.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    s : sequence of int, optional
        Lengths (crop or zero-pad); with *axes* None, the last ``len(s)`` axes.
    axes : sequence of int, optional
        Axes to transform, one after the other; all by default.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.idctn(x, type=1, s=(6, 6)), scipy.fft.idctn(x, type=1, s=(6, 6))))
    True
    """
    return run_r2r(x, "dct", type, s, axes, norm, orthogonalize, True, one_d=False, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def dstn(x: Any, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
        norm: str | None = None, overwrite_x: bool = False, workers: int | None = None,
        orthogonalize: bool | None = None, *, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """N-D discrete sine transform: :func:`dst` along each axis.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    s : sequence of int, optional
        Lengths (crop or zero-pad); with *axes* None, the last ``len(s)`` axes.
    axes : sequence of int, optional
        Axes to transform, one after the other; all by default.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.dstn(x, type=2, norm='ortho'), scipy.fft.dstn(x, type=2, norm='ortho')))
    True
    """
    return run_r2r(x, "dst", type, s, axes, norm, orthogonalize, False, one_d=False, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)


def idstn(x: Any, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
        norm: str | None = None, overwrite_x: bool = False, workers: int | None = None,
        orthogonalize: bool | None = None, *, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """Inverse of :func:`dstn`.

    Parameters
    ----------
    x : array_like
        Input.
    type : {1, 2, 3, 4}, default 2
        The transform's type.
    s : sequence of int, optional
        Lengths (crop or zero-pad); with *axes* None, the last ``len(s)`` axes.
    axes : sequence of int, optional
        Axes to transform, one after the other; all by default.
    norm, overwrite_x, workers, orthogonalize, execution, stream, device_id
        As in :func:`dct`.

    Returns
    -------
    array
        Real result (complex for complex input), in *x*'s package and on its device.

    Examples
    --------
    >>> import numpy as np, scipy.fft
    >>> from gpmath import fft
    >>> x = np.random.default_rng(0).standard_normal((4, 5, 6))
    >>> bool(np.allclose(fft.idstn(x, type=3, axes=(-1, 0)), scipy.fft.idstn(x, type=3, axes=(-1, 0))))
    True
    """
    return run_r2r(x, "dst", type, s, axes, norm, orthogonalize, True, one_d=False, workers=workers,
                   execution=execution, stream=stream, device_id=device_id)
