"""The stateless path's measurement of close calls: where the cost model placed host operands by
a close call, the first call times the plans of both sides on its operands and the cache keeps
the faster (gpmath._core.stateless.Stateless._measured).  A stand-in front with a stand-in clock:
each side's executions take the times a test gives them."""

from __future__ import annotations

import numpy as np
import pytest

from gpmath._core import stateless
from gpmath._core.placement import Verdict
from gpmath._core.stateless import TRIALS, Stateless


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def front_of(clock: Clock, costs: dict, verdict: Verdict | None, refused: Exception | None = None,
             failing: Exception | None = None, writes: bool = False, failing_on: str | None = None):
    """A front whose plan of *execution* None is the model's (*verdict* puts it on the GPU or the
    CPU), and whose forced plans are the other side's; ``costs[side]`` lists the seconds of each
    execution on that side in turn (the last repeats)."""

    class Front:
        operand_names = ("a",)
        nbytes = 0
        writes_operands = writes
        made: list = []
        executed: list = []

        def __init__(self, a, *, scale=1.0, execution=None, stream=None, device_id=None, out=None):
            if execution is None:
                self.side, self.placement = ("cuda" if verdict.on_gpu else "cpu") if verdict else "cpu", verdict
            elif refused is not None:
                raise refused
            else:
                self.side, self.placement = execution, None
            self.device_id = 0 if self.side == "cuda" else None
            self.a, self.scale, self.freed, self.runs = a, scale, False, 0
            Front.made.append(self)

        def plan(self):
            return self

        def _run(self, a):
            assert not self.freed
            if failing is not None and failing_on in (None, self.side):
                raise failing
            times = costs[self.side]
            clock.now += times[min(self.runs, len(times) - 1)]
            self.runs += 1
            Front.executed.append(self.side)
            return (self.side, a * self.scale)

        def execute(self, out=None):
            return self._run(self.a)

        def execute_with(self, a, out=None):
            return self._run(a)

        def release_operands(self):
            self.a = None

        def free(self):
            self.freed, self.a = True, None

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.free()

    return Front


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(stateless.time, "perf_counter", clock)
    return clock


CLOSE_CPU = Verdict(False, "model", 1.0e-4, 1.2e-4)
CLOSE_GPU = Verdict(True, "model", 1.2e-4, 1.0e-4)


@pytest.mark.parametrize("verdict, costs, kept", [
    (CLOSE_CPU, {"cpu": [5e-4, 2e-4], "cuda": [9e-4, 1e-4]}, "cuda"),  # the model's CPU measured slower
    (CLOSE_CPU, {"cpu": [5e-4, 1e-4], "cuda": [9e-4, 2e-4]}, "cpu"),  # the model's CPU measured faster
    (CLOSE_GPU, {"cpu": [5e-4, 1e-4], "cuda": [1e-4, 3e-4]}, "cpu"),  # the GPU's first run fast, its others slow
    (CLOSE_GPU, {"cpu": [1e-5, 3e-4], "cuda": [9e-4, 2e-4]}, "cuda"),  # (first runs are not counted)
])
def test_a_close_call_keeps_the_side_measured_faster(clock, verdict, costs, kept):
    front, path = front_of(clock, costs, verdict), Stateless("trial-test")
    a = np.arange(3.0)
    side, value = path(front, (a,), {"scale": 2.0})
    assert side == kept and np.array_equal(value, 2 * a)  # the call's result is the kept side's
    model_side, other_side = ("cuda", "cpu") if verdict.on_gpu else ("cpu", "cuda")
    assert front.executed == [model_side] * (TRIALS + 1) + [other_side] * (TRIALS + 1)  # one side, then the other
    model, other = front.made
    assert [p.side for p in front.made if not p.freed] == [kept] and model.a is None and other.a is None
    front.executed.clear()
    b = np.arange(3.0) + 1
    assert path(front, (b,), {"scale": 2.0})[0] == kept and front.executed == [kept]  # the cache's plan, no trial
    assert len(front.made) == 2


def test_a_verdict_not_close_runs_the_models_plan_alone(clock):
    far = Verdict(False, "model", 1e-4, 5e-4)
    front = front_of(clock, {"cpu": [1e-3], "cuda": [1e-6]}, far)
    side, _ = Stateless("trial-test-far")(front, (np.ones(2),), {})
    assert side == "cpu" and front.executed == ["cpu"] and len(front.made) == 1


def test_without_the_other_sides_plan_the_models_runs(clock):
    front = front_of(clock, {"cpu": [1e-4], "cuda": [1e-6]}, CLOSE_CPU, refused=MemoryError("no room"))
    path = Stateless("trial-test-refused")
    assert path(front, (np.ones(2),), {})[0] == "cpu" and front.executed == ["cpu"]
    assert path(front, (np.ones(2),), {})[0] == "cpu" and len(front.made) == 1  # cached


