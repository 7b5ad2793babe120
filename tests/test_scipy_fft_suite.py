"""SciPy's own scipy.fft test suite, with gpmath.fft as the only global backend.

Runs the installed ``scipy.fft.tests`` in a subprocess (the plugin ``scipy_fft_suite_plugin``
calls ``scipy.fft.set_global_backend(gpmath.fft, only=True)``) and checks that the only failures
are the tests of ``longdouble``/``clongdouble`` inputs: gpmath computes in float32/float64,
returns ``NotImplemented`` for them, and SciPy then raises ``BackendNotImplementedError``.
Twice: with ``GPMATH_PLACEMENT=cuda`` (where a GPU is usable, the NumPy arrays of SciPy's tests
compute on it) and with automatic placement (as a user's calls run).  Then once more with SciPy's
array-API runs (``SCIPY_ARRAY_API=1``), where its tests that take an array namespace run on torch
tensors and CuPy arrays too: torch CPU tensors without a GPU, CUDA ones with one.  And the tests of
SciPy's own backend module (``scipy.fft._pocketfft``, ``scipy.fft._duccfft`` from SciPy 1.18), which
import its transforms by name (many sizes and dtypes, FFTW's and MATLAB's DCT/DST reference values,
SciPy's error words), with those names swapped for gpmath's (tests/scipy_suite, ``scipy-fft-backend``).
With ``GPMATH_SCIPY_SUITE=full``, also scipy.signal's tests of the functions that transform through
scipy.fft (``fftconvolve``, ``oaconvolve``, ``resample``, ``hilbert``, the spectral estimates, ``czt``):
twelve thousand calls of every shape, axis and dtype, with gpmath the only backend.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

pytest.importorskip("scipy.fft.tests")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "scipy_suite"))
from runner import ARRAY_API_PACKAGES, array_api_environment, run_swapped  # noqa: E402


# SciPy's test_multiprocess compares a forked child's result with the parent's at atol=0.  A child
# forked after the parent used CUDA computes on the CPU engine (CUDA cannot cross a fork), while
# the parent computes on cuFFT: entries that are zero up to rounding (1e-17 beside 1.0) then differ
# in their last bits.  Allowed to fail (not required to), for the transforms that show it.
ROUNDING_ACROSS_ENGINES = {f"test_basic::test_multiprocess[{name}]" for name in ("fft", "ifft", "rfft", "irfft")}
# scipy.signal's STFT round trip compares with rtol only (atol=0) a signal whose odd samples are
# exactly zero: pocketfft's rounding leaves them zero, cuFFT's leaves a few 1e-17.  Allowed where
# the report shows differences of rounding only (ZERO_ROUNDING at most).
ZEROS_COMPARED_AT_ATOL_0 = {"TestSTFT::test_roundtrip_scaling"}
ZERO_ROUNDING = 1e-14


def _failures(report: Path) -> tuple[int, list[tuple[str, str]]]:
    """``(tests run, (name, message) of each failed or errored test)`` from a JUnit XML report."""
    root = ElementTree.parse(report).getroot()
    cases = list(root.iter("testcase"))
    failed = []
    for case in cases:
        outcome = case.find("failure") if case.find("failure") is not None else case.find("error")
        if outcome is not None:
            failed.append((f"{case.get('classname')}::{case.get('name')}", outcome.get("message") or ""))
    return len(cases), failed


# SciPy's array-API rule: ``workers`` is for NumPy arrays alone, and its test expects a ValueError
# for other arrays.  gpmath honours it for torch CPU tensors (scipy.fft's pocketfft computes them)
# and ignores it on the GPU, as for NumPy arrays (docs/fft.md).
WORKERS_FOR_OTHER_ARRAYS = "test_basic::test_non_standard_params["


def _run_suite(tmp_path, *modules: str, **environment) -> tuple[int, list[str], str]:
    """``(tests run, the failures not allowed, the output's tail)`` of SciPy's test *modules*
    (``scipy.fft.tests`` by default), gpmath the only backend, in a subprocess with *environment* added."""
    report = tmp_path / "scipy_fft.xml"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
               **environment)
    command = [sys.executable, "-m", "pytest", "--pyargs", *(modules or ("scipy.fft.tests",)), "-p", "scipy_fft_suite_plugin",
               "-p", "no:cacheprovider", "-q", "-o", "addopts=", f"--junitxml={report}"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    run, failed = _failures(report)
    array_api = "SCIPY_ARRAY_API" in environment
    return run, [name for name, message in failed if not _allowed(name, message, array_api)], done.stdout[-6000:]


def _allowed(name: str, message: str, array_api: bool) -> bool:
    """Whether the failure of test *name* with *message* is one of the documented differences, by
    its cause: a longdouble test refused by gpmath's dtype rule (or by SciPy, which then finds no
    backend), the workers rule's missing ValueError, the fork's rounding, cuFFT's rounding of zeros."""
    if "longdouble" in name.lower():
        return "computes in" in message or "BackendNotImplementedError" in message
    if array_api and WORKERS_FOR_OTHER_ARRAYS in name and "[numpy-" not in name:
        return "DID NOT RAISE" in message
    if name.endswith(tuple(ZEROS_COMPARED_AT_ATOL_0)):
        found = re.search(r"Max absolute difference among violations: ([0-9.e+-]+)", message)
        return found is not None and float(found.group(1)) <= ZERO_ROUNDING
    return name.endswith(tuple(ROUNDING_ACROSS_ENGINES))


