"""``import gpmath`` stays light: no SciPy, torch, CuPy or CUDA runtime until a call needs them."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_leaves_scipy_torch_cupy_and_cuda_unimported():
    probe = ("import json, sys, gpmath; print(json.dumps([m for m in ('scipy', 'scipy.linalg', 'scipy.fft', "
             "'torch', 'cupy', 'cuda.bindings.runtime', 'cuda.bindings.driver') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
