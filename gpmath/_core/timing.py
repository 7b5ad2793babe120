"""Timing device work with CUDA events, for autotuning (cold L2 between runs)."""

from __future__ import annotations

import logging
import statistics
from typing import Callable, Hashable

from . import runtime
from .._errors import LibraryError
from .memory import DeviceBuffer

__all__ = ["L2Flusher", "median_times_ms"]
logger = logging.getLogger("gpmath")


class L2Flusher:
    """A buffer twice the size of the device's L2 cache; :meth:`flush` overwrites it on a stream."""

    def __init__(self, device_id: int, stream: int):
        rt = runtime.rt()
        l2 = runtime.check(rt.cudaDeviceGetAttribute(rt.cudaDeviceAttr.cudaDevAttrL2CacheSize, device_id), "cudaDeviceGetAttribute")
        self.stream = stream
        self.buffer = DeviceBuffer(2 * max(int(l2), 1 << 20), stream, device_id)

    def flush(self) -> None:
        runtime.check(runtime.rt().cudaMemsetAsync(self.buffer.ptr, 0, self.buffer.nbytes, self.stream), "cudaMemsetAsync")

    def release(self) -> None:
        self.buffer.release()


def median_times_ms(
    launches: dict[Hashable, Callable[[], None]], stream: int, iterations: int, flusher: L2Flusher | None
) -> dict[Hashable, float]:
    """Median milliseconds of each ``launches[key]()`` on *stream*, each run after an L2 flush.

    Candidates are timed round-robin (one run of each per round), so clock and temperature
    drift during tuning affects them alike.  A candidate that raises a
    :class:`~gpmath._errors.LibraryError` is dropped (logged at INFO).
    """
    rt = runtime.rt()
    events = [runtime.check(rt.cudaEventCreate(), "cudaEventCreate") for _ in range(2)]
    times: dict[Hashable, list[float]] = {key: [] for key in launches}
    try:
        for _ in range(iterations):
            for key in list(times):
                if flusher is not None:
                    flusher.flush()
                runtime.check(rt.cudaEventRecord(events[0], stream), "cudaEventRecord")
                try:
                    launches[key]()
                except LibraryError as exc:
                    logger.info("autotune: candidate %s failed (%s)", key, exc)
                    del times[key]
                    continue
                runtime.check(rt.cudaEventRecord(events[1], stream), "cudaEventRecord")
                runtime.check(rt.cudaEventSynchronize(events[1]), "cudaEventSynchronize")
                times[key].append(runtime.check(rt.cudaEventElapsedTime(events[0], events[1]), "cudaEventElapsedTime"))
    finally:
        for event in events:
            rt.cudaEventDestroy(event)
    return {key: statistics.median(values) for key, values in times.items()}
