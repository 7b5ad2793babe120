"""gpmath.show_config / ``python -m gpmath info``, and the one warning when a present GPU is unusable."""

from __future__ import annotations

import enum
import json
import logging
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

import gpmath
from gpmath._core import cache, engines, execution, runtime
from gpmath.solver import _crossover


def test_report_sections_hold_the_installed_versions():
    report = gpmath.show_config(mode="dicts")
    assert report["gpmath"]["version"] == gpmath.__version__
    assert report["gpmath"]["python"] == sys.version.split()[0]
    for name in ("numpy", "scipy", "cuda-bindings", "cuda-pathfinder"):
        assert report["packages"][name] == metadata.version(name)
    assert report["cuda"]["GPU hardware present"] == runtime.gpu_hardware_present()


def test_report_names_each_library_with_its_version_or_why_not():
    libraries = gpmath.show_config(mode="dicts")["libraries"]
    assert [entry["library"] for entry in libraries] == ["cublasLt", "cublas", "cusolver", "cufft", "nvrtc"]
    for entry in libraries:
        assert ("version" in entry) != ("missing" in entry), entry
        if "missing" in entry:
            assert "\n" not in entry["missing"] and entry["missing"]


def test_report_routing_and_caches_are_the_live_tables():
    report = gpmath.show_config(mode="dicts")
    tables = report["routing"]["solver crossovers (first matching row wins)"]
    assert set(tables) == {"CHOLESKY", "EIG", "EIGH", "SVD", "FACTOR", "SOLVE", "MIXED"}
    for name, rows in tables.items():
        expected = getattr(_crossover, name)
        assert [(r["min batch"], None if r["max n"] == "any" else r["max n"], r["route"]) for r in rows] == list(expected)
    listed = {entry["cache"]: entry for entry in report["caches"]["plan caches"]}
    assert listed.keys() == cache.cache_info().keys()
    assert listed["matmul"]["maxsize"] == cache.cache_info()["matmul"].maxsize


def test_stdout_report_and_bad_mode(capsys):
    assert gpmath.show_config() is None
    printed = capsys.readouterr().out
    assert f"numpy: {np.__version__}" in printed and f"version: {gpmath.__version__}" in printed
    with pytest.raises(ValueError, match="mode must be"):
        gpmath.show_config(mode="json")


def test_command_line():
    run = lambda *args: subprocess.run([sys.executable, "-m", "gpmath", *args], capture_output=True, text=True,  # noqa: E731
                                       timeout=120)
    text = run("info")
    assert text.returncode == 0, text.stderr
    assert f"version: {gpmath.__version__}" in text.stdout and "libraries:" in text.stdout
    as_json = run("info", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["packages"]["numpy"] == np.__version__
    assert run().returncode == 2


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(execution, "_warned", set())


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "gpmath" and r.levelno == logging.WARNING]


def test_unusable_gpu_warns_once_and_runs_on_the_cpu(monkeypatch, caplog, fresh_warnings):
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: True)
    monkeypatch.setattr(runtime, "no_gpu_reason", lambda: "the driver is too old")
    a, b = np.random.default_rng(0).random((2, 3, 3))
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        for _ in range(3):
            np.testing.assert_allclose(gpmath.matmul(a, b), a @ b)
            np.testing.assert_allclose(gpmath.fft.fft(a), np.fft.fft(a))
    assert _warnings(caplog) == ["a GPU is present but unusable: the driver is too old; running on the CPU"]


def test_no_gpu_hardware_runs_on_the_cpu_quietly(monkeypatch, caplog, fresh_warnings):
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    monkeypatch.setattr(runtime, "gpu_hardware_present", lambda: False)
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        gpmath.matmul(np.ones((2, 2)), np.ones((2, 2)))
    assert _warnings(caplog) == []


