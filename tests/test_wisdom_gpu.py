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
from gpmath.blas import Matmul, _cuda

mode, path = sys.argv[1], sys.argv[2]
if mode == "second":
    def timer(*args, **kwargs):
        raise AssertionError("autotune timed the candidates again")
    _cuda.median_times_ms = timer
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
