"""Automatic placement of host operands (gpmath._core.placement, gpmath._core.calibration), on the CPU:
the model on injected rates, the work estimates, calibration saved and reloaded (the GPU side faked),
the modes (GPMATH_PLACEMENT, set_placement), execution="auto" everywhere, and no change without a GPU."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import gpmath
import gpmath.linalg as la
from gpmath._core import calibration, engines, runtime
from gpmath._core.packages import NUMPY
from gpmath._core.placement import FAMILIES, Model, Side, Work, crossover, place
from gpmath.solver._cpu import CpuLU

# a CPU of 50 GFLOP/s and 10 µs a call; a GPU of 20 TFLOP/s and 30 µs a call behind a 20 GB/s link
RATES = Model(cpu=Side.line(10e-6, 5e10), gpu=Side.line(30e-6, 2e13), h2d_small=1e10, h2d_large=2e10, d2h_small=1e10,
              d2h_large=2e10, pipeline_bytes=4 << 20)


@pytest.fixture(autouse=True)
def auto(monkeypatch, tmp_path):
    """Automatic placement with the environment's variable unset, an empty calibration cache directory
    and nothing calibrated in memory."""
    monkeypatch.delenv("GPMATH_PLACEMENT", raising=False)
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(calibration, "_records", {})
    monkeypatch.setattr(calibration, "_failed", {})
    monkeypatch.setattr(calibration, "_kept", {})
    monkeypatch.setattr(calibration, "_verdicts", {})
    gpmath.set_placement(None)


@pytest.fixture
def fake_gpu(monkeypatch):
    """A GPU named "Fake GPU 9000" whose link and engines take the times :data:`RATES` says (the CPU
    side is measured)."""
    monkeypatch.setattr(calibration, "_names", {})
    monkeypatch.setattr(runtime, "device_name", lambda device_id: "Fake GPU 9000")
    monkeypatch.setattr(calibration, "_link", lambda device_id: {"h2d": [1e10, 2e10], "d2h": [1e10, 2e10],
                                                                 "pipeline_bytes": 4 << 20})

    class Timed(calibration._Timed):  # the GPU's plans faked, the CPU's made and measured
        def __init__(self, problem, n, precision, device_id):
            family = next(f for f, p in calibration.PROBLEMS.items() if p is problem)
            self.fake = None if device_id is None else RATES.gpu_seconds(calibration.square_work(family, n, precision))
            if self.fake is None:
                super().__init__(problem, n, precision, device_id)

        def seconds(self, most):
            return super().seconds(most) if self.fake is None else self.fake

        def free(self):
            if self.fake is None:
                super().free()

    monkeypatch.setattr(calibration, "_Timed", Timed)


def gemm(n: int, dtype: str = "float32") -> Work:
    return calibration.square_work("gemm", n, dtype)


# -- the model -------------------------------------------------------------------------------------
def _rates(family: str) -> Model:
    """:data:`RATES`, for the FFT (bound by its copies) at the CPU rate pocketfft reaches: 10 GFLOP/s."""
    return dataclasses.replace(RATES, cpu=Side.line(RATES.cpu.overhead, 1e10)) if family == "fft" else RATES


def test_the_model_puts_tiny_problems_on_the_cpu_and_huge_ones_on_the_gpu():
    for family in FAMILIES:
        rates = _rates(family)
        for precision in ("float32", "float64"):
            tiny, huge = (calibration.square_work(family, n, precision) for n in (4, 8192))
            assert rates.cpu_seconds(tiny) < rates.gpu_seconds(tiny), family
            assert rates.gpu_seconds(huge) < rates.cpu_seconds(huge), family


def _smooth(n: int) -> bool:
    """Whether *n* has no prime factor above 11."""
    for p in (2, 3, 5, 7, 11):
        while n % p == 0:
            n //= p
    return n == 1


def test_the_crossover_is_monotone():
    for family in FAMILIES:
        work_of = lambda n: calibration.square_work(family, n, "float64")  # noqa: E731
        rates = _rates(family)
        n = crossover(rates, work_of)
        assert n is not None and 4 < n < 8192, family
        # (an FFT length with a large prime factor costs more than its neighbours: smooth lengths only)
        sizes = [m for m in range(2, 8193, 7) if family != "fft" or _smooth(m)]
        on_gpu = [rates.gpu_seconds(work_of(m)) <= rates.cpu_seconds(work_of(m)) for m in sizes]
        assert on_gpu == sorted(on_gpu), f"{family}: the GPU wins, then loses again"
        faster = dataclasses.replace(rates, gpu=Side.line(rates.gpu.overhead, 2e14))
        assert crossover(faster, work_of) <= n, f"{family}: a faster GPU must not move the crossover up"


def _random_side(rng, corners: int) -> Side:
    """A side of *corners* corners from flops 0, flops and times rising at random rates."""
    flops = np.concatenate([[0.0], np.cumsum(rng.uniform(1e5, 1e9, corners - 1))])
    seconds = np.cumsum(rng.uniform(1e-6, 1e-3, corners))
    return Side(tuple(zip(flops.tolist(), seconds.tolist())))


@pytest.mark.parametrize("seed", range(6))
def test_a_side_is_straight_between_its_corners_and_follows_its_end_segments(seed):
    """Against NumPy's interpolation between the corners, and the end segments' lines past them;
    flops_within inverts seconds on a rising side."""
    rng = np.random.default_rng(seed)
    side = _random_side(rng, int(rng.integers(2, 7)))
    (f, t) = (np.array(v) for v in zip(*side.points))
    inside = rng.uniform(0, f[-1], 50)
    np.testing.assert_allclose([side.seconds(x) for x in inside], np.interp(inside, f, t), rtol=1e-12)
    beyond = f[-1] * rng.uniform(1, 5, 10)
    last_rate = (t[-1] - t[-2]) / (f[-1] - f[-2])
    np.testing.assert_allclose([side.seconds(x) for x in beyond], t[-1] + (beyond - f[-1]) * last_rate, rtol=1e-12)
    assert side.overhead == t[0]
    for x in np.concatenate([inside, beyond]):
        assert side.flops_within(side.seconds(x)) == pytest.approx(x, rel=1e-9, abs=1e-3)
    assert side.flops_within(t[0] / 2) == 0.0  # (no call takes less than the time of no flops)


@pytest.mark.parametrize("seed", range(6))
def test_host_flops_is_where_the_cpus_time_meets_the_gpus_time_of_no_flops(seed):
    """host_flops against a search of the CPU's piecewise time: below it the CPU's whole time is
    under the GPU's time of no flops, above it not."""
    rng = np.random.default_rng(seed)
    cpu, gpu = _random_side(rng, 4), Side.line(float(rng.uniform(1e-5, 3e-3)), 1e13)
    rates = dataclasses.replace(RATES, cpu=cpu, gpu=gpu)
    bound = calibration.host_flops(rates)
    if gpu.overhead <= cpu.overhead:
        assert bound == 0.0
    else:
        assert cpu.seconds(bound * (1 - 1e-9)) <= gpu.overhead < cpu.seconds(bound * (1 + 1e-6) + 1)


