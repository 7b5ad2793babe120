"""Fork safety without a GPU: a forked child of a process that initialised CUDA sees no GPU (and
says why), forgets the parent's CUDA state and computes on the CPU; a child of a process that did
not initialise CUDA is left alone.  The parent's "initialised" flag is faked here; the GPU
version is ``test_robust_gpu.py::test_fork_child_computes_on_the_cpu``."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft, linalg
from gpmath._core import cache, runtime
from gpmath._errors import FreedPlanError
from gpmath.blas import Matmul

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

JOIN_TIMEOUT = 60


def _run_in_fork(target, *args):
    """``target(*args)`` in a forked child; its (ok, detail) answer (the child must finish in time)."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_guarded, args=(send, target) + args)
    child.start()
    send.close()
    answer = receive.recv() if receive.poll(JOIN_TIMEOUT) else (False, "no answer from the child in time")
    child.join(JOIN_TIMEOUT)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"the forked child hung (still alive after {JOIN_TIMEOUT} s)")
    assert child.exitcode == 0, f"the forked child exited with {child.exitcode}: {answer}"
    return answer


def _guarded(send, target, *args):
    try:
        send.send((True, target(*args)))
    except BaseException:
        send.send((False, traceback.format_exc()))
    finally:
        send.close()


def _computes_correctly() -> dict:
    """matmul, fft and solve of NumPy arrays, checked against NumPy/SciPy (in the calling process)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((40, 30)), rng.standard_normal((30, 20))
    x = rng.standard_normal((8, 64)) + 1j * rng.standard_normal((8, 64))
    m = rng.standard_normal((12, 12)) + 12 * np.eye(12)
    r = rng.standard_normal((12, 3))
    return {
        "matmul": bool(np.allclose(gpmath.matmul(a, b), a @ b, rtol=1e-10, atol=1e-10)),
        "fft": bool(np.allclose(fft.fft(x), scipy.fft.fft(x), rtol=1e-10, atol=1e-10)),
        "solve": bool(np.allclose(linalg.solve(m, r), np.linalg.solve(m, r), rtol=1e-10, atol=1e-10)),
    }


def _child_of_initialised(plan) -> dict:
    found = {"count": runtime.device_count(), "reason": runtime.no_gpu_reason(),
             "cached": sum(info.size for info in gpmath.cache_info().values())}
    found.update(_computes_correctly())
    try:
        plan.execute()
        found["parent_plan"] = "ran"
    except FreedPlanError as exc:
        found["parent_plan"] = f"freed: {exc}"
    try:
        Matmul(np.ones((2, 2)), np.ones((2, 2)), execution="cuda")
        found["execution_cuda"] = "ran"
    except gpmath.NoGPUError as exc:
        found["execution_cuda"] = str(exc)
    return found


def test_child_of_an_initialised_parent_sees_no_gpu(monkeypatch):
    """The parent "initialised CUDA": the child's device_count() is 0 with the fork reason, its
    plan caches are empty, a GPU plan of the parent is freed, and NumPy work runs on the CPU."""
    monkeypatch.setattr(runtime, "_initialised", True)
    a = np.ones((4, 3))
    gpmath.matmul(a, a.T)  # something in the plan caches (a CPU plan here)
    assert sum(info.size for info in gpmath.cache_info().values()) >= 1
    parent_plan = Matmul(a, a.T, execution="cpu").plan()
    parent_plan.device_id = 0  # pose as a GPU plan (in the fork only): the child must not run it
    try:
        ok, found = _run_in_fork(_child_of_initialised, parent_plan)
    finally:
        parent_plan.device_id = None
    assert ok, found
    assert found["count"] == 0
    assert found["reason"] == runtime.FORK_REASON
    assert "forked child" in found["reason"] and "'spawn'" in found["reason"]
    assert found["cached"] == 0
    assert found["parent_plan"].startswith("freed"), found
    assert runtime.FORK_REASON in found["execution_cuda"]
    assert found["matmul"] and found["fft"] and found["solve"], found
    # the parent is untouched
    assert not runtime._forked_child
    assert sum(info.size for info in gpmath.cache_info().values()) >= 1
    assert np.allclose(parent_plan.execute(), a @ a.T)
    parent_plan.free()


def _child_of_plain_parent(parent_plan) -> dict:
    found = {"forked": runtime._forked_child, "count": runtime.device_count(),
             "cached": sum(info.size for info in gpmath.cache_info().values())}
    found["plan"] = bool(np.allclose(parent_plan.execute(), np.full((4, 4), 3.0)))
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((20, 10)), rng.standard_normal((10, 5))
    with Matmul(a, b, execution="cpu") as plan:  # no CUDA call (the parent may have used CUDA for real)
        found["matmul"] = bool(np.allclose(plan.execute(), a @ b))
    return found


@pytest.mark.skipif(runtime.device_count() > 0, reason="on a GPU machine this process has initialised CUDA already: "
                    "a parent without CUDA can only be seen where there is none")
def test_child_of_a_parent_without_cuda_is_left_alone(monkeypatch):
    """No CUDA initialised in the parent: the hook changes nothing (caches and plans carry over)."""
    monkeypatch.setattr(runtime, "_initialised", False)
    count = runtime.device_count()
    a = np.ones((4, 3))
    gpmath.matmul(a, a.T, execution="cpu")
    cached = sum(info.size for info in gpmath.cache_info().values())
    parent_plan = Matmul(a, a.T, execution="cpu").plan()
    ok, found = _run_in_fork(_child_of_plain_parent, parent_plan)
    assert ok, found
    assert found["forked"] is False
    assert found["count"] == count
    assert found["cached"] == cached
    assert found["plan"] and found["matmul"]
    parent_plan.free()


def test_forget_functions_drop_state_without_releasing():
    """The per-module hooks: streams, handles and caches forget without a CUDA call."""
    from gpmath._core import handles, streams

    released = []

    class FakePlan:
        nbytes = 8

        def free(self):
            released.append(self)

    probe = cache.PlanCache("fork-probe", maxsize=4)
    try:
        probe.put(("k",), FakePlan())
        streams._local.streams = {0: 1234}
        handles._bound[99] = 7
        streams._forget()
        handles._forget()
        cache._forget()
        assert getattr(streams._local, "streams", None) is None
        assert 99 not in handles._bound
        assert probe.info().size == 0 and probe.info().nbytes == 0
        assert released == []  # dropped, not freed
        assert probe._lock.acquire(blocking=False)
        probe._lock.release()
    finally:
        del cache._CACHES["fork-probe"]


def test_import_registers_the_hook_cheaply():
    """``import gpmath`` neither imports the CUDA bindings nor initialises CUDA, so a child of a
    process that only imported gpmath is unaffected."""
    code = ("import sys, gpmath; from gpmath._core import runtime; "
            "print(runtime._initialised, 'cuda.bindings.runtime' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         cwd=root, env=env)
    assert out.stdout.split() == ["False", "False"], out
