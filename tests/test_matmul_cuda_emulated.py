"""CudaMatmul's logic on the CPU: cuBLASLt, device memory and streams replaced by a NumPy model.

The model plays cuBLASLt's part at the ctypes boundary: descriptors and layouts record what the
engine sets (operations, epilogue, bias pointer, batch count and strides), the heuristic offers
one algorithm, and ``cublasLtMatmul`` reads and writes column-major matrices at raw addresses
(leading dimensions, batch strides and all), computing ``D = epilogue(alpha op(A) op(B) + beta C
+ bias)`` with NumPy.  Device buffers are host buffers, so host operands exercise the staging path
unchanged and NumPy arrays posing as device arrays exercise the direct path (the engine's layout
analysis, transposes, batch folding and loops).  The same products run on cuBLASLt itself in
``test_matmul.py`` on a GPU machine.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import types

import numpy as np
import pytest

import gpmath
from gpmath._bindings import cublaslt as real_lt
from gpmath.blas import Matmul, _cuda, _cuda_staging, _cuda_tuning, _lt_descriptors, _planner  # noqa: F401 (_planner: for conftest.on_device)
from gpmath._core import wisdom

from helpers import emulated_block_pipeline, emulated_device, lanes_on_numpy

_DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 4: np.complex64, 5: np.complex128}
_SCALES = {0: np.float32, 1: np.float64, 4: np.complex64, 5: np.complex128}


def _matrices(ptr: int, dtype, rows: int, cols: int, ld: int, batch: int, stride: int) -> np.ndarray:
    """Writable views ``(batch, rows, cols)`` of column-major matrices at *ptr*."""
    dtype = np.dtype(dtype)
    span = ((batch - 1) * stride + (cols - 1) * ld + rows) if rows and cols and batch else 0
    raw = np.frombuffer((ctypes.c_byte * (max(span, 1) * dtype.itemsize)).from_address(ptr), dtype=dtype)
    return np.lib.stride_tricks.as_strided(raw, (batch, rows, cols),
                                           (stride * dtype.itemsize, dtype.itemsize, ld * dtype.itemsize))


class FakeLt(types.SimpleNamespace):
    """cuBLASLt's descriptors, heuristics and ``cublasLtMatmul`` over host memory."""

    def __init__(self):
        super().__init__()
        self.objects: dict[int, dict] = {}
        self.calls = 0
        self._next = 1
        self.candidates = 1  # heuristic results, told apart by their algorithm's first word (1, 2, ...)
        self.refused: set[int] = set()  # first words cublasLtMatmulAlgoCheck refuses
        self.refused_splits: set[int] = set()  # split-K counts it refuses
        self.split_k, self.reduction_mask = True, 2 | 4  # the algorithms' capabilities
        self.used: list[int] = []  # the first word of each launch's algorithm
        self.used_splits: list[int] = []  # and its split-K count (word 3; 0 where never set)

    def __getattr__(self, name):
        return getattr(real_lt, name)  # enums, structures, check, status_name

    def _new(self, **fields) -> int:
        handle, self._next = self._next, self._next + 1
        self.objects[handle] = fields
        return handle

    def matmul_desc_create(self, compute, scale):
        return self._new(scale=scale, attrs={})

    def matrix_layout_create(self, dtype, rows, cols, ld):
        assert ld >= max(rows, 1), "cuBLASLt refuses a leading dimension below the rows"
        return self._new(dtype=dtype, rows=rows, cols=cols, ld=ld, attrs={})

    def matmul_preference_create(self):
        return self._new(attrs={})

    def matmul_desc_set_attribute(self, desc, attribute, value):
        self.objects[desc]["attrs"][int(attribute)] = value.value

    matrix_layout_set_attribute = matmul_preference_set_attribute = matmul_desc_set_attribute

    def matmul_desc_destroy(self, handle):
        self.objects.pop(handle)

    matrix_layout_destroy = matmul_preference_destroy = matmul_desc_destroy

    def matmul_algo_get_heuristic(self, handle, desc, a, b, c, d, pref, requested):
        results = [real_lt.HeuristicResult() for _ in range(min(self.candidates, requested))]
        for word, result in enumerate(results, 1):
            result.algo.data[0], result.workspaceSize = word, 1024
        return results

    def matmul_algo_check(self, handle, desc, a, b, c, d, algo):
        if algo.data[0] in self.refused or algo.data[3] in self.refused_splits:
            return None
        result = real_lt.HeuristicResult()
        result.algo, result.workspaceSize = algo, 1024 * max(1, algo.data[3])  # split-K: a larger workspace
        return result

    def algo_cap(self, algo, attribute, value):
        return {real_lt.AlgoCap.SPLITK_SUPPORT: int(self.split_k), real_lt.AlgoCap.REDUCTION_SCHEME_MASK: self.reduction_mask,
                real_lt.AlgoCap.CTA_SWIZZLING_SUPPORT: 1}[attribute]

    def algo_config_set(self, algo, attribute, value):
        algo.data[1 + int(attribute)] = value.value  # SPLITK_NUM: word 3, REDUCTION_SCHEME: word 4

    def get_version(self):
        return 130100

    def matmul_function(self, args):
        real_lt.library.check_arguments("cublasLtMatmul", args)
        return self._matmul

    def _operand(self, ptr, layout: dict, transposed: bool = False) -> np.ndarray:
        batch = layout["attrs"].get(int(real_lt.LayoutAttribute.BATCH_COUNT), 1)
        stride = layout["attrs"].get(int(real_lt.LayoutAttribute.STRIDED_BATCH_OFFSET), 0)
        x = _matrices(int(ptr), _DTYPES[layout["dtype"]], layout["rows"], layout["cols"], layout["ld"], batch, stride)
        return np.swapaxes(x, 1, 2) if transposed else x

    def _matmul(self, handle, desc, alpha, a, a_desc, b, b_desc, beta, c, c_desc, d, d_desc, algo, ws, ws_size, stream):
        self.calls += 1
        used = real_lt.MatmulAlgo.from_address(algo.value)
        self.used.append(used.data[0])
        self.used_splits.append(used.data[3])
        assert used.data[3] <= 1 or ws_size.value >= 1024 * used.data[3], "a split-K algorithm without its workspace"
        desc = self.objects[desc.value]
        attrs, scale = desc["attrs"], _SCALES[desc["scale"]]
        read = lambda p: np.frombuffer((ctypes.c_byte * np.dtype(scale).itemsize).from_address(p.value), scale)[0]
        layouts = [self.objects[x.value] for x in (a_desc, b_desc, c_desc, d_desc)]
        op_a = self._operand(a.value, layouts[0], attrs.get(int(real_lt.DescAttribute.TRANSA), 0) == 1)
        op_b = self._operand(b.value, layouts[1], attrs.get(int(real_lt.DescAttribute.TRANSB), 0) == 1)
        result = read(alpha) * (op_a.astype(np.complex128 if scale().dtype.kind == "c" else np.float64) @ op_b)
        beta_value = read(beta)
        if beta_value != 0:
            result = result + beta_value * self._operand(c.value, layouts[2])
        epilogue = attrs.get(int(real_lt.DescAttribute.EPILOGUE), int(real_lt.Epilogue.DEFAULT))
        if epilogue in (real_lt.Epilogue.BIAS, real_lt.Epilogue.RELU_BIAS, real_lt.Epilogue.GELU_BIAS):
            rows = layouts[3]["rows"]
            bias = _matrices(attrs[int(real_lt.DescAttribute.BIAS_POINTER)], _DTYPES[layouts[3]["dtype"]], rows, 1,
                             rows, 1, 0)[0]
            result = result + bias
        if epilogue in (real_lt.Epilogue.RELU, real_lt.Epilogue.RELU_BIAS):
            result = np.maximum(result, 0)
        if epilogue in (real_lt.Epilogue.GELU, real_lt.Epilogue.GELU_BIAS):
            result = 0.5 * result * (1 + np.tanh(math.sqrt(2 / math.pi) * (result + 0.044715 * result**3)))
        out = self._operand(d.value, layouts[3])
        assert out.shape == result.shape, (out.shape, result.shape)
        out[...] = result
        return 0