@pytest.mark.parametrize("seed", range(6))
def test_a_curve_through_noisy_points_never_falls_and_its_last_segment_rises(seed):
    """_curve on random timings (some falling, as noise makes them): the CPU's corners never fall,
    its last segment rises by a tenth of its time at least, the first corner is at flops 0 on the
    first segment's line; the GPU's are the same less each point's copies, exactly."""
    rng = np.random.default_rng(seed)
    flops = np.cumsum(rng.uniform(1e5, 1e9, 5)).tolist()
    seconds = rng.uniform(1e-5, 1e-3, 5).tolist()
    cpu = calibration._curve(list(zip(flops, seconds)))
    times = [t for _, t in cpu[1:]]
    assert [f for f, _ in cpu] == [0.0] + flops
    assert all(later >= earlier for earlier, later in zip(times, times[1:]))
    assert all(t >= s for t, s in zip(times, seconds)) and times[-1] >= times[-2] / 0.9
    (f1, t1), (f2, t2) = cpu[1:3]
    assert cpu[0][1] == pytest.approx(max(t1 - f1 * (t2 - t1) / (f2 - f1), 0.0))
    copying = rng.uniform(0, 2e-3, 5).tolist()
    gpu = calibration._curve(list(zip(flops, seconds)), copying)
    assert [t for _, t in gpu[1:]] == pytest.approx([t - c for t, c in zip(times, copying)])


def test_copies_take_the_pageable_rate_below_the_pipelining_size():
    assert RATES.copy_seconds(1 << 20, 0) == pytest.approx((1 << 20) / 1e10)
    assert RATES.copy_seconds(0, 8 << 20) == pytest.approx((8 << 20) / 2e10)


def test_place_asks_the_model_only_in_auto_mode(monkeypatch):
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: RATES)
    tiny, huge = place(lambda: gemm(8), 0), place(lambda: gemm(4096), 0)
    assert not tiny.on_gpu and tiny.reason.startswith("auto placement, model CPU ") and " < GPU " in tiny.reason
    assert huge.on_gpu and "model GPU" in huge.reason
    gpmath.set_placement("cpu")
    assert not place(lambda: pytest.fail("no estimate in the 'cpu' mode"), 0).on_gpu
    gpmath.set_placement("cuda")
    assert place(lambda: pytest.fail("no estimate in the 'cuda' mode"), 0).on_gpu


def test_the_condition_estimates_steps_count_on_each_side(monkeypatch):
    """Solve(condition=True) adds its estimate's six triangular solves: on the GPU each costs the
    family's per-call overhead (launch-bound), on the CPU only its flops; so a solve the GPU wins
    alone can go to the CPU with its estimate, and the steps' family is the one consulted."""
    from gpmath.solver._condition import SOLVES
    from gpmath.solver._work import solver_work

    asked = []
    slow_steps = Model(cpu=Side.line(10e-6, 5e10), gpu=Side.line(2e-3, 2e13), h2d_small=1e10, h2d_large=2e10, d2h_small=1e10,
                       d2h_large=2e10, pipeline_bytes=4 << 20)

    def model(family, precision, device_id):
        asked.append(family)
        return slow_steps if family == "triangular" else RATES

    monkeypatch.setattr(calibration, "model", model)
    shapes = ((512, 512), (512, 1))
    alone, estimated = (solver_work("Solve", shapes, "float64", {"condition": c}) for c in (False, True))
    assert alone.steps == () and estimated.steps == (("triangular", 2 * 512 * 512, SOLVES),)
    assert solver_work("Solve", shapes, "float64", {"condition": True, "refine": "mixed"}).steps == ()
    assert place(lambda: alone, 0).on_gpu and asked == ["lu"]
    verdict = place(lambda: estimated, 0)
    assert not verdict.on_gpu and asked == ["lu", "lu", "triangular"], verdict.reason
    cpu = RATES.cpu_seconds(estimated) + SOLVES * 2 * 512 * 512 / 5e10
    gpu = RATES.gpu_seconds(estimated) + SOLVES * slow_steps.gpu.seconds(2 * 512 * 512)
    assert verdict.reason == f"auto placement, model CPU {cpu * 1e6:.0f} µs < GPU {gpu * 1e6:.0f} µs"


@pytest.mark.parametrize("n, engine", [(8, "gpmath.blas._cpu:CpuMatmul"), (4096, "gpmath.blas._cuda:CudaMatmul")])
def test_choose_places_host_operands_and_logs_why(monkeypatch, caplog, n, engine):
    monkeypatch.setattr(engines, "resolve_execution", lambda *args: 0)
    monkeypatch.setattr(engines, "_load", lambda path: path)
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: RATES)
    with caplog.at_level(logging.INFO, logger="gpmath"):
        choice = engines.choose("Matmul", "auto", [("a", NUMPY, None)], work=lambda: gemm(n))
    assert choice.engine == engine
    cpu, gpu = (round(t * 1e6) for t in (RATES.cpu_seconds(gemm(n)), RATES.gpu_seconds(gemm(n))))
    operands = "numpy operands in host memory"
    expected = (f"Matmul: CPU engine: auto placement, model CPU {cpu} µs < GPU {gpu} µs ({operands})" if n == 8 else
                f"Matmul: CUDA engine on cuda:0 (auto placement, model GPU {gpu} µs <= CPU {cpu} µs; {operands}, "
                "copied to the device and back)")
    assert expected in caplog.messages