def test_missing_library_warns_once_with_the_reason(monkeypatch, caplog, fresh_warnings):
    monkeypatch.setattr(runtime, "device_count", lambda: 1)
    monkeypatch.setattr(runtime, "get_device", lambda: 0)
    monkeypatch.setattr(engines, "_library_missing", lambda name: f"cannot load lib{name}: not installed")
    x = np.random.default_rng(1).random(8)
    with caplog.at_level(logging.WARNING, logger="gpmath"):
        for _ in range(2):
            np.testing.assert_allclose(gpmath.fft.fft(x), np.fft.fft(x))
    assert _warnings(caplog) == ["a GPU is present but cannot load libcufft: not installed; running on the CPU"]


class _Error(enum.IntEnum):
    cudaErrorInsufficientDriver = 35
    cudaErrorNoDevice = 100


class _OldDriver:
    def __init__(self, error, driver):
        self.error, self.driver = error, driver

    def cudaGetDeviceCount(self):
        return self.error, None

    def cudaDriverGetVersion(self):
        return 0, self.driver

    def cudaRuntimeGetVersion(self):
        return 0, 13000


def test_reason_names_driver_and_runtime_versions(monkeypatch):
    monkeypatch.setattr(runtime, "_forked_child", False)
    monkeypatch.setattr(runtime, "_runtime", lambda: _OldDriver(_Error.cudaErrorInsufficientDriver, 12080))
    reason = runtime.no_gpu_reason()
    assert "supports CUDA 12.8" in reason and "runtime installed is 13.0" in reason and "gpmath[cu12]" in reason
    monkeypatch.setattr(runtime, "_runtime", lambda: _OldDriver(_Error.cudaErrorNoDevice, 13000))
    assert runtime.no_gpu_reason() == "cudaGetDeviceCount returned cudaErrorNoDevice (no usable NVIDIA driver or device)"


@pytest.mark.gpu
def test_report_on_a_gpu_lists_every_device_and_library():
    report = gpmath.show_config(mode="dicts")
    gpus = report["gpus"]
    assert [gpu["id"] for gpu in gpus] == list(range(runtime.device_count()))
    for gpu in gpus:
        major = runtime.check(runtime.rt().cudaDeviceGetAttribute(
            runtime.rt().cudaDeviceAttr.cudaDevAttrComputeCapabilityMajor, gpu["id"]), "cudaDeviceGetAttribute")
        assert gpu["compute_capability"].split(".")[0] == str(major) and gpu["memory_gib"] > 0
    for entry in report["libraries"][:4]:
        assert "version" in entry and entry["path"].startswith("/"), entry
    assert report["cuda"]["driver supports CUDA"] != "none"


@pytest.mark.parametrize("case, expected", [
    ("cpu", "Matmul: CPU engine: execution='cpu' (numpy operands in host memory)"),
    ("no-gpu", "Matmul: CPU engine: no usable GPU (numpy operands in host memory)"),
    ("empty", "Matmul: CPU engine: an operand has no elements (numpy operands in host memory)"),
])
def test_each_engine_choice_is_logged_with_its_reason(monkeypatch, caplog, case, expected):
    monkeypatch.setattr(runtime, "device_count", lambda: 0)
    a = np.ones((0, 2)) if case == "empty" else np.ones((2, 2))
    with caplog.at_level(logging.INFO, logger="gpmath"):
        gpmath.blas.Matmul(a, np.ones((2, 2)), execution="cpu" if case == "cpu" else None)
    assert expected in [r.getMessage() for r in caplog.records if r.name == "gpmath"]


def test_a_gpu_choice_is_logged_with_its_device(monkeypatch, caplog):
    monkeypatch.setattr(engines, "resolve_execution", lambda *args: 0)
    monkeypatch.setattr(engines, "_load", lambda path: path)  # the engine's name: nothing is built
    with caplog.at_level(logging.INFO, logger="gpmath"):
        choice = engines.choose("Solve", None, [("a", gpmath._core.packages.NUMPY, None)])
    assert choice.engine == "gpmath.solver._cuda_solve:CudaSolve" and choice.staging is not None
    assert "Solve: CUDA engine on cuda:0 (numpy operands in host memory, copied to the device and back)" in caplog.messages
