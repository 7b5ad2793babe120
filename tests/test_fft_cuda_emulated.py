"""CudaFFT's logic on the CPU: cuFFT, device memory and streams replaced by a NumPy model.

The model plays cuFFT's part at the ctypes boundary: ``cufftXtMakePlanMany`` records the
advanced layout, ``cufftXtExec`` reads and writes raw addresses through that layout (as the
real library would) and checks cuFFT's validity rules; device buffers are host buffers.  Host
arrays then exercise the staging path unchanged, and NumPy arrays posing as device arrays
exercise the direct path (cuFFT reading the caller's strides, loops, passes, in-place work).
The same tests run for real, against cuFFT, in ``test_fft_planner.py`` on a GPU machine.
"""

from __future__ import annotations

import ctypes
import math
import types

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath._bindings import cufft as real_cufft
from gpmath.fft import FFT, _cuda, _planner  # noqa: F401 (_planner: for conftest.on_device)
from gpmath import fft
from helpers import emulated_block_pipeline, emulated_device, lanes_on_numpy
from test_fft_layout import _check_pass_validity, _signal_addresses, _transform

_DTYPES = {0: np.float32, 1: np.float64, 4: np.complex64, 5: np.complex128}


class FakeCufft:
    """cuFFT's plan and execution API over host memory."""

    FORWARD, INVERSE = real_cufft.FORWARD, real_cufft.INVERSE
    check = staticmethod(real_cufft.check)

    def __init__(self):
        self.plans: dict[int, dict] = {}
        self.destroyed: list[int] = []
        self.exec_calls = 0
        self._next = 1

    def create(self):
        handle, self._next = self._next, self._next + 1
        self.plans[handle] = {"auto": True}
        return handle

    def destroy(self, handle):
        self.destroyed.append(handle)

    def set_auto_allocation(self, handle, auto):
        self.plans[handle]["auto"] = auto

    def xt_make_plan_many(self, handle, n, inembed, istride, idist, in_type, onembed, ostride, odist, out_type,
                          batch, exec_type):
        assert not self.plans[handle]["auto"], "work areas are gpmath's: auto-allocation must be off"
        assert exec_type == (in_type if _DTYPES[in_type]().dtype.kind == "c" else out_type)
        kind = "r2c" if _DTYPES[in_type]().dtype.kind == "f" else "c2r" if _DTYPES[out_type]().dtype.kind == "f" else "c2c"
        self.plans[handle].update(kind=kind, n=tuple(n), inembed=tuple(inembed), istride=istride, idist=idist,
                                  onembed=tuple(onembed), ostride=ostride, odist=odist, batch=batch,
                                  types=(_DTYPES[in_type], _DTYPES[out_type]))
        return 256

    def get_size(self, handle):
        return 256

    def set_work_area(self, handle, ptr):
        assert ptr, "a work area must be set"
        self.plans[handle]["work"] = ptr

    def set_stream(self, handle, stream):
        self.plans[handle]["stream"] = stream

    def xt_exec_function(self):
        return self._exec

    def _exec(self, handle, src, dst, sign):
        self.exec_calls += 1
        plan = self.plans[handle]
        p = types.SimpleNamespace(direction=None if plan["kind"] == "c2c" else sign,
                                  source="input", target="input" if src == dst else "output", **plan)
        in_ext, out_ext = _check_pass_validity(p)
        assert "work" in plan and "stream" in plan
        align = max(np.dtype(t).itemsize for t in plan["types"])  # the complex element
        assert src % align == 0 and dst % align == 0, "cuFFT needs pointers aligned to the complex type"
        batch = np.arange(plan["batch"])[:, None]
        reads = batch * plan["idist"] + _signal_addresses(in_ext, plan["inembed"], plan["istride"])
        writes = batch * plan["odist"] + _signal_addresses(out_ext, plan["onembed"], plan["ostride"])
        source, target = _memory(src, reads.max() + 1, plan["types"][0]), _memory(dst, writes.max() + 1, plan["types"][1])
        signals = source[reads].reshape([plan["batch"]] + in_ext).astype(complex)
        target[writes] = _transform(plan["kind"], signals, plan["n"], sign).reshape(plan["batch"], -1)
        return 0


def _memory(ptr, count, dtype):
    return np.ctypeslib.as_array((ctypes.c_byte * (int(count) * np.dtype(dtype).itemsize)).from_address(ptr)).view(dtype)


def _scale_in_host_memory(ptr, count, dtype, factor, stream, device_id):
    """``scale_on_device`` over the model's device buffers (host memory)."""
    _memory(ptr, count, dtype)[:] *= factor


