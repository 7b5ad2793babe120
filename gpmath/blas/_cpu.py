"""``CpuMatmul``: the matmul planner's CPU engine (NumPy).

float16 and bfloat16 are computed in float32 and rounded once, as cuBLASLt accumulates them in
float32; GELU is the tanh approximation, as in cuBLASLt's epilogue.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core.operand import as_operand
from .._core.host_bridge import host_view, in_package
from .._core.engines import surely_on_cpu
from .._core.placement import stays_on_host
from ._planner import DEFAULT_WORKSPACE, Matmul, check_plan_limits
from ._problem import describe

__all__ = ["CpuMatmul", "apply_epilog", "small_product", "small_host_product", "SMALL_WORK"]

_GELU_C = math.sqrt(2.0 / math.pi)
SMALL_WORK = 64**3  # m·n·k of the products small_product takes without the cost model: far below any GPU's crossover
# dtype -> (the precision of its placement model, real flops per multiply-add as Matmul._work counts them, its
# name: NumPy's dtype.name property took 1.7 µs a call, more than the rest of the shortcut's key)
_COMPUTED = {np.dtype(name): (precision, factor, name) for name, precision, factor in (
    ("float32", "float32", 2), ("float64", "float64", 2), ("complex64", "float32", 8), ("complex128", "float64", 8))}
_DOT = np.dot


def small_product(a: np.ndarray, b: np.ndarray, execution: str | None) -> np.ndarray | None:
    """``a @ b`` by NumPy for a product of two 2-D NumPy arrays (the caller checked their type) of
    one dtype that the CPU engine computes as it is, where the CPU computes it; else None.  Where:
    up to :data:`SMALL_WORK` (m·n·k), with *execution* ``"cpu"`` or automatic placement (no GPU
    moves the operands in and the result out in the time NumPy takes); beyond, wherever
    :func:`~gpmath._core.engines.surely_on_cpu` says the engine choice would give it the CPU
    engine (no usable GPU, or the calibrated model's verdict on the planner's own estimate).

    The stateless ``gpmath.matmul`` returns it at once: the CPU engine's answer is this one
    (``numpy.dot``, NumPy's BLAS call for 2-D operands without the ufunc machinery of
    ``numpy.matmul``), and the plan path's key and lookup cost more than NumPy's product of two
    64×64 matrices.  Each check here is one the product cannot skip: at 64² they add about a tenth
    to NumPy's time.

    Examples
    --------
    >>> import numpy as np
    >>> small_product(np.eye(2), np.full((2, 3), 2.0), "cpu").tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    >>> small_product(np.eye(2), np.ones((3, 3)), "cpu") is None  # for the planner's error message
    True
    """
    dtype = a.dtype
    if a.ndim != 2 or b.ndim != 2 or (dtype is not b.dtype and dtype != b.dtype) or dtype not in _COMPUTED:
        return None
    if len(a) * b.size <= SMALL_WORK:  # m·k·n, with b's k (where a's differs, numpy.dot raises)
        if not stays_on_host(execution):
            return None
    elif not _model_puts_on_cpu(a, b, execution):
        return None
    try:
        return _DOT(a, b)
    except ValueError:  # the inner dimensions differ: the planner's message names both operands
        return None


def small_host_product(a, b, execution: str | None):
    """:func:`small_product` of plain host arrays of another package (torch CPU tensors: no lazy
    conjugation or negation, no autograd; :meth:`~gpmath._core.packages.Package.plain_host_view`),
    through NumPy views of their memory, in their package; else None.

    Examples
    --------
    >>> import numpy as np
    >>> small_host_product(np.eye(2), np.eye(2), "cpu") is None  # NumPy arrays: small_product
    True
    """
    (a, pkg), (b, other) = host_view(a), host_view(b)
    r = None if pkg is None or other is not pkg else small_product(a, b, execution)
    return None if r is None else in_package(pkg, r)


def _model_puts_on_cpu(a: np.ndarray, b: np.ndarray, execution: str | None) -> bool:
    """Whether the engine choice gives a product past :data:`SMALL_WORK` the CPU engine."""
    (m, k), (rows, n) = a.shape, b.shape
    if k != rows:
        return False
    precision, flops, name = _COMPUTED[a.dtype]
    return surely_on_cpu("Matmul", "gemm", precision, flops * m * n * k, execution,
                         lambda: Matmul._work(((m, k), (k, n), None, None), name, {}), (name, m, k, n))


def numpy_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``numpy.matmul(a, b)``; ``numpy.dot`` where both are at most 2-D (the same product, by
    NumPy's BLAS call on any layout), so the CPU engine and :func:`small_product` agree.

    Examples
    --------
    >>> import numpy as np
    >>> numpy_product(np.ones((2, 3)), np.ones(3)).tolist(), numpy_product(np.ones((2, 1, 2)), np.ones((2, 1))).shape
    ([3.0, 3.0], (2, 1, 1))
    """
    return _DOT(a, b) if a.ndim <= 2 and b.ndim <= 2 else np.matmul(a, b)


def apply_epilog(r: np.ndarray, epilog: str | None, bias: np.ndarray | None) -> np.ndarray:
    """Add *bias* (when given) and apply the activation named by *epilog* to *r*."""
    if bias is not None:
        r = r + bias
    if epilog is not None and epilog.endswith("relu"):
        r = np.maximum(r, 0)
    elif epilog is not None and epilog.endswith("gelu"):
        r = 0.5 * r * (1.0 + np.tanh(_GELU_C * (r + 0.044715 * r**3)))
    return r