@pytest.mark.parametrize("execution, home", [("cuda", None), ("cpu", None), (None, 0), ("auto", 0)])
def test_no_estimate_for_device_operands_or_a_forced_execution(monkeypatch, execution, home):
    monkeypatch.setattr(engines, "resolve_execution", lambda *args: None if execution == "cpu" else 0)
    monkeypatch.setattr(engines, "_load", lambda path: path)
    choice = engines.choose("Matmul", execution, [("a", NUMPY, home)], work=lambda: pytest.fail("estimated"))
    assert choice.device_id == (None if execution == "cpu" else 0)


# -- the work estimates ----------------------------------------------------------------------------
def test_matmul_work_counts_the_batch_and_complex_arithmetic():
    from gpmath.blas import Matmul

    work = Matmul._work(((3, 4, 5), (5, 6), None, None), "complex64", {})
    assert (work.family, work.precision, work.flops) == ("gemm", "float32", 4 * 2 * 3 * 4 * 5 * 6)
    assert (work.bytes_in, work.bytes_out) == (8 * (60 + 30), 8 * 3 * 4 * 6)
    assert Matmul._work(((5,), (5,), None, None), "float64", {}).flops == 10


def test_fft_work_is_5_n_log2_n_per_transform_halved_for_real_input():
    from gpmath.fft import FFT

    work = FFT._work(((8, 1024),), "complex128", {"axes": -1})
    assert (work.family, work.precision) == ("fft", "float64")
    assert work.flops == pytest.approx(8 * 5 * 1024 * 10)
    assert FFT._work(((8, 1024),), "float32", {"axes": -1}).flops == pytest.approx(8 * 5 * 1024 * 10 / 2)
    assert FFT._work(((8, 1024),), "complex64", {"axes": (0, 1)}).flops == pytest.approx(5 * 8192 * 13)
    assert FFT._work(((4, 6048),), "complex64", {"axes": -1}).flops == pytest.approx(4 * 5 * 6048 * math.log2(6048))


def test_fft_work_costs_large_prime_factors_as_bluestein():
    """A prime factor p > 11 of a length: Bluestein's three transforms of the power of two
    M >= 2p - 1 for each p-point transform (pocketfft's 181-point transform takes five times
    its 128-point one on the H200's host)."""
    from gpmath.fft import FFT

    assert FFT._work(((3, 181),), "complex128", {"axes": -1}).flops == pytest.approx(3 * 15 * 512 * 9)
    assert FFT._work(((362,),), "complex128", {}).flops == pytest.approx(181 * 5 * 2 + 2 * 15 * 512 * 9)
    assert FFT._work(((13 * 4096,),), "complex64", {}).flops == pytest.approx(
        4096 * 15 * 32 * 5 + 13 * 4096 * 5 * 12)


def test_solver_work_follows_the_cost_table():
    from gpmath.solver import SVD, Cholesky, Eigh, SolveTriangular

    assert Cholesky._work(((10, 6, 6),), "float64", {}).flops == pytest.approx(10 * 6**3 / 3)
    assert Eigh._work(((6, 6),), "float32", {"eigvals_only": True}).flops == pytest.approx(4 / 3 * 6**3)
    assert Eigh._work(((6, 6),), "float32", {}).flops == pytest.approx(9 * 6**3)
    assert SVD._work(((8, 4),), "float64", {"compute_uv": False}).bytes_out == 8 * 4
    triangular = SolveTriangular._work(((5, 5), (5, 3)), "complex128", {})
    assert (triangular.family, triangular.flops, triangular.bytes_out) == ("triangular", 4 * 25 * 3, 16 * 15)


# -- calibration -----------------------------------------------------------------------------------
def test_calibration_is_saved_beside_the_kernels_and_reloaded(fake_gpu, monkeypatch, tmp_path):
    found = calibration.model("gemm", "float32", 0)
    files = list(tmp_path.glob("placement-Fake_GPU_9000-*cpu-*.json"))
    assert len(files) == 1 and files[0] == tmp_path / calibration.path(0).rpartition("/")[2]
    saved = json.loads(files[0].read_text())
    assert saved["gpu"] == "Fake GPU 9000" and saved["cpus"] == calibration._cpus()
    assert set(saved["families"]) == {"gemm"} and set(saved["families"]["gemm"]) == {"float32", "float64"}
    for flops in (0.0, 1e6, 3e8, 1e10):  # the GPU's measured time is RATES's line: its corners lie on it
        assert found.gpu.seconds(flops) == pytest.approx(RATES.gpu.seconds(flops), rel=1e-6)
    assert found.cpu.seconds(1e9) > found.cpu.seconds(1e8) > found.cpu.overhead >= 0 and found.h2d_large == 2e10
    monkeypatch.setattr(calibration, "_records", {})  # a later process ...
    monkeypatch.setattr(calibration, "_family", lambda *args: pytest.fail("measured again"))
    assert calibration.model("gemm", "float32", 0) == found  # ... reads the file


@pytest.mark.parametrize("family", FAMILIES)
def test_each_sides_sizes_grow_in_flops_and_bytes(family):
    """The corners of a side need flops increasing (an FFT length with a large prime factor, such
    as 181 or 724, costs more than a larger smooth one: the sizes between are smooth)."""
    problem = calibration.PROBLEMS[family]
    for on_gpu in (False, True):
        sizes = problem.measured(on_gpu)
        assert sizes[0] == problem.sizes[0] and sizes[-1] == problem.sizes[2 if on_gpu else 1]
        for precision in ("float32", "float64"):
            works = [calibration.square_work(family, n, precision) for n in sizes]
            assert all(w.flops < v.flops and w.bytes_in < v.bytes_in for w, v in zip(works, works[1:])), sizes
    from gpmath._core.transfer import PIPELINE_BYTES  # the GPU is measured between where its copies change there

    bytes_in = {p: [calibration.square_work(family, n, p).bytes_in for n in problem.sizes[1:]] for p in ("float32", "float64")}
    assert problem.pipelined == any(moderate < PIPELINE_BYTES <= larger for moderate, larger in bytes_in.values())


