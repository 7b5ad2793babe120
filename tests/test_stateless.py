"""The one cached-plan path (gpmath._core.stateless) and the plan caches' limits, on the CPU engines.

Results are compared with NumPy/SciPy; hits and misses are counted; cached plans must not keep
the caller's arrays alive, must never be freed plans, and obey the limits set by function or
environment variable.  (The CUDA engines' side is in test_fft_cuda_emulated.py and
test_linalg_emulated.py.)
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import weakref

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import gpmath
from gpmath import linalg
from gpmath._core import cache, engines
from gpmath._core.cache import PlanCache
from gpmath._core.planner import Planner
from gpmath._core.stateless import Stateless
from gpmath.blas import Matmul

CPU = {"execution": "cpu"}
PAST = 4112  # FFT lengths past the small-transform shortcut (gpmath.fft._functions.SMALL_SIZE), so they take plans
PROTOCOL = ("plan", "execute", "reset_operands", "reset_operands_unchecked", "release_operands")


@pytest.fixture(autouse=True)
def larger_transforms_take_the_plans(monkeypatch):
    """These tests are of the plan path: FFTs past SMALL_SIZE take the plans here, as they do where a
    GPU may compute them, not the larger shortcut that the CPU engine's sure choice takes without a
    usable GPU (gpmath.fft._functions._larger_on_cpu: test_placement.py)."""
    from gpmath.fft import _functions

    monkeypatch.setattr(_functions, "_larger_on_cpu", lambda x, axes, s, call: False)


@pytest.fixture(autouse=True)
def forget_test_caches():
    """Unregister the caches these tests create (gpmath.cache_info() lists every cache)."""
    yield
    for name in [name for name in cache._CACHES if name.startswith("test")]:
        cache._CACHES.pop(name).clear()


def counts(name: str) -> tuple[int, int, int]:
    info = gpmath.cache_info()[name]
    return info.hits, info.misses, info.size


def counted(name: str):
    """A function giving the hits and misses of cache *name* since now, and its size."""
    hits, misses, _ = counts(name)
    return lambda: (counts(name)[0] - hits, counts(name)[1] - misses, counts(name)[2])


def spd(rng, n: int) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


CALLS = {  # name: (cache, gpmath call, reference, operands)
    # (a batch: one small matrix would take NumPy's product directly, without a plan)
    "matmul": ("matmul", lambda a, b: gpmath.matmul(a, b, **CPU), np.matmul, lambda rng: (rng.random((2, 5, 4)), rng.random((4, 3)))),
    "fft": ("fft", lambda x: gpmath.fft.fft(x, **CPU), scipy.fft.fft, lambda rng: (rng.random(PAST) + 1j * rng.random(PAST),)),
    "rfft2": ("fft", lambda x: gpmath.fft.rfft2(x, **CPU), scipy.fft.rfft2, lambda rng: (rng.random((6, PAST)),)),
    "solve": ("linalg", lambda a, b: linalg.solve(a, b, **CPU), scipy.linalg.solve, lambda rng: (spd(rng, 5), rng.random(5))),
    "cholesky": ("linalg", lambda a: linalg.cholesky(a, **CPU), scipy.linalg.cholesky, lambda rng: (spd(rng, 6),)),
}


@pytest.mark.parametrize("name", CALLS)
def test_repeat_calls_hit_one_plan_and_match_the_reference(rng, name):
    cache, call, reference, make = CALLS[name]
    hits, misses, size = counts(cache)
    for _ in range(3):
        operands = make(rng)  # new arrays, same layouts
        np.testing.assert_allclose(call(*operands), reference(*operands), rtol=1e-10, atol=1e-12)
    assert counts(cache) == (hits + 2, misses + 1, size + 1)


@pytest.mark.parametrize("name", CALLS)
def test_cached_plans_keep_no_operand_alive(rng, name):
    cache, call, _, make = CALLS[name]
    for _ in range(2):  # a miss, then a hit
        operands = make(rng)
        refs = [weakref.ref(x) for x in operands]
        call(*operands)
        del operands
        gc.collect()
        assert all(ref() is None for ref in refs)
    assert counts(cache)[2] == 1


def test_matmul_out_is_not_kept_alive_and_still_checked_for_aliasing(rng):
    a, b = rng.random((4, 4)), rng.random((4, 4))
    out = np.empty((4, 4))
    assert gpmath.matmul(a, b, out=out, **CPU) is out
    np.testing.assert_allclose(out, a @ b)
    ref = weakref.ref(out)
    del out
    gc.collect()
    assert ref() is None
    c = rng.random((4, 4))
    with pytest.raises(ValueError, match="overlaps"):
        gpmath.matmul(c, b, out=c, **CPU)  # same layouts as the cached plan: a hit must still check
    assert counts("matmul")[0] >= 1


def test_layout_options_and_execution_split_the_key(rng):
    since = counted("matmul")
    a, b = rng.random((2, 4, 4)), rng.random((4, 4))
    gpmath.matmul(a, b, **CPU)
    gpmath.matmul(a, b, alpha=2.0, **CPU)
    np.testing.assert_allclose(gpmath.matmul(np.asfortranarray(a), b, **CPU), a @ b)
    np.testing.assert_allclose(gpmath.matmul(a.astype(np.float32), b.astype(np.float32), **CPU), a @ b, rtol=1e-5)
    assert since() == (0, 4, 4)


def test_array_likes_convert_as_numpy_does():
    np.testing.assert_allclose(gpmath.matmul([[1.0, 2.0], [3.0, 4.0]], [[1.0], [1.0]], **CPU), [[3], [7]])
    np.testing.assert_allclose(linalg.inv([[2.0, 0.0], [0.0, 4.0]], **CPU), [[0.5, 0], [0, 0.25]])
    with pytest.raises(TypeError, match="numbers"):
        gpmath.matmul([[object()]], [[1]], **CPU)


def test_fft_and_ifft_share_a_plan(rng):
    since = counted("fft")
    x = rng.random(PAST) + 1j * rng.random(PAST)
    np.testing.assert_allclose(gpmath.fft.fft(x, **CPU), scipy.fft.fft(x))
    np.testing.assert_allclose(gpmath.fft.ifft(x, **CPU), scipy.fft.ifft(x))
    assert since() == (1, 1, 1)


@pytest.mark.parametrize("execution", ["cpu", None])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "fortran", "bigendian", "readonly"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "float16", "int64"])
def test_small_numpy_transforms_skip_the_plans_with_the_cpu_engines_answer(rng, execution, layout, dtype):
    """A small NumPy FFT on the CPU (execution="cpu", or automatic placement) is scipy.fft's,
    without a plan: the same values and dtype as the CPU engine's plan (execution="cpu" with the
    shortcut's size limit lowered), for every transform family."""
    from gpmath.fft import _functions

    x = (rng.standard_normal((6, 10)) * 10).astype(dtype)
    if dtype.startswith("complex"):
        x = x + 1j * rng.standard_normal((6, 10)).astype(dtype)
    x = {"contiguous": x, "strided": np.repeat(x, 2, axis=1)[:, ::2], "fortran": np.asfortranarray(x),
         "bigendian": x.astype(x.dtype.newbyteorder(">")), "readonly": x.copy()}[layout]
    x.flags.writeable = layout != "readonly"
    gpmath.set_placement("auto")  # (the suite's default is "cuda": tests/conftest.py)
    calls = [lambda x, **w: gpmath.fft.fft(x, n=12, axis=0, norm="ortho", **w),
             lambda x, **w: gpmath.fft.ifft2(x, s=(3, 9), **w),
             lambda x, **w: gpmath.fft.rfftn(x.real, **w),
             lambda x, **w: gpmath.fft.irfft(x, n=7, **w)]
    for call in calls:
        since = counted("fft")
        shortcut = call(x, execution=execution)
        taken = since()[:2] == (0, 0)
        assert taken, layout
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_functions, "SMALL_SIZE", 0)
            planned = call(x, execution="cpu")
        assert since()[1] >= 1
        assert type(shortcut) is np.ndarray and shortcut.dtype == planned.dtype
        np.testing.assert_array_equal(shortcut, planned)


