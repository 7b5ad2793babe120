"""What every benchmark script offers on its command line: ``--json``, ``--csv``, ``--plot``.

A script builds tables (a title, a header and rows, the first column the size) and hands them to
:func:`emit`, which prints them and writes them where the options say.  Plots need matplotlib;
without it :func:`emit` says so and writes the rest.  A peer that is not installed (CuPy,
nvmath-python) loses its columns (:func:`optional_module`); a run longer than a few seconds shows
its progress on stderr (``_timing.PROGRESS``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import table as text_table  # noqa: E402


@dataclass
class Table:
    """One result table: ``rows[i][0]`` is the size (or case name); *times* names the columns
    holding times (plotted against the size), *unit* their unit."""

    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    times: tuple[str, ...] = ()
    unit: str = "ms"
    name: str = ""  # short file name of its CSV and PNG (default: from the title)


def num(x, digits: int = 3):
    """*x* rounded to *digits* significant digits (a float, for JSON, CSV and plots), None as None."""
    return None if x is None else float(f"{x:.{digits}g}")


def optional_module(name: str):
    """The module *name*, or None where it is not installed (that peer's columns are left out)."""
    try:
        return __import__(name)
    except ImportError:
        print(f"{name} is not installed: its columns are left out", file=sys.stderr)
        return None


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json PATH``, ``--csv PATH`` (one file per table: PATH with the table's slug before the
    suffix) and ``--plot DIR`` (a PNG per table)."""
    parser.add_argument("--json", metavar="PATH", help="write every table to one JSON file")
    parser.add_argument("--csv", metavar="PATH", help="write each table to a CSV file (PATH-<table>.csv)")
    parser.add_argument("--plot", metavar="DIR", help="write a PNG chart per table (time against size; matplotlib)")


def _slug(t: Table) -> str:
    return t.name or "-".join("".join(c if c.isalnum() else " " for c in t.title.lower()).split())[:40]


def show(t: Table) -> None:
    """Print table *t* (at once: a run cut short by its time limit keeps the tables printed)."""
    print(text_table(t.title, t.header, [["n/a" if x is None else x for x in row] for row in t.rows]), flush=True)


def emit(tables: list[Table], args: argparse.Namespace, shown: bool = False) -> None:
    """Print *tables* (unless *shown*: printed as they were made) and write them as the output
    options of *args* say."""
    if not shown:
        for t in tables:
            show(t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"title": t.title, "header": t.header, "rows": t.rows, "unit": t.unit} for t in tables], f,
                      indent=1, default=str)
    if args.csv:
        stem, suffix = os.path.splitext(args.csv)
        for t in tables:
            with open(f"{stem}-{_slug(t)}{suffix or '.csv'}", "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(t.header)
                writer.writerows(t.rows)
    if args.plot:
        _plot(tables, args.plot)


def _plot(tables: list[Table], folder: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot: matplotlib is not installed; no charts written", file=sys.stderr)
        return
    os.makedirs(folder, exist_ok=True)
    for t in tables:
        if not t.times:
            continue
        if not all(isinstance(row[0], (int, float)) for row in t.rows):
            _bars(plt, t, folder)
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        sizes = [row[0] for row in t.rows]
        for name in t.times:
            column = t.header.index(name)
            points = [(s, row[column]) for s, row in zip(sizes, t.rows)
                      if isinstance(row[column], (int, float)) and math.isfinite(row[column])]
            if points:
                ax.plot(*zip(*points), marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(t.header[0])
        ax.set_ylabel(t.unit)
        ax.set_title(t.title.split(" (")[0], fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, f"{_slug(t)}.png"), dpi=120)
        plt.close(fig)


def _bars(plt, t: Table, folder: str) -> None:
    """A table whose rows are named cases: grouped horizontal bars of its time columns (log scale)."""
    cases = [str(row[0]) for row in t.rows]
    fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.32 * len(cases) * max(1, len(t.times))))
    height = 0.8 / max(1, len(t.times))
    for i, name in enumerate(t.times):
        column = t.header.index(name)
        values = [row[column] if isinstance(row[column], (int, float)) else math.nan for row in t.rows]
        ax.barh([k + i * height for k in range(len(cases))], values, height=height, label=name)
    ax.set_yticks([k + 0.4 - height / 2 for k in range(len(cases))], cases, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(t.unit)
    ax.set_title(t.title.split(" (")[0], fontsize=10)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"{_slug(t)}.png"), dpi=120)
    plt.close(fig)
