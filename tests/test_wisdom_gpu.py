"""gpmath.wisdom on a GPU: a matmul autotuned in one process and saved; a second process that
loads the file (GPMATH_WISDOM) plans the same problem with the same algorithm and does not time
the candidates again (its timer is replaced by one that fails)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gpu

_SCRIPT = """
import json, sys
import numpy as np
import gpmath
from gpmath.blas import Matmul, _cuda_tuning

mode, path = sys.argv[1], sys.argv[2]
if mode == "second":
    def timer(*args, **kwargs):
        raise AssertionError("autotune timed the candidates again")
    _cuda_tuning.median_times_ms = timer
rng = np.random.default_rng(0)
a = rng.standard_normal((512, 768), dtype=np.float32)
b = rng.standard_normal((768, 1024), dtype=np.float32)
with Matmul(a, b, execution="cuda") as plan:
    plan.plan()
    timings = plan.autotune()
    result = plan.execute()
    algo = bytes(plan._algo).hex()
expected = a.astype(np.float64) @ b.astype(np.float64)
error = float(np.abs(result - expected).max() / np.abs(expected).max())
if mode == "first":
    gpmath.wisdom.save(path)
print(json.dumps({"timings": {str(k): v for k, v in timings.items()}, "algo": algo, "error": error}))
"""


def _run(mode: str, path, wisdom_file: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GPMATH_WISDOM"}
    if wisdom_file:
        env["GPMATH_WISDOM"] = wisdom_file
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode, str(path)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_takes_the_tuned_algorithm_without_timing(tmp_path):
    path = tmp_path / "wisdom.json"
    first = _run("first", path, None)
    assert len(first["timings"]) >= 1 and path.exists()
    second = _run("second", path, str(path))
    assert second["algo"] == first["algo"]
    [recorded] = second["timings"].values()  # the chosen candidate's time, as the first process measured it
    assert recorded in first["timings"].values()
    assert first["error"] < 1e-2 and second["error"] < 1e-2


_SOLVER_SCRIPT = """
import json, sys
import numpy as np
import gpmath
from gpmath.solver import Solve, _calibrate, _crossover

mode, path = sys.argv[1], sys.argv[2]
if mode == "first":
    found = gpmath.solver.calibrate(batch=4, sizes=(48, 64, 96), repeats=1, mixed_order=None)["FACTOR"]
    gpmath.wisdom.save(path)
    print(json.dumps({"rows": found["rows"], "sizes": sorted(found["ms"])}))
else:
    def refuse(*args, **kwargs):
        raise AssertionError("the second process timed the routes again")
    _calibrate._best_ms = refuse
    rows = [list(row) for row in _crossover.calibrated(_crossover.FACTOR, 0)]
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 64, 64)) + 64 * np.eye(64), rng.standard_normal((4, 64, 1))
    with Solve(a, b, execution="cuda") as plan:
        x = plan.execute(check=True)
        batched = plan.route.lu.batched
    error = float(np.abs(a @ x - b).max())
    print(json.dumps({"rows": rows, "batched": batched, "error": error}))
"""


def _solver_run(mode: str, path, wisdom_file: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GPMATH_WISDOM"}
    if wisdom_file:
        env["GPMATH_WISDOM"] = wisdom_file
    done = subprocess.run([sys.executable, "-c", _SOLVER_SCRIPT, mode, str(path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_solver_crossovers_calibrated_in_one_process_route_the_next(tmp_path):
    """calibrate() times FACTOR's routes and saves the rows; a process that loads the file routes by
    them without timing; a file whose rows send batches of 64² matrices the other way is followed."""
    path = tmp_path / "wisdom.json"
    first = _solver_run("first", path, None)
    assert first["rows"][-1] == [1, None, "looped"] and first["sizes"][0] == 48
    second = _solver_run("second", path, str(path))
    assert second["rows"] == first["rows"] and second["error"] < 1e-9
    expected = any(row[2] == "batched" and 4 >= row[0] and 64 <= row[1] for row in first["rows"][:-1])
    assert second["batched"] == expected
    content = json.loads(path.read_text())
    for entry in content["entries"]:
        if entry["kind"] == "solver":
            entry["choice"]["rows"] = [[2, 64, "batched"], [1, None, "looped"]] if not expected else [[1, None, "looped"]]
    path.write_text(json.dumps(content))
    third = _solver_run("second", path, str(path))
    assert third["batched"] == (not expected) and third["error"] < 1e-9


def test_calibrated_inner_precision_routes_the_mixed_solves_of_this_gpu(monkeypatch):
    """calibrate() solves a system of order 2048 in each candidate precision on the GPU, records the
    MIXED row, and a mixed solve without a precision runs the recorded one, converged to the tolerance.
    (The process's wisdom is this test's alone, and the plans it made are dropped after it: the other
    tests route by the built-in rows.)"""
    import numpy as np

    import gpmath
    from gpmath._core import wisdom
    from gpmath.solver import Solve, _calibrate

    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_told", set())
    try:
        found = gpmath.solver.calibrate(batch=2, sizes=(48,), repeats=1, mixed_order=2048)["MIXED"]
        assert set(found["runs"]) == set(_calibrate.MIXED_CANDIDATES)
        assert all(run["ms"] > 0 for run in found["runs"].values())
        [[_, _, chosen]] = found["rows"]
        rng = np.random.default_rng(3)
        a = rng.standard_normal((1024, 1024)) + 32 * np.eye(1024)
        b = rng.standard_normal((1024, 2))
        with Solve(a, b, refine="mixed", execution="cuda") as plan:
            x = plan.execute(check=True)
            assert plan.inner_precision == chosen and not plan.refinement.fell_back
        scale = np.abs(a).sum(1).max() * np.abs(x).max()
        assert np.abs(b - a @ x).max() <= 4 * np.finfo(np.float64).eps * scale
    finally:
        monkeypatch.undo()  # the wisdom of before; the plans made by the calibrated rows dropped
        gpmath.cache_clear()
