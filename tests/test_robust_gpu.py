"""GPU robustness: CUDA graph capture of plans, out-of-memory recovery, fork, sizes past 2**31.

Graph captures run in a child process each (``_graph_child``): a capture that a library or an
engine call makes fail must not leave this test process with a broken capture, allocator or
context.  Every planner the correctness issue names (Matmul, FFT, Cholesky, Solve, Eigh) on every
route it takes (cuBLASLt, cuFFT, gpmath's own kernels, cuSOLVER) must capture and replay correctly
on new data.  Run on the GPU (``python3 -m pytest -q -m gpu tests/test_robust_gpu.py``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft, linalg
from gpmath._core import runtime
from gpmath._core.memory import _trim_pool
from gpmath._errors import FreedPlanError
from gpmath.blas import Matmul
from gpmath.fft import FFT
from helpers import relative_error, to_numpy

pytestmark = [pytest.mark.gpu, pytest.mark.serial]  # one test fills the device's memory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHILD_TIMEOUT = int(os.environ.get("GPMATH_ROBUST_CHILD_TIMEOUT", "300"))
MARK = "ROBUST_RESULT "


# -- CUDA graphs -------------------------------------------------------------------------------
# Each case: (host inputs, make(device inputs, adapter, stream) -> (plan, run), check(new host
# inputs, host outputs) -> relative error, tolerance).  ``run()`` is what is captured; it
# returns the output arrays (a tuple).

def _spd(rng, n, batch=()):
    m = rng.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _general(rng, n):
    return rng.standard_normal((n, n)) + n * np.eye(n)


def _symmetric(rng, n):
    m = rng.standard_normal((n, n))
    return (m + m.T) / 2


def _case_matmul(rng):
    host = [rng.standard_normal((96, 64)).astype(np.float32), rng.standard_normal((64, 80)).astype(np.float32)]

    def make(dev, adapter, stream):
        out = adapter.empty((96, 80), "float32")
        plan = Matmul(dev[0], dev[1], stream=stream)
        return plan, lambda: (plan.execute(out=out),)  # out= fixes the output address

    def check(new, outs):
        return relative_error(outs[0], new[0].astype(np.float64) @ new[1].astype(np.float64))

    return host, make, check, 1e-4


def _case_fft(rng):
    host = [(rng.standard_normal((16, 256)) + 1j * rng.standard_normal((16, 256))).astype(np.complex64)]

    def make(dev, adapter, stream):
        plan = FFT(dev[0], axes=-1, stream=stream)
        # forward: one allocation + one cufftXtExec; inverse: the general path (scaling by 1/n)
        return plan, lambda: (plan.execute(), plan.execute(direction="inverse"))

    def check(new, outs):
        x = new[0].astype(np.complex128)
        return max(relative_error(outs[0], scipy.fft.fft(x, axis=-1)), relative_error(outs[1], scipy.fft.ifft(x, axis=-1)))

    return host, make, check, 1e-5


def _solver_case(kind, n, batch=()):
    def case(rng):
        if kind == "cholesky":
            host = [_spd(rng, n, batch)]
        elif kind == "solve":
            host = [_general(rng, n), rng.standard_normal((n, 3))]
        elif kind == "inv":
            host = [np.stack([_general(rng, n) for _ in range(max(batch, default=1))]).reshape(*batch, n, n)]
        else:
            host = [_symmetric(rng, n)]

        def make(dev, adapter, stream):
            if kind == "cholesky":
                plan = linalg.Cholesky(dev[0], lower=True, stream=stream)
            elif kind == "solve":
                plan = linalg.Solve(dev[0], dev[1], stream=stream)
            elif kind == "inv":
                plan = linalg.Inv(dev[0], stream=stream)
            else:
                plan = linalg.Eigh(dev[0], stream=stream)

            def run():
                result = plan.execute(check=False)  # check=True reads info: a stream sync
                return result if isinstance(result, tuple) else (result,)

            return plan, run

        def check(new, outs):
            if kind == "cholesky":
                return relative_error(outs[0], np.linalg.cholesky(new[0]))
            if kind == "solve":
                return relative_error(outs[0], np.linalg.solve(new[0], new[1]))
            if kind == "inv":
                return relative_error(outs[0], np.linalg.inv(new[0]))
            w, v = outs
            a = new[0]
            residual = np.max(np.abs(a @ v - v * w[None, :])) / np.max(np.abs(a))
            orthogonality = np.max(np.abs(v.T @ v - np.eye(n)))
            return max(relative_error(w, np.linalg.eigvalsh(a)), residual, orthogonality)

        return host, make, check, 1e-9

    return case


GRAPH_CASES = {
    "matmul": _case_matmul,
    "fft": _case_fft,
    "cholesky-n24": _solver_case("cholesky", 24),  # gpmath's kernel (where NVRTC is available)
    "cholesky-n64": _solver_case("cholesky", 64),  # cusolverDnXpotrf
    "cholesky-batch4-n64": _solver_case("cholesky", 64, (4,)),  # potrfBatched: pointer arrays
    "solve-n24": _solver_case("solve", 24),  # gpmath's LU kernel
    "solve-n64": _solver_case("solve", 64),  # Xgetrf + gpmath's permutation kernel + Xgetrs
    "eigh-n24": _solver_case("eigh", 24),  # gpmath's Jacobi kernel
    "eigh-n64": _solver_case("eigh", 64),  # cusolverDnXsyevd, which runs XsyevBatched under capture
    "eigh-n200": _solver_case("eigh", 200),
    "inv-n64": _solver_case("inv", 64),  # Xgetrf + getrs of an identity written on the device
    "inv-batch3-n64": _solver_case("inv", 64, (3,)),  # the identity's doubling copies
}
TORCH_CASES = list(GRAPH_CASES)
CUPY_CASES = ["matmul", "fft", "solve-n24", "solve-n64", "eigh-n64", "inv-n64"]


class _TorchAdapter:
    def __init__(self):
        import torch

        self.torch = torch

    def asarray(self, x):
        return self.torch.from_numpy(np.ascontiguousarray(x)).to("cuda")

    def empty(self, shape, dtype):
        return self.torch.empty(shape, dtype=getattr(self.torch, dtype), device="cuda")

    def copy_in(self, dev, host):
        dev.copy_(self.torch.from_numpy(np.ascontiguousarray(host)).to(device=dev.device, dtype=dev.dtype))


class _CupyAdapter:
    def __init__(self):
        import cupy

        self.cupy = cupy

    def asarray(self, x):
        return self.cupy.asarray(x)

    def empty(self, shape, dtype):
        return self.cupy.empty(shape, dtype=dtype)

    def copy_in(self, dev, host):
        dev.set(np.ascontiguousarray(host.astype(dev.dtype)))  # on the current stream


def _route(plan) -> str:
    """How *plan* computes, for the report: a solver's route (and the routine it names), else its class."""
    route = getattr(plan, "route", None)
    if route is None:
        return type(plan).__name__
    routine = getattr(route, "routine", None)
    return type(route).__name__ + (f"/{routine}" if routine else "")