def test_each_measured_problem_keeps_its_measured_time_where_the_links_model_is_off(fake_gpu, monkeypatch):
    """The link measures half the rates the fake GPU's copies reach (a 1 MiB pageable copy timed
    alone is slower than the ones inside a product): the GPU side's corners fall where copies
    dominate, and the model still gives each calibration problem its measured time, and the sizes
    between one near theirs."""
    monkeypatch.setattr(calibration, "_link", lambda device_id: {"h2d": [5e9, 1e10], "d2h": [5e9, 1e10],
                                                                 "pipeline_bytes": 4 << 20})
    found = calibration.model("gemm", "float32", 0)
    measured = calibration.PROBLEMS["gemm"].measured(True)
    for n in measured:
        assert found.gpu_seconds(gemm(n)) == pytest.approx(RATES.gpu_seconds(gemm(n)), rel=1e-6), n
    for low, high in zip(measured, measured[1:]):
        middle = (low + high) // 2
        assert found.gpu_seconds(gemm(middle)) == pytest.approx(RATES.gpu_seconds(gemm(middle)), rel=0.5)
    assert found.gpu_seconds(Work("gemm", "float32", 0.0, 0, 0)) > 0  # (never below the time of no flops)


def test_a_calibration_of_other_cpus_is_measured_again(fake_gpu, monkeypatch):
    calibration.model("gemm", "float64", 0)
    monkeypatch.setattr(calibration, "_records", {})
    monkeypatch.setattr(calibration, "_cpus", lambda: 12345)
    assert calibration.saved(0)["families"] == {}


def test_families_calibrate_one_at_a_time_and_merge_in_the_file(fake_gpu, monkeypatch):
    calibration.model("gemm", "float32", 0)
    monkeypatch.setattr(calibration, "_records", {})
    calibration.model("cholesky", "float64", 0)
    with open(calibration.path(0)) as file:
        assert set(json.load(file)["families"]) == {"gemm", "cholesky"}


def test_a_failed_calibration_warns_and_uses_the_default(fake_gpu, monkeypatch, caplog, tmp_path):
    def broken(device_id):
        raise gpmath.LibraryError(2, "CUDA_ERROR_OUT_OF_MEMORY", "cudaMallocAsync")

    monkeypatch.setattr(calibration, "_link", broken)
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        assert calibration.model("fft", "float32", 0) is calibration.DEFAULT
        assert calibration.model("fft", "float64", 0) is calibration.DEFAULT  # once per process
    warnings = [r.getMessage().partition(" (")[0] for r in caplog.records]
    assert warnings == ["placement: calibrating fft on cuda:0 failed"]
    assert not list(tmp_path.glob("placement-*"))


def test_show_config_reports_the_crossovers(fake_gpu, monkeypatch):
    monkeypatch.setattr(runtime, "device_count", lambda: 1)
    monkeypatch.setattr(runtime, "get_device", lambda: 0)
    report = gpmath.show_config(mode="dicts")["routing"]["placement"]
    assert report["mode (gpmath.set_placement, $GPMATH_PLACEMENT)"] == "auto"
    crossovers = report["crossovers (smallest square n the GPU wins from)"]
    assert crossovers == {family: "not calibrated yet" for family in FAMILIES}
    calibration.model("gemm", "float32", 0)
    report = gpmath.show_config(mode="dicts")["routing"]["placement"]
    crossovers = report["crossovers (smallest square n the GPU wins from)"]
    assert all(isinstance(crossovers["gemm"][p], int) for p in ("float32", "float64"))
    assert crossovers["qr"] == "not calibrated yet"


# -- modes -----------------------------------------------------------------------------------------
def test_the_environment_sets_the_mode_and_set_placement_overrides_it(monkeypatch):
    assert gpmath.get_placement() == "auto"
    monkeypatch.setenv("GPMATH_PLACEMENT", "CPU")
    assert gpmath.get_placement() == "auto"  # read once ...
    gpmath.set_placement(None)
    assert gpmath.get_placement() == "cpu"  # ... and again after set_placement(None)
    gpmath.set_placement("cuda")
    assert gpmath.get_placement() == "cuda"
    monkeypatch.setenv("GPMATH_PLACEMENT", "auto")
    gpmath.set_placement(None)
    assert gpmath.get_placement() == "auto"


def test_invalid_modes_raise_naming_the_argument(monkeypatch):
    with pytest.raises(ValueError, match="mode must be 'auto', 'cuda', 'cpu' or None, not 'gpu'"):
        gpmath.set_placement("gpu")
    monkeypatch.setenv("GPMATH_PLACEMENT", "gpu")
    gpmath.set_placement(None)
    for _ in range(2):  # an invalid value is never kept: every call says so
        with pytest.raises(ValueError, match="GPMATH_PLACEMENT must be 'auto', 'cuda' or 'cpu', not 'gpu'"):
            gpmath.get_placement()
    monkeypatch.delenv("GPMATH_PLACEMENT")
    gpmath.set_placement(None)
    with pytest.raises(ValueError, match="execution must be None, 'auto', 'cuda' or 'cpu'"):
        gpmath.matmul(np.ones((2, 2)), np.ones((2, 2)), execution="automatic")


def test_the_mode_is_part_of_a_cached_plans_key():
    a = np.ones((2, 3, 3))  # a batch: one small NumPy product skips the plans (blas._cpu.small_product)
    misses = gpmath.cache_info()["matmul"].misses
    for mode in ("cpu", "cuda", "cpu"):
        gpmath.set_placement(mode)
        gpmath.matmul(a, a)
    assert gpmath.cache_info()["matmul"].misses - misses == 2