@pytest.mark.timeout(900)  # the peer suite runs in a subprocess with its own 900 s limit
@pytest.mark.parametrize("placement", ["cuda", "auto"])
def test_scipy_fft_suite_passes_with_gpmath_as_the_only_backend(tmp_path, placement):
    """``cuda``: SciPy's small arrays on the GPU too, where there is one (else through the plans'
    CPU engine); ``auto``: as a user's calls run, small ones by the host lanes."""
    run, unexpected, output = _run_suite(tmp_path, GPMATH_PLACEMENT=placement)
    assert run > 3000, output
    assert not unexpected, "\n".join(unexpected) + "\n" + output


@pytest.mark.timeout(900)
@pytest.mark.skipif(not ARRAY_API_PACKAGES, reason="neither torch nor CuPy is installed: SciPy's array-API run "
                                                   "would add nothing to the NumPy one")
def test_scipy_fft_suite_passes_on_torch_and_cupy_arrays(tmp_path):
    """SciPy's array-API tests on torch tensors and CuPy arrays, gpmath the only backend: on the GPU
    where one is usable (``SCIPY_DEVICE=cuda``: torch's default device; CuPy's arrays are there anyway)."""
    run, unexpected, output = _run_suite(tmp_path, **array_api_environment())
    assert run > 4000, output  # (torch's cases beside NumPy's: 4988 with SciPy 1.17 and torch on the CPU)
    assert not unexpected, "\n".join(unexpected) + "\n" + output


@pytest.mark.timeout(900)
@pytest.mark.parametrize("placement", ["cuda", "auto"])
def test_scipy_fft_backend_suite_passes_on_gpmath(tmp_path, placement):
    from gpmath.fft._cpu import SCIPY_BACKEND

    tests = SCIPY_BACKEND.__name__.replace(".", "/") + "/tests"
    report = tmp_path / "backend.xml"
    done = run_swapped("scipy-fft-backend", [f"{tests}/test_basic.py", f"{tests}/test_real_transforms.py"], placement,
                       f"--junitxml={report}")
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    run, failed = _failures(report)
    unexpected = [name for name, message in failed if not _allowed(name, message, False)]
    assert run > 2000, done.stdout[-3000:]  # (2407 with SciPy 1.17)
    assert not unexpected, "\n".join(unexpected) + "\n" + done.stdout[-6000:]


@pytest.mark.timeout(900)
@pytest.mark.skipif(os.environ.get("GPMATH_SCIPY_SUITE") != "full", reason="GPMATH_SCIPY_SUITE=full runs scipy.signal's "
                                                                          "FFT-based tests (about a minute on 2 cores)")
def test_scipy_signal_fft_tests_pass_with_gpmath_as_the_only_backend(tmp_path):
    modules = [name for name in ("scipy.signal.tests.test_signaltools", "scipy.signal.tests.test_spectral",
                                 "scipy.signal.tests.test_czt") if importlib.util.find_spec(name)]  # (czt's moved in 1.18)
    run, unexpected, output = _run_suite(tmp_path, *modules, GPMATH_PLACEMENT="cuda")
    assert run > 10000, output  # (12659 with SciPy 1.17)
    assert not unexpected, "\n".join(unexpected) + "\n" + output