@pytest.fixture
def fake(monkeypatch):
    """Route gpmath.blas's CUDA engine to the model; returns the fake cuBLASLt."""
    model = FakeLt()
    monkeypatch.setattr(_cuda, "lt", model)
    monkeypatch.setattr(_cuda_tuning, "lt", model)
    monkeypatch.setattr(_lt_descriptors, "lt", model)
    monkeypatch.setattr(_cuda, "get_handle", lambda *args: 1)
    monkeypatch.setattr(_cuda_staging, "lt", model)
    monkeypatch.setattr(_cuda_staging, "host_empty", np.empty)
    monkeypatch.setattr(_cuda, "order_after", lambda waiting, producer: None)
    monkeypatch.setattr(wisdom, "machine", lambda device_id, library, version: f"emulated GPU, sm_90, {library} {version}")
    monkeypatch.setattr(wisdom, "_store", {})  # each test starts without wisdom, and leaves none
    monkeypatch.setattr(wisdom, "_told", set())
    monkeypatch.setattr(wisdom, "_environment", {"read": True})
    emulated_device(monkeypatch, _cuda)
    emulated_device(monkeypatch, _cuda_staging)
    monkeypatch.setattr(_cuda_tuning, "DeviceBuffer", _cuda.DeviceBuffer)  # (the emulated ones)
    monkeypatch.setattr(_cuda_tuning, "runtime", _cuda.runtime)
    return model


