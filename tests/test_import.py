"""``import gpmath`` stays light: no SciPy, torch, CuPy or CUDA runtime until a call needs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["gpmath", "gpmath.linalg", "gpmath.fft", "gpmath.blas", "gpmath.solver"])
def test_import_leaves_scipy_torch_cupy_and_cuda_unimported(module):
    """Importing gpmath or one of its namespaces loads none of them (the first call does)."""
    probe = (f"import json, sys, {module}; print(json.dumps([m for m in ('scipy', 'scipy.linalg', 'scipy.fft', "
             "'torch', 'cupy', 'cuda.bindings.runtime', 'cuda.bindings.driver') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"import {module} failed:\n{done.stderr[-3000:]}"
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("variable, value, least", [
    ("GPMATH_CACHE_SIZE", "abc", 0), ("GPMATH_FFT_CACHE_BYTES", "1e9", 0), ("GPMATH_CACHE_BYTES", "-1", 0),
    ("GPMATH_PINNED_MIN_BYTES", "xyz", 0), ("GPMATH_PINNED_POOL_BYTES", "-5", 0), ("GPMATH_PINNED_SLOT_BYTES", "0", 4096),
])
def test_a_numeric_environment_variable_that_holds_no_such_number_is_named(variable, value, least):
    """At import, or when the module that reads it loads: ValueError naming the variable (not a bare
    int() error, and never a pipeline of zero-byte slots)."""
    import os

    probe = "import gpmath, gpmath._core.transfer"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **{variable: value}))
    assert done.returncode != 0
    assert f"ValueError: {variable} must be an integer of at least {least}, not '{value}'" in done.stderr
