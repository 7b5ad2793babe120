"""``Matmul``: the stateful matmul planner, and what its CUDA and CPU engines share.

``Matmul(a, b, ...)`` returns the engine for where the call runs: ``CudaMatmul`` (cuBLASLt)
or ``CpuMatmul`` (NumPy).  Both validate with the same rules and have the same contract.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .._core.engines import any_empty
from .._core.operand import Operand, locate
from .._core.placement import Work, flop_factor, itemsize
from .._core.planner import Planner
from ._problem import MatmulProblem

__all__ = ["Matmul", "COMPUTE_MODES", "DEFAULT_WORKSPACE", "check_plan_limits"]

DEFAULT_WORKSPACE = 32 << 20  # cuBLASLt's recommendation for Hopper
COMPUTE_MODES = (None, "default", "tf32", "pedantic", "fast_f16", "fast_bf16")
_FLOAT32_ONLY = ("tf32", "fast_f16", "fast_bf16")


def _located(a, b, c, bias, out):
    named = [("a", a), ("b", b), ("c", c), ("bias", bias), ("out", out)]
    return [locate(x, name) for name, x in named if x is not None]


class Matmul(Planner):
    """A reusable plan for ``D = epilog(alpha * (a @ b) + beta * c + bias)``.

    Parameters
    ----------
    a, b : array
        NumPy, CuPy or PyTorch arrays with ``numpy.matmul`` shapes: ``(..., M, K)`` and
        ``(..., K, N)``; 1-D operands and broadcast batch dimensions work as in NumPy.
    c : array, optional
        Added as ``beta * c``; the result's matrix shape ``(M, N)``, batch dimensions broadcast.
    alpha : number, default 1
        Scale of the product.
    beta : number, optional
        Scale of ``c``: 1 when ``c`` is given, else 0 (a non-zero ``beta`` needs ``c``).
    epilog : {None, "relu", "gelu", "bias", "bias_relu", "bias_gelu"}
        Applied to the result; GELU is the tanh approximation; bias variants need ``bias``.
    bias : array, optional
        Length-``N`` vector added to every row before the activation.
    out : array, optional
        Where :meth:`execute` writes by default (planned for its layout); else every call
        returns a new array.
    compute : {None, "tf32", "pedantic", "fast_f16", "fast_bf16"}
        Compute mode: ``"tf32"`` lets float32/complex64 products use TF32 tensor cores.
    execution : {None, "auto", "cuda", "cpu"}
        Where to run: by default (or ``"auto"``) where the operands are, and for host arrays,
        where the calibrated cost model says it is faster when a GPU is usable (see
        docs/execution.md).
    stream : stream, optional
        CUDA stream: torch/CuPy stream, ``cuda.bindings`` stream or integer handle; by default
        the operands' package's current stream, resolved now.  It must be on the operands'
        device.
    device_id : int, optional
        The GPU for NumPy operands (default: the current device); device arrays run on their
        own device, and a different ``device_id`` raises ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.blas import Matmul
    >>> a, b = np.random.rand(64, 32), np.random.rand(32, 16)
    >>> with Matmul(a, b) as mm:
    ...     _ = mm.plan()
    ...     d = mm.execute()
    >>> bool(np.allclose(d, a @ b))
    True
    """

    operand_names = ("a", "b", "c", "bias")

    def __new__(cls, a, b, c=None, bias=None, *, out=None, execution=None, device_id=None, **options):
        return cls._new(Matmul, execution, _located(a, b, c, bias, out), device_id, any_empty(a, b, c), options,
                        (a, b, c, bias))

    @classmethod
    def _work(cls, shapes: tuple, dtype: str, options: dict) -> Work:
        """``2 m n k`` flops per product (4 times that for complex dtypes) over the larger batch of
        *a* and *b*; the operands go in, the ``(..., M, N)`` result comes out.  A product of two
        matrices without ``c`` or ``bias`` is the problem ``(dtype, m, k, n)`` of the NumPy
        shortcut (:func:`~gpmath.blas._cpu.small_product`)."""
        a, b = shapes[0], shapes[1]
        m, k, n = a[-2] if len(a) > 1 else 1, a[-1] if a else 1, b[-1] if len(b) > 1 else 1
        batch = max(math.prod(a[:-2]), math.prod(b[:-2]))
        size = itemsize(dtype)
        plain = len(a) == 2 and len(b) == 2 and all(s is None for s in shapes[2:])  # (no c, no bias)
        return Work("gemm", dtype, 2 * batch * m * n * k * flop_factor(dtype),
                    size * sum(math.prod(s) for s in shapes if s is not None), size * batch * m * n,
                    problem=(dtype, m, k, n) if plain else None)

    def __init__(self, a: Any, b: Any, c: Any = None, bias: Any = None, *, alpha: Any = 1, beta: Any = None,
                 epilog: str | None = None, out: Any = None, compute: str | None = None, execution: str | None = None,
                 stream: Any = None, device_id: int | None = None):
        super().__init__()
        self._take_choice(lambda: (execution, _located(a, b, c, bias, out), device_id, any_empty(a, b, c)))
        staging = self.staging
        given = dict(a=a, b=b, c=c, bias=bias, out=out)
        self._given = given if staging is None else {name: staging.inward(x) for name, x in given.items()}
        self._caller_out = out
        self.alpha, self.beta = _scalars(alpha, beta, c)
        self.epilog = epilog
        self.compute = _check_compute(compute)
        self.problem: MatmulProblem | None = None

    # -- shared validation -------------------------------------------------------------
    def _check_scalars_for(self, problem: MatmulProblem) -> None:
        if not problem.dtype.is_complex:
            for name, value in (("alpha", self.alpha), ("beta", self.beta)):
                if isinstance(value, complex):
                    raise TypeError(f"{name} is complex ({value}) but the operands are {problem.dtype.name}")
        if self.compute in _FLOAT32_ONLY and problem.dtype.real != "float32":
            raise ValueError(f"compute={self.compute!r} applies to float32 and complex64 operands, not {problem.dtype.name}")

    def _check_out(self, out: Operand, inputs: dict[str, Operand | None]) -> None:
        """Raise unless *out* fits the result and does not alias an input (``c`` may be *out* itself)."""
        problem = self.problem
        if tuple(out.shape) != problem.out_shape:
            raise ValueError(f"out has shape {tuple(out.shape)} but the result has shape {problem.out_shape}")
        if out.dtype is not problem.dtype:
            raise TypeError(f"out is {out.dtype.name} but the result is {problem.dtype.name}")
        for name, op in inputs.items():
            if op is None or not out.overlaps(op):
                continue
            if name == "c" and op.ptr == out.ptr and op.strides == out.strides and op.shape == out.shape:
                continue  # in place: D = alpha*A@B + beta*D
            raise ValueError(f"out overlaps {name} in memory; pass an out that shares no memory with the inputs")

    def _check_same(self, name: str, old: Operand, new: Operand) -> None:
        """Raise unless *new* can replace *old* in this plan (reset_operands)."""
        if new.package is not old.package or new.device_id != old.device_id:
            raise ValueError(f"{name} must stay a {old.package.name} array on the same device as when planned ({new!r} vs {old!r})")
        if new.dtype is not old.dtype or tuple(new.shape) != tuple(old.shape):
            raise ValueError(f"{name} must keep dtype {old.dtype.name} and shape {tuple(old.shape)}; got {new.dtype.name} {tuple(new.shape)}")
        if _relevant_strides(new) != _relevant_strides(old):
            raise ValueError(f"{name} has strides {tuple(new.strides)} but the plan was built for strides {tuple(old.strides)}")

    def __repr__(self) -> str:
        state = "freed" if self._freed else self._state()
        problem = self.problem
        if problem is None:
            return f"<{type(self).__name__} {state}>"
        batch = f" batch={problem.batch_shape}" if problem.batch_shape else ""
        where = "cpu" if self.device_id is None else f"cuda:{self.device_id}"
        return (f"<{type(self).__name__} {problem.dtype.name} ({problem.m}x{problem.k}) @ ({problem.k}x{problem.n})"
                f"{batch} -> {problem.out_shape} epilog={self.epilog} on {where}, {state}>")

    def _state(self) -> str:
        return "unplanned"


def _relevant_strides(op: Operand) -> tuple[int, ...]:
    """Strides that matter: those of dimensions longer than 1 (size-1 strides are arbitrary)."""
    return tuple(s if e > 1 else 0 for e, s in zip(op.shape, op.strides))


def _scalars(alpha, beta, c):
    if beta is None:
        beta = 0 if c is None else 1
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not isinstance(value, numbers.Number) or isinstance(value, bool):
            raise TypeError(f"{name} must be a real or complex number, not {type(value).__name__}")
    if c is None and beta != 0:
        raise ValueError(f"beta={beta} needs c: pass c=, or leave beta unset")
    return _number(alpha), _number(beta)


def _number(value) -> float | complex:
    if isinstance(value, numbers.Real):
        return float(value)
    value = complex(value)
    return value.real if value.imag == 0 else value


def _check_compute(compute):
    if compute not in COMPUTE_MODES:
        raise ValueError(f"compute must be one of {', '.join(repr(m) for m in COMPUTE_MODES)}, not {compute!r}")
    return None if compute == "default" else compute


def check_plan_limits(max_workspace, max_algorithms) -> None:
    """``plan()``'s limits, checked alike by every engine: a byte count >= 0 and a count >= 1."""
    for name, value, least in (("max_workspace", max_workspace, 0), ("max_algorithms", max_algorithms, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if value < least:
            raise ValueError(f"{name} must be >= {least}, not {value}")
