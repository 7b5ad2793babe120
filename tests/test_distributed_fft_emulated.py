"""The distributed FFT planner's Python path on the CPU, one rank, with cuFFTMp emulated by NumPy.

No MPI, GPU or cuFFTMp here: the context, the bindings and the device views are replaced by
host stand-ins, and the emulated ``cufftXtExecDescriptor`` reads this rank's input from the
symmetric buffer with the layout's input strides, transforms with NumPy and writes the output
with its output strides.  What it checks is gpmath's side: the calls a plan makes and their
order, the copies in and out (strided input, padded real rows), normalisation, directions,
``reset_operands`` and ``free``.  The GPU runs are tests/test_distributed_gpu.py.
"""

from __future__ import annotations

import contextlib
import ctypes

import numpy as np
import pytest
import scipy.fft

import gpmath.distributed as gd
from gpmath._bindings import cufftmp
from gpmath._errors import FreedPlanError
from gpmath._core.operand import Operand
from gpmath._core.packages import NUMPY
from gpmath.distributed import _fft


class _Comm:
    rank, size = 0, 1

    def allgather(self, obj):
        return [obj]

    def bcast_bytes(self, data, root=0):
        return data


class _Context:
    rank, size, device_id, comm = 0, 1, 0, _Comm()

    def __init__(self):
        self.calls, self.plans = [], []

    def start_nvshmem(self):
        self.calls.append("start_nvshmem")

    def track(self, plan):
        self.plans.append(plan)


class _CuFFTMp:
    """Records the calls; executes with NumPy on a host buffer."""

    def __init__(self, calls):
        self.calls, self.plans = calls, {}

    def create(self):
        self.calls.append("create")
        return 7

    def destroy(self, plan):
        self.calls.append("destroy")

    def attach_comm(self, plan, kind, handle):
        assert kind == cufftmp.CommType.CUFFT_COMM_NONE and handle is None
        self.calls.append("attach_comm")

    def set_stream(self, plan, stream):
        self.calls.append("set_stream")

    def set_distribution(self, plan, *args):
        self.calls.append("set_distribution")

    def make_plan(self, plan, shape, fft_type):
        self.calls.append("make_plan")
        self.type = fft_type

    def xt_malloc(self, plan, subformat):
        self.calls.append("xt_malloc")
        self.memory = ctypes.create_string_buffer(1 << 16)
        self.xt = cufftmp.CudaXtDesc(nGPUs=1)
        self.xt.data[0], self.xt.size[0] = ctypes.addressof(self.memory), 1 << 16
        self.desc = cufftmp.CudaLibXtDesc(descriptor=ctypes.pointer(self.xt))
        return ctypes.addressof(self.desc)

    def xt_free(self, desc):
        self.calls.append("xt_free")

    def exec_function(self, layout, in_dtype, out_dtype):
        def run(handle, desc, out, direction):
            self.calls.append(("exec", direction, cufftmp.CudaLibXtDesc.from_address(desc).subFormat))
            x = _strided(self.memory, layout.in_box.shape, layout.in_strides, in_dtype).copy()
            if layout.kind == "r2c":
                y = scipy.fft.rfftn(x)
            elif layout.kind == "c2r":
                y = scipy.fft.irfftn(x, s=layout.shape_out) * layout.size
            else:
                y = scipy.fft.fftn(x) if direction == cufftmp.FORWARD else scipy.fft.ifftn(x) * layout.size
            _strided(self.memory, layout.out_box.shape, layout.out_strides, out_dtype)[...] = y
            return 0
        return run


def _strided(memory, shape, strides, dtype):
    itemsize = np.dtype(dtype).itemsize
    flat = np.frombuffer(memory, dtype=np.uint8)
    return np.lib.stride_tricks.as_strided(flat.view(dtype), shape, tuple(s * itemsize for s in strides))


