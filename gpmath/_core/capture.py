"""CUDA stream capture through the runtime (``cudaStreamBeginCapture`` ... ``cudaGraphLaunch``):
the recorder of :mod:`gpmath._core.graph` for packages whose allocator CUDA's capture does not
know (CuPy), with the package's allocations of the recording kept alive by the recorder.

A recorder has one interface (``begin``, ``end``, ``abandon``, ``launch``, ``release``);
:meth:`Package.recorder <gpmath._core.packages.Package.recorder>` makes the one of each package
(torch's records through ``torch.cuda.CUDAGraph``, whose private memory pool does the keeping).
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager

from . import runtime

__all__ = ["StreamCapture"]


class StreamCapture:
    """Records the work enqueued on *stream* between :meth:`begin` and :meth:`end` (relaxed mode:
    allocators may still call ``cudaMalloc``) into an executable graph.

    Parameters
    ----------
    stream : int
        The captured stream (not the legacy default stream).
    keep : callable, optional
        Returns a context inside which the package's allocations are held; the recorder keeps
        the context (and with it what it holds) until :meth:`release`, since memory a recorded
        execution freed must not serve anything else while replays use it.

    Examples
    --------
    >>> from gpmath._core.capture import StreamCapture
    >>> capture = StreamCapture(stream=7)
    >>> capture.launch(7)  # nothing recorded yet
    Traceback (most recent call last):
    RuntimeError: nothing was recorded
    """

    def __init__(self, stream: int, keep: Callable[[], ContextManager] | None = None):
        self.stream = stream
        self._keep = keep or contextlib.nullcontext
        self._keeping: ContextManager | None = None  # entered at begin, exited at end; held until release
        self._executable = None

    def begin(self) -> None:
        rt = runtime.rt()
        self._keeping = self._keep()
        self._keeping.__enter__()
        try:
            runtime.check(rt.cudaStreamBeginCapture(self.stream, rt.cudaStreamCaptureMode.cudaStreamCaptureModeRelaxed),
                          "cudaStreamBeginCapture")
        except BaseException:
            self._stop_keeping()
            raise

    def end(self) -> None:
        rt = runtime.rt()
        try:
            captured = runtime.check(rt.cudaStreamEndCapture(self.stream), "cudaStreamEndCapture")
        finally:
            self._stop_keeping()
        try:
            self._executable = runtime.check(rt.cudaGraphInstantiate(captured, 0), "cudaGraphInstantiate")
        finally:
            rt.cudaGraphDestroy(captured)  # the executable graph does not need it

    def abandon(self) -> None:
        """End a capture that failed (an invalidated capture reports an error here: expected)."""
        try:
            runtime.rt().cudaStreamEndCapture(self.stream)
        finally:
            self._stop_keeping()

    def _stop_keeping(self) -> None:
        if self._keeping is not None:
            self._keeping.__exit__(None, None, None)

    def launch(self, stream: int) -> None:
        if self._executable is None:
            raise RuntimeError("nothing was recorded")
        runtime.check(runtime.rt().cudaGraphLaunch(self._executable, stream), "cudaGraphLaunch")

    def release(self) -> None:
        """Destroy the executable graph (idempotent; never raises: also a finalizer)."""
        executable, self._executable, self._keeping = self._executable, None, None
        if executable is not None:
            try:
                runtime.rt().cudaGraphExecDestroy(executable)
            except Exception:  # interpreter shutdown, or the context is gone
                pass