@pytest.mark.parametrize("shape, n, axis, shortcut", [
    ((4096,), None, -1, True), ((4097,), None, -1, False), ((512,), 4096, -1, True), ((512,), 4097, -1, False),
    ((16, 256), None, 1, True), ((16, 256), 257, 1, False), ((3, 0), 8, 1, False), ((0, 3), None, 1, True),
])
def test_the_small_transform_limit_counts_elements_in_and_out(rng, shape, n, axis, shortcut):
    """At most SMALL_SIZE (4096) elements in and out take the shortcut (padding counts; an empty axis padded
    to a length does not, its batch being unbounded); either side of the limit, SciPy's values."""
    gpmath.set_placement("auto")  # (the suite's default is "cuda": tests/conftest.py)
    x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    since = counted("fft")
    result = gpmath.fft.fft(x, n=n, axis=axis)
    assert (since()[:2] == (0, 0)) == shortcut
    np.testing.assert_allclose(result, scipy.fft.fft(x, n=n, axis=axis), rtol=1e-12, atol=1e-12)


def test_small_numpy_transforms_take_the_plans_when_sent_to_a_gpu(rng):
    """set_placement("cuda") sends small NumPy FFTs to the plans (on the GPU where one is usable)."""
    x = rng.random(16)
    since = counted("fft")
    gpmath.set_placement("cuda")
    try:
        np.testing.assert_allclose(gpmath.fft.fft(x), scipy.fft.fft(x))
    finally:
        gpmath.set_placement(None)
    assert since()[1] == 1


