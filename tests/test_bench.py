"""The host-path benchmark runs on any machine (missing peers and GPU columns say n/a) and
writes what its options ask for; every device benchmark offers the same output options."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent


def test_host_benchmark_smoke(tmp_path):
    out = tmp_path / "host.json"
    done = subprocess.run([sys.executable, "bench/host.py", "--sizes", "8,16", "--only", "matmul,solve",
                           "--json", str(out), "--csv", str(tmp_path / "host.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    tables = json.loads(out.read_text())
    assert [t["title"].split(",")[0] for t in tables] == ["matmul", "solve"]
    for t in tables:
        header = t["header"]
        assert [row[0] for row in t["rows"]] == [8, 16]
        for row in t["rows"]:
            cells = dict(zip(header, row))
            assert cells["default ms"] > 0 and cells["cpu ms"] > 0 and cells["numpy ms"] > 0
            assert cells["default via"] in ("plan", "shortcut")
        if t["title"].startswith("matmul"):  # (without a GPU: NumPy's product, no plan looked up)
            assert {row[header.index("default via")] for row in t["rows"]} == {"shortcut"}
        assert (tmp_path / f"host-{t['title'].split(',')[0]}.csv").exists()


@pytest.mark.parametrize("script, needs", [("matmul.py", ("torch",)), ("fft.py", ("torch",)),
                                           ("linalg.py", ("torch",)), ("host.py", ())])
def test_every_device_benchmark_offers_the_output_options(script, needs):
    for module in needs:
        pytest.importorskip(module)
    done = subprocess.run([sys.executable, f"bench/{script}", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    assert done.returncode == 0, done.stderr[-2000:]
    for option in ("--json", "--csv", "--plot"):
        assert option in done.stdout
