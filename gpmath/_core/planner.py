"""The planner contract shared by Matmul, FFT and the solvers.

constructor → ``plan()`` → ``autotune()`` (where it applies) → ``execute()`` (many times) →
``reset_operands()`` → ``free()``.  The protocol is declared here, on :class:`Planner`, and every
engine (CPU and CUDA) implements the same names; the stateless functions
(:mod:`gpmath._core.stateless`) use nothing else: ``plan``, ``execute_with`` (``reset_operands_unchecked``,
``execute`` and ``release_operands`` in one call), ``free`` and ``freed``.

A planner is a context manager; resources it acquires are registered with :meth:`Planner._hold`
and released by :meth:`free`, or by a ``weakref.finalize`` backstop if the user forgets (which
never raises).  Using a freed planner raises :class:`~gpmath._errors.FreedPlanError`.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

from .._errors import FreedPlanError
from . import runtime
from .engines import TABLE, Choice, choose
from .execution import Located
from .packages import NUMPY, package_of
from .placement import Work

__all__ = ["Planner"]


def _release(resources: list[tuple[Callable, tuple]]) -> None:
    while resources:
        release, args = resources.pop()
        try:
            release(*args)
        except Exception:  # a finalizer must not raise; the process may be shutting down
            pass


class Planner:
    """Base class of every gpmath plan: lifecycle, resource release, context management."""

    operand_names: tuple[str, ...] = ()  # the operands of the constructor and of reset_operands*, in order
    nbytes = 0  # device memory held, for the plan caches
    device_id: int | None = None  # the CUDA device the plan runs on (None: the CPU)
    staging = None  # the HostStaging of host operands computed on a GPU, else None
    placement = None  # the automatic placement's Verdict where the cost model chose the engine, else None
    stream: int | None = None  # the CUDA stream the plan runs on (None: the CPU)
    _stream_object = None  # the stream object given for it, kept alive: CuPy destroys a stream with its object

    def __init_subclass__(cls, **kwargs):
        """A front (a class named in the engine table) shows its constructor's real parameters
        in :func:`inspect.signature` (its ``__new__`` takes ``**options``)."""
        super().__init_subclass__(**kwargs)
        if cls.__name__ in TABLE and "__signature__" not in cls.__dict__:
            cls.__signature__ = cls._constructor_signature()

    @classmethod
    def _constructor_signature(cls) -> inspect.Signature:
        """The front's constructor parameters (by default its ``__init__``'s, without ``self``)."""
        signature = inspect.signature(cls.__init__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    @classmethod
    def _new(cls, front: type, execution, located: list[Located], device_id, empty: bool, options: dict,
             operands: tuple):
        """``__new__`` of a front: an instance of the engine :func:`~gpmath._core.engines.choose`
        picks for *operands* (``operand_names``' arrays, None where absent; constructing an engine
        class directly gives that engine).  An option the front does not take raises ``TypeError``
        naming the front."""
        unknown = options.keys() - front.__signature__.parameters.keys()
        if unknown:
            raise TypeError(f"{front.__name__}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        if cls is not front:
            return object.__new__(cls)
        package = located[0][1]

        def work() -> Work:
            shapes = tuple(None if x is None else tuple(x.shape) for x in operands)
            return front._work(shapes, package.dtype_name(operands[0]), options)

        choice = choose(front.__name__, execution, located, device_id, empty, work)
        plan = object.__new__(choice.engine)
        plan._choice = choice
        return plan

    @classmethod
    def _work(cls, shapes: tuple, dtype: str, options: dict) -> Work:
        """The size of the front's problem for automatic placement (:mod:`gpmath._core.placement`),
        from its operands' *shapes* (None where absent), the first one's *dtype* name and the
        front's *options*; called only for host operands that a GPU could compute."""
        raise NotImplementedError

    def _take_choice(self, ask: Callable[[], tuple]) -> Choice:
        """The plan's :class:`~gpmath._core.engines.Choice` (made by ``__new__`` or
        :func:`~gpmath._core.engines.build`, else now from ``ask()``'s ``(execution, located,
        device_id, empty)``: operands are located once), recorded on the plan: ``device_id``,
        ``package`` (NumPy for staged host operands, whose values the engine sees as NumPy
        arrays) and ``staging``."""
        choice = self.__dict__.pop("_choice", None)
        if choice is None:
            front = next(k.__name__ for k in type(self).__mro__ if k.__name__ in TABLE)
            choice = choose(front, *ask())
        self.device_id = choice.device_id
        self.staging = choice.staging
        self.placement = choice.verdict
        self.package = NUMPY if choice.staging is not None else choice.package
        return choice

    @property
    def caller_package(self):
        """The package of the operands as the caller passed them (staged plans compute on their
        NumPy values)."""
        return self.package if self.staging is None else self.staging.package

    def _inward(self, name: str, x):
        """*x* as the engine sees it: for a staged plan, its host values (after checking that it is
        an array of the planned package); otherwise *x* itself."""
        staging = self.staging
        if staging is None or x is None:
            return x
        if package_of(x, name) is not staging.package:
            raise ValueError(f"{name} must stay a {staging.package.name} array on the same device as when planned (host memory)")
        return staging.inward(x)

    @property
    def writes_operands(self) -> bool:
        """Whether an execution may write the plan's operands (an in-place transform, an input the
        transform may overwrite), so that it cannot run twice on the same ones."""
        return False

    def __init__(self):
        self._resources: list[tuple[Callable, tuple]] = []
        self._finalizer = weakref.finalize(self, _release, self._resources)
        self._freed = False

    def _hold(self, release: Callable, *args) -> None:
        """Register ``release(*args)`` to run when the plan is freed (last held, first released)."""
        self._resources.append((release, args))

    def _holder(self) -> Callable:
        """:meth:`_hold` for an object the plan owns, without a reference to the plan (no cycle
        delays its release)."""
        resources = self._resources
        return lambda release, *args: resources.append((release, args))

    def _release_held(self) -> None:
        """Release what is held now but keep the plan usable (for re-planning)."""
        with self._on_own_device():
            _release(self._resources)

    def _on_own_device(self):
        """A context making the plan's device current, where several devices are visible
        (resources are released there: cuFFT plans, for one, must be destroyed on theirs)."""
        return runtime.on_device_if_several(self.device_id)

    # -- the protocol every engine implements --------------------------------------------------
    def plan(self) -> "Planner":
        """Prepare everything execution needs (descriptors, work areas); returns the plan."""
        raise NotImplementedError

    def autotune(self, iterations: int = 10, force: bool = False) -> dict:
        """Time the candidate algorithms and keep the fastest; returns the timings (empty where
        there is nothing to choose, as on the CPU).  *force*: time again where a choice was
        recorded already (:mod:`gpmath.wisdom`)."""
        self._check_alive()
        return {}

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Compute with the bound operands and return the result (arguments per planner)."""
        raise NotImplementedError

    def reset_operands(self, *operands) -> None:
        """Bind new operands, validated against the planned ones (raises ``ValueError`` naming the
        difference)."""
        raise NotImplementedError

    def reset_operands_unchecked(self, *operands) -> None:
        """Bind new operands without validation: the caller guarantees each matches the planned one
        in package, device, dtype, shape, strides and alignment (anything else gives wrong results)."""
        raise NotImplementedError

    def release_operands(self) -> None:
        """Drop every reference the plan holds to the caller's operands (and ``out``), so they can
        be garbage collected; the plan stays planned, and executes again once all its operands are
        bound again with :meth:`reset_operands` or :meth:`reset_operands_unchecked` (executing
        before that raises ``ValueError``).  The stateless functions call it after every call."""
        raise NotImplementedError

    def execute_with(self, *operands, **kwargs: Any) -> Any:
        """Bind *operands* without validation (as :meth:`reset_operands_unchecked`), :meth:`execute`
        with *kwargs*, and release them (:meth:`release_operands`), whatever happens: the call of
        a cached plan on a new call's arrays.  Engines whose execution is one library call on the
        operands' addresses override it to make just that call.

        Examples
        --------
        >>> import numpy as np
        >>> from gpmath.blas import Matmul
        >>> with Matmul(np.eye(2), np.eye(2), execution="cpu") as mm:
        ...     _ = mm.plan()
        ...     mm.execute_with(np.eye(2), np.full((2, 2), 3.0)).tolist()
        [[3.0, 3.0], [3.0, 3.0]]
        """
        self._check_alive()
        self.reset_operands_unchecked(*operands)
        try:
            return self.execute(**kwargs)
        finally:
            self.release_operands()

    @property
    def freed(self) -> bool:
        """Whether :meth:`free` ran (a freed plan never executes again)."""
        return self._freed

    def _check_alive(self) -> None:
        if self._freed:
            raise FreedPlanError(f"this {type(self).__name__} plan was freed; build a new one")

    def free(self) -> None:
        """Release every resource the plan holds; the plan cannot be used afterwards (idempotent)."""
        if not self._freed:
            self._freed = True
            with self._on_own_device():
                self._finalizer()
            self._after_free()

    def _after_free(self) -> None:
        """Drop references to operands once freed (subclasses extend)."""

    def __enter__(self):
        self._check_alive()
        return self

    def __exit__(self, *exc) -> None:
        self.free()
