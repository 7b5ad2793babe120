"""``gpmath.matmul``: the stateless function over cached :class:`~gpmath.blas.Matmul` plans
(:mod:`gpmath._core.stateless`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.stateless import Stateless, lane_key
from ._cpu import small_host_product, small_product
from ._planner import Matmul

__all__ = ["matmul"]

_PATH = Stateless("matmul")
_NDARRAY = np.ndarray


def matmul(a: Any, b: Any, c: Any = None, *, alpha: Any = 1, beta: Any = None, epilog: str | None = None,
           bias: Any = None, out: Any = None, compute: str | None = None, execution: str | None = None,
           stream: Any = None, device_id: int | None = None) -> Any:
    """Matrix product ``epilog(alpha * (a @ b) + beta * c + bias)`` with ``numpy.matmul`` shapes.

    Parameters
    ----------
    a, b : array
        NumPy, CuPy or PyTorch arrays: ``(..., M, K)`` and ``(..., K, N)``; 1-D operands and
        broadcast batch dimensions work as in ``numpy.matmul``.  float16, bfloat16, float32,
        float64, complex64 and complex128; both of one dtype.
    c : array, optional
        Added as ``beta * c``; the result's matrix shape, batch dimensions may broadcast.
    alpha : number, default 1
    beta : number, optional
        1 when ``c`` is given, else 0.
    epilog : {None, "relu", "gelu", "bias", "bias_relu", "bias_gelu"}
        Applied on the result (GELU: tanh approximation); the bias variants need ``bias``.
    bias : array, optional
        Length-N vector added to every row, before the activation.
    out : array, optional
        Written in place and returned; must not share memory with the inputs (``c`` may be
        ``out`` itself).  Otherwise the result is a new array that belongs to the caller.
    compute : {None, "tf32", "pedantic", "fast_f16", "fast_bf16"}
        Compute mode for float32/complex64 (``"tf32"``: TF32 tensor cores).
    execution : {None, "auto", "cuda", "cpu"}
        Where to run (default, or ``"auto"``: where the operands live; NumPy arrays where the
        calibrated cost model says it is faster, when a GPU is usable).
    stream : stream, optional
        CUDA stream (torch/CuPy stream, ``cuda.bindings`` stream or handle) on the operands'
        device; default: the package's current stream.
    device_id : int, optional
        The GPU that computes on NumPy operands (default: the current device).  Device arrays
        run on their own device; operands on two devices, a ``device_id`` or a ``stream`` of
        another device raise ``ValueError`` naming both devices.

    Returns
    -------
    array
        The result in the package and on the device of the operands.

    Notes
    -----
    Plans are cached per layout, options, stream, device and thread (see :func:`gpmath.cache_info`
    and :func:`gpmath.set_cache_limits`); a cached plan keeps no reference to the operands.  A call on device arrays only enqueues
    work on the stream; a call on NumPy arrays computed on the GPU waits for that stream.

    Examples
    --------
    >>> import numpy as np, gpmath
    >>> a, b = np.random.rand(3, 4), np.random.rand(4, 5)
    >>> bool(np.allclose(gpmath.matmul(a, b), a @ b))
    True
    >>> bool(np.allclose(gpmath.matmul(a, b, epilog="relu"), np.maximum(a @ b, 0)))
    True
    """
    lane = None
    if (c is None and bias is None and out is None and epilog is None and compute is None and beta is None
            and stream is None and device_id is None and type(alpha) is int and alpha == 1):
        if type(a) is _NDARRAY and type(b) is _NDARRAY:
            result = small_product(a, b, execution)  # a small NumPy product: NumPy's, at NumPy's speed
            if result is not None:
                return result
        if execution is None and (lane := lane_key(Matmul, a, b)) is not None:
            plan = _PATH.lane(lane)
            if plan is not None:  # device arrays: this thread's last such call's plan, at once
                return plan.execute_with(a, b)
        else:
            result = small_host_product(a, b, execution)  # torch CPU tensors, as NumPy arrays
            if result is not None:
                return result
    options = {"alpha": alpha, "beta": beta, "epilog": epilog, "compute": compute}
    return _PATH(Matmul, (a, b, c, bias), options, execution, stream, device_id, out=out, lane=lane)