def _graph_child(package: str, name: str) -> None:
    """Run one capture case in this (child) process and print its outcome as one JSON line."""
    result = {"status": "error", "route": "?", "phase": "setup", "detail": ""}
    try:
        _graph_case(package, name, result)
    except BaseException:  # reported to the parent
        result["detail"] = traceback.format_exc()[-4000:]
        if result["phase"] == "capture":
            result["status"] = "capture_failed"
    print(MARK + json.dumps(result), flush=True)


def _graph_case(package: str, name: str, result: dict) -> None:
    rng = np.random.default_rng(2024)
    host, make, check, tolerance = GRAPH_CASES[name](rng)
    new = GRAPH_CASES[name](np.random.default_rng(7))[0]  # same shapes and structure, new values
    if package == "torch":
        adapter = _TorchAdapter()
        torch = adapter.torch
        dev = [adapter.asarray(x) for x in host]
        torch.cuda.synchronize()
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):  # plan, warm-up and capture on one side stream
            plan, run = make(dev, adapter, stream)
            plan.plan()
            result["route"] = _route(plan)
            run()
        torch.cuda.synchronize()
        result["phase"] = "capture"
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            outs = run()
        result["phase"] = "replay"
        for d, h in zip(dev, new):
            adapter.copy_in(d, h)  # in place: the graph reads these addresses
        graph.replay()  # on the current (default) stream, after the copies
        torch.cuda.synchronize()
    else:
        adapter = _CupyAdapter()
        cupy = adapter.cupy
        dev = [adapter.asarray(x) for x in host]
        cupy.cuda.Device().synchronize()
        stream = cupy.cuda.Stream(non_blocking=True)
        with stream:
            plan, run = make(dev, adapter, stream)
            plan.plan()
            result["route"] = _route(plan)
            run()  # warm-up: its results return to the pool, for the capture to reuse
            stream.synchronize()
            result["phase"] = "capture"
            stream.begin_capture()
            try:
                outs = run()
            finally:
                graph = stream.end_capture()
            result["phase"] = "replay"
            for d, h in zip(dev, new):
                adapter.copy_in(d, h)
            graph.launch()
            stream.synchronize()
    result["phase"] = "check"
    error = check([np.asarray(x) for x in new], [to_numpy(o) for o in outs])
    result["error"] = float(error)
    result["status"] = "ok" if error < tolerance else "wrong"
    result["detail"] = f"relative error {error:.3g} (tolerance {tolerance:g})"
    plan.free()


