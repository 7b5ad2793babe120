"""Timing device work with CUDA events, for autotuning (cold L2 between runs)."""

from __future__ import annotations

import statistics
from typing import Callable

from . import runtime
from .memory import DeviceBuffer

__all__ = ["L2Flusher", "median_time_ms"]


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


def median_time_ms(launch: Callable[[], None], stream: int, iterations: int, flusher: L2Flusher | None) -> float:
    """Median time in milliseconds of ``launch()`` on *stream*, each run after an L2 flush."""
    rt = runtime.rt()
    start = runtime.check(rt.cudaEventCreate(), "cudaEventCreate")
    stop = runtime.check(rt.cudaEventCreate(), "cudaEventCreate")
    times = []
    try:
        for _ in range(iterations):
            if flusher is not None:
                flusher.flush()
            runtime.check(rt.cudaEventRecord(start, stream), "cudaEventRecord")
            launch()
            runtime.check(rt.cudaEventRecord(stop, stream), "cudaEventRecord")
            runtime.check(rt.cudaEventSynchronize(stop), "cudaEventSynchronize")
            times.append(runtime.check(rt.cudaEventElapsedTime(start, stop), "cudaEventElapsedTime"))
    finally:
        rt.cudaEventDestroy(start)
        rt.cudaEventDestroy(stop)
    return statistics.median(times)