# -- the host calls the engine choice gives the CPU: NumPy's and SciPy's at once ----------------------
# a GPU of 110 µs a call beside the CPU of RATES: every problem under 5 MFLOP is the CPU's (host_flops)
SLOW_START = dataclasses.replace(RATES, gpu=Side.line(110e-6, 2e13))


@pytest.fixture
def usable_gpu(monkeypatch):
    """One GPU that is usable as far as the engine choice can tell, and :data:`SLOW_START`'s model."""
    monkeypatch.setattr(runtime, "device_count", lambda: 1)
    monkeypatch.setattr(engines, "_library_missing", lambda name: None)
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: _slow_start(family))


def _slow_start(family: str) -> Model:
    """:data:`SLOW_START`, for the FFT at the CPU rate pocketfft reaches (10 GFLOP/s, as :func:`_rates`)."""
    return dataclasses.replace(SLOW_START, cpu=_rates(family).cpu)


def _plans_looked_up() -> int:
    info = gpmath.cache_info()["matmul"]
    return info.hits + info.misses


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("m, k, n", [(64, 65, 64), (100, 100, 100), (40, 250, 150), (2000, 40, 40), (150, 150, 150),
                                     (50, 2000, 50), (8000, 20, 20)])
def test_a_product_the_model_puts_on_the_cpu_skips_the_plans(usable_gpu, rng, dtype, m, k, n):
    """Past the tiny products (blas._cpu.SMALL_WORK) the shortcut takes exactly those that
    placement.place puts on the CPU, on their estimate (Matmul._work, the planner's own), by a
    call that is not close, and gives NumPy's product."""
    from gpmath.blas import Matmul
    from gpmath.blas._cpu import small_product

    a, b = (rng.standard_normal(shape).astype(dtype) for shape in ((m, k), (k, n)))
    work = Matmul._work(((m, k), (k, n), None, None), dtype, {})
    verdict = place(lambda: work, 0)
    expected = not verdict.on_gpu and not verdict.close  # (a close call goes to the plans, which measure it)
    assert (small_product(a, b, None) is not None) == expected
    if expected:
        before = _plans_looked_up()
        np.testing.assert_array_equal(gpmath.matmul(a, b), a @ b)
        assert _plans_looked_up() == before
    gpmath.set_placement("cuda")  # the GPU whatever the model
    assert small_product(a, b, None) is None
    assert small_product(a, b, "cpu") is not None


def _numpy_layout(rng, shape, dtype, layout):
    """A NumPy array of *shape* and *dtype* in *layout*, filled with random values."""
    values = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if "complex" in dtype else 0)
    x = values.astype(dtype)
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        wide = np.repeat(x, 2, axis=1)
        return wide[:, ::2]
    if layout == "negative":
        return x[::-1, ::-1].copy()[::-1, ::-1]
    if layout == "offset":
        return np.concatenate([np.zeros((1,) + shape[1:], dtype), x])[1:]
    if layout == "big-endian":
        return x.astype(x.dtype.newbyteorder(">"))
    if layout == "read-only":
        x.flags.writeable = False
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "negative", "offset", "big-endian", "read-only"])
@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (64, 64, 64), (1, 1, 1), (0, 3, 2), (3, 0, 2), (1, 64, 1)])
def test_small_numpy_products_match_numpy_in_float64_on_every_layout(usable_gpu, rng, dtype, layout, m, k, n):
    """The shortcut's product (``numpy.dot``) and the full path's, on both operands in *layout*:
    the float64 product within the dtype's tolerance, in the operands' dtype (big-endian: the
    native one, as SciPy gives), C-ordered as NumPy's."""
    a, b = _numpy_layout(rng, (m, k), dtype, layout), _numpy_layout(rng, (k, n), dtype, layout)
    expected = a.astype(np.complex128) @ b.astype(np.complex128)
    got = gpmath.matmul(a, b)
    tol = 2e-6 * max(k, 1) if dtype in ("float32", "complex64") else 1e-14 * max(k, 1)
    np.testing.assert_allclose(got, expected if "complex" in dtype else expected.real, rtol=tol, atol=tol)
    assert got.shape == (m, n) and got.dtype == np.dtype(dtype) and got.flags.c_contiguous


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (5, 2)), ((0, 4), (5, 2)), ((64, 63), (64, 64)), ((1, 2), (3, 1))])
def test_small_numpy_products_of_unequal_inner_dimensions_raise_the_planners_error(usable_gpu, a_shape, b_shape):
    with pytest.raises(ValueError, match=re.escape(f"a has shape {a_shape} and b has shape {b_shape}")):
        gpmath.matmul(np.ones(a_shape), np.ones(b_shape))


def test_the_products_cases_fall_on_both_sides_of_the_models_bound_and_its_verdict(usable_gpu):
    """(What the test above covers: products under host_flops, past it on the CPU, and on the GPU.)"""
    from gpmath.blas import Matmul

    cases = [((m, k), (k, n)) for m, k, n in [(100, 100, 100), (40, 250, 150), (2000, 40, 40), (150, 150, 150),
                                              (8000, 20, 20)]]
    works = [Matmul._work((a, b, None, None), dtype, {}) for a, b in cases for dtype in ("float32", "complex64")]
    assert calibration.host_flops(calibration.kept_model("gemm", "float32", 0)) == pytest.approx(5e6)
    verdicts = [place(lambda w=w: w, 0) for w in works]
    sides = {(w.flops < 5e6, v.on_gpu, v.close) for w, v in zip(works, verdicts)}
    assert {(True, False), (False, False), (False, True)} <= {side[:2] for side in sides}
    assert (False, False, False) in sides  # (past the bound, the CPU's by a verdict that is not close)