def _reference(a, b, c=None, alpha=1.0, beta=None, bias=None, epilog=None):
    wide = np.complex128 if np.result_type(a, b).kind == "c" else np.float64
    d = alpha * (a.astype(wide) @ b.astype(wide))
    if c is not None:
        d = d + (1.0 if beta is None else beta) * c
    if bias is not None:
        d = d + bias
    if epilog and "relu" in epilog:
        d = np.maximum(d, 0)
    if epilog and "gelu" in epilog:
        d = 0.5 * d * (1 + np.tanh(math.sqrt(2 / math.pi) * (d + 0.044715 * d**3)))
    return d


TOLERANCE = {np.float16: 5e-2, np.float32: 1e-4, np.float64: 1e-12, np.complex64: 1e-4, np.complex128: 1e-12}
LAYOUTS = {"C": lambda x: x, "F": np.asfortranarray, "transposed": lambda x: np.ascontiguousarray(x.swapaxes(-1, -2)).swapaxes(-1, -2),
           "sliced": lambda x: np.repeat(x, 2, axis=-1)[..., ::2]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128, np.float16])
@pytest.mark.parametrize("shapes", [((5, 3), (3, 4)), ((2, 5, 3), (3, 4)), ((3, 1, 4, 2), (2, 2, 5)), ((4,), (4, 3)),
                                    ((1, 6), (6, 1)), ((0, 3), (3, 2)), ((3, 0), (0, 2))], ids=str)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_products_through_the_staged_engine(fake, rng, dtype, shapes, layout):
    """Host operands: staged through device buffers (C order), one cuBLASLt call per batch fold."""
    a, b = (LAYOUTS[layout](rng.standard_normal(s).astype(dtype)) if len(s) > 1 else rng.standard_normal(s).astype(dtype)
            for s in shapes)
    d = gpmath.matmul(a, b, execution="cuda")
    empty = 0 in a.shape or 0 in b.shape  # (an empty product is zeros, made on the host)
    assert isinstance(Matmul.__new__(Matmul, a, b, execution="cuda"), _cuda.CudaMatmul) != empty
    expected = np.matmul(a.astype(np.float64 if np.dtype(dtype).kind != "c" else np.complex128), b)
    assert d.shape == expected.shape and d.dtype == dtype
    np.testing.assert_allclose(d, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * max(1, shapes[0][-1]))