def test_a_failing_execution_frees_both_plans_and_raises(clock):
    front = front_of(clock, {"cpu": [1e-4], "cuda": [1e-4]}, CLOSE_CPU, failing=np.linalg.LinAlgError("singular"))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        Stateless("trial-test-failing")(front, (np.ones(2),), {})
    assert len(front.made) == 2 and all(p.freed for p in front.made)


@pytest.mark.parametrize("verdict", [CLOSE_CPU, CLOSE_GPU])
def test_a_failure_of_the_other_side_keeps_the_models_plan(clock, verdict):
    """The model's side computed the call first; where the other side then fails (no device memory
    left for it), the model's plan answers and is cached, and the other is freed."""
    from gpmath._errors import OutOfMemoryError

    model_side, other_side = ("cuda", "cpu") if verdict.on_gpu else ("cpu", "cuda")
    front = front_of(clock, {"cpu": [1e-4], "cuda": [1e-4]}, verdict,
                     failing=OutOfMemoryError(2, "cudaErrorMemoryAllocation", "cudaMallocAsync"), failing_on=other_side)
    path, a = Stateless(f"trial-test-other-fails-{model_side}"), np.arange(3.0)
    side, value = path(front, (a,), {"scale": 2.0})
    assert side == model_side and np.array_equal(value, 2 * a)
    model, other = front.made
    assert other.freed and not model.freed and model.a is None
    assert path(front, (a,), {"scale": 2.0})[0] == model_side and len(front.made) == 2  # cached


def test_an_uncached_call_is_not_measured(clock):
    """Operands of several packages, or a cache of size 0, run one plan freed at once (no key)."""
    front = front_of(clock, {"cpu": [1e-4], "cuda": [1e-6]}, CLOSE_CPU)
    side, _ = Stateless("trial-test-uncached")(front, ([1.0, 2.0],), {"scale": [1]})  # an unhashable option
    assert side == "cpu" and len(front.made) == 1


@pytest.mark.parametrize("writes, out", [(True, None), (False, np.empty(2))])
def test_a_plan_that_writes_its_operands_or_a_call_with_out_is_not_measured(clock, writes, out):
    """An in-place transform, an input the transform may overwrite, or a product into out (which c
    may be): running it twice would compute on what the first run wrote."""
    front = front_of(clock, {"cpu": [1e-3], "cuda": [1e-6]}, CLOSE_CPU, writes=writes)
    side, _ = Stateless("trial-test-writes")(front, (np.ones(2),), {}, out=out)
    assert side == "cpu" and front.executed == ["cpu"] and len(front.made) == 1


def test_no_memory_for_the_other_side_keeps_the_threads_cached_plans(clock, monkeypatch):
    from gpmath._errors import OutOfMemoryError

    refused = OutOfMemoryError(2, "cudaErrorMemoryAllocation", "cudaMallocAsync")
    front = front_of(clock, {"cpu": [1e-4], "cuda": [1e-6]}, CLOSE_CPU, refused=refused)
    path = Stateless("trial-test-memory")
    monkeypatch.setattr(path.cache, "release", lambda: pytest.fail("the cached plans were released"))
    assert path(front, (np.ones(2),), {})[0] == "cpu" and len(front.made) == 1


def test_plans_say_whether_they_write_their_operands():
    import gpmath

    x = np.ones(8, np.complex128)
    for options, writes in (({}, False), ({"inplace": True}, True), ({"overwrite_x": True}, True)):
        with gpmath.fft.FFT(x.copy(), execution="cpu", **options) as plan:
            assert plan.writes_operands is writes, options
    with gpmath.blas.Matmul(np.eye(2), np.eye(2), execution="cpu") as plan:
        assert not plan.writes_operands
    with gpmath.solver.Solve(np.eye(2), np.ones(2), execution="cpu") as plan:
        assert not plan.writes_operands


@pytest.mark.parametrize("costs, on_cpu", [({"cpu": [1e-4], "cuda": [3e-4]}, True),
                                           ({"cpu": [3e-4], "cuda": [1e-4]}, False)])
def test_the_side_measured_is_kept_for_the_estimate_and_the_shortcut(clock, costs, on_cpu):
    """A close call's measured side is kept for its estimate (Verdict.outcome: later plans of it take that
    side) and, for a problem a stateless shortcut takes (Verdict.kept), for the shortcut: it then answers
    a CPU side's calls, and leaves a GPU side's to the plans."""
    from gpmath._core import calibration

    kept, outcome = ("gemm", "float32", 0, ("float32", 300, 300, 300)), (0, "gemm", "float32", 5.4e7, 1, 2, ())
    for verdict in (Verdict(False, "model", 1.0e-4, 1.2e-4, kept, outcome),
                    Verdict(True, "model", 1.2e-4, 1.0e-4, kept, outcome)):
        front = front_of(clock, costs, verdict)
        Stateless(f"trial-test-settle-{verdict.on_gpu}")(front, (np.ones(2),), {})
        assert calibration.cpu_verdict(*kept[:3], 1e12, None, kept[3]) is on_cpu  # (the shortcut's question)
        assert calibration.measured_side(outcome) is on_cpu
        assert calibration._verdicts.pop(kept) is on_cpu and calibration._outcomes.pop(outcome) is on_cpu