@pytest.mark.parametrize("shape, axes, kind", [((8192,), (0,), "c2c"), ((64, 128), (0, 1), "c2c"),
                                               ((3, 30000), (1,), "r2c"), ((40, 8192), (1,), "c2c"),
                                               ((8191,), (0,), "c2c"), ((256, 256), (0, 1), "r2c"),
                                               ((2, 100000), (1,), "r2c"), ((65536,), (0,), "c2c"),
                                               ((16384,), (0,), "c2c")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_transform_the_model_puts_on_the_cpu_is_scipys_without_a_plan(
        usable_gpu, monkeypatch, rng, shape, axes, kind, dtype):
    """Past fft._functions.SMALL_SIZE a host transform is scipy.fft's at once exactly where
    placement.place puts its estimate (FFT._work, the planner's own) on the CPU; the host lane it
    keeps asks the model again at each use."""
    from gpmath.fft import FFT, _functions

    monkeypatch.setattr(_functions, "_HOST_LANES", {})
    x = rng.standard_normal(shape)
    x = (x if kind == "r2c" else x + 1j * rng.standard_normal(shape)).astype(dtype if kind == "r2c" else
                                                                              np.result_type(dtype, 1j))
    work = FFT._work((shape,), x.dtype.name, {"axes": axes, "kind": kind})
    verdict = place(lambda: work, 0)
    expected = not verdict.on_gpu and not verdict.close  # (a close call goes to the plans, which measure it)
    call = _functions.Call(kind, "forward", None, False, None, None, None)
    assert (_functions.small_transform(x, axes, tuple(shape[a] for a in axes), call) is not None) == expected
    if not expected:
        return
    ours, scipys = ((gpmath.fft.fftn, scipy.fft.fftn) if kind == "c2c" else (gpmath.fft.rfftn, scipy.fft.rfftn))
    looked_up = gpmath.cache_info()["fft"]
    for _ in range(2):  # the second call by the host lane the first kept
        np.testing.assert_array_equal(ours(x, axes=axes), scipys(x, axes=axes))
    assert gpmath.cache_info()["fft"] == looked_up
    (key,) = _functions._HOST_LANES
    assert _functions.host_lane(key) is not None
    fast = Model(cpu=Side.line(10e-6, 1e10), gpu=Side.line(1e-6, 1e14), h2d_small=1e12, h2d_large=1e12, d2h_small=1e12,
                 d2h_large=1e12, pipeline_bytes=4 << 20)  # a GPU that wins every such transform
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: fast)
    calibration._kept.clear()  # (as calibrate() leaves them)
    calibration._verdicts.clear()
    assert place(lambda: work, 0).on_gpu and _functions.host_lane(key) is None


def test_a_transform_on_its_way_to_the_gpu_is_estimated_once(usable_gpu, monkeypatch, rng):
    """Past SMALL_SIZE a transform the model gives the GPU asks its kept verdict at each call: its
    estimate (FFT._work's) is made at the first call only."""
    from gpmath.fft import FFT, _functions

    x = (rng.standard_normal((64, 8192)) + 1j).astype(np.complex64)
    call = _functions.Call("c2c", "forward", None, False, None, None, None)
    work = FFT._work((x.shape,), x.dtype.name, {"axes": (1,), "kind": "c2c"})
    assert place(lambda: work, 0).on_gpu and not place(lambda: work, 0).close
    assert _functions.small_transform(x, (1,), (8192,), call) is None
    monkeypatch.setattr(_functions, "transform_work", lambda *args: pytest.fail("estimated again"))
    assert _functions.small_transform(x, (1,), (8192,), call) is None


@pytest.mark.parametrize("layout", ["strided", "fortran", "bigendian", "readonly", "reversed"])
def test_without_a_gpu_larger_products_and_transforms_of_every_layout_are_numpys_and_scipys(monkeypatch, rng, layout):
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: False)

    def laid_out(shape):
        x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        x = {"strided": np.repeat(x, 2, axis=1)[:, ::2], "fortran": np.asfortranarray(x),
             "bigendian": x.astype(">c16"), "readonly": x.copy(), "reversed": x[::-1, ::-1]}[layout]
        x.flags.writeable = layout != "readonly"
        return x

    x, w = laid_out((96, 130)), laid_out((130, 70))  # (two buffers: NumPy takes syrk for x @ x.T)
    # the values the CPU engine computes on: a big-endian array's native-order copy (NumPy's and SciPy's own
    # big-endian paths may round otherwise), any other array as it is (their rounding follows the layout)
    native_x, native_w = (v if v.dtype.isnative else v.astype(v.dtype.newbyteorder("=")) for v in (x, w))
    looked_up = gpmath.cache_info()["fft"], gpmath.cache_info()["matmul"]
    for _ in range(2):
        np.testing.assert_array_equal(gpmath.fft.fft2(x), scipy.fft.fft2(native_x))
        np.testing.assert_array_equal(gpmath.fft.irfft(x, axis=0), scipy.fft.irfft(native_x, axis=0))
        np.testing.assert_array_equal(gpmath.matmul(x, w), np.matmul(native_x, native_w))
    # (a big-endian product takes the CPU engine's plan, which computes on its native-order values)
    planned = int(layout == "bigendian")
    assert gpmath.cache_info()["fft"] == looked_up[0]
    assert gpmath.cache_info()["matmul"].misses - looked_up[1].misses == planned


def test_without_a_gpu_larger_torch_cpu_products_and_transforms_skip_the_plans(monkeypatch, rng):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: False)
    a = torch.from_numpy(rng.standard_normal((100, 120)))
    x = torch.from_numpy(rng.standard_normal(8192) + 1j * rng.standard_normal(8192))
    gpmath.matmul(torch.ones(1, 1), torch.ones(1, 1))  # (gpmath meets torch: its first tensor takes the plans)
    looked_up = gpmath.cache_info()["fft"], gpmath.cache_info()["matmul"]
    for _ in range(2):
        product, transform = gpmath.matmul(a, a.T), gpmath.fft.fft(x)
        assert type(product) is torch.Tensor and type(transform) is torch.Tensor
        np.testing.assert_array_equal(product.numpy(), a.numpy() @ a.numpy().T)
        np.testing.assert_array_equal(transform.numpy(), scipy.fft.fft(x.numpy()))
    assert (gpmath.cache_info()["fft"], gpmath.cache_info()["matmul"]) == looked_up


