"""``gpmath.graph()``: plan executions recorded into one CUDA graph, replayed with one launch.

An eager ``execute()`` is bound by the host: a 64² matmul's call takes about 10 µs of Python and
library work on an H200 while its kernel runs for about 3 µs.  A :class:`Graph` records the work
that a sequence of executions enqueues (CUDA stream capture) and :meth:`Graph.replay` launches all
of it with one ``cudaGraphLaunch``.

Rules of a recording, each checked where it can be (a rule broken raises before anything is
recorded):

- plans built and planned before the recording starts (making a plan allocates and
  synchronises, which a captured stream does not allow);
- plans of device arrays (torch CUDA, CuPy) on the GPU: a plan that runs on the CPU, or stages
  NumPy operands through host copies, cannot be recorded (its copies wait for the host);
- every plan of one package on one stream of one device, and not the legacy default stream
  (handle 0 or 1), which CUDA cannot capture: build the plans with ``stream=`` a side stream;
- replays read and write the memory bound at recording: the operands the plans held then, and
  the results the recorded executions returned (:attr:`Graph.results`, kept alive by the graph).
  To replay with new values, copy them into those operands (``x.copy_(new)``, ``x[...] = new``)
  on the replay stream or before it;
- a plan freed after recording makes :meth:`Graph.replay` raise ``FreedPlanError``.

Work that cannot be captured (a host synchronisation inside ``execute``, such as a solver plan's
``execute(check=True)``) raises the library's error with a note naming the plan; the recording
is then discarded.  What the recorded executions allocate, results and temporaries alike, stays
reserved for the replays until the graph is freed: torch records through ``torch.cuda.CUDAGraph``
(its private memory pool), CuPy's allocations are held by the recorder
(:meth:`Package.recorder <gpmath._core.packages.Package.recorder>`).
"""

from __future__ import annotations

import weakref
from typing import Any

from .._errors import FreedPlanError
from .planner import Planner
from .streams import resolve_stream

__all__ = ["Graph", "graph"]

_UNCAPTURABLE_STREAMS = (0, 1)  # the legacy default stream (0) and cudaStreamLegacy (1)