@pytest.fixture
def fake(monkeypatch):
    """Route gpmath.fft's CUDA engine to the model; returns the fake cuFFT."""
    model = FakeCufft()
    monkeypatch.setattr(_cuda, "cufft", model)
    monkeypatch.setattr(_cuda, "scale_on_device", _scale_in_host_memory)
    monkeypatch.setattr(_cuda, "synchronize", lambda stream: None)
    model.ordered = []
    monkeypatch.setattr(_cuda, "order_after", lambda waiting, producer: model.ordered.append((waiting, producer)))
    emulated_device(monkeypatch, _cuda)
    return model


def _random(rng, shape, complex_=True):
    x = rng.uniform(-1, 1, shape)
    return x + 1j * rng.uniform(-1, 1, shape) if complex_ else x


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("name, kwargs", [("fft", {}), ("ifft", {"n": 11, "norm": "ortho"}), ("rfft", {"axis": 0}),
                                          ("irfft", {"n": 9}), ("hfft", {}), ("ihfft", {"norm": "forward"}),
                                          ("fftn", {"axes": (2, 0, 1, 3)}), ("rfftn", {"s": (3, 6, 4)}),
                                          ("irfftn", {"axes": (1, 3, 0, 2)}), ("ifft2", {"s": (9, 2)})])
@pytest.mark.parametrize("mode", ["staged", "device"])
@pytest.mark.parametrize("view", [lambda x: x[:, ::2], lambda x: x, np.asfortranarray], ids=["sliced", "dense", "fortran"])
def test_functions_through_the_cuda_engine(request, rng, name, kwargs, mode, view):
    request.getfixturevalue("fake" if mode == "staged" else "on_device")
    x = view(_random(rng, (4, 5, 3, 6), complex_=name not in ("rfft", "rfftn", "ihfft")))
    before = x.copy()
    result = getattr(fft, name)(x, **kwargs)
    np.testing.assert_array_equal(x, before)
    assert gpmath.cache_info()["fft"].size == 1
    assert isinstance(FFT.__new__(FFT, x), _cuda.CudaFFT)
    _close(result, getattr(scipy.fft, name)(x, **kwargs))


@pytest.mark.parametrize("shape, view, axes, copies, launches", [
    ((8, 64), lambda x: x, (1,), False, 1),
    ((64, 8), lambda x: x, (0,), False, 1),
    ((6, 30), lambda x: x[:, ::7], (0, 1), True, 1),
    ((3, 16, 5), lambda x: x, (1,), False, 3),
    ((20, 4, 21), lambda x: x, (1,), True, 1),
    ((2, 3, 2, 4, 3), lambda x: x, (0, 1, 2, 3, 4), False, 2),
])
def test_direct_layouts_copies_and_loops(on_device, rng, shape, view, axes, copies, launches):
    x = view(_random(rng, shape))
    with FFT(x, axes) as plan:
        plan.plan()
        assert (plan.layout.copy_order is not None) == copies
        for direction, reference in (("forward", scipy.fft.fftn), ("inverse", scipy.fft.ifftn)):
            calls = on_device.exec_calls
            _close(plan.execute(direction), reference(x, axes=axes))
            assert on_device.exec_calls - calls == launches


@pytest.mark.parametrize("name, shape, kwargs", [
    ("fft", (41, 24), {}), ("ifft", (41, 24), {"norm": "ortho"}), ("rfft", (37, 15), {}),
    ("irfft", (30, 9), {"n": 16, "norm": "forward"}), ("fft2", (13, 3, 4), {}), ("rfft", (33, 10), {"axis": 0}),
    ("fft", (40, 24), {"n": 19}), ("ifft", (4, 40, 6), {"axis": 1}), ("fft2", (1, 40, 40), {}),
])
def test_large_host_batches_pipeline_blocks(fake, rng, monkeypatch, name, shape, kwargs):
    """With slots of 1 KiB, a batch of a few KiB goes up in blocks (each starting on the complex
    element's alignment, in the input and in the result), each transformed and scaled by a plan
    of its size as it lands, its part of the result sent straight into the pinned result; where
    the batch is not the outer run of memory (axis 0), the whole path is taken."""
    ordered = emulated_block_pipeline(monkeypatch, _cuda)
    x = _random(rng, shape, complex_=name != "rfft")
    function = getattr(fft, name)
    for _ in range(2):
        x[...] = _random(rng, shape, complex_=name != "rfft")
        _close(function(x, **kwargs), getattr(scipy.fft, name)(x, **kwargs))
    with FFT(x, axes=kwargs.get("axis", -1) if name != "fft2" else (-2, -1), execution="cuda",
             s=None if "n" not in kwargs or name == "irfft" else (kwargs["n"],),
             kind={"rfft": "r2c", "irfft": "c2r"}.get(name, "c2c")) as plan:
        plan.plan()
        blocks = plan._blocks
        if "axis" in kwargs or shape[0] == 1:  # the batch is not the outer run of memory, or one matrix
            assert blocks == []
            return
        align = 2 * np.dtype(np.float64).itemsize
        assert len(blocks) >= 2 and all(i % align == 0 and o % align == 0 for i, _, o, _, _ in blocks)
        assert sum(b[1] for b in blocks) == x.nbytes  # (a cropped transform reads whole rows)
        assert len({b[4] for b in blocks}) <= 2  # a plan per block size
        calls = fake.exec_calls
        plan.execute()
        assert fake.exec_calls - calls == len(blocks)
        # per block: the transform waits for its upload, the download for the transform
        assert ordered[-2 * len(blocks):] == [(plan.stream, 8), (9, plan.stream)] * len(blocks)


