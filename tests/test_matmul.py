"""gpmath.matmul and gpmath.blas.Matmul against NumPy in float64 (the oracle pattern).

The same bodies run on NumPy arrays (GPU if present, else the CPU path) and, on a GPU machine,
on torch and CuPy arrays.
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpmath
from gpmath.blas import Matmul
from gpmath.blas._cpu import apply_epilog
from helpers import examples, random_array, relative_error, to_numpy, to_package, tolerance

gpu = pytest.mark.gpu
PACKAGES = ["numpy", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]
DTYPES = ["float16", "float32", "float64", "complex64", "complex128"]


def _ref(x, dtype_name):
    """The reference value of *x* as rounded to *dtype_name* (bfloat16 through torch)."""
    if dtype_name == "bfloat16":
        return x
    return x.astype(dtype_name).astype(np.complex128 if np.iscomplexobj(x) else np.float64)


def _operands(rng, package, dtype, *shapes):
    arrays = [random_array(rng, s, dtype) for s in shapes]
    converted = [to_package(x, package, dtype) for x in arrays]
    return converted, [to_numpy(x) for x in converted]


def _check(result, reference, dtype, k=1):
    err = relative_error(result, reference)
    assert err < tolerance(dtype, k), f"relative error {err:.3g} for {dtype}"


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((7, 5), (5, 3)), ((64, 33), (33, 17)), ((1, 9), (9, 1))])
def test_dtypes_and_shapes(rng, package, dtype, shapes):
    (a, b), (ra, rb) = _operands(rng, package, dtype, *shapes)
    d = gpmath.matmul(a, b)
    assert type(d) is type(a)
    _check(d, ra @ rb, dtype, shapes[0][1])


@gpu
def test_bfloat16_torch(rng):
    (a, b), (ra, rb) = _operands(rng, "torch", "bfloat16", (40, 30), (30, 20))
    d = gpmath.matmul(a, b)
    assert d.dtype == a.dtype
    _check(d, ra @ rb, "bfloat16")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("shapes", [((6,), (6, 4)), ((5, 6), (6,)), ((6,), (6,)), ((3, 5, 6), (6,)), ((6,), (2, 6, 4))])
def test_one_dimensional_operands(rng, package, shapes):
    (a, b), (ra, rb) = _operands(rng, package, "float64", *shapes)
    d = gpmath.matmul(a, b)
    expected = np.matmul(ra, rb)
    assert tuple(d.shape) == expected.shape
    _check(d, expected, "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("shapes", [((4, 3, 5), (5, 2)), ((3, 5), (4, 5, 2)), ((2, 1, 3, 5), (4, 5, 2)), ((1, 3, 5), (6, 5, 2))])
def test_batch_broadcast(rng, package, shapes):
    (a, b), (ra, rb) = _operands(rng, package, "float32", *shapes)
    _check(gpmath.matmul(a, b), np.matmul(ra, rb), "float32", 5)


def _t(x):
    """Swap the last two axes in any package."""
    return x.transpose(-1, -2) if type(x).__module__.startswith("torch") else x.swapaxes(-1, -2)


VIEWS = {
    "a_transposed": lambda a, b: (_t(b[0]), _t(a[0])),
    "b_transposed": lambda a, b: (a[0], _t(a[1])),
    "row_slice": lambda a, b: (a[0][2:9], b[0]),
    "col_slice": lambda a, b: (a[0][:, 1:7], b[0][1:7, :]),
    "every_other": lambda a, b: (a[0][::2, ::2], b[0][::2, ::3]),
    "batch_transposed": lambda a, b: (_t(b), _t(a)),
    "batch_strided": lambda a, b: (a[::2], b[::2]),
    "batch_of_slices": lambda a, b: (a[:, 1:5, :], b[:, :, 2:9]),
}


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_transposed_and_strided_views(rng, package, view):
    (a, b), (ra, rb) = _operands(rng, package, "float64", (4, 12, 10), (4, 10, 12))
    sa, sb = VIEWS[view](a, b)
    na, nb = VIEWS[view](ra, rb)
    _check(gpmath.matmul(sa, sb), np.matmul(na, nb), "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_alpha_beta_c(rng, package, dtype):
    (a, b, c), (ra, rb, rc) = _operands(rng, package, dtype, (3, 8, 6), (3, 6, 5), (3, 8, 5))
    alpha, beta = (0.5 + 0.25j, -1.5j) if dtype.startswith("complex") else (0.5, -1.5)
    _check(gpmath.matmul(a, b, c, alpha=alpha, beta=beta), alpha * (ra @ rb) + beta * rc, dtype, 6)
    _check(gpmath.matmul(a, b, c), ra @ rb + rc, dtype, 6)  # beta defaults to 1 with c


@pytest.mark.parametrize("package", PACKAGES)
def test_c_broadcast_over_batch(rng, package):
    (a, b, c), (ra, rb, rc) = _operands(rng, package, "float64", (4, 8, 6), (6, 5), (8, 5))
    _check(gpmath.matmul(a, b, c, beta=2.0), ra @ rb + 2.0 * rc, "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("epilog", ["relu", "gelu", "bias", "bias_relu", "bias_gelu"])
def test_epilogs(rng, package, dtype, epilog):
    (a, b, bias), (ra, rb, rbias) = _operands(rng, package, dtype, (16, 24), (24, 8), (8,))
    kwargs = {"bias": bias} if epilog.startswith("bias") else {}
    expected = apply_epilog(ra @ rb, epilog, rbias if kwargs else None)
    _check(gpmath.matmul(a, b, epilog=epilog, **kwargs), expected, dtype, 24)


@pytest.mark.parametrize("package", PACKAGES)
def test_out_and_in_place(rng, package):
    (a, b, c, out), (ra, rb, rc, _) = _operands(rng, package, "float64", (6, 4), (4, 5), (6, 5), (6, 5))
    result = gpmath.matmul(a, b, out=out)
    assert result is out
    _check(out, ra @ rb, "float64")
    result = gpmath.matmul(a, b, c, out=c, beta=-1.0)
    assert result is c
    _check(c, ra @ rb - rc, "float64")
    with pytest.raises(ValueError, match="out overlaps a"):
        gpmath.matmul(a, b[:, :4] if package != "torch" else b[:, :4], out=a[:, :4])


@pytest.mark.parametrize("package", PACKAGES)
def test_results_belong_to_caller(rng, package):
    (a, b, a2), (ra, rb, ra2) = _operands(rng, package, "float64", (5, 4), (4, 3), (5, 4))
    first = gpmath.matmul(a, b)
    second = gpmath.matmul(a2, b)
    _check(first, ra @ rb, "float64")
    _check(second, ra2 @ rb, "float64")


@pytest.mark.parametrize("package", PACKAGES)
def test_planner_lifecycle(rng, package):
    (a, b, a2, b2), (ra, rb, ra2, rb2) = _operands(rng, package, "float32", (2, 9, 7), (2, 7, 4), (2, 9, 7), (2, 7, 4))
    plan = Matmul(a, b, alpha=2.0)
    assert "unplanned" in repr(plan)
    plan.plan()
    _check(plan.execute(), 2 * (ra @ rb), "float32", 7)
    plan.reset_operands(a=a2)
    _check(plan.execute(), 2 * (ra2 @ rb), "float32", 7)
    plan.reset_operands_unchecked(b=b2)
    _check(plan.execute(), 2 * (ra2 @ rb2), "float32", 7)
    with pytest.raises(ValueError, match="shape"):
        plan.reset_operands(a=to_package(random_array(rng, (2, 9, 6), "float32"), package, "float32"))
    with pytest.raises(ValueError, match="without c"):
        plan.reset_operands(c=a)
    plan.free()
    plan.free()  # idempotent
    assert "freed" in repr(plan)
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()


@pytest.mark.parametrize("package", PACKAGES)
def test_planner_context_manager_and_autotune(rng, package):
    (a, b), (ra, rb) = _operands(rng, package, "float32", (48, 40), (40, 24))
    with Matmul(a, b) as plan:
        plan.plan()
        timings = plan.autotune(iterations=3)
        assert isinstance(timings, dict)
        _check(plan.execute(), ra @ rb, "float32", 40)
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()


def test_cache_reuse_and_clear(rng):
    a, b = rng.standard_normal((8, 6)), rng.standard_normal((6, 4))
    gpmath.cache_clear()
    before = gpmath.cache_info()["matmul"]
    gpmath.matmul(a, b)
    gpmath.matmul(rng.standard_normal((8, 6)), b)
    info = gpmath.cache_info()["matmul"]
    assert info.misses == before.misses + 1 and info.hits == before.hits + 1 and info.size == 1
    gpmath.cache_clear()
    assert gpmath.cache_info()["matmul"].size == 0


def test_cache_is_bounded():
    from gpmath._core.cache import PlanCache

    class Plan:
        nbytes = 10
        freed = False

        def free(self):
            self.freed = True

    cache = PlanCache("test-bounded", maxsize=2, max_bytes=25)
    plans = [cache.get_or_create(i, Plan) for i in range(3)]
    assert plans[0].freed and not plans[2].freed
    assert cache.info().size == 2
    cache.clear()
    assert all(p.freed for p in plans)


def test_cache_never_frees_a_plan_of_another_live_thread():
    """A thread's inserts evict its own plans and those of ended threads, not those another
    running thread may be executing."""
    import threading

    from gpmath._core.cache import PlanCache

    class Plan:
        nbytes = 0
        freed = False

        def free(self):
            self.freed = True

    cache = PlanCache("test-threads", maxsize=2)
    theirs, ended, go_on = {}, {}, threading.Event()

    def keep_running():
        theirs["plan"] = cache.get_or_create("theirs", Plan)
        go_on.wait(10)

    def finish():
        ended["plan"] = cache.get_or_create("ended", Plan)

    running = threading.Thread(target=keep_running)
    running.start()
    finished = threading.Thread(target=finish)
    finished.start()
    finished.join()
    while "plan" not in theirs:
        pass
    mine = [cache.get_or_create(i, Plan) for i in range(3)]  # over the bound: the ended thread's, then mine go
    assert ended["plan"].freed and not theirs["plan"].freed
    assert mine[0].freed and mine[1].freed and not mine[2].freed and cache.info().size == 2
    go_on.set()
    running.join()
    cache.get_or_create(3, Plan)  # the other thread has ended: its plan may go now
    assert theirs["plan"].freed and not mine[2].freed
    cache.release()
    assert mine[2].freed and cache.info().size == 0


def test_execution_cpu_matches(rng):
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    _check(gpmath.matmul(a, b, execution="cpu"), a @ b, "float64")


@pytest.mark.skipif(gpmath.device_count() > 0, reason="checks the no-GPU error; a GPU is present")
def test_execution_cuda_without_gpu_raises(rng):
    with pytest.raises(gpmath.NoGPUError, match="no GPU"):
        gpmath.matmul(rng.standard_normal((2, 2)), rng.standard_normal((2, 2)), execution="cuda")


@pytest.mark.parametrize(
    "a_shape, b_shape, kwargs, error, match",
    [
        ((3, 4), (5, 6), {}, ValueError, r"\(3, 4\).*\(5, 6\).*4 != 5"),
        ((2, 3, 4), (3, 4, 5), {}, ValueError, "do not broadcast"),
        ((0, 3, 4), (3, 4, 5), {}, ValueError, "do not broadcast"),
        ((3, 4), (4, 5), {"c": np.ones((2, 3, 5))}, ValueError, "c has batch shape"),
        ((), (3,), {}, ValueError, "0-d"),
        ((3, 4), (4, 5), {"epilog": "tanh"}, ValueError, "epilog must be"),
        ((3, 4), (4, 5), {"epilog": "bias"}, ValueError, "bias= must be given"),
        ((3, 4), (4, 5), {"beta": 2.0}, ValueError, "beta=2.0 needs c"),
        ((3, 4), (4, 5), {"compute": "tf32"}, ValueError, "float32 and complex64"),
        ((3, 4), (4, 5), {"compute": "int8"}, ValueError, "compute must be"),
        ((3, 4), (4, 5), {"execution": "tpu"}, ValueError, "execution must be"),
        ((3, 4), (4, 5), {"alpha": "2"}, TypeError, "alpha must be"),
        ((3, 4), (4, 5), {"alpha": 1j}, TypeError, "alpha is complex"),
    ],
)
def test_bad_arguments(rng, a_shape, b_shape, kwargs, error, match):
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    with pytest.raises(error, match=match):
        gpmath.matmul(a, b, **kwargs)


def test_bad_dtypes_and_types(rng):
    a = rng.standard_normal((3, 4))
    with pytest.raises(TypeError, match="b has dtype int64"):
        gpmath.matmul(a, np.ones((4, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="a is float64 but b is float32"):
        gpmath.matmul(a, np.ones((4, 2), dtype=np.float32))
    assert gpmath.matmul([[1.0, 2.0]], [[3.0], [4.0]]).tolist() == [[11.0]]  # array-likes, as NumPy reads them
    with pytest.raises(ValueError, match="b is not a regular array"):
        gpmath.matmul(a, [[1.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="c has shape"):
        gpmath.matmul(a, a.T, c=np.ones(3))
    with pytest.raises(ValueError, match="bias has shape"):
        gpmath.matmul(a, a.T, epilog="bias", bias=np.ones(4))
    with pytest.raises(ValueError, match="out has shape"):
        gpmath.matmul(a, a.T, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="out is float32"):
        gpmath.matmul(a, a.T, out=np.empty((3, 3), dtype=np.float32))


@gpu
def test_mixed_packages_rejected(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="numpy array but b is a torch array"):
        gpmath.matmul(a, torch.ones((4, 2), dtype=torch.float64, device="cuda"))


@settings(max_examples=examples(40), deadline=None)
@given(
    m=st.integers(1, 9), k=st.integers(1, 9), n=st.integers(1, 9), batch=st.lists(st.integers(1, 3), max_size=2),
    ta=st.booleans(), tb=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_property_shapes_and_transposes(m, k, n, batch, ta, tb, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((*batch, k, m) if ta else (*batch, m, k))
    b = rng.standard_normal((*batch, n, k) if tb else (*batch, k, n))
    a = np.swapaxes(a, -1, -2) if ta else a
    b = np.swapaxes(b, -1, -2) if tb else b
    _check(gpmath.matmul(a, b), np.matmul(a, b), "float64")


def _on_cpu(x: np.ndarray, package: str):
    """*x* as a host array of *package* ("numpy" or "torch", skipped without torch)."""
    if package == "torch":
        return pytest.importorskip("torch").from_numpy(x)
    return x


@pytest.mark.parametrize(
    "a_batch, b_batch",
    [((0,), ()), ((0,), (1,)), ((1,), (0,)), ((2, 0), (1, 1)), ((0,), (3,)), ((2, 1), (3,)), ((0, 2), (2, 0))],
)
def test_broadcast_batch_follows_numpy(a_batch, b_batch):
    from gpmath._core.shapes import broadcast_batch

    try:
        expected = np.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        with pytest.raises(ValueError, match="do not broadcast"):
            broadcast_batch(a_batch, b_batch, a_batch, b_batch)
        return
    assert broadcast_batch(a_batch, b_batch, a_batch, b_batch) == expected


EMPTY_SHAPES = [((0, 3, 4), (4, 5)), ((0, 3, 4), (1, 4, 5)), ((3, 0, 2, 4), (4, 5)), ((0, 4), (4, 5)),
                ((3, 4), (4, 0)), ((3, 0), (0, 5)), ((2, 3, 0), (0, 5)), ((0,), (0,)), ((0,), (0, 5)), ((3, 0), (0,))]


@pytest.mark.parametrize("package", ["numpy", "torch"])
@pytest.mark.parametrize("a_shape, b_shape", EMPTY_SHAPES)
def test_empty_operands_on_the_cpu(rng, package, a_shape, b_shape):
    ra, rb = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    expected = np.matmul(ra, rb)
    d = gpmath.matmul(_on_cpu(ra, package), _on_cpu(rb, package), execution="cpu")
    assert tuple(d.shape) == expected.shape
    _check(d, expected, "float64")


@pytest.mark.parametrize("package", ["numpy", "torch"])
@pytest.mark.parametrize("epilog", [None, "relu", "bias", "bias_relu"])
def test_empty_contraction_is_beta_c_plus_epilog(rng, package, epilog):
    ra, rb, rc, rbias = (rng.standard_normal(s) for s in ((2, 3, 0), (0, 5), (1, 3, 5), (5,)))
    expected = 0.5 * rc + (rbias if epilog and epilog.startswith("bias") else 0)
    expected = np.maximum(expected, 0) if epilog and epilog.endswith("relu") else expected
    bias = _on_cpu(rbias, package) if epilog and epilog.startswith("bias") else None
    a, b, c = (_on_cpu(x, package) for x in (ra, rb, rc))
    _check(gpmath.matmul(a, b, c, alpha=3.0, beta=0.5, epilog=epilog, bias=bias, execution="cpu"), expected, "float64")


@pytest.mark.parametrize("a_shape, b_shape", EMPTY_SHAPES)
def test_empty_layout_calls_nothing_or_has_valid_leading_dimensions(a_shape, b_shape):
    from gpmath._core.operand import as_operand
    from gpmath._core.shapes import compact_strides
    from gpmath.blas._layout import lt_layout
    from gpmath.blas._problem import describe, out_matrix

    problem = describe(as_operand(np.empty(a_shape), "a"), as_operand(np.empty(b_shape), "b"))
    assert problem.out_shape == np.matmul(np.empty(a_shape), np.empty(b_shape)).shape
    layout = lt_layout(problem, out_matrix(problem, compact_strides(problem.out_shape)))
    if np.matmul(np.empty(a_shape), np.empty(b_shape)).size == 0:
        assert layout.outer_offsets == ()
    for x in (layout.a, layout.b, layout.d):
        assert x.ld >= max(x.rows, 1)


def _layout_of(a, b):
    from gpmath._core.operand import as_operand
    from gpmath._core.shapes import compact_strides
    from gpmath.blas._layout import lt_layout
    from gpmath.blas._problem import describe, out_matrix

    problem = describe(as_operand(a, "a"), as_operand(b, "b"))
    return problem, lt_layout(problem, out_matrix(problem, compact_strides(problem.out_shape)))


def _calls(layout):
    """Element offsets (user a, user b, d) of every matrix the layout's calls compute."""
    return sorted((off_a + i * layout.b.batch_stride, off_b + i * layout.a.batch_stride, off_d + i * layout.d.batch_stride)
                  for off_a, off_b, _, off_d in layout.outer_offsets for i in range(layout.batch_count))


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 100])
@pytest.mark.parametrize("a_shape, b_shape", [((12, 2, 3), (3, 4)), ((2, 6, 2, 3), (6, 3, 4)), ((5, 2, 3), (5, 3, 4))])
def test_layout_cuts_a_batch_above_the_limit_into_equal_calls(monkeypatch, limit, a_shape, b_shape):
    import gpmath.blas._layout as layout_module
    from gpmath._core.shapes import compact_strides

    monkeypatch.setattr(layout_module, "MAX_BATCH_COUNT", limit)
    problem, layout = _layout_of(np.empty(a_shape), np.empty(b_shape))
    assert layout.batch_count <= limit
    strides = [problem.a.batch_strides, problem.b.batch_strides, compact_strides(problem.out_shape)[:len(problem.batch_shape)]]
    expected = sorted(tuple(sum(i * s for i, s in zip(index, st)) for st in strides) for index in np.ndindex(problem.batch_shape))
    assert _calls(layout) == expected