@pytest.mark.parametrize("epilog", [None, "relu", "gelu", "bias", "bias_relu", "bias_gelu"])
@pytest.mark.parametrize("with_c", [False, True])
def test_scales_c_and_epilogues(fake, rng, epilog, with_c):
    a, b = rng.standard_normal((2, 6, 4)), rng.standard_normal((4, 5))
    c = rng.standard_normal((6, 5)) if with_c and epilog is None else None  # cuBLASLt: c or an epilogue here
    bias = rng.standard_normal(5) if epilog and "bias" in epilog else None
    d = gpmath.matmul(a, b, c, alpha=0.5, beta=2.0 if c is not None else None, epilog=epilog, bias=bias,
                      execution="cuda")
    np.testing.assert_allclose(d, _reference(a, b, c, 0.5, 2.0 if c is not None else None, bias, epilog), rtol=1e-12,
                               atol=1e-12)


def test_plans_reuse_their_buffers_and_read_new_values(fake, rng):
    a, b = rng.standard_normal((7, 3)), rng.standard_normal((3, 2))
    with Matmul(a, b, execution="cuda") as plan:
        plan.plan()
        calls = fake.calls
        for _ in range(3):
            a[:] = rng.standard_normal(a.shape)
            np.testing.assert_allclose(plan.execute(), a @ b, rtol=1e-12)
        a2 = rng.standard_normal((7, 3))
        plan.reset_operands(a=a2)
        np.testing.assert_allclose(plan.execute(), a2 @ b, rtol=1e-12)
        assert fake.calls - calls == 4


@pytest.mark.parametrize("batches", list(itertools.product([(), (3,), (2, 1)], repeat=2)), ids=str)
def test_broadcast_batches(fake, rng, batches):
    a, b = rng.standard_normal((*batches[0], 4, 3)), rng.standard_normal((*batches[1], 3, 2))
    np.testing.assert_allclose(gpmath.matmul(a, b, execution="cuda"), np.matmul(a, b), rtol=1e-12)


def _aligned_empty(shape) -> np.ndarray:
    """An uninitialised float64 C-order array whose address is a multiple of 256."""
    raw = np.empty(math.prod(shape) + 32)
    start = (-raw.ctypes.data % 256) // 8
    return raw[start:start + math.prod(shape)].reshape(shape)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)], ids=str)
def test_device_operands_are_read_in_place(on_device, rng, layout, batch):
    """Device operands: transposed and Fortran views are read as they are (cuBLASLt's op and
    leading dimension), strided views copied once; batches fold into strided calls or loops."""
    a = LAYOUTS[layout](rng.standard_normal((*batch, 6, 4)))
    b = LAYOUTS[layout](rng.standard_normal((4, 5)))
    with Matmul(a, b) as plan:
        assert isinstance(plan, _cuda.CudaMatmul) and not plan.staged
        plan.plan()
        np.testing.assert_allclose(plan.execute(), np.matmul(a, b), rtol=1e-12)
        out = _aligned_empty((*batch, 6, 5))  # (device allocators align to 256 bytes; NumPy to 64)
        assert plan.execute(out=out) is out
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-12)


def test_out_may_be_c_itself(on_device, rng):
    a, b, c = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    expected = a @ b + 2 * c
    with Matmul(a, b, c, beta=2.0, out=c) as plan:
        plan.plan()
        assert plan.execute() is c
    np.testing.assert_allclose(c, expected, rtol=1e-12)


