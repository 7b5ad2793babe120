"""Plans made in one thread execute in another whose first CUDA work they are.

A new thread has no CUDA context bound until something binds one; cuFFT, cuBLASLt and kernel
launches then fail.  Plans bind the thread at plan time, so a plan made in the main thread and
executed in a fresh worker, or a stateless call that finds a plan cached by a thread now ended
(thread idents are reused), must bind it at execution.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft, linalg
from gpmath._core import runtime
from gpmath.blas import Matmul
from gpmath.fft import FFT
from helpers import relative_error, to_numpy, to_package

gpu = pytest.mark.gpu


def _in_fresh_thread(fn):
    """``fn()`` in a new thread that has done no CUDA work; its result or its exception."""
    out = []

    def run():
        try:
            out.append(fn())
        except BaseException as exc:  # reported in the calling thread
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def test_bind_thread_binds_a_fresh_thread_once(monkeypatch):
    """The first call in a thread sets the (current) device, which binds its primary context;
    later calls in that thread, and calls in a thread that planned, make no CUDA call."""
    calls = []
    monkeypatch.setattr(runtime, "get_device", lambda: calls.append("get") or 0)
    monkeypatch.setattr(runtime, "set_device", lambda device: calls.append(("set", device)))

    def fresh():
        runtime.bind_thread(0)
        runtime.bind_thread(0)
        with runtime.on_device(0):
            pass
        return list(calls)

    assert _in_fresh_thread(fresh) == ["get", ("set", 0), "get"]
    calls.clear()

    def planned():
        with runtime.on_device(0):  # what plan() does
            pass
        runtime.bind_thread(0)
        return list(calls)

    assert _in_fresh_thread(planned) == ["get", ("set", 0)]


@pytest.mark.parametrize("devices", [1, 2])
def test_call_on_device_binds_or_switches(monkeypatch, devices):
    """With one device, an unbound thread is bound before the call and nothing is switched; with
    several, the plan's device is made current around the call (asking *query*) and restored."""
    calls = []
    monkeypatch.setattr(runtime, "device_count", lambda: devices)
    monkeypatch.setattr(runtime, "get_device", lambda: calls.append("get") or 0)
    monkeypatch.setattr(runtime, "set_device", lambda device: calls.append(("set", device)))
    query = lambda: calls.append("query") or 0  # noqa: E731

    def fresh():
        first = runtime.call_on_device(1 if devices > 1 else 0, query, lambda x, y: calls.append("fn") or x - y, 7, 2)
        return first, list(calls)

    result, seen = _in_fresh_thread(fresh)
    assert result == 5
    assert seen == (["get", ("set", 0), "fn"] if devices == 1 else ["query", ("set", 1), "fn", ("set", 0)])


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_plans_made_in_one_thread_execute_in_another(package):
    """cuBLASLt, cuFFT, cuSOLVER (n = 40) and gpmath's own Cholesky kernel (n = 24)."""
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((96, 64)), rng.standard_normal((64, 80))
    x = rng.standard_normal((16, 256)) + 1j * rng.standard_normal((16, 256))
    m, k = rng.standard_normal((40, 40)), rng.standard_normal((24, 24))
    s, r, t = m @ m.T + 40 * np.eye(40), rng.standard_normal((40, 3)), k @ k.T + 24 * np.eye(24)
    ops = [to_package(v, package, d) for v, d in ((a, "float64"), (b, "float64"), (x, "complex128"),
                                                   (s, "float64"), (r, "float64"), (t, "float64"))]
    da, db, dx, ds, dr, dt = ops
    with Matmul(da, db) as mm, FFT(dx) as f, linalg.Solve(ds, dr) as solve, linalg.Cholesky(dt, lower=True) as c:
        plans = [mm.plan(), f.plan(), solve.plan(), c.plan()]
        results = _in_fresh_thread(lambda: [to_numpy(plan.execute()) for plan in plans])
    assert relative_error(results[0], a @ b) < 1e-12
    assert relative_error(results[1], scipy.fft.fftn(x)) < 1e-12  # the planner transforms every axis by default
    assert relative_error(results[2], np.linalg.solve(s, r)) < 1e-10
    assert relative_error(results[3], np.linalg.cholesky(t)) < 1e-12


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_stateless_calls_reuse_plans_of_ended_threads(package):
    """Rounds of fresh threads: later rounds find plans that ended threads cached under the same
    thread ident (CPython reuses them at once), and run them as their first CUDA work."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((16, 256)) + 1j * rng.standard_normal((16, 256))
    a = rng.standard_normal((64, 64))
    dx, da = to_package(x, package, "complex128"), to_package(a, package, "float64")
    gpmath.cache_clear()
    for _ in range(4):
        y, p = _in_fresh_thread(lambda: (to_numpy(fft.fft(dx)), to_numpy(gpmath.matmul(da, da))))
        assert relative_error(y, scipy.fft.fft(x)) < 1e-12
        assert relative_error(p, a @ a) < 1e-12


@pytest.mark.parametrize("devices", [1, 2])
def test_current_device_asks_the_runtime_only_where_several_devices_are_visible(monkeypatch, devices):
    """The GPU that computes on host operands is the current one: with one device visible that is
    device 0 without a ``cudaGetDevice`` (a per-call runtime call on the host-operand key); with
    several, the runtime's answer."""
    calls = []
    monkeypatch.setattr(runtime, "device_count", lambda: devices)
    monkeypatch.setattr(runtime, "get_device", lambda: calls.append("get") or devices - 1)
    assert runtime.current_device() == devices - 1
    assert calls == ([] if devices == 1 else ["get"])