def test_layout_of_a_batch_past_int32_makes_equal_calls_within_it():
    from numpy.lib.stride_tricks import as_strided

    count = 2**31 + 1  # 3 * 715827883: no memory, the operand is a strided view
    a = as_strided(np.empty(6), shape=(count, 2, 3), strides=(48, 24, 8))
    _, layout = _layout_of(a, np.empty((3, 4)))
    assert layout.batch_count <= 2**31 - 1
    assert layout.batch_count * len(layout.outer_offsets) == count
    starts = sorted(off[0] for off in layout.outer_offsets)
    assert starts == [k * layout.batch_count * 6 for k in range(len(starts))]
    assert [off[3] for off in sorted(layout.outer_offsets)] == [k * layout.batch_count * 8 for k in range(len(starts))]


def test_layout_refuses_a_batch_it_cannot_cut(monkeypatch):
    import gpmath.blas._layout as layout_module

    monkeypatch.setattr(layout_module, "MAX_BATCH_COUNT", 2)
    monkeypatch.setattr(layout_module, "MAX_SPLIT_CALLS", 4)
    with pytest.raises(ValueError, match="batch of 13 matrices"):
        _layout_of(np.empty((13, 2, 3)), np.empty((3, 4)))


@pytest.mark.parametrize("package", ["numpy", "torch"])
def test_vector_dot_vector_is_zero_dimensional(rng, package):
    ra, rb = rng.standard_normal(5), rng.standard_normal(5)
    d = gpmath.matmul(_on_cpu(ra, package), _on_cpu(rb, package), execution="cpu")
    assert tuple(d.shape) == np.matmul(ra, rb).shape == ()
    _check(d, np.matmul(ra, rb), "float64")


