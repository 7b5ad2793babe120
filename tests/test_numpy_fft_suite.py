"""NumPy's own numpy.fft tests, run on gpmath.fft's functions (tests/scipy_suite, ``numpy-fft``).

NumPy's ``test_pocketfft.py`` and ``test_helper.py`` call ``np.fft.*`` with numpy.fft swapped for
thin adapters onto gpmath.fft (NumPy's ``out=`` written by the adapter; the transforms are
gpmath's): against their own direct DFT, round trips, C, Fortran and strided layouts, threads,
integer and bool input.  They pass except the tests tests/scipy_suite/differences.py lists (each
a difference documented in docs/fft.md), which must fail.  Twice, as the scipy.fft suite: with
``GPMATH_PLACEMENT=cuda`` (where a GPU is usable, the NumPy arrays compute on it) and with
automatic placement (small ones by the host lanes).
"""

from __future__ import annotations

import pathlib
import re
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent / "scipy_suite"))
from runner import run_swapped  # noqa: E402

MODULES = ["numpy/fft/tests/test_pocketfft.py", "numpy/fft/tests/test_helper.py"]


@pytest.mark.timeout(900)  # the peer suite runs in a subprocess with its own 900 s limit
@pytest.mark.parametrize("placement", ["cuda", "auto"])
def test_numpy_fft_suite_passes_on_gpmath(placement):
    done = run_swapped("numpy-fft", MODULES, placement)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    passed = re.search(r"gpmath swap counts: passed=(\d+)", done.stdout)
    assert passed and int(passed.group(1)) > 100, done.stdout[-3000:]  # NumPy 2.4: 141 pass, 15 differ