def test_the_kept_model_is_the_calibrated_one_until_calibrated_again(fake_gpu):
    kept = calibration.kept_model("gemm", "float64", 0)
    assert kept == calibration.model("gemm", "float64", 0) and calibration.kept_model("gemm", "float64", 0) is kept
    bound = calibration.host_flops(kept)
    assert kept.cpu_seconds(Work("gemm", "float64", bound * 0.999, 0, 0)) < kept.gpu.overhead
    calibration._kept[("gemm", "float64", 0)] = RATES  # a model of the past, which calibrate() forgets
    calibration._verdicts[("gemm", "float64", 0, "a problem")] = True  # and its verdicts
    calibration.calibrate(0, ("gemm",))
    assert calibration.kept_model("gemm", "float64", 0) == calibration.model("gemm", "float64", 0) != RATES
    assert not calibration._verdicts


def test_a_verdict_is_the_models_once_per_problem(monkeypatch):
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: RATES)
    asked = []

    def work():
        asked.append(1)
        return gemm(4096)

    large, small = gemm(4096), gemm(8)
    assert [calibration.cpu_verdict("gemm", "float32", 0, large.flops, work, ("square", 4096))
            for _ in range(3)] == [False] * 3
    assert calibration.cpu_verdict("gemm", "float32", 0, small.flops, lambda: small, ("square", 8)) and len(asked) == 1
    monkeypatch.setattr(calibration, "kept_model", lambda *args: pytest.fail("a kept verdict looks nothing else up"))
    assert not calibration.cpu_verdict("gemm", "float32", 0, large.flops, work, ("square", 4096)) and len(asked) == 1


@pytest.mark.parametrize("cpu_rate, on_cpu", [(1.2e11, False), (2e11, True)])
def test_a_close_call_is_not_surely_the_cpus(monkeypatch, cpu_rate, on_cpu):
    """The CPU faster by the model, by a factor under CLOSE (1.2): not sure, the stateless path
    measures both sides; by 2: the CPU's."""
    free_link = dict(h2d_small=1e30, h2d_large=1e30, d2h_small=1e30, d2h_large=1e30, pipeline_bytes=1 << 22)
    rates = Model(cpu=Side.line(0.0, cpu_rate), gpu=Side.line(0.0, 1e11), **free_link)
    monkeypatch.setattr(calibration, "kept_model", lambda *args: rates)
    monkeypatch.setattr(calibration, "model", lambda *args: rates)
    work = gemm(512)
    assert calibration.cpu_verdict("gemm", "float32", 0, work.flops, lambda: work, ("close", cpu_rate)) is on_cpu
    verdict = place(lambda: work, 0)
    assert not verdict.on_gpu and verdict.close is not on_cpu


@pytest.mark.parametrize("present, missing, expected", [
    (0, None, "a GPU is present but unusable"), (1, "libcublasLt.so.13 is missing", "libcublasLt.so.13 is missing")])
def test_a_product_on_the_cpu_without_a_usable_gpu_skips_the_plans_and_says_why_once(
        monkeypatch, caplog, rng, present, missing, expected):
    from gpmath._core import execution

    monkeypatch.setattr(execution, "_warned", set())
    monkeypatch.setattr(runtime, "device_count", lambda: present)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: True)
    monkeypatch.setattr(runtime, "no_gpu_reason", lambda: "the driver is too old")
    monkeypatch.setattr(engines, "_library_missing", lambda name: missing)
    monkeypatch.setattr(calibration, "model", lambda *args: pytest.fail("calibrated without a usable GPU"))
    a = rng.standard_normal((300, 300))
    before = _plans_looked_up()
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        for _ in range(2):
            np.testing.assert_array_equal(gpmath.matmul(a, a), a @ a)
    assert _plans_looked_up() == before
    assert [m for m in caplog.messages if expected in m and "running on the CPU" in m] == [caplog.messages[0]]
    assert len(caplog.messages) == 1


# -- execution="auto" and no GPU ----------------------------------------------------------------------
def _spd(rng, n):
    a = rng.random((n, n))
    return a @ a.T + n * np.eye(n)


CALLS = {
    "gemm": (lambda a, b, **w: gpmath.matmul(a, b, **w), lambda a, b: a @ b),
    "fft": (lambda a, b, **w: gpmath.fft.fft2(a, **w), lambda a, b: scipy.fft.fft2(a)),
    "lu": (lambda a, b, **w: la.solve(a, b, **w), lambda a, b: scipy.linalg.solve(a, b)),
    "cholesky": (lambda a, b, **w: la.cholesky(a, **w), lambda a, b: scipy.linalg.cholesky(a)),
    "eigh": (lambda a, b, **w: la.eigvalsh(a, **w), lambda a, b: scipy.linalg.eigvalsh(a)),
    "svd": (lambda a, b, **w: la.svd(a, compute_uv=False, **w), lambda a, b: scipy.linalg.svd(a, compute_uv=False)),
    "qr": (lambda a, b, **w: abs(la.qr(a, mode="r", **w)[0]), lambda a, b: abs(scipy.linalg.qr(a, mode="r")[0])),
    "eig": (lambda a, b, **w: np.sort_complex(la.eigvals(a, **w)),
            lambda a, b: np.sort_complex(scipy.linalg.eigvals(a))),
    "triangular": (lambda a, b, **w: la.solve_triangular(a, b, **w), lambda a, b: scipy.linalg.solve_triangular(a, b)),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_execution_auto_is_accepted_where_none_is(family, rng):
    a, b = _spd(rng, 6), rng.random((6, 2))
    call, oracle = CALLS[family]
    for execution in (None, "auto"):
        np.testing.assert_allclose(call(a, b, execution=execution), oracle(a, b), rtol=1e-10, atol=1e-12)


def test_planners_take_execution_auto(rng):
    a = rng.random((4, 4))
    with gpmath.blas.Matmul(a, a, execution="auto") as plan:
        np.testing.assert_allclose(plan.plan().execute(), a @ a)
    with gpmath.solver.Cholesky(_spd(rng, 4), execution="auto") as plan:
        assert plan.plan().execute().shape == (4, 4)
    with gpmath.fft.FFT(a, execution="auto") as plan:
        np.testing.assert_allclose(plan.plan().execute(), scipy.fft.rfftn(a))


def test_without_a_gpu_nothing_is_estimated_or_calibrated(monkeypatch, rng):
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: False)
    monkeypatch.setattr(calibration, "model", lambda *args: pytest.fail("calibrated without a GPU"))
    a = rng.random((512, 512))
    with gpmath.blas.Matmul(a, a) as plan:
        assert plan.device_id is None and math.isclose(float(plan.plan().execute()[0, 0]), float(a[0] @ a[:, 0]))
    assert la.eigh(_spd(rng, 64), eigvals_only=True, execution="auto").shape == (64,)