def test_layout_of_vector_dot_vector_writes_one_element():
    problem, layout = _layout_of(np.empty(5), np.empty(5))
    assert problem.out_shape == ()
    assert (layout.m, layout.n, layout.k, layout.batch_count, layout.outer_offsets) == (1, 1, 5, 1, ((0, 0, 0, 0),))
    assert (layout.d.rows, layout.d.cols, layout.d.ld) == (1, 1, 1)


@pytest.mark.parametrize("alias", ["a", "b", "shifted a", "b.T"])
def test_cpu_execute_refuses_an_out_that_aliases_an_operand(rng, alias):
    memory = rng.standard_normal((4, 3))
    a, b = memory[:3], rng.standard_normal((3, 3))
    out = {"a": a, "b": b, "shifted a": memory[1:], "b.T": b.T}[alias]
    with Matmul(a, b, execution="cpu") as mm:
        with pytest.raises(ValueError, match="out overlaps"):
            mm.execute(out=out)
        free = np.empty((3, 3))
        assert mm.execute(out=free) is free
        _check(free, a @ b, "float64")


def test_cpu_execute_checks_an_out_once_for_the_operands_bound(rng, monkeypatch):
    """The same out and the same operands again: no new check (no DLPack record of out); an operand
    rebound to out's memory, or a new binding after release_operands, is checked again."""
    from gpmath.blas import _cpu

    a, b, out = rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), np.empty((3, 3))
    records = []
    real = _cpu.as_operand
    monkeypatch.setattr(_cpu, "as_operand", lambda x, name, *rest: records.append(name) or real(x, name, *rest))
    with Matmul(a, b, execution="cpu") as mm:
        for _ in range(3):
            assert mm.execute(out=out) is out
            _check(out, a @ b, "float64")
        assert records.count("out") == 1
        a2 = rng.standard_normal((3, 4))
        mm.reset_operands_unchecked(a=a2)
        mm.execute(out=out)
        _check(out, a2 @ b, "float64")
        assert records.count("out") == 2
        aliased = np.empty((4, 3))
        mm.reset_operands_unchecked(b=aliased)
        with pytest.raises(ValueError, match="out overlaps"):
            mm.execute(out=aliased[:3])
        mm.release_operands()
        mm.reset_operands_unchecked(a=a, b=b)
        mm.execute(out=out)
        assert records.count("out") == 4
        held = weakref.ref(out)
        mm.release_operands()  # and the plan keeps no reference to the out it checked
        del out
        assert held() is None


def test_cpu_execute_out_may_be_c_in_place(rng):
    a, b, c = (rng.standard_normal((3, 3)) for _ in range(3))
    expected = a @ b + c
    with Matmul(a, b, c, execution="cpu") as mm:
        assert mm.execute(out=c) is c
    _check(c, expected, "float64")


def test_cpu_plan_takes_the_cuda_plan_limits_and_checks_them():
    a = np.ones((3, 3))
    with Matmul(a, a, execution="cpu") as mm:
        assert mm.plan(max_workspace=1 << 20, max_algorithms=4) is mm
        assert mm.autotune(iterations=3) == {} and mm.autotune_timings == {}
        np.testing.assert_allclose(mm.execute(), a @ a)
        with pytest.raises(ValueError, match="max_algorithms must be >= 1"):
            mm.plan(max_algorithms=0)
        with pytest.raises(TypeError, match="max_workspace must be an int"):
            mm.plan(max_workspace=1.5)