@pytest.fixture
def emulated(monkeypatch):
    context = _Context()
    fake = _CuFFTMp(context.calls)
    monkeypatch.setattr(_fft, "current", lambda: context)
    monkeypatch.setattr(_fft, "locate", lambda x, name: (name, NUMPY, 0))
    monkeypatch.setattr(_fft, "resolve_stream", lambda stream, package, device: 0)
    monkeypatch.setattr(_fft, "synchronize", lambda stream: context.calls.append("synchronize"))
    monkeypatch.setattr(_fft.runtime, "on_device", lambda device: contextlib.nullcontext())
    monkeypatch.setattr(_fft.nvshmem, "sync_all_on_stream", lambda stream: context.calls.append("sync"))

    def as_operand(x, name, stream=None):
        from gpmath._core.dtypes import DTYPES

        return Operand(x, NUMPY, 0, x.shape, tuple(s // x.itemsize for s in x.strides), DTYPES[x.dtype.name], 0)

    monkeypatch.setattr(_fft, "as_operand", as_operand)
    for name in ("create", "destroy", "attach_comm", "set_stream", "set_distribution", "make_plan", "xt_malloc",
                 "xt_free"):
        monkeypatch.setattr(_fft.cufftmp, name, getattr(fake, name))
    monkeypatch.setattr(_fft, "_view", lambda package, address, shape, strides, dtype, device:
                        _strided(fake.memory, shape, strides, dtype.numpy))
    original_plan = _fft.FFT.plan

    def plan(self):
        monkeypatch.setattr(_fft.cufftmp, "exec_descriptor_function",
                            lambda: fake.exec_function(self.layout, self.dtype.numpy, self.out_dtype.numpy))
        return original_plan(self)

    monkeypatch.setattr(_fft.FFT, "plan", plan)
    return context


def test_c2c_plan_calls_copies_and_norms(emulated):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 10)) + 1j * rng.standard_normal((6, 10))).T  # strided: (10, 6), F-order
    with _fft.FFT(x, gd.Slab(0), norm="ortho") as plan:
        plan.plan()
        assert emulated.calls == ["start_nvshmem", "create", "attach_comm", "set_stream", "make_plan", "xt_malloc"]
        y = plan.execute()
        np.testing.assert_allclose(y, scipy.fft.fftn(x, norm="ortho"), atol=1e-12)
        z = plan.execute(direction="inverse")
        np.testing.assert_allclose(z, scipy.fft.ifftn(x, norm="ortho"), atol=1e-12)
        assert emulated.calls[6:9] == ["sync", ("exec", -1, cufftmp.SubFormat.CUFFT_XT_FORMAT_INPLACE), "sync"]
        assert plan.out_distribution == gd.Slab(1) and plan.out_box == gd.Box((0, 0), (10, 6))
        x2 = np.ones((10, 6), np.complex128)
        plan.reset_operands(x2)
        np.testing.assert_allclose(plan.execute(), scipy.fft.fftn(x2, norm="ortho"), atol=1e-12)
        with pytest.raises(ValueError, match="shape"):
            plan.reset_operands(np.ones((9, 6), np.complex128))
        with pytest.raises(ValueError, match='direction must be "forward" or "inverse"'):
            plan.execute(direction="backward")
    assert emulated.calls[-3:] == ["synchronize", "xt_free", "destroy"]
    with pytest.raises(FreedPlanError):
        plan.execute()


def test_real_round_trip_through_padded_rows(emulated):
    u = np.random.default_rng(2).standard_normal((5, 4, 7)).astype(np.float32)
    k = _fft.rfftn(u, gd.Slab(0), norm="forward")
    assert ("set_distribution" in emulated.calls and emulated.calls.count("sync") == 2)
    np.testing.assert_allclose(k, scipy.fft.rfftn(u, norm="forward"), rtol=1e-5, atol=1e-6)
    assert k.dtype == np.complex64 and k.shape == (5, 4, 4)
    back = _fft.irfftn(k, gd.Slab(1), s=(5, 4, 7), norm="forward")
    assert back.dtype == np.float32 and back.shape == (5, 4, 7)
    np.testing.assert_allclose(back, u, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="r2c transform runs forward only"):
        with _fft.FFT(u, gd.Slab(0)) as plan:
            plan.execute(direction="inverse")


def test_box_c2c_and_argument_errors(emulated):
    x = np.arange(24, dtype=np.complex64).reshape(4, 6)
    y = _fft.fftn(x, gd.Box((0, 0), (4, 6)))
    np.testing.assert_allclose(y, scipy.fft.fftn(x), rtol=1e-5)
    with pytest.raises(ValueError, match="x has dtype float64"):
        _fft.fftn(np.zeros((4, 6)), gd.Slab(0))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        _fft.fftn(np.zeros(8, np.complex64), gd.Slab(0))
    with pytest.raises(TypeError, match="out_box must be"):
        _fft.fftn(x, gd.Box((0, 0), (4, 6)), out_box=(4, 6))


def test_operands_in_symmetric_memory_skip_both_copies(emulated):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 6)) + 1j * rng.standard_normal((8, 6))
    with _fft.FFT(np.zeros_like(x), gd.Slab(0), norm="forward") as plan:
        buffer = plan.operand  # this rank's input part, inside the plan's symmetric memory
        assert buffer.shape == (8, 6)
        plan.reset_operands(buffer)
        for _ in range(2):  # the transform is in place: refill before each execution
            buffer[...] = x
            y = plan.execute(copy=False)
            np.testing.assert_allclose(y, scipy.fft.fftn(x, norm="forward"), atol=1e-12)
            assert np.shares_memory(y, buffer)
        copied = plan.execute()  # copy=True: a new array, whatever the buffer holds next
        assert not np.shares_memory(copied, buffer)