def test_an_out_that_overlaps_an_input_is_refused_after_valid_ones(on_device, rng):
    """The layout of an out validated once is trusted; its address is checked at every call."""
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    with Matmul(a, b) as plan:
        plan.plan()
        for _ in range(2):
            out = _aligned_empty((4, 4))
            np.testing.assert_allclose(plan.execute(out=out), a @ b, rtol=1e-12)
        aliased = _aligned_empty((4, 4))
        aliased[...] = a
        plan.reset_operands(a=aliased)
        with pytest.raises(ValueError, match="out overlaps a"):
            plan.execute(out=aliased)
    c = _aligned_empty((4, 4))
    c[...] = rng.standard_normal((4, 4))
    for _ in range(2):  # stateless: the cached plan sees c as out each time (in place, allowed)
        expected = a @ b + c
        np.testing.assert_allclose(gpmath.matmul(a, b, c, out=c), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="overlaps"):
        gpmath.matmul(a, c, out=c)


def test_the_same_out_again_takes_one_library_call_and_reads_the_bound_operands(on_device, rng):
    """execute(out=c) with the out validated last time: one cublasLtMatmul, reading new values in
    place and operands rebound unchecked; rebinding with reset_operands validates out again."""
    fake = on_device
    a, b = _aligned_empty((6, 4)), _aligned_empty((4, 5))
    a[...], b[...] = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
    out = _aligned_empty((6, 5))
    with Matmul(a, b) as plan:
        plan.plan()
        plan.execute(out=out)
        for _ in range(2):
            a[...] = rng.standard_normal((6, 4))
            calls = fake.calls
            assert plan.execute(out=out) is out and fake.calls == calls + 1
            np.testing.assert_allclose(out, a @ b, rtol=1e-12)
        a2, b2 = _aligned_empty((6, 4)), _aligned_empty((4, 5))
        a2[...], b2[...] = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
        plan.reset_operands_unchecked(a2, b2)
        np.testing.assert_allclose(plan.execute(out=out), a2 @ b2, rtol=1e-12)
        shared = _aligned_empty((30,))
        out = shared.reshape(6, 5)
        for _ in range(2):  # validated, then the bare call
            np.testing.assert_allclose(plan.execute(out=out), a2 @ b2, rtol=1e-12)
        plan.reset_operands(a=shared[:24].reshape(6, 4))  # now a overlaps that same out
        with pytest.raises(ValueError, match="out overlaps a"):
            plan.execute(out=out)


def test_execute_with_is_one_library_call_on_new_operands_and_binds_nothing(on_device, rng):
    fake = on_device
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
    with Matmul(a, b) as plan:
        plan.plan()
        np.testing.assert_allclose(plan.execute(), a @ b, rtol=1e-12)
        plan.reset_operands_unchecked = None  # binding fails
        results = []
        for _ in range(3):
            a2, b2 = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
            calls = fake.calls
            results.append((plan.execute_with(a2, b2), a2 @ b2))
            assert fake.calls == calls + 1
        for got, expected in results:  # each a new array, none written over by a later call
            np.testing.assert_allclose(got, expected, rtol=1e-12)
        del plan.reset_operands_unchecked
        with pytest.raises(ValueError, match="no operands bound"):
            plan.execute()
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute_with(a, b)


