"""The planner contract shared by Matmul, FFT and the solvers.

constructor → ``plan()`` → ``autotune()`` (where it applies) → ``execute()`` (many times) →
``reset_operands()`` → ``free()``.  A planner is a context manager; resources it acquires are
registered with :meth:`Planner._hold` and released by :meth:`free`, or by a ``weakref.finalize``
backstop if the user forgets (which never raises).  Using a freed planner raises
:class:`~gpmath._errors.FreedPlanError`.
"""

from __future__ import annotations

import weakref
from typing import Callable

from . import runtime
from .._errors import FreedPlanError

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

    nbytes = 0  # device memory held, for the plan caches
    device_id: int | None = None  # the CUDA device the plan runs on (None: the CPU)

    def __init__(self):
        self._resources: list[tuple[Callable, tuple]] = []
        self._finalizer = weakref.finalize(self, _release, self._resources)
        self._freed = False

    def _hold(self, release: Callable, *args) -> None:
        """Register ``release(*args)`` to run when the plan is freed (last held, first released)."""
        self._resources.append((release, args))

    def _release_held(self) -> None:
        """Release what is held now but keep the plan usable (for re-planning)."""
        with self._on_own_device():
            _release(self._resources)

    def _on_own_device(self):
        """A context making the plan's device current, where several devices are visible
        (resources are released there: cuFFT plans, for one, must be destroyed on theirs)."""
        return runtime.on_device_if_several(self.device_id)

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