@pytest.mark.parametrize("on_cpu", [True, False])
def test_place_gives_a_measured_estimate_its_side_without_the_model(monkeypatch, on_cpu):
    """Another plan of an estimate measured before (another layout: another cache key) takes the side
    measured, not the model's (which is not asked), and is no close call: it is not measured again;
    an estimate that differs in a field is not that one."""
    from gpmath._core import calibration, placement
    from gpmath._core.placement import Work, place

    monkeypatch.setattr(calibration, "_outcomes", {})
    monkeypatch.setattr(calibration, "model", lambda *args: pytest.fail("the model was asked"))
    placement.set_placement("auto")
    try:
        work = Work("gemm", "float32", 5.4e7, 720_000, 360_000, problem=("float32", 300, 300, 300))
        first = Verdict(False, "model", 1.0e-4, 1.2e-4, ("gemm", "float32", 3, work.problem),
                        (3, "gemm", "float32", 5.4e7, 720_000, 360_000, ()))
        calibration.settle(first, on_cpu)
        verdict = place(lambda: work, 3)
        assert verdict.on_gpu is not on_cpu and not verdict.close and "measured" in verdict.reason
        assert verdict.outcome == first.outcome and verdict.kept == first.kept
        monkeypatch.setattr(calibration, "model", lambda *args: calibration.DEFAULT)
        other = place(lambda: Work("gemm", "float32", 5.4e7, 720_000, 400_000), 3)  # (more bytes out)
        assert "model" in other.reason
    finally:
        placement.set_placement(None)


def _shortcut_problem(x, kind, n=None, axis=-1, s=None, axes=None):
    """The problem a host transform's shortcut asks its kept verdict for (fft._functions.Placed), as
    run_1d and run_nd normalise the call's axes and lengths."""
    from gpmath.fft._args import c2r_lengths, many_axes, one_axis

    shape = tuple(x.shape)
    if axes is None and s is None:
        axes, lengths = one_axis(shape, n, axis)
        if kind == "c2r":
            lengths = c2r_lengths(shape, axes, lengths, given=n is not None, one_d=True)
    else:
        axes, lengths = many_axes(shape, s, axes)
        if kind == "c2r":
            lengths = c2r_lengths(shape, axes, lengths, given=s is not None)
    return (shape, x.dtype.name, axes, lengths, kind)


@pytest.mark.parametrize("dtype, kind, where", [
    ("complex64", "c2c", {}), ("complex128", "c2c", {"axis": 0}), ("complex64", "c2c", {"n": 50}),
    ("complex64", "c2c", {"n": 200, "axis": 1}), ("float32", "r2c", {}), ("float64", "c2c", {}),
    ("complex64", "c2r", {}), ("complex128", "c2r", {"n": 31}), ("complex64", "c2c", {"axes": (0, 1)}),
    ("complex64", "c2c", {"s": (32, 40), "axes": (1, 0)}), ("complex64", "c2c", {"axes": (-1, -2)}),
    ("float64", "r2c", {"axes": (0, 1)}), ("complex64", "c2r", {"s": (20, 30)}),
])
def test_a_plans_problem_is_the_shortcuts(dtype, kind, where):
    """The estimate a plan is placed by names its problem as the shortcut does, so the measured side
    of a close call reaches the shortcut: a transform's (shape, dtype, axes, lengths, kind) through
    the options the stateless call gives the FFT front, and a product's (dtype, m, k, n)."""
    from gpmath.blas import Matmul
    from gpmath.fft import FFT

    x = np.ones((64, 96), dtype)
    problem = _shortcut_problem(x, kind, **where)
    options = {"axes": problem[2], "s": problem[3], "kind": kind, "norm": None, "overwrite_x": False, "workers": None}
    assert FFT._work((tuple(x.shape),), dtype, options).problem == problem
    assert Matmul._work(((64, 96), (96, 5), None, None), dtype, {}).problem == (dtype, 64, 96, 5)


@pytest.mark.parametrize("shapes", [((2, 64, 96), (96, 5), None, None), ((64, 96), (96, 5), (64, 5), None),
                                    ((64, 96), (96, 5), None, (64, 1)), ((96,), (96, 5), None, None)])
def test_products_the_shortcut_does_not_take_name_no_problem(shapes):
    from gpmath.blas import Matmul

    assert Matmul._work(shapes, "float32", {}).problem is None


def test_a_long_close_call_is_not_measured(clock):
    """Past TRIAL_MOST_S by the model the model's side stands: eight runs of a one-second call would
    cost its caller seconds."""
    from gpmath._core.stateless import TRIAL_MOST_S

    long = Verdict(False, "model", 1.0 * TRIAL_MOST_S, 1.2 * TRIAL_MOST_S)
    assert long.close
    front = front_of(clock, {"cpu": [1e-3], "cuda": [1e-6]}, long)
    side, _ = Stateless("trial-test-long")(front, (np.ones(2),), {})
    assert side == "cpu" and front.executed == ["cpu"] and len(front.made) == 1