class _AllocatesOnly:
    """A package adapter that allocates results and reads addresses, and fails at anything else."""

    def __init__(self, package):
        self._package = package

    def __getattr__(self, name):
        if name not in ("allocator", "ptr"):
            raise AssertionError(f"the fast path used the package's {name}")
        return getattr(self._package, name)


def test_fast_path_is_one_launch_and_nothing_else(on_device, rng, monkeypatch):
    x = _random(rng, (4, 32))
    plan = FFT(x, -1).plan()
    monkeypatch.setattr(plan, "package", _AllocatesOnly(plan.package))  # any other package operation fails
    calls = on_device.exec_calls
    y = plan.execute()
    assert on_device.exec_calls - calls == 1
    _close(y, scipy.fft.fft(x))
    plan.free()


def test_repeated_execution_reset_operands_and_free(on_device, rng):
    x, z = _random(rng, (5, 12)), _random(rng, (5, 12))
    plan = FFT(x, axes=0, norm="ortho").plan()
    first = plan.execute()
    for _ in range(5):
        np.testing.assert_array_equal(plan.execute(), first)
    plan.reset_operands(z)
    _close(plan.execute("inverse"), scipy.fft.ifft(z, axis=0, norm="ortho"))
    with pytest.raises(ValueError, match="shape"):
        plan.reset_operands(_random(rng, (5, 13)))
    with pytest.raises(ValueError, match="dtype"):
        plan.reset_operands(z.astype(np.complex64))
    with pytest.raises(ValueError, match="strides"):
        plan.reset_operands(np.asfortranarray(z))
    handles = list(plan._handles)
    plan.free()
    plan.free()
    assert set(handles) <= set(on_device.destroyed)
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()


def test_copying_plans_accept_any_strides_on_reset(on_device, rng):
    x = _random(rng, (6, 8))
    plan = FFT(x, kind="c2r", s=(6, 14)).plan()
    assert plan.layout.copy_order is not None  # c2r reads a copy: cuFFT overwrites its input
    z = np.asfortranarray(_random(rng, (6, 8)))
    plan.reset_operands(z)
    _close(plan.execute(), scipy.fft.irfftn(z, s=(6, 14)))
    np.testing.assert_array_equal(z, np.asfortranarray(z))  # unchanged
    plan.free()


def test_inplace_c2c_returns_x_itself(on_device, rng):
    x = _random(rng, (4, 6, 5))
    expected = scipy.fft.fftn(x, axes=(0, 2))
    with FFT(x, axes=(0, 2), inplace=True) as plan:
        assert plan.execute() is x
        _close(x, expected)


def test_stream_switch_orders_and_rebinds(on_device, rng):
    x = _random(rng, (3, 16))
    plan = FFT(x, axes=-1).plan()
    plan.execute(stream=42)
    assert on_device.ordered == [(42, 0)] and plan.stream == 42
    assert all(on_device.plans[h]["stream"] == 42 for h in plan._handles)
    plan.free()


def test_staged_plans_count_their_device_bytes(fake, rng):
    x = _random(rng, (16, 30), complex_=False)
    plan = FFT(x, axes=-1).plan()
    assert plan.staged and plan.nbytes == 256 + x.nbytes + 16 * 16 * 16
    _close(plan.execute(), scipy.fft.rfft(x))
    plan.free()
    assert math.prod(x.shape) == 480