def test_an_unhashable_stream_runs_uncached(rng):
    since = counted("matmul")
    a, b = rng.random((3, 3)), rng.random((3, 3))
    np.testing.assert_allclose(gpmath.matmul(a, b, stream=[0], **CPU), a @ b)
    assert since() == (0, 0, 0)


def test_a_freed_plan_is_never_returned(rng):
    a = spd(rng, 4)
    path = Stateless("test-freed")
    _, plan = path(type(gpmath.solver.Cholesky(a, **CPU)), (a,), {}, "cpu", with_plan=True)
    plan.free()
    np.testing.assert_allclose(path(type(plan), (a,), {}, "cpu"), scipy.linalg.cholesky(a))
    info = path.cache.info()
    assert (info.hits, info.misses, info.size) == (0, 2, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_small_numpy_products_are_numpys_without_a_plan(rng, dtype):
    """A small product of two NumPy matrices that the CPU would compute is NumPy's own, at once;
    options, batches, mixed dtypes, larger products and forced GPU placement take the planner."""
    gpmath.set_placement(None)  # automatic placement, as users have it (conftest forces "cuda")
    since = counted("matmul")
    a, b = (rng.random((8, 8)) + (1j * rng.random((8, 8)) if dtype.startswith("c") else 0)).astype(dtype), rng.random((8, 5)).astype(dtype)
    for call in (lambda: gpmath.matmul(a, b), lambda: gpmath.matmul(a, b, **CPU), lambda: gpmath.matmul(a, b, execution="auto")):
        result = call()
        assert type(result) is np.ndarray and result.dtype == dtype
        np.testing.assert_array_equal(result, a @ b)
    assert since()[:2] == (0, 0)
    np.testing.assert_allclose(gpmath.matmul(a, b, alpha=2.0, **CPU), 2 * (a @ b), rtol=1e-5)
    assert since()[:2] == (0, 1)
    with pytest.raises(ValueError, match="b"):  # the planner's error, naming the operand
        gpmath.matmul(a, b[:7], **CPU)
    misses = since()[1]
    gpmath.set_placement("cuda")  # the GPU forced (the CPU engine computes where there is none)
    np.testing.assert_allclose(gpmath.matmul(a, b), a @ b, rtol=1e-5)
    assert since()[1] == misses + 1


def test_plans_are_per_thread(rng):
    since = counted("matmul")
    a, b = rng.random((2, 3, 3)), rng.random((3, 3))
    gpmath.matmul(a, b, **CPU)
    thread = threading.Thread(target=lambda: gpmath.matmul(a, b, **CPU))
    thread.start()
    thread.join()
    assert since() == (0, 2, 2)


def test_eviction_frees_the_least_recently_used_plan(rng):
    path = Stateless("test-evict")
    path.cache.set_limits(maxsize=1)
    a = rng.random((3, 3))
    _, first = path(Matmul, (a, a, None, None), {}, "cpu", with_plan=True)
    _, second = path(Matmul, (a[:2], a, None, None), {}, "cpu", with_plan=True)
    assert first.freed and not second.freed
    assert path.cache.info().size == 1


def test_maxsize_zero_caches_nothing(rng):
    path = Stateless("test-none")
    path.cache.set_limits(maxsize=0)
    a = rng.random((3, 3))
    result, plan = path(Matmul, (a, a, None, None), {}, "cpu", with_plan=True)
    np.testing.assert_allclose(result, a @ a)
    assert plan.freed and path.cache.info().size == 0


def test_set_cache_limits_shrinks_and_evicts(rng):
    before = gpmath.get_cache_limits("fft")
    try:
        for n in (PAST, PAST + 1, PAST + 2):
            gpmath.fft.fft(rng.random(n), **CPU)
        assert counts("fft")[2] == 3
        gpmath.set_cache_limits("fft", maxsize=1)
        assert gpmath.get_cache_limits("fft") == (1, before.max_bytes)
        assert counts("fft")[2] == 1
        assert gpmath.get_cache_limits()["fft"].maxsize == 1
    finally:
        gpmath.set_cache_limits("fft", maxsize=before.maxsize)


def test_cache_limits_reject_bad_values():
    with pytest.raises(ValueError, match="no plan cache"):
        gpmath.set_cache_limits("nope", maxsize=1)
    with pytest.raises(ValueError, match="non-negative"):
        gpmath.set_cache_limits("fft", maxsize=-1)


def test_limits_come_from_the_environment_at_creation(monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_SIZE", "7")
    monkeypatch.setenv("GPMATH_CACHE_BYTES", "1000")
    monkeypatch.setenv("GPMATH_TEST_ENV_CACHE_SIZE", "3")
    assert PlanCache("test-env").info()[3:] == (3, 0, 1000)
    assert PlanCache("test-other").info()[3:] == (7, 0, 1000)


def test_environment_limits_apply_to_gpmath_caches():
    env = dict(os.environ, GPMATH_CACHE_SIZE="5", GPMATH_FFT_CACHE_SIZE="2", GPMATH_LINALG_CACHE_BYTES="4096")
    code = "import json, gpmath; print(json.dumps(gpmath.get_cache_limits()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    limits = json.loads(out)
    assert limits["matmul"][0] == 5 and limits["fft"][0] == 2 and limits["linalg"] == [5, 4096]


def test_a_planner_used_directly_never_touches_the_cache(rng):
    since = counted("matmul")
    a = rng.random((3, 3))
    with Matmul(a, a, **CPU) as plan:
        plan.plan()
        for _ in range(3):
            plan.execute()
    assert since() == (0, 0, 0)


def test_a_released_plan_refuses_to_execute_until_rebound(rng):
    a, x = rng.random((3, 3)), rng.random(8) + 0j
    for plan, operands, run in ((Matmul(a, a, **CPU), (a, a), {}),
                                (gpmath.fft.FFT(x, **CPU), (x,), {}),
                                (gpmath.fft.DCT(x.real, **CPU), (x.real,), {}),
                                (gpmath.solver.Cholesky(spd(rng, 3), **CPU), (spd(rng, 3),), {"check": True})):
        with plan:
            plan.plan()
            plan.release_operands()
            with pytest.raises(ValueError, match="no operand"):
                plan.execute(**run)
            plan.reset_operands(*operands)
            plan.execute(**run)


def _engines():
    for cuda, cpu, _ in engines.TABLE.values():
        yield engines._load(cuda)
        yield engines._load(cpu)


def _planners():
    """Every planner class that makes plans itself (not a front that picks an engine)."""
    import gpmath.fft._r2r_planner  # noqa: F401 (the DCT/DST planners)
    import gpmath.linalg._eigh  # noqa: F401 (the generalized eigh planner)
    from gpmath.solver._base import SolverPlan

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    for cls in sorted(set(below(Planner)), key=lambda c: (c.__module__, c.__name__)):
        if cls.__name__ not in engines.TABLE and cls is not SolverPlan and cls.__module__.startswith("gpmath."):
            yield cls


@pytest.mark.parametrize("planner", list(_planners()), ids=lambda planner: planner.__name__)
def test_every_planner_implements_the_protocol(planner):
    for name in PROTOCOL:
        assert getattr(planner, name) is not getattr(Planner, name), f"{planner.__name__} lacks {name}"


@pytest.mark.parametrize("engine", list(_engines()), ids=lambda engine: engine.__name__)
def test_every_engine_implements_the_protocol(engine):
    assert issubclass(engine, Planner)
    for name in PROTOCOL:
        assert getattr(engine, name) is not getattr(Planner, name), f"{engine.__name__} lacks {name}"
    assert engine.operand_names


class _Plan:
    """A stand-in plan for the lanes' bookkeeping."""

    def __init__(self):
        self.freed, self.nbytes = False, 0

    def free(self):
        self.freed = True


def test_a_lane_finds_its_cached_plan_counts_a_hit_and_dies_with_it():
    plans = PlanCache("test-lanes", maxsize=2)
    first, second = _Plan(), _Plan()
    plans.put(("k1",), first)
    plans.keep_lane(("lane1",), ("k1",), first)
    assert plans.lane(("lane1",)) is first and plans.lane(("other",)) is None
    assert plans.info().hits == 1
    plans.put(("k2",), second)
    plans.keep_lane(("lane2",), ("k2",), second)
    plans.lane(("lane1",))  # first becomes the most recently used: second is evicted next
    plans.put(("k3",), _Plan())
    assert second.freed and not first.freed
    assert plans.lane(("lane2",)) is None and plans.lane(("lane1",)) is first
    plans.clear()
    assert plans.lane(("lane1",)) is None
    assert plans.lane(([],)) is None  # an unhashable key finds nothing
    plans.keep_lane(([],), ("k1",), first)  # and keeps nothing


def test_lanes_are_per_thread_and_bounded():
    plans = PlanCache("test-lanes-bound", maxsize=2)
    plan = _Plan()
    plans.put(("k",), plan)
    plans.keep_lane(("lane",), ("k",), plan)
    found = []
    thread = threading.Thread(target=lambda: found.append(plans.lane(("lane",))))
    thread.start()
    thread.join()
    assert found == [None]
    dead = _Plan()
    dead.freed = True
    for i in range(3):
        plans.keep_lane(("dead", i), ("gone",), dead)
    plans.keep_lane(("late",), ("k",), plan)  # the fifth lane: the dead ones go first
    assert plans.lane(("lane",)) is plan and plans.lane(("late",)) is plan
    assert len(plans._local.lanes) == 2


def test_host_arrays_have_no_lane_key():
    from gpmath._core.stateless import lane_key

    a = np.ones((2, 2))
    assert lane_key("tag", a) is None and lane_key("tag", a, a) is None
    assert lane_key("tag", [1.0, 2.0]) is None


def test_execute_with_releases_the_operands_even_when_execute_raises(rng):
    from gpmath._errors import FreedPlanError

    a = rng.random((3, 3))
    plan = Matmul(a, a, **CPU).plan()
    assert np.allclose(plan.execute_with(a, 2 * a), a @ (2 * a))
    with pytest.raises(ValueError, match="no operand"):
        plan.execute()
    with pytest.raises(TypeError):
        plan.execute_with(a, a, unknown=1)
    with pytest.raises(ValueError, match="no operand"):
        plan.execute()
    plan.free()
    with pytest.raises(FreedPlanError):
        plan.execute_with(a, a)


def test_clearing_frees_another_live_threads_plans_only_at_its_next_lookup():
    """A clear from one thread never frees a plan another thread may be running: that thread's
    plans leave the cache at once (its lanes die) and are freed at its next lookup; an ended
    thread's at the next clear."""
    plans = PlanCache("test-clear", maxsize=4)
    mine, theirs, orphan = _Plan(), _Plan(), _Plan()
    plans.put(("k",), mine)
    planted, cleared, seen = threading.Event(), threading.Event(), {}

    def worker():
        plans.put(("k",), theirs)
        plans.keep_lane(("lane",), ("k",), theirs)
        planted.set()
        cleared.wait()
        seen["freed before"] = theirs.freed
        seen["lane"] = plans.lane(("lane",))
        seen["freed after"] = theirs.freed

    thread = threading.Thread(target=worker)
    thread.start()
    planted.wait()
    plans.clear()
    assert mine.freed and not theirs.freed and plans.info().size == 0
    cleared.set()
    thread.join()
    assert seen == {"freed before": False, "lane": None, "freed after": True}
    ended = threading.Thread(target=lambda: plans.put(("k",), orphan))
    ended.start()
    ended.join()
    plans.clear()
    assert orphan.freed
