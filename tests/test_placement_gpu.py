"""Automatic placement on a GPU: calibration is quick and saved, a later process reuses it, and NumPy
matmuls go to the CPU when tiny and to the GPU when large."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import gpmath
from gpmath._core import calibration, runtime
from gpmath._core.placement import FAMILIES

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("placement")


@pytest.fixture(autouse=True)
def auto(monkeypatch, cache_dir):
    """Automatic placement, calibrated into a fresh directory (shared by this file's tests)."""
    monkeypatch.delenv("GPMATH_PLACEMENT", raising=False)
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(calibration, "_records", {})
    monkeypatch.setattr(calibration, "_failed", {})
    gpmath.set_placement(None)


def _warm_up(device_id: int) -> None:
    """Load every library and compile gpmath's kernels (into this directory) before timing."""
    for problem in calibration.PROBLEMS.values():
        for precision, on in itertools.product(("float32", "float64"), (device_id, None)):
            timed = calibration._Timed(problem, problem.sizes[0], precision, on)
            timed.seconds(1)
            timed.free()


@pytest.mark.serial  # a timing bound
def test_calibration_is_quick_and_saved(caplog):
    device_id = runtime.get_device()
    _warm_up(device_id)
    took = {}
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        for family in FAMILIES:  # the first one measures the link too
            start = time.perf_counter()
            record = calibration.calibrate(device_id, (family,))
            took[family] = time.perf_counter() - start
    print({name: round(seconds, 3) for name, seconds in took.items()}, calibration.crossovers(device_id))
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    # (up to eight sizes a family, three on the CPU and five on the GPU, in two precisions, twice: on the
    # H100, session 33, 0.48-0.86 s a family but 1.72 for eig, whose GPU geev takes 6 ms at any small
    # order, and 1.76 for qr)
    assert took[FAMILIES[0]] < 2.5 and max(took[family] for family in FAMILIES[1:]) < 2.0, took
    assert set(record["families"]) == set(FAMILIES)
    with open(calibration.path(device_id)) as file:
        assert set(json.load(file)["families"]) == set(FAMILIES)
    for family, precisions in record["families"].items():
        for precision, sides in precisions.items():  # each side's corners: flops increasing from 0, times past 0
            for corners in sides.values():
                flops = [f for f, _ in corners]
                assert flops[0] == 0 and flops == sorted(set(flops)) and corners[0][1] >= 0, (family, precision, sides)


@pytest.mark.parametrize("n, on_gpu", [(16, False), (4096, True)])
def test_numpy_matmul_goes_where_it_is_faster(n, on_gpu, caplog):
    a = np.random.default_rng(n).random((n, n), dtype=np.float32)
    with caplog.at_level(logging.INFO, logger="gpmath"):
        with gpmath.blas.Matmul(a, a) as plan:
            assert (plan.device_id is not None) == on_gpu
            np.testing.assert_allclose(plan.plan().execute(), a @ a, rtol=1e-3 if n > 16 else 1e-5)
    assert any(m.startswith("Matmul: ") and "auto placement, model" in m for m in caplog.messages)


def test_a_later_process_reuses_the_calibration(cache_dir):
    calibration.model("gemm", "float32", runtime.get_device())
    code = ("import logging, numpy as np, gpmath; logging.basicConfig(level=logging.INFO); "
            "gpmath.matmul(np.ones((2, 8, 8)), np.ones((8, 8)))")
    env = dict(os.environ, GPMATH_CACHE_DIR=str(cache_dir))
    env.pop("GPMATH_PLACEMENT", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "auto placement, model CPU" in done.stderr and "placement: calibrated" not in done.stderr, done.stderr


def test_show_config_prints_the_calibrated_crossovers(capsys):
    calibration.model("gemm", "float64", runtime.get_device())
    gpmath.show_config()
    out = capsys.readouterr().out
    assert "crossovers (smallest square n the GPU wins from):" in out and "gemm:" in out


@pytest.mark.parametrize("call", ["matmul", "fft"])
def test_a_measured_close_call_reaches_the_shortcut(monkeypatch, caplog, call):
    """Every verdict made close (placement.CLOSE huge): the first NumPy call times both engines' plans
    and keeps the faster; the shortcut then answers its calls where the CPU was kept (no plan
    lookup), and the GPU's plan from the cache answers them otherwise; a call on another layout of
    the operands takes the side measured without measuring again; every result is NumPy's."""
    from gpmath._core import placement, stateless
    from gpmath.blas import _cpu

    monkeypatch.setattr(placement, "CLOSE", 1e9)
    monkeypatch.setattr(stateless, "TRIAL_MOST_S", math.inf)  # (a CPU calibrated beside the suite's workers is slow)
    monkeypatch.setattr(calibration, "_verdicts", {})
    monkeypatch.setattr(calibration, "_outcomes", {})
    rng = np.random.default_rng(7)
    if call == "matmul":
        a, b = rng.standard_normal((512, 512)), rng.standard_normal((512, 384))
        run, expected, name = lambda: gpmath.matmul(a, b), a @ b, "matmul"
        key = ("gemm", "float64", runtime.get_device(), ("float64", 512, 512, 384))
        assert _cpu.small_product(a, b, None) is None  # a close call: left to the plans
    else:
        a = rng.standard_normal((256, 1024)) + 1j * rng.standard_normal((256, 1024))
        run, expected, name = lambda: gpmath.fft.fft(a), np.fft.fft(a), "fft"
        key = ("fft", "float64", runtime.get_device(), ((256, 1024), "complex128", (1,), (1024,), "c2c"))
    gpmath.cache_clear()
    with caplog.at_level(logging.INFO, logger="gpmath"):
        np.testing.assert_allclose(run(), expected, rtol=1e-10, atol=1e-10)
        on_cpu = calibration._verdicts[key]
        hits = gpmath.cache_info()[name].hits
        for _ in range(3):
            np.testing.assert_allclose(run(), expected, rtol=1e-10, atol=1e-10)
        assert gpmath.cache_info()[name].hits - hits == (0 if on_cpu else 3)
        a = np.asfortranarray(a)  # another layout, another plan key: the side measured, not measured again
        np.testing.assert_allclose(run(), expected, rtol=1e-10, atol=1e-10)
    assert sum("placement: " in m and " measured " in m for m in caplog.messages) == 1, caplog.messages


@pytest.mark.parametrize("n", [16, 96])
def test_lu_of_host_matrices_builds_its_plan_once_and_measures_a_close_call_once(monkeypatch, caplog, n):
    """``linalg.lu`` of NumPy matrices that the model gives the GPU goes through the cached plans
    (no plan built per call); a close call of the model (every verdict made close) is measured
    once and its side kept for the next calls; the factors are SciPy's (the CPU) or within
    rounding of them (the GPU's pivots are LAPACK's)."""
    import scipy.linalg

    from gpmath._core import placement, stateless
    from gpmath.solver import LU

    monkeypatch.setattr(placement, "CLOSE", 1e9)
    monkeypatch.setattr(stateless, "TRIAL_MOST_S", math.inf)
    monkeypatch.setattr(calibration, "_verdicts", {})
    monkeypatch.setattr(calibration, "_outcomes", {})
    built = []
    monkeypatch.setattr(LU, "__init__", lambda self, *args, init=LU.__init__, **kwargs: built.append(1) or init(self, *args, **kwargs))
    a = np.random.default_rng(n).standard_normal((n, n))
    expected = scipy.linalg.lu(a)
    gpmath.cache_clear()
    with caplog.at_level(logging.INFO, logger="gpmath"):
        for _ in range(4):
            for got, want in zip(gpmath.linalg.lu(a), expected):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert len(built) <= 2  # the model's side and, on a close call, the other side's once
    assert sum("placement: " in m and " measured " in m for m in caplog.messages) <= 1, caplog.messages