def test_calibration_keeps_each_points_fastest_pass_and_measures_a_disturbed_side_again(monkeypatch):
    """Stand-in timings: the CPU's moderate point is disturbed (a tenth of its rate) in the first
    two passes only; the GPU's small point is slow in the first.  The corners come from the fastest
    undisturbed timings, after two rests, and lie on the stand-in lines."""
    link = {"h2d": [1e18, 1e18], "d2h": [1e18, 1e18], "pipeline_bytes": 1 << 22}  # copies take no time
    problem = calibration.PROBLEMS["gemm"]
    small, cpu_n = problem.sizes[:2]
    flops = {n: calibration.square_work("gemm", n, "float64").flops for n in problem.measured(True)}
    calls, made, freed, rests = {}, [], [], []

    class Timed:  # stand-in plans: each counts its timings
        def __init__(self, problem, n, precision, on):
            self.key = (n, on, precision)
            made.append(self.key)

        def seconds(self, most):
            calls[self.key] = calls.get(self.key, 0) + 1
            n, on, _ = self.key
            if on is None:  # the CPU: 10 µs + flops at 1e11 flop/s, the moderate point disturbed twice
                return 10e-6 + flops[n] / (1e10 if n == cpu_n and calls[self.key] <= 2 else 1e11)
            return 50e-6 + flops[n] / 1e13 + (1e-3 if calls[self.key] == 1 and n == small else 0.0)

        def free(self):
            freed.append(self.key)

    monkeypatch.setattr(calibration, "_Timed", Timed)
    monkeypatch.setattr(calibration.time, "sleep", rests.append)
    both = calibration._family("gemm", 0, link)
    found = both["float64"]
    assert set(both) == {"float32", "float64"}
    assert [f for f, _ in found["cpu"]] == [0.0] + [flops[n] for n in problem.measured(False)]
    assert [f for f, _ in found["gpu"]] == [0.0] + [flops[n] for n in problem.measured(True)]
    assert [t for _, t in found["cpu"]] == pytest.approx([10e-6 + f / 1e11 for f, _ in found["cpu"]], rel=1e-6)
    assert [t for _, t in found["gpu"]] == pytest.approx([50e-6 + f / 1e13 for f, _ in found["gpu"]], rel=1e-6)
    assert calls[(cpu_n, None, "float64")] == 3 and len(rests) == 2 and all(r == calibration._REST_S for r in rests)
    assert len(made) == len(set(made)) and set(made) == set(freed) and len(freed) == len(made)  # each made once, freed
    assert all(calls[(n, 0, "float64")] == 2 for n in problem.measured(True))  # (the GPU's points, plausible, twice only)


# -- lu of host matrices through the cached plans, with an engine posing as the GPU's ------------------------------
class _HostLUPosingAsCuda(CpuLU):
    """The CPU engine of LU, chosen where the GPU's is (its plans say device 0): the stateless
    path's plans, trials and keys without a GPU."""


@pytest.mark.parametrize("close", [False, True])
@pytest.mark.parametrize("n", [16, 96])
def test_lu_of_host_matrices_builds_its_plan_once(monkeypatch, caplog, close, n):
    """``linalg.lu`` of a NumPy matrix the model gives the GPU: one plan for four calls (the
    cached one, not one a call); a close call of the model measured once, its side kept (the
    CPU's: SciPy's factors at once from then on); the factors SciPy's."""
    from gpmath._core import placement, stateless
    from gpmath.solver import LU

    monkeypatch.setattr(runtime, "device_count", lambda: 1)
    monkeypatch.setattr(runtime, "get_device", lambda: 0)
    monkeypatch.setattr(engines, "_library_missing", lambda name: None)
    fast_gpu = dataclasses.replace(RATES, gpu=Side.line(1e-6, 2e13), h2d_small=1e12, h2d_large=2e12, d2h_small=1e12,
                                   d2h_large=2e12)
    monkeypatch.setattr(calibration, "model", lambda family, precision, device_id: fast_gpu)
    monkeypatch.setitem(engines.TABLE, "LU", (f"{__name__}:_HostLUPosingAsCuda", *engines.TABLE["LU"][1:]))
    monkeypatch.setattr(placement, "CLOSE", 1e9 if close else placement.CLOSE)
    monkeypatch.setattr(stateless, "TRIAL_MOST_S", math.inf)
    monkeypatch.setattr(calibration, "_outcomes", {})
    built = []
    monkeypatch.setattr(LU, "__init__", lambda self, *args, init=LU.__init__, **kw: built.append(type(self)) or init(self, *args, **kw))
    a = np.random.default_rng(n).standard_normal((n, n))
    expected = scipy.linalg.lu(a)
    gpmath.cache_clear()
    with caplog.at_level(logging.INFO, logger="gpmath"):
        for _ in range(4):
            for got, want in zip(la.lu(a), expected):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    measured = sum("placement: " in m and " measured " in m for m in caplog.messages)
    assert built.count(_HostLUPosingAsCuda) == 1 and measured == int(close)
    assert len(built) == 1 + int(close)  # (the close call's other side: the CPU engine's plan, once)
