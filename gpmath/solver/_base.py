"""The solver planners' shared front end: engine choice, operand intake, validation, the CPU engine.

A planner class such as :class:`~gpmath.solver.Cholesky` is a front: constructing it returns its
CPU engine (``_engine_kind = "cpu"``, in :mod:`gpmath.solver._cpu`) or its CUDA
engine (``"cuda"``, cuSOLVER), chosen by :func:`~gpmath._core.execution.resolve_execution`.
Fronts validate (pure rules in :mod:`._problem`) and hold options; engines plan and execute.
"""

from __future__ import annotations

import logging

import numpy as np

from .._core.dtypes import DTYPES
from .._core.execution import resolve_execution
from .._core.operand import Operand, as_operand, locate
from .._core.planner import Planner

__all__ = ["SolverPlan", "CpuEngine", "library_ready", "from_host"]

logger = logging.getLogger("gpmath")


def library_ready() -> bool:
    """Whether cuSOLVER can be loaded (host operands then run on the GPU)."""
    from .._bindings import cusolver
    from .._errors import NoGPUError

    try:
        cusolver.library.cdll
    except NoGPUError:
        return False
    return True


def from_host(package, value, device_id: int | None):
    """A host result (array, tuple of them, or Python scalar) in *package* on *device_id*."""
    if isinstance(value, tuple):
        return tuple(from_host(package, v, device_id) for v in value)
    if isinstance(value, np.generic) and not package.host_only:  # a NumPy scalar: a 0-d array, as the GPU gives
        value = np.asarray(value)
    if not isinstance(value, np.ndarray) or package.host_only:
        return value
    dtype = DTYPES.get(value.dtype.name)
    if dtype is not None:
        return package.from_numpy(value, dtype, device_id)
    if package.name == "torch":  # integer pivots and ranks
        return package.module.as_tensor(value, device=package.device(device_id))
    with package.module.cuda.Device(device_id):
        return package.module.asarray(value)


def _empty(operands) -> bool:
    """Whether an operand has no elements: its result is found on the CPU, with no launch, and
    delivered in the operands' package and device."""
    return any(0 in tuple(getattr(x, "shape", ())) for x in operands)


class SolverPlan(Planner):
    """Base of every solver planner (see the module docstring).

    Fronts set ``_names`` (the operand argument names) and implement ``_configure(**options)``
    (validate options) and ``_describe(ops)`` (validate operands; returns the problem); CPU
    engines implement ``_compute_cpu(arrays)`` (the NumPy result).
    """

    _names: tuple[str, ...] = ("a",)
    _index_names: tuple[str, ...] = ()  # integer operands (pivots): shape-checked, not float operands
    _engine_kind = ""  # "" on fronts, "cpu" / "cuda" on engines

    def __new__(cls, *operands, execution=None, stream=None, device_id=None, **options):
        if not cls._engine_kind:
            device_id = resolve_execution(execution, cls._located(operands), library_ready, device_id)
            engines = {sub._engine_kind: sub for sub in cls.__subclasses__()}
            if device_id is not None and "cuda" not in engines:
                logger.info("%s has no CUDA engine yet: computing on the CPU", cls.__name__)
            elif device_id is not None and _empty(operands):  # nothing to compute (cuSOLVER rejects empty matrices)
                device_id = None
            cls = engines.get("cpu" if device_id is None else "cuda", engines["cpu"])
        return super().__new__(cls)

    def __init__(self, *operands, execution=None, stream=None, device_id=None, **options):
        super().__init__()
        located = self._located(operands)
        self.device_id = resolve_execution(execution, located, library_ready, device_id)
        self.package = located[0][1]
        self._home = located[0][2]  # where results go: the operands' device, or the host
        self._configure(**options)
        self._stream_argument = stream
        ops = {name: self._intake(name, x) for name, x in zip(self._names, operands)}
        self.problem = self._describe(ops)
        self._shapes = {name: (getattr(op, "dtype", None), tuple(op.shape)) for name, op in ops.items()}
        self._arrays: dict[str, object] | None = dict(zip(self._names, operands))

    @classmethod
    def _located(cls, operands) -> list:
        if len(operands) != len(cls._names):
            raise TypeError(f"{cls.__name__} takes {len(cls._names)} array(s) ({', '.join(cls._names)}), got {len(operands)}")
        return [locate(x, name) for name, x in zip(cls._names, operands)]

    def _intake(self, name: str, x):
        """The operand record of *x*, or *x* itself for an integer (index) operand."""
        return x if name in self._index_names else as_operand(x, name)

    def _configure(self, **options) -> None:
        if options:
            raise TypeError(f"{type(self).__name__} got unexpected options {sorted(options)}")

    def _describe(self, ops: dict[str, Operand]):
        raise NotImplementedError

    def _operands_or_raise(self) -> dict[str, object]:
        self._check_alive()
        if self._arrays is None:
            raise ValueError(f"this {type(self).__name__} plan has no operands; pass them with reset_operands()")
        return self._arrays

    def reset_operands(self, *operands) -> None:
        """Use new operands of the same package, device, dtype and shape as the planned ones.

        Raises ``ValueError`` naming the operand and the difference otherwise.
        """
        self._check_alive()
        located = self._located(operands)
        for (name, package, device_id), x in zip(located, operands):
            if package is not self.package or device_id != self._home:
                raise ValueError(f"{name} must stay a {self.package.name} array on the device the plan was built for")
            op = self._intake(name, x)
            dtype, shape = self._shapes[name]
            if getattr(op, "dtype", None) is not dtype or tuple(op.shape) != shape:
                raise ValueError(f"{name} must keep the planned dtype and shape {shape}; got {op!r}")
        self._rebind(dict(zip(self._names, operands)))

    def _rebind(self, arrays: dict[str, object]) -> None:
        self._arrays = arrays

    def release_operands(self) -> None:
        """Drop the plan's references to its operands (the plan stays usable after :meth:`reset_operands`)."""
        self._arrays = None

    def _after_free(self) -> None:
        self._arrays = None

    def __repr__(self) -> str:
        state = "freed" if self._freed else ("cpu" if self.device_id is None else f"cuda:{self.device_id}")
        shapes = ", ".join(f"{n}: {getattr(d, 'name', 'int')}{list(s)}" for n, (d, s) in self._shapes.items())
        return f"<{type(self).__name__} {shapes} on {state}>"


class CpuEngine:
    """The CPU engine mixin: NumPy/SciPy through :mod:`gpmath.solver._cpu`.

    Failures are known as soon as LAPACK returns, so :meth:`execute` raises them at once whatever
    ``check`` says, and :meth:`info` reports zeros.
    """

    _engine_kind = "cpu"

    def plan(self):
        """Nothing to prepare on the CPU; returns the plan."""
        self._check_alive()
        return self

    def execute(self, *, check: bool = False):
        """Compute the result on the CPU; it is returned in the operands' package and device."""
        arrays = {name: self.package.to_numpy(x) for name, x in self._operands_or_raise().items()}
        return from_host(self.package, self._compute_cpu(arrays), self._home)

    def info(self) -> np.ndarray:
        """Per-matrix LAPACK ``info`` of the last execution: always zeros (failures raise at once)."""
        return np.zeros(self.problem.batch_shape, dtype=np.int32)