class CpuMatmul(Matmul):
    """Matmul computed by NumPy on the host; operands from any package are copied in and out."""

    def __init__(self, a, b, c=None, bias=None, *, alpha=1, beta=None, epilog=None, out=None,
                 compute=None, execution=None, stream=None, device_id=None):
        super().__init__(a, b, c, alpha=alpha, beta=beta, epilog=epilog, bias=bias, out=out,
                         compute=compute, execution=execution, stream=stream, device_id=device_id)
        ops = {name: None if x is None else as_operand(x, name)
               for name, x in (("a", a), ("b", b), ("c", c), ("bias", bias), ("out", out))}
        self.problem = describe(ops["a"], ops["b"], ops["c"], ops["bias"], epilog)
        self._check_scalars_for(self.problem)
        if ops["out"] is not None:
            self._check_out(ops["out"], {"a": ops["a"], "b": ops["b"], "c": ops["c"], "bias": ops["bias"]})
        self._operands = {name: None if op is None else op.detach() for name, op in ops.items()}  # layouts only
        self._operand_device = self._operands["a"].device_id  # (where results go)
        self._compute = np.float32 if self.problem.dtype.itemsize == 2 else self.problem.dtype.numpy  # NumPy's dtype
        self._arrays = [a, b, c, bias]
        self._out = out
        self._checked: tuple | None = None  # (out, operands) execute last validated: the same again needs no check
        self._given = {}  # the operands live on in self._arrays only
        self._planned = False
        self.autotune_timings: dict[int, float] = {}

    def plan(self, max_workspace: int = DEFAULT_WORKSPACE, max_algorithms: int = 8) -> "CpuMatmul":
        """Nothing to choose on the CPU: the limits of the CUDA engine's ``plan`` are checked and
        otherwise unused, so code written for either engine runs on both. Returns the plan."""
        self._check_alive()
        check_plan_limits(max_workspace, max_algorithms)
        self._planned = True
        return self

    def autotune(self, iterations: int = 10, force: bool = False) -> dict[int, float]:
        """Nothing to tune on the CPU (NumPy picks its BLAS kernel); returns the empty
        :attr:`autotune_timings`."""
        self._check_alive()
        return self.autotune_timings

    def reset_operands(self, a=None, b=None, c=None, bias=None) -> None:
        """Replace operands with arrays of the same package, device, shape, dtype and strides."""
        self._check_alive()
        for index, (name, x) in enumerate((("a", a), ("b", b), ("c", c), ("bias", bias))):
            if x is not None:
                if self._operands[name] is None:
                    raise ValueError(f"the plan was built without {name}; build a new plan to add it")
                self._check_same(name, self._operands[name], as_operand(x, name))
                self._arrays[index] = x

    def reset_operands_unchecked(self, a=None, b=None, c=None, bias=None) -> None:
        """Like :meth:`reset_operands` without validation (the caller guarantees compatibility)."""
        for index, x in enumerate((a, b, c, bias)):
            if x is not None:
                self._arrays[index] = x

    def release_operands(self) -> None:
        """Drop the references to the operands and the planned ``out`` (see :meth:`Planner.release_operands`)."""
        arrays = self._arrays
        arrays[0] = arrays[1] = arrays[2] = arrays[3] = None
        self._out = self._caller_out = self._checked = None

    def execute(self, stream: Any = None, out: Any = None) -> Any:
        """Compute and return the result (written into *out* or the planned out if given)."""
        self._check_alive()
        if self._arrays[0] is None:
            raise ValueError("this plan has no operands bound; pass them with reset_operands()")
        problem = self.problem
        to_numpy, compute = self.package.to_numpy, self._compute
        a, b, c, bias = self._arrays
        r = numpy_product(to_numpy(a).astype(compute, copy=False), to_numpy(b).astype(compute, copy=False))
        if self.alpha != 1:
            r = r * self.alpha
        if c is not None and self.beta != 0:
            c = to_numpy(c).astype(compute, copy=False)
            r = r + (c if self.beta == 1 else self.beta * c)
        if self.epilog is not None or bias is not None:
            r = apply_epilog(r, self.epilog, None if bias is None else to_numpy(bias).astype(compute, copy=False))
        result = self.package.from_numpy(r, problem.dtype, self._operand_device)
        target = out if out is not None else self._out
        if target is None:
            return result
        if out is not None and out is not self._out and not self._seen(out):
            self._check_out(as_operand(out, "out"), self._current_operands())
            self._checked = (out, tuple(self._arrays))
        self.package.copy_into(target, result)
        return target

    def _seen(self, out) -> bool:
        """Whether *out* was validated by the last execution against the operands bound now (the
        same objects: the DLPack records of the check are not made again)."""
        checked = self._checked
        return checked is not None and checked[0] is out and all(x is y for x, y in zip(checked[1], self._arrays))

    def _current_operands(self) -> dict:
        """The operands now bound (after any reset), for the check that *out* aliases none."""
        return {name: as_operand(x, name) for name, x in zip(("a", "b", "c", "bias"), self._arrays) if x is not None}

    def _state(self) -> str:
        return "planned" if self._planned else "unplanned"

    def _after_free(self) -> None:
        self.release_operands()
        self._operands = {}
