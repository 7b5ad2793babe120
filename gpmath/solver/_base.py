"""The solver planners' shared front end: engine choice, operand intake, validation, the CPU engine.

A planner class such as :class:`~gpmath.solver.Cholesky` is a front: constructing it returns its
CPU engine (``_engine_kind = "cpu"``, in :mod:`gpmath.solver._cpu`) or its CUDA engine
(``"cuda"``, cuSOLVER), chosen by :func:`gpmath._core.engines.choose`.  Fronts validate (pure
rules in :mod:`._problem`) and hold options; engines plan and execute.  Host operands computed on
a GPU reach the engines as NumPy arrays (:mod:`gpmath._core.staging`).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .._core.engines import any_empty
from .._core.finite import require_finite
from .._core.operand import Operand, as_operand, locate
from .._core.placement import Work
from .._core.planner import Planner
from .._core.staging import deliver
from ._work import solver_work

__all__ = ["SolverPlan", "CpuEngine"]


class SolverPlan(Planner):
    """Base of every solver planner (see the module docstring).

    Fronts set ``operand_names`` (the operand argument names, in order) and implement ``_configure(**options)``
    (validate options) and ``_describe(ops)`` (validate operands; returns the problem); CPU
    engines implement ``_compute_cpu(arrays)`` (the NumPy result).
    """

    operand_names: tuple[str, ...] = ("a",)
    _index_names: tuple[str, ...] = ()  # integer operands (pivots): shape-checked, not float operands
    _engine_kind = ""  # "" on fronts, "cpu" / "cuda" on engines
    check_finite = False  # the planners that take check_finite set it (Cholesky, Solve)

    def __new__(cls, *operands, execution=None, stream=None, device_id=None, **options):
        front = next(k for k in cls.__mro__ if SolverPlan in k.__bases__)
        return cls._new(front, execution, cls._located(operands), device_id, any_empty(*operands),
                        options, operands)

    @classmethod
    def _work(cls, shapes: tuple, dtype: str, options: dict) -> Work:
        """The front's row of :data:`gpmath.solver._work.COSTS`."""
        return solver_work(cls.__name__, shapes, dtype, options)

    def __init__(self, *operands, execution=None, stream=None, device_id=None, **options):
        super().__init__()
        choice = self._take_choice(lambda: (execution, self._located(operands), device_id, any_empty(*operands)))
        self._home = choice.home  # where results go: the operands' device, or the host
        self._configure(**options)
        self._stream_argument = stream
        operands = tuple(self._inward(name, x) for name, x in zip(self.operand_names, operands))
        ops = {name: self._intake(name, x) for name, x in zip(self.operand_names, operands)}
        self.problem = self._describe(ops)
        self._shapes = {name: (getattr(op, "dtype", None), tuple(op.shape)) for name, op in ops.items()}
        self._arrays: dict[str, object] | None = dict(zip(self.operand_names, operands))

    @classmethod
    def _constructor_signature(cls) -> inspect.Signature:
        """The operands (positional), the front's options (its ``_configure``'s keywords) and
        ``execution``, ``stream``, ``device_id``."""
        options = [p for p in list(inspect.signature(cls._configure).parameters.values())[1:]
                   if p.kind is not inspect.Parameter.VAR_KEYWORD]  # (a front without options: none)
        where = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
                 for name, annotation in (("execution", "str | None"), ("stream", "Any"), ("device_id", "int | None"))]
        return inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY, annotation="Any") for name in cls.operand_names]
            + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in options] + where)

    @classmethod
    def _located(cls, operands) -> list:
        if len(operands) != len(cls.operand_names):
            raise TypeError(f"{cls.__name__} takes {len(cls.operand_names)} array(s) ({', '.join(cls.operand_names)}), got {len(operands)}")
        return [locate(x, name) for name, x in zip(cls.operand_names, operands)]

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
        planned = self.caller_package
        for (name, package, device_id), x in zip(located, operands):
            if package is not planned or device_id != self._home:
                raise ValueError(f"{name} must stay a {planned.name} array on the device the plan was built for")
            op = self._intake(name, self._inward(name, x))
            dtype, shape = self._shapes[name]
            if getattr(op, "dtype", None) is not dtype or tuple(op.shape) != shape:
                raise ValueError(f"{name} must keep the planned dtype and shape {shape}; got {op!r}")
        self.reset_operands_unchecked(*operands)

    def reset_operands_unchecked(self, *operands) -> None:
        """Like :meth:`reset_operands` without validation: the caller guarantees each operand
        matches the planned one in package, device, dtype and shape."""
        staging = self.staging
        if staging is None:
            self._arrays = dict(zip(self.operand_names, operands))
        else:
            self._arrays = {name: self._inward(name, x) for name, x in zip(self.operand_names, operands)}

    def info(self) -> Any:
        """Per-matrix LAPACK/cuSOLVER ``info`` of the last execution (0: success; > 0: the pivot,
        minor or count the routine reports; reading it on the GPU syncs the plan's stream only).

        Returns
        -------
        int or array
            A Python int for one matrix; for a batch, an int32 array of the batch's shape in the
            operands' package and on their device.
        """
        info = self._info_values()
        if not self.problem.batch_shape:
            return int(info.reshape(-1)[0]) if info.size else 0
        return deliver(self.caller_package, info, self._home)

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

    def plan(self) -> "CpuEngine":
        """Nothing to prepare on the CPU; returns the plan."""
        self._check_alive()
        return self

    def execute(self, *, check: bool = False) -> Any:
        """Compute the result on the CPU; it is returned in the operands' package and device."""
        return self._computed(self._operands_or_raise().values())

    def execute_with(self, *operands, check: bool = False) -> Any:
        """:meth:`execute` on *operands* (unchecked, as :meth:`reset_operands_unchecked` takes them),
        leaving the plan without operands, as :meth:`Planner.execute_with
        <gpmath._core.planner.Planner.execute_with>` does; nothing is bound on the way."""
        self._check_alive()
        self._arrays = None
        return self._computed(operands)

    def _computed(self, operands) -> Any:
        if self.check_finite:
            require_finite(True, **dict(zip(self.operand_names, operands)))
        to_numpy = self.package.to_numpy
        arrays = {name: to_numpy(x) for name, x in zip(self.operand_names, operands)}
        return deliver(self.package, self._compute_cpu(arrays), self._home)

    def _info_values(self) -> np.ndarray:
        """LAPACK's ``info`` is always zeros here: failures raise at once."""
        return np.zeros(self.problem.batch_shape, dtype=np.int32)
