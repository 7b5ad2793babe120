"""Shared benchmark helpers: CUDA-event medians, per-call loops, ratio tables."""

from __future__ import annotations

import json
import os
import statistics
import time


def cuda_median_ms(fn, warmup: int = 5, reps: int = 20) -> float:
    """Median milliseconds of ``fn()`` on torch's current stream, timed with CUDA events."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def per_call_us(fn, calls: int = 5000, rounds: int = 5) -> float:
    """Median over *rounds* of the wall time per call of *calls* back-to-back calls (µs), synchronised."""
    import torch

    for _ in range(200):
        fn()
    torch.cuda.synchronize()
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
        results.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(results)


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