@pytest.mark.parametrize("case", ["c", "bias", "batch loop", "copied operand", "strided out"])
def test_execute_with_on_plans_that_are_more_than_one_call(on_device, rng, case):
    """Plans whose execution is not one bare call (c, a bias, a loop over broadcast batches, an
    operand read through a copy, an out written through one) take the protocol's way: bind,
    execute, release."""
    shapes = {"batch loop": ((3, 1, 6, 4), (2, 4, 5))}.get(case, ((6, 4), (4, 5)))
    view = LAYOUTS["sliced"] if case == "copied operand" else (lambda x: x)
    made = lambda: (view(rng.standard_normal(shapes[0])), rng.standard_normal(shapes[1]), rng.standard_normal((6, 5)),
                    rng.standard_normal(5))
    a, b, c, bias = made()
    wide = _aligned_empty((6, 10))
    options = {"c": {"c": c, "beta": 2.0}, "bias": {"bias": bias, "epilog": "bias"},
               "strided out": {"out": wide[:, ::2]}}.get(case, {})
    with Matmul(a, b, **options) as plan:
        plan.plan()
        for _ in range(2):
            a, b, c, bias = made()
            run = {"out": wide[:, ::2]} if case == "strided out" else {}
            got = plan.execute_with(a, b, c if case == "c" else None, bias if case == "bias" else None, **run)
            expected = _reference(a, b, c if case == "c" else None, beta=2.0, bias=bias if case == "bias" else None)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        with pytest.raises(ValueError, match="no operands bound"):
            plan.execute()


def test_stateless_products_of_device_arrays_come_back_by_their_lane(on_device, rng, monkeypatch):
    """From the second call on, ``gpmath.matmul`` on device arrays finds its plan by its lane: no
    full key, one library call; another layout has a lane of its own; a freed plan none."""
    fake = on_device
    keys = lanes_on_numpy(monkeypatch)
    for shape in ((80, 70), (70, 80), (80, 70)):
        for _ in range(3):
            a, b = _aligned_empty(shape), _aligned_empty(shape[::-1])  # (device allocators align to 256 bytes)
            a[...], b[...] = rng.standard_normal(shape), rng.standard_normal(shape[::-1])
            calls = fake.calls
            np.testing.assert_allclose(gpmath.matmul(a, b), a @ b, rtol=1e-12)
            assert fake.calls == calls + 1
    assert len(keys) == 2
    gpmath.cache_clear()
    np.testing.assert_allclose(gpmath.matmul(a, b), a @ b, rtol=1e-12)
    assert len(keys) == 3


def test_an_out_written_through_a_copy_stays_so_at_every_call(on_device, rng):
    """An out cuBLASLt cannot write (every other column of a wider array) is written through a
    copy of the result, also when the same out comes again."""
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 5))
    wide = _aligned_empty((6, 10))
    out = wide[:, ::2]
    with Matmul(a, b, out=out) as plan:
        plan.plan()
        for _ in range(3):
            a[...] = rng.standard_normal((6, 4))
            wide[...] = np.nan
            assert plan.execute(out=out) is out
            np.testing.assert_allclose(out, a @ b, rtol=1e-12)
            assert np.isnan(wide[:, 1::2]).all()


@pytest.mark.parametrize("m, k, n, epilog", [(40, 16, 8, None), (37, 24, 5, "bias_relu"), (64, 8, 64, "gelu")])
def test_host_products_pipeline_blocks_of_rows(fake, rng, monkeypatch, m, k, n, epilog):
    """With slots of 1 KiB, a of a few KiB goes up in blocks of rows (each starting 256-byte aligned),
    each multiplied into its rows of the result, which go straight into the pinned result."""
    ordered = emulated_block_pipeline(monkeypatch, _cuda_staging)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    bias = rng.standard_normal(n) if epilog and "bias" in epilog else None
    with Matmul(a, b, bias=bias, epilog=epilog, execution="cuda") as plan:
        plan.plan()
        blocks = plan._row_blocks
        assert len(blocks) >= 2 and sum(rows for _, rows, *_ in blocks) == m
        assert all(first * k * 8 % 256 == 0 and first * n * 8 % 256 == 0 for first, *_ in blocks)
        calls = fake.calls
        for _ in range(2):
            a[:] = rng.standard_normal(a.shape)
            np.testing.assert_allclose(plan.execute(), _reference(a, b, bias=bias, epilog=epilog), rtol=1e-12, atol=1e-12)
        assert fake.calls - calls == 2 * len(blocks)
        # per block: the product waits for its upload, the download for the product
        assert ordered[-2 * len(blocks):] == [(plan.stream, 8), (9, plan.stream)] * len(blocks)