def _run_child(code: str) -> tuple[dict | None, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [HERE, ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                          cwd=ROOT, env=env)
    output = done.stdout + done.stderr
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):]), output
    return None, f"exit status {done.returncode}\n{output[-4000:]}"


@pytest.mark.parametrize("package, name", [("torch", n) for n in TORCH_CASES] + [("cupy", n) for n in CUPY_CASES])
def test_graph_capture_replays_with_new_data(package, name):
    """Plan and warm up on a side stream, capture ``execute()``, copy new values into the inputs
    in place, replay, compare with NumPy/SciPy on the new values."""
    pytest.importorskip(package)
    result, output = _run_child(f"import test_robust_gpu as t; t._graph_child({package!r}, {name!r})")
    assert result is not None, f"the capture child crashed: {output}"
    status, route = result["status"], result["route"]
    if status != "ok":
        pytest.fail(f"{package} {name} via {route}: {status} in phase {result['phase']}: {result['detail']}")


# -- out of memory -------------------------------------------------------------------------------
@pytest.fixture
def torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA")
    return torch


def _release_all(torch) -> None:
    """Free gpmath's cached plans, trim gpmath's stream-ordered pool and torch's cache."""
    gpmath.cache_clear()
    torch.cuda.synchronize()
    _trim_pool(torch.cuda.current_device())
    torch.cuda.empty_cache()


@pytest.fixture
def scarce_memory(torch_cuda):
    """A torch ballast holding all but about 4 GiB of the GPU; yields the bytes left free."""
    torch = torch_cuda
    _release_all(torch)
    free, _ = torch.cuda.mem_get_info()
    ballast = torch.empty(max(free - (4 << 30), 0), dtype=torch.uint8, device="cuda")
    torch.cuda.synchronize()
    free, _ = torch.cuda.mem_get_info()
    try:
        yield free
    finally:
        del ballast
        _release_all(torch)


def _small_calls_work(rng) -> None:
    a, b = rng.standard_normal((64, 32)), rng.standard_normal((32, 16))
    assert relative_error(gpmath.matmul(a, b), a @ b) < 1e-12
    x = rng.standard_normal((8, 128)) + 1j * rng.standard_normal((8, 128))
    assert relative_error(fft.fft(x), scipy.fft.fft(x)) < 1e-12


