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