def test_misaligned_views_are_copied_and_refused_on_reset(on_device, rng):
    base = rng.uniform(-1, 1, (4, 33)).astype(np.float32)
    aligned, shifted = base[:, :32], base[:, 1:]
    assert shifted.ctypes.data % 8 == 4
    with FFT(shifted, axes=-1) as plan:
        plan.plan()
        assert plan.layout.copy_order is not None
        np.testing.assert_allclose(plan.execute(), scipy.fft.rfft(shifted.astype(np.float64)), rtol=1e-5, atol=1e-5)
    with FFT(aligned, axes=-1) as plan:
        plan.plan()
        assert plan.layout.copy_order is None
        with pytest.raises(ValueError, match="aligned"):
            plan.reset_operands(base[:, 1:])
    np.testing.assert_allclose(fft.rfft(shifted), scipy.fft.rfft(shifted.astype(np.float64)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fft.rfft(aligned), scipy.fft.rfft(aligned.astype(np.float64)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("lazy", ["plain", "conj", "neg"])
def test_staged_torch_cpu_tensors_keep_their_package_and_values(fake, rng, lazy):
    """torch CPU tensors through host staging: their values (lazy conjugate or negative views
    resolved) reach cuFFT, and the results are torch CPU tensors."""
    torch = pytest.importorskip("torch")
    x = _random(rng, (4, 6))
    t = torch.from_numpy(x)
    t, values = {"plain": (t, x), "conj": (t.conj(), np.conj(x)), "neg": (torch._neg_view(t), -x)}[lazy]
    result = fft.fft(t, axis=0)
    assert isinstance(result, torch.Tensor) and result.device.type == "cpu"
    _close(result.numpy(), scipy.fft.fft(values, axis=0))
    with FFT(t, axes=-1) as plan:
        planned = plan.execute(direction="inverse")
    assert isinstance(planned, torch.Tensor)
    _close(planned.numpy(), scipy.fft.ifft(values, axis=-1))


def test_execute_with_is_one_launch_on_a_new_array_and_binds_nothing(on_device, rng):
    x = _random(rng, (4, 32))
    with FFT(x, -1) as plan:
        plan.plan()
        package = plan.package
        plan.package = _AllocatesOnly(package)  # any other package operation fails
        plan.reset_operands_unchecked = None  # and so does binding
        for _ in range(3):
            z = _random(rng, (4, 32))
            calls = on_device.exec_calls
            _close(plan.execute_with(z), scipy.fft.fft(z))
            assert on_device.exec_calls == calls + 1
        plan.package = package
        del plan.reset_operands_unchecked
        _close(plan.execute_with(z, direction="inverse"), scipy.fft.ifft(z))  # (scaled: binds, executes, releases)
        with pytest.raises(ValueError, match="no operand"):
            plan.execute()
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute_with(x)


def _aligned(x: np.ndarray) -> np.ndarray:
    """A copy of *x* at an address that is a multiple of 256, as device allocators give."""
    raw = np.empty(x.nbytes + 256, np.uint8)
    start = -raw.ctypes.data % 256
    out = raw[start:start + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


@pytest.mark.parametrize("name, kwargs", [("fft", {}), ("fft", {"norm": "ortho"}), ("ifft", {"n": 4200}),
                                          ("rfft", {"axis": 0}), ("irfft", {}), ("fft2", {}), ("ihfft", {}),
                                          ("ifftn", {"s": [3, 4112], "axes": (0, 1)})])
def test_stateless_transforms_of_device_arrays_come_back_by_their_lane(on_device, rng, monkeypatch, name, kwargs):
    """From the second call on, a transform with default options finds its plan by its lane (no
    full key); the conjugating ``ihfft`` and an unhashable ``s`` take none; every answer is right."""
    keys = lanes_on_numpy(monkeypatch)
    for _ in range(3):
        x = _aligned(_random(rng, (3, 4112), complex_=name not in ("rfft", "ihfft")))
        _close(getattr(fft, name)(x, **kwargs), getattr(scipy.fft, name)(x, **kwargs))
    assert len(keys) == (3 if name == "ihfft" or "s" in kwargs else 1)


@pytest.mark.parametrize("mode", ["staged", "device"])
def test_stateless_repeats_hit_one_cuda_plan_that_keeps_no_input(request, rng, mode):
    import gc
    import weakref

    request.getfixturevalue("fake" if mode == "staged" else "on_device")
    before = gpmath.cache_info()["fft"]
    for direction in ("fft", "ifft", "fft"):
        x = _random(rng, (6, 10))
        ref = weakref.ref(x)
        _close(getattr(fft, direction)(x, axis=0), getattr(scipy.fft, direction)(x, axis=0))
        del x
        gc.collect()
        assert ref() is None
    info = gpmath.cache_info()["fft"]
    assert (info.hits - before.hits, info.misses - before.misses, info.size) == (2, 1, 1)
    assert isinstance(FFT.__new__(FFT, _random(rng, (6, 10))), _cuda.CudaFFT)


@pytest.mark.parametrize("first, second", [({"n": 4112}, {"n": 4112.0}), ({"axis": 1}, {"axis": True}),
                                           ({"axis": -1}, {"axis": -1.0})])
def test_a_lane_never_answers_for_an_argument_the_full_path_refuses(on_device, rng, monkeypatch, first, second):
    """A float length or a bool axis equals an int one as a key; the call must still refuse it."""
    lanes_on_numpy(monkeypatch)
    x = _aligned(_random(rng, (3, 4112)))
    for _ in range(2):
        _close(fft.fft(x, **first), scipy.fft.fft(x, **first))
    with pytest.raises(TypeError):
        fft.fft(x, **second)
