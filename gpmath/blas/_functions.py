"""``gpmath.matmul``: the stateless function over cached :class:`~gpmath.blas.Matmul` plans."""

from __future__ import annotations

from .._core import runtime
from .._core.cache import PlanCache
from .._core.packages import as_array, known_package, package_of
from ._planner import Matmul

__all__ = ["matmul"]

_CACHE = PlanCache("matmul")


def _signature(pkg, x, on_device: bool):
    """Cache-key part of operand *x*: layout, and address alignment where the GPU reads it directly."""
    if known_package(x) is not pkg:
        raise _Slow
    return pkg.signature(x), (pkg.ptr(x) & 255) if on_device else 0


class _Slow(Exception):
    """Internal: operands of several packages; take the validating path (which raises clearly)."""


def matmul(a, b, c=None, *, alpha=1, beta=None, epilog=None, bias=None, out=None, compute=None,
           execution=None, stream=None, device_id=None):
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
    execution : {None, "cuda", "cpu"}
        Where to run (default: where the operands live; NumPy arrays use the GPU if present).
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
    Plans are cached (see :func:`gpmath.cache_info`).  A call on device arrays only enqueues
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
    if known_package(a) is None or known_package(b) is None:  # array-likes, read as NumPy reads them
        a, b = as_array(a, "a")[0], as_array(b, "b")[0]
    pkg = known_package(a) or package_of(a, "a")
    device_id, requested = pkg.device_id(a), device_id
    try:
        on_device = device_id is not None
        if on_device:
            if execution == "cpu":
                raise _Slow
            where = (execution, pkg.current_stream(device_id) if stream is None else stream, requested)
        else:
            gpu = requested if requested is not None else runtime.get_device() if runtime.device_count() else None
            where = (execution, stream, gpu)
        key = (pkg.signature(a), (pkg.ptr(a) & 255) if on_device else 0, _signature(pkg, b, on_device),
               None if c is None else _signature(pkg, c, on_device),
               None if bias is None else _signature(pkg, bias, on_device),
               None if out is None else _signature(pkg, out, on_device), alpha, beta, epilog, compute, where)
        plan = _CACHE.get(key)
    except (_Slow, TypeError):  # mixed packages or unhashable stream objects: no caching
        with Matmul(a, b, c, alpha=alpha, beta=beta, epilog=epilog, bias=bias, out=out, compute=compute,
                    execution=execution, stream=stream, device_id=requested) as plan:
            return plan.execute()
    if plan is not None:
        return plan._run(a, b, c, bias, out)
    plan = Matmul(a, b, c, alpha=alpha, beta=beta, epilog=epilog, bias=bias, out=out, compute=compute,
                  execution=execution, stream=stream, device_id=requested).plan()
    _CACHE.put(key, plan)
    return plan.execute()