class _Timer:
    """``median_times_ms`` for the emulated engine: runs each candidate once, and times candidate
    *fastest* at 0.5 ms and every other at 1 ms; counts its calls."""

    def __init__(self, fastest: int):
        self.fastest, self.calls = fastest, 0

    def __call__(self, launches, stream, iterations, flusher):
        self.calls += 1
        for launch in launches.values():
            launch()
        return {index: 0.5 if index == self.fastest else 1.0 for index in launches}


@pytest.fixture
def tuning(fake, monkeypatch):
    """Four heuristic candidates; the third (first word 3) times fastest."""
    fake.candidates = 4
    timer = _Timer(fastest=2)
    monkeypatch.setattr(_cuda_tuning, "median_times_ms", timer)
    monkeypatch.setattr(_cuda_tuning, "L2Flusher", lambda device_id, stream: types.SimpleNamespace(release=lambda: None))
    return timer


def _tuned_plan(rng, shape=(24, 16, 8)):
    m, k, n = shape
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    plan = Matmul(a, b, execution="cuda").plan()
    return plan, a, b


def test_autotune_records_its_choice_and_a_new_plan_starts_from_it(tuning, fake, rng, monkeypatch):
    plan, a, b = _tuned_plan(rng)
    with plan:
        assert plan.autotune() == {0: 1.0, 1: 1.0, 2: 0.5, 3: 1.0} and tuning.calls == 1
    [entry] = wisdom.entries()
    assert entry["kind"] == "matmul" and entry["machine"] == "emulated GPU, sm_90, cublasLt 130100"
    assert entry["choice"]["ms"] == 0.5 and bytes.fromhex(entry["choice"]["algo"])[0] == 3
    again, a, b = _tuned_plan(rng)
    with again:
        assert again.algorithms[0].algo.data[0] == 3  # the recorded algorithm first, the heuristics after
        assert again.autotune() == {0: 0.5} and tuning.calls == 1  # kept without timing
        np.testing.assert_allclose(again.execute(), a @ b, rtol=1e-12)
        assert fake.used[-1] == 3
        again.autotune(force=True)  # times again: candidates [3, 1, 2, 3, 4], index 2 fastest
        again.execute()
        assert tuning.calls == 2 and fake.used[-1] == 2


def test_a_tuned_plan_keeps_its_choice_without_timing_again(tuning, rng):
    plan, _, _ = _tuned_plan(rng)
    with plan:
        plan.autotune()
        assert plan.autotune() == {2: 0.5} and tuning.calls == 1


def test_wisdom_crosses_processes_through_a_file(tuning, fake, rng, tmp_path, monkeypatch):
    plan, _, _ = _tuned_plan(rng)
    with plan:
        plan.autotune()
    path = tmp_path / "wisdom.json"
    assert gpmath.wisdom.save(path) == 1
    monkeypatch.setattr(wisdom, "_store", {})  # another process: nothing recorded, the variable not read yet
    monkeypatch.setattr(wisdom, "_environment", {"read": False})
    monkeypatch.setenv("GPMATH_WISDOM", str(path))
    again, a, b = _tuned_plan(rng)
    with again:
        assert again.autotune() == {0: 0.5} and tuning.calls == 1
        np.testing.assert_allclose(again.execute(), a @ b, rtol=1e-12)
        assert fake.used[-1] == 3