class Graph:
    """A recorded sequence of plan executions, replayed as one CUDA graph.

    Made by :func:`graph`; see the module's rules.  Use it as a context manager: inside, each
    :meth:`record` captures one execution; leaving the block ends the capture and instantiates
    the graph; :meth:`replay` then launches it.

    Attributes
    ----------
    results : tuple
        What each recorded ``execute`` returned, in order; replays write them again.
    stream : int or None
        The stream the plans run on (the capture's, and the default of :meth:`replay`); None
        before the first :meth:`record`.
    """

    def __init__(self) -> None:
        self.stream: int | None = None
        self._device_id: int | None = None
        self._plans: list[Planner] = []
        self._results: list[Any] = []
        self._recorder = None  # the package's (Package.recorder), from the first record()
        self._finalizer = None
        self._state = "new"  # -> recording -> ready | discarded; -> freed

    @property
    def results(self) -> tuple:
        return tuple(self._results)

    def __enter__(self) -> Graph:
        if self._state != "new":
            raise RuntimeError("a gpmath graph records once; make a new one with gpmath.graph()")
        self._state = "recording"
        return self

    def record(self, plan: Planner, /, **arguments: Any) -> Any:
        """Record ``plan.execute(**arguments)`` and return what it returns (an array that each
        replay writes again).

        Raises ``TypeError`` for anything but a gpmath plan, ``FreedPlanError`` for a freed one,
        ``ValueError`` for a plan that cannot be recorded (on the CPU, host operands, the legacy
        default stream, or another stream or device than the plans recorded before), and
        ``RuntimeError`` outside the ``with`` block.
        """
        if self._state != "recording":
            raise RuntimeError("record() inside 'with gpmath.graph() as g:' only")
        self._check_recordable(plan)
        if self._recorder is None:
            recorder = plan.package.recorder(plan.stream, plan.device_id)
            recorder.begin()
            self._recorder, self.stream, self._device_id = recorder, plan.stream, plan.device_id
            self._finalizer = weakref.finalize(self, recorder.release)
        try:
            result = plan.execute(**arguments)
        except BaseException as exc:
            self._discard()
            exc.add_note(f"gpmath.graph: {type(plan).__name__}.execute() could not be recorded (its work cannot be "
                         "captured in a CUDA graph); the recording is discarded")
            raise
        self._plans.append(plan)
        self._results.append(result)
        return result

    def _check_recordable(self, plan) -> None:
        if not isinstance(plan, Planner):
            raise TypeError(f"plan must be a gpmath plan (Matmul, FFT, DCT or a solver plan), not {type(plan).__name__}")
        plan._check_alive()
        name = type(plan).__name__
        if plan.device_id is None:
            raise ValueError(f"this {name} plan runs on the CPU; a graph records GPU work only")
        if plan.staging is not None:
            raise ValueError(f"this {name} plan copies host (NumPy) operands to the GPU and back, which waits for the "
                             "host; record plans of device arrays (torch CUDA, CuPy)")
        if plan.stream in _UNCAPTURABLE_STREAMS:
            raise ValueError(f"this {name} plan runs on the legacy default stream, which CUDA cannot capture; build "
                             "it with stream= a side stream (torch.cuda.Stream(), cupy.cuda.Stream())")
        if self._plans and plan.package is not self._plans[0].package:
            raise ValueError(f"this {name} plan computes on {plan.package.name} arrays, but the graph records "
                             f"{self._plans[0].package.name} work; record one package's plans in one graph")
        if self.stream is not None and (plan.stream, plan.device_id) != (self.stream, self._device_id):
            raise ValueError(f"this {name} plan runs on stream {plan.stream:#x} of cuda:{plan.device_id}, but the graph "
                             f"records stream {self.stream:#x} of cuda:{self._device_id}; build every plan of one "
                             "graph on one stream")

    def _discard(self) -> None:
        """End a capture that failed and forget what it recorded."""
        self._state = "discarded"
        if self._recorder is not None:
            self._recorder.abandon()
            self._finalizer()
        self._plans.clear()
        self._results.clear()

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._state != "recording":
            return
        if exc_type is not None:
            self._discard()
            return
        if self._recorder is not None:
            try:
                self._recorder.end()
            except BaseException:
                self._state = "discarded"
                self._finalizer()
                raise
        self._state = "ready"  # (nothing recorded: replays do nothing)

    def replay(self, stream: Any = None) -> None:
        """Launch the recorded work once, on the plans' stream (or on *stream*, of their device),
        asynchronously like ``execute``.

        Raises ``RuntimeError`` before the ``with`` block ended or after a failed recording, and
        ``FreedPlanError`` when a recorded plan (or the graph) was freed.
        """
        if self._state != "ready":
            raise (FreedPlanError if self._state == "freed" else RuntimeError)(
                f"this graph is {self._state}; replay() after its 'with' block has recorded successfully")
        for plan in self._plans:
            if plan.freed:
                raise FreedPlanError(f"a recorded {type(plan).__name__} plan was freed; the graph cannot replay")
        if self._recorder is None:
            return
        self._recorder.launch(self.stream if stream is None else resolve_stream(stream, self._plans[0].package,
                                                                               self._device_id))

    def free(self) -> None:
        """Release the graph (idempotent); its plans and results stay as they are."""
        if self._finalizer is not None:
            self._finalizer()
        self._state = "freed"
        self._plans.clear()
        self._results.clear()

    def __repr__(self) -> str:
        return f"<gpmath Graph: {len(self._plans)} executions, {self._state}>"


def graph() -> Graph:
    """A new :class:`Graph`: record plan executions inside its ``with`` block, replay them with one launch.

    Returns
    -------
    Graph

    Examples
    --------
    A plan on the CPU cannot be recorded:

    >>> import numpy as np, gpmath
    >>> from gpmath.fft import FFT
    >>> plan = FFT(np.ones(8, np.complex64), execution="cpu").plan()
    >>> with gpmath.graph() as g:
    ...     g.record(plan)
    Traceback (most recent call last):
    ValueError: this CpuFFT plan runs on the CPU; a graph records GPU work only

    On a GPU, ten 64×64 products recorded on a side stream, replayed with new values in ``a``:

    >>> from gpmath.blas import Matmul
    >>> if gpmath.device_count():
    ...     import torch
    ...     side = torch.cuda.Stream()
    ...     a = [torch.randn(64, 64, device="cuda") for _ in range(10)]
    ...     b = torch.randn(64, 64, device="cuda")
    ...     c = [torch.empty(64, 64, device="cuda") for _ in range(10)]
    ...     plans = [Matmul(a[i], b, out=c[i], stream=side).plan() for i in range(10)]
    ...     with gpmath.graph() as g:
    ...         for plan in plans:
    ...             _ = g.record(plan)
    ...     for x in a:
    ...         _ = x.fill_(1.0)
    ...     torch.cuda.synchronize()
    ...     g.replay()
    ...     torch.cuda.synchronize()
    ...     ok = all(torch.allclose(y, b.sum(0).expand(64, 64), atol=1e-4) for y in c)
    ... else:
    ...     ok = True
    >>> ok
    True
    """
    return Graph()
