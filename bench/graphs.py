"""Sequences of plan executions replayed as one CUDA graph, beside torch eager and torch's own graph.

Run on the GPU machine: ``PYTHONPATH=$PWD python3 bench/graphs.py [--json PATH] [--csv PATH]``.

Issue 19's graph target: in a replayed sequence of ten 64² float32 matmuls, or of ten 1024-point
complex64 FFTs, each operation at most half of torch's eager per-call time.  Each sequence is
captured once on a side stream: gpmath's plans (built on that stream, matmuls writing ``out=``)
with ``gpmath.graph()``, torch's calls with ``torch.cuda.graph``; then replayed; the time per
operation is the wall time of a loop of replays, synchronised, divided by ten.  Columns: torch
eager (ten calls; matmuls with ``out=``), gpmath eager (ten ``execute``), gpmath replayed, torch replayed,
and the ratios against torch eager (< 0.5 meets the target).
"""

from __future__ import annotations

import argparse
import sys

import torch

import gpmath
from gpmath.blas import Matmul
from gpmath.fft import FFT

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _cli import Table, add_output_options, emit, num  # noqa: E402
from _timing import per_call_us  # noqa: E402

OPERATIONS = 10


def _captured(run, stream) -> torch.cuda.CUDAGraph:
    """*run* warmed up on *stream* and captured there into a graph."""
    with torch.cuda.stream(stream):
        for _ in range(3):
            run()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        run()
    return graph


def _sequences(stream):
    """{case: (torch sequence, gpmath sequence, its recording into a gpmath graph)} for matmul and FFT."""
    a = [torch.randn(64, 64, device="cuda") for _ in range(OPERATIONS)]
    b = [torch.randn(64, 64, device="cuda") for _ in range(OPERATIONS)]
    c = [torch.empty(64, 64, device="cuda") for _ in range(OPERATIONS)]
    x = [torch.randn(1024, dtype=torch.complex64, device="cuda") for _ in range(OPERATIONS)]
    with torch.cuda.stream(stream):
        products = [Matmul(a[i], b[i], out=c[i], stream=stream).plan() for i in range(OPERATIONS)]
        transforms = [FFT(x[i], stream=stream).plan() for i in range(OPERATIONS)]

    def torch_matmuls():
        for i in range(OPERATIONS):
            torch.matmul(a[i], b[i], out=c[i])

    def gpmath_matmuls():
        for i in range(OPERATIONS):
            products[i].execute(out=c[i])

    def record_matmuls(g):
        for i in range(OPERATIONS):
            g.record(products[i], out=c[i])

    def torch_ffts():  # (both allocate their results: from the graph's own pool under capture)
        for i in range(OPERATIONS):
            torch.fft.fft(x[i])

    def gpmath_ffts():
        for i in range(OPERATIONS):
            transforms[i].execute()

    def record_ffts(g):
        for plan in transforms:
            g.record(plan)

    return {"ten 64x64 f32 matmuls": (torch_matmuls, gpmath_matmuls, record_matmuls),
            "ten 1024-pt c64 FFTs": (torch_ffts, gpmath_ffts, record_ffts)}, products + transforms


def _recorded(run, record) -> gpmath.Graph:
    """gpmath's sequence *run* warmed up, then recorded with ``gpmath.graph()``."""
    for _ in range(3):
        run()
    torch.cuda.synchronize()
    with gpmath.graph() as g:
        record(g)
    return g


def replays() -> Table:
    stream = torch.cuda.Stream()
    cases, plans = _sequences(stream)
    rows = []
    for case, (torch_run, gpmath_run, record) in cases.items():
        graphs = {"gpmath": _recorded(gpmath_run, record), "torch": _captured(torch_run, stream)}
        us = per_call_us({"torch eager": torch_run, "gpmath eager": gpmath_run,
                          "gpmath graph": graphs["gpmath"].replay, "torch graph": graphs["torch"].replay}, calls=300)
        per_op = {name: value / OPERATIONS for name, value in us.items()}
        eager = per_op["torch eager"]
        rows.append([case, *(num(per_op[n]) for n in ("torch eager", "gpmath eager", "gpmath graph", "torch graph")),
                     num(per_op["gpmath eager"] / eager), num(per_op["gpmath graph"] / eager)])
        graphs["gpmath"].free()
    for plan in plans:
        plan.free()
    return Table("per operation in a sequence of ten (µs; ratios = time / torch eager's, < 0.5 is the graph target)",
                 ["sequence", "torch eager", "gpmath eager", "gpmath graph", "torch graph", "gpmath eager/torch",
                  "gpmath graph/torch"], rows, times=("torch eager", "gpmath eager", "gpmath graph", "torch graph"), unit="us")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_output_options(parser)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}", flush=True)
    emit([replays()], args)


if __name__ == "__main__":
    main()