def test_matmul_result_beyond_free_memory_raises_and_recovers(scarce_memory, rng):
    """NumPy operands on the GPU: the device buffer of the result (1.5x the free memory) fails
    after the pool is trimmed: gpmath.OutOfMemoryError (a MemoryError); small calls then work."""
    n = math.isqrt(int(1.5 * scarce_memory) // 4) + 1
    a, b = np.ones((n, 8), np.float32), np.ones((8, n), np.float32)
    with pytest.raises(gpmath.OutOfMemoryError) as raised:
        gpmath.matmul(a, b)
    assert isinstance(raised.value, MemoryError)
    with pytest.raises(gpmath.OutOfMemoryError):
        Matmul(a, b).plan()
    _small_calls_work(rng)


def test_fft_plan_beyond_free_memory_raises_and_recovers(scarce_memory, rng):
    """A cuFFT plan whose buffers (1.5x the free memory) cannot be allocated: OutOfMemoryError
    from planning (cuFFT's CUFFT_ALLOC_FAILED or gpmath's pool); small calls then work."""
    rows = int(1.5 * scarce_memory) // (8 * 4096) + 1
    x = np.zeros((rows, 4096), np.complex64)  # calloc: no host page is touched
    with pytest.raises(gpmath.OutOfMemoryError) as raised:
        FFT(x, axes=-1).plan()
    assert isinstance(raised.value, MemoryError)
    with pytest.raises(gpmath.OutOfMemoryError):
        fft.fft(x)
    del x
    _small_calls_work(rng)


def test_fft_result_beyond_free_memory_on_torch_raises_and_recovers(scarce_memory, torch_cuda, rng):
    """A torch input that fits but whose result does not: the result is allocated by torch
    (torch.OutOfMemoryError) unless cuFFT's work area fails first (gpmath.OutOfMemoryError)."""
    torch = torch_cuda
    rows = int(0.6 * scarce_memory) // (8 * 4096)
    x = torch.zeros((rows, 4096), dtype=torch.complex64, device="cuda")
    with pytest.raises((gpmath.OutOfMemoryError, torch.OutOfMemoryError)):
        with FFT(x, axes=-1) as plan:
            plan.plan()
            y = plan.execute()
            torch.cuda.synchronize()
            del y
            z = plan.execute()  # a second result cannot fit in any case
            torch.cuda.synchronize()
            del z
    del x
    small = torch.randn(8, 256, dtype=torch.complex128, device="cuda")
    assert relative_error(fft.fft(small), scipy.fft.fft(to_numpy(small))) < 1e-12
    _small_calls_work(rng)


# -- fork --------------------------------------------------------------------------------------
def _fork_child(parent_plan) -> dict:
    from test_fork import _computes_correctly

    found = {"count": runtime.device_count(), "reason": runtime.no_gpu_reason()}
    found.update(_computes_correctly())
    try:
        parent_plan.execute()
        found["parent_plan"] = "ran"
    except FreedPlanError:
        found["parent_plan"] = "freed"
    return found


def test_fork_child_computes_on_the_cpu(rng):
    """A fork after the parent used the GPU through gpmath: the child sees no GPU, computes
    matmul/fft/solve of NumPy arrays on the CPU correctly, cannot run the parent's GPU plan,
    and finishes (the join has a timeout)."""
    from test_fork import _run_in_fork

    a, b = rng.standard_normal((128, 64)), rng.standard_normal((64, 32))
    assert relative_error(gpmath.matmul(a, b), a @ b) < 1e-12  # on the GPU: CUDA is initialised
    assert runtime._initialised and runtime.device_count() > 0
    plan = Matmul(a, b).plan()
    assert plan.device_id is not None
    ok, found = _run_in_fork(_fork_child, plan)
    assert ok, found
    assert found["count"] == 0 and found["reason"] == runtime.FORK_REASON
    assert found["matmul"] and found["fft"] and found["solve"], found
    assert found["parent_plan"] == "freed"
    assert relative_error(plan.execute(), a @ b) < 1e-12  # the parent's plan is untouched
    plan.free()


# -- sizes past 2**31 elements ---------------------------------------------------------------------
def _needs(torch, nbytes: int) -> None:
    free, _ = torch.cuda.mem_get_info()
    if free < nbytes:
        pytest.skip(f"needs {nbytes / 2**30:.0f} GiB of free GPU memory, {free / 2**30:.0f} GiB free")


def test_fft_batch_past_2_31_elements(torch_cuda):
    """(2**13 + 1, 2**18) complex64, 2.15e9 elements (17 GB in, 17 GB out), the last axis
    transformed; rows checked against torch.fft on those rows."""
    torch = torch_cuda
    _release_all(torch)
    rows, n = 2**13 + 1, 2**18
    assert rows * n > 2**31
    _needs(torch, 4 * rows * n * 8)
    generator = torch.Generator(device="cuda").manual_seed(31)
    x = torch.randn(rows, n, dtype=torch.complex64, device="cuda", generator=generator)
    y = None
    try:
        y = fft.fft(x)
        assert tuple(y.shape) == (rows, n) and y.dtype == torch.complex64
        picks = sorted({0, 1, rows // 2, rows - 2, rows - 1, *np.random.default_rng(5).integers(0, rows, 3).tolist()})
        index = torch.tensor(picks, device="cuda")
        reference = torch.fft.fft(x[index])
        error = ((y[index] - reference).abs().max() / reference.abs().max()).item()
        assert error < 1e-5, f"rows {picks}: relative error {error:.3g}"
    finally:
        del x, y
        _release_all(torch)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_result_past_2_31_elements(torch_cuda, dtype):
    """(46341, 64) @ (64, 46341): 2.147e9 result elements (4.3 GB); whole rows (the last one
    crosses element 2**31) and whole columns checked against float32 torch products."""
    torch = torch_cuda
    _release_all(torch)
    m, k = 46341, 64
    assert m * m > 2**31
    _needs(torch, 3 * m * m * 2)
    generator = torch.Generator(device="cuda").manual_seed(17)
    kind = getattr(torch, dtype)
    a = (torch.rand(m, k, device="cuda", generator=generator) * 2 - 1).to(kind)
    b = (torch.rand(k, m, device="cuda", generator=generator) * 2 - 1).to(kind)
    d = None
    try:
        d = gpmath.matmul(a, b)
        assert tuple(d.shape) == (m, m) and d.dtype == kind
        picks = sorted({0, 1, m // 2, m - 2, m - 1, *np.random.default_rng(6).integers(0, m, 3).tolist()})
        index = torch.tensor(picks, device="cuda")
        rows = a[index].float() @ b.float()
        cols = a.float() @ b[:, index].float()
        tolerance = 2e-2 if dtype == "float16" else 6e-2
        row_error = ((d[index].float() - rows).abs().max() / rows.abs().max()).item()
        col_error = ((d[:, index].float() - cols).abs().max() / cols.abs().max()).item()
        assert row_error < tolerance, f"rows {picks}: relative error {row_error:.3g}"
        assert col_error < tolerance, f"columns {picks}: relative error {col_error:.3g}"
    finally:
        del a, b, d
        _release_all(torch)
