"""Shared pytest configuration: the ``gpu`` marker and random inputs."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

import gpmath
from gpmath._core import runtime


def _isolate_calibration() -> None:
    """Point ``$GPMATH_CACHE_DIR`` (inherited by the workers and by the child processes tests
    start) at a copy of the kernel cache without its placement calibrations: a calibration that
    tests trigger runs while many workers load the CPU, and saved in the user's cache it would
    steer that machine's later calls (it once put NumPy products of order 215 on the GPU, where
    the CPU was 1.8× faster up to order 512)."""
    from gpmath._core import kernels

    source, target = kernels._cache_dir(), tempfile.mkdtemp(prefix="gpmath-tests-cache-")
    if os.path.isdir(source):
        for name in os.listdir(source):
            if not name.startswith("placement-") and os.path.isfile(os.path.join(source, name)):
                shutil.copy2(os.path.join(source, name), target)
    os.environ["GPMATH_CACHE_DIR"] = target


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        shutil.rmtree(os.environ["GPMATH_CACHE_DIR"], ignore_errors=True)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, before it starts any worker
        _isolate_calibration()
    config.addinivalue_line("markers", "gpu: needs an NVIDIA GPU (skipped where there is none)")
    config.addinivalue_line("markers", "multigpu: needs two NVIDIA GPUs in one process (skipped on fewer)")
    config.addinivalue_line("markers", "serial: needs the machine to itself (a timing bound, the device's whole "
                            "memory): skipped among parallel workers, run alone (bench/device_run.sh does)")


def pytest_collection_modifyitems(config, items):
    count = runtime.device_count()
    no_gpu = f"no GPU: {runtime.no_gpu_reason()}" if count == 0 else ""
    skip_gpu = pytest.mark.skip(reason=no_gpu)
    skip_multi = pytest.mark.skip(reason=f"needs 2 GPUs, this process sees {count}" + (f" ({no_gpu})" if no_gpu else ""))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    skip_serial = pytest.mark.skip(reason=f"needs the machine to itself, and {workers} pytest workers share it: run alone")
    for item in items:
        if "serial" in item.keywords and workers > 1:
            item.add_marker(skip_serial)
        elif "multigpu" in item.keywords and count < 2:
            item.add_marker(skip_multi)
        elif "gpu" in item.keywords and count == 0:
            item.add_marker(skip_gpu)


@pytest.fixture
def rng():
    return np.random.default_rng()


@pytest.fixture(autouse=True)
def _placement_as_written():
    """Host operands run on the GPU whenever one is usable: the rule these tests were written for,
    whose small NumPy problems automatic placement would send to the CPU engine (leaving the CUDA
    engines' host path untested).  tests/test_placement*.py choose their own mode."""
    gpmath.set_placement("cuda")
    yield
    gpmath.set_placement(None)


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    yield
    gpmath.cache_clear()
    if ("gpu" in request.node.keywords or "multigpu" in request.node.keywords) and runtime.device_count() > 0:
        _stop_if_context_broken(request.node.nodeid)


def _stop_if_context_broken(nodeid: str) -> None:
    """Synchronize after a GPU test: an asynchronous fault (illegal address...) would otherwise
    surface in whichever test comes next, and it poisons the CUDA context for good, so this
    process ends (pytest-xdist then restarts the worker and names this test as the crash)."""
    err, = runtime.rt().cudaDeviceSynchronize()
    if int(err) != 0:
        sys.stderr.write(f"\nCUDA context broken after {nodeid}: {getattr(err, 'name', err)}\n")
        sys.stderr.flush()
        os._exit(3)


@pytest.fixture
def on_device(fake, monkeypatch, request):
    """For an emulated engine's tests (a module with a ``fake`` fixture and its ``_cuda`` engine and
    ``_planner`` front): NumPy arrays pose as arrays on device 0 (the direct path, no staging)."""
    from helpers import posing_as_device

    posing_as_device(monkeypatch, request.module._cuda, request.module._planner)
    return fake