@pytest.mark.parametrize("change", ["machine", "shape", "refused", "workspace", "bad algo", "no time"])
def test_wisdom_is_used_only_for_its_problem_on_its_machine(tuning, fake, rng, monkeypatch, caplog, change):
    """(the workspace limit is in the key; "bad algo" and "no time": an entry edited by hand)"""
    plan, _, _ = _tuned_plan(rng)
    with plan:
        plan.autotune()
    for choices in wisdom._store.values():
        for choice in choices.values():
            if change == "bad algo":
                choice["algo"] = "not hex"
            elif change == "no time":
                del choice["ms"]
    shape = (24, 16, 8)
    if change == "machine":
        monkeypatch.setattr(wisdom, "machine", lambda device_id, library, version: "another GPU, sm_80, cublasLt 120000")
    elif change == "shape":
        shape = (24, 16, 9)
    elif change == "refused":
        fake.refused.add(3)
    with caplog.at_level("INFO", logger="gpmath"):
        m, k, n = shape
        again = Matmul(rng.standard_normal((m, k)), rng.standard_normal((k, n)), execution="cuda")
        again.plan(max_workspace=512 if change == "workspace" else 2**25)  # the recorded algorithm needs 1024
        with again:
            assert [r.algo.data[0] for r in again.algorithms] == [1, 2, 3, 4]
            again.autotune()
            assert tuning.calls == 2
    messages = " ".join(r.getMessage() for r in caplog.records)
    if change == "machine":
        assert "not used on another GPU, sm_80" in messages
    if change in ("refused", "bad algo", "no time"):
        assert "refuses the algorithm wisdom recorded" in messages


@pytest.mark.parametrize("m, n, k, splits", [(64, 64, 4096, [2, 4, 8, 16]), (64, 64, 512, [2]),
                                             (64, 64, 256, []), (300, 300, 4096, [])])
def test_autotune_tries_split_k_where_few_tiles_meet_a_long_k(tuning, fake, rng, monkeypatch, m, n, k, splits):
    """Few output tiles (under two waves of the device's multiprocessors) along a long k: autotune
    also times split-K variants of the first two candidates (no part shorter than 256), each
    checked by cuBLASLt, the workspace grown to the largest; many tiles or a short k: none."""
    monkeypatch.setattr(_cuda.runtime, "sm_count", lambda device_id: 2)  # two waves: 4 tiles of 128 x 128
    fake.candidates = 3
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    with Matmul(a, b, execution="cuda") as plan:
        plan.plan()
        assert len(plan.algorithms) == 3
        tuning.fastest = 3 + len(splits) if splits else 1  # the second base's first variant, where there is one
        plan.autotune()
        variants = [(r.algo.data[0], r.algo.data[3]) for r in plan.algorithms[3:]]
        assert variants == [(word, s) for word in (1, 2) for s in splits]
        assert all(r.algo.data[4] == real_lt.ReductionScheme.COMPUTE_TYPE for r in plan.algorithms[3:])
        assert plan._args[14].value == 1024 * max(splits, default=1)
        # (an element of the sum of k products can cancel to far below its terms: k eps of them absolutely)
        np.testing.assert_allclose(plan.execute(), a @ b, rtol=1e-10, atol=k * np.finfo(np.float64).eps)
        if splits:
            assert (fake.used[-1], fake.used_splits[-1]) == (2, splits[0])


def test_split_k_variants_need_the_capability_and_cublaslts_check(tuning, fake, rng, monkeypatch):
    monkeypatch.setattr(_cuda.runtime, "sm_count", lambda device_id: 2)
    a, b = rng.standard_normal((64, 4096)), rng.standard_normal((4096, 64))
    fake.refused_splits = {4, 16}
    with Matmul(a, b, execution="cuda") as plan:
        plan.autotune()
        assert [r.algo.data[3] for r in plan.algorithms[4:]] == [2, 8, 2, 8]  # (after the 4 heuristics)
    fake.split_k = False
    wisdom.clear()  # (else the next plan starts from the algorithm the last one chose)
    with Matmul(a, b, execution="cuda") as plan:
        plan.autotune()
        assert len(plan.algorithms) == 4
    fake.split_k, fake.reduction_mask = True, 0
    wisdom.clear()
    with Matmul(a, b, execution="cuda") as plan:
        plan.autotune()
        assert len(plan.algorithms) == 4
