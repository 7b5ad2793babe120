"""Shared benchmark helpers: CUDA-event medians, per-call loops, ratio tables, and the progress
line every measurement advances."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


class Progress:
    """How far a run is, on stderr, once it has taken *after* seconds: the cases measured and the
    time so far, rewritten in place on a terminal and written once every *every* seconds
    elsewhere (a log).  :func:`cuda_medians_ms`, :func:`per_call_us` and ``host.py``'s wall
    timing each count one case.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> p = Progress(after=0.0, every=0.0, stream=stream)
    >>> p.tick(); p.tick()
    >>> stream.getvalue().splitlines()[-1]
    'bench: 2 cases measured, 0 s'
    """

    def __init__(self, after: float = 3.0, every: float = 10.0, stream=None):
        self.after, self.every, self.stream = after, every, stream or sys.stderr
        self.start, self.cases, self.shown = time.perf_counter(), 0, None

    def tick(self) -> None:
        """Count one more case, and show the line where it is due."""
        self.cases += 1
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < self.after:
            return
        live = getattr(self.stream, "isatty", lambda: False)()
        if not live and self.shown is not None and now - self.shown < self.every:
            return
        self.shown = now
        line = f"bench: {self.cases} cases measured, {elapsed:.0f} s"
        self.stream.write(f"\r{line}" if live else f"{line}\n")
        self.stream.flush()


PROGRESS = Progress()  # the run's progress line


def cuda_medians_ms(fns: dict, warmup: int = 3, reps: int = 15, calls: int = 1) -> dict:
    """Median milliseconds of each ``fns[name]()`` timed with CUDA events, interleaved.

    One timing of each per round, so clock and temperature drift affects all alike.  A timing
    covers *calls* back-to-back calls and counts their time over *calls*: with one, the host's
    work before the first launch is inside it (a lone call's time); with several, it overlaps
    the device's work as in a loop (the throughput of a sub-millisecond operation).
    """
    import torch

    for fn in fns.values():
        for _ in range(warmup):
            fn()
    torch.cuda.synchronize()
    times = {name: [] for name in fns}
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(reps):
        for name, fn in fns.items():
            start.record()
            for _ in range(calls):
                fn()
            stop.record()
            stop.synchronize()
            times[name].append(start.elapsed_time(stop) / calls)
    PROGRESS.tick()
    return {name: statistics.median(v) for name, v in times.items()}


def _device_sync():
    """``torch.cuda.synchronize`` where torch sees a GPU, else a function that does nothing (host calls)."""
    try:
        import torch
    except ImportError:
        return lambda: None
    return torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)


def per_call_us(fns: dict, calls: int = 3000, rounds: int = 7) -> dict:
    """Wall time per call (µs) of *calls* back-to-back calls of each function, synchronised.

    Rounds are interleaved across the functions; the median round counts.
    """
    sync = _device_sync()
    for fn in fns.values():
        for _ in range(200):
            fn()
    sync()
    results = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            results[name].append((time.perf_counter() - start) / calls * 1e6)
    PROGRESS.tick()
    return {name: statistics.median(v) for name, v in results.items()}


def table(title: str, header: list[str], rows: list[list]) -> str:
    """A plain-text table (also appended to $OUT/<title>.json when OUT is set)."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths))
    text = "\n".join([f"== {title}", line(header), *(line(r) for r in rows)])
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "bench.jsonl"), "a") as f:
            f.write(json.dumps({"title": title, "header": header, "rows": rows}) + "\n")
    return text


def fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}g}"
