"""Shared benchmark helpers: CUDA-event medians, per-call loops, ratio tables."""

from __future__ import annotations

import json
import os
import statistics
import time


def cuda_medians_ms(fns: dict, warmup: int = 3, reps: int = 15) -> dict:
    """Median milliseconds of each ``fns[name]()`` timed with CUDA events, interleaved.

    One run of each per round, so clock and temperature drift affects all alike.
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
            fn()
            stop.record()
            stop.synchronize()
            times[name].append(start.elapsed_time(stop))
    return {name: statistics.median(v) for name, v in times.items()}


def per_call_us(fns: dict, calls: int = 3000, rounds: int = 7) -> dict:
    """Wall time per call (µs) of *calls* back-to-back calls of each function, synchronised.

    Rounds are interleaved across the functions; the median round counts.
    """
    import torch

    for fn in fns.values():
        for _ in range(200):
            fn()
    torch.cuda.synchronize()
    results = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            torch.cuda.synchronize()
            results[name].append((time.perf_counter() - start) / calls * 1e6)
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
