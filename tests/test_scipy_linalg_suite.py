"""SciPy's and NumPy's own linear-algebra tests, run on gpmath's functions (tests/scipy_suite).

Each run is a separate pytest process (the swap must not leak into this one, whose oracles are
SciPy's and NumPy's own functions) over the installed libraries' test modules; it passes when
every test passes except those tests/scipy_suite/differences.py lists for the installed SciPy,
which must fail (strict xfail; those of a GPU-only reason may fail on a GPU), and no listed
pattern is stale.  The CI subset below runs in well under 90 s
on the CPU; ``GPMATH_SCIPY_SUITE=full`` runs every module the acceptance criteria name.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE / "scipy_suite"))
import differences  # noqa: E402
from runner import array_api_environment, run_swapped  # noqa: E402

pytest.importorskip("scipy")

CI = {"scipy": ["scipy/linalg/tests/test_decomp_cholesky.py", "scipy/linalg/tests/test_decomp_lu.py"],
      "numpy": ["numpy/linalg/tests/test_regression.py"]}
FULL = {"scipy": [f"scipy/linalg/tests/test_{name}.py" for name in
                  ("basic", "decomp", "decomp_cholesky", "decomp_lu", "batch")],
        "numpy": ["numpy/linalg/tests/test_linalg.py", "numpy/linalg/tests/test_regression.py"]}


@pytest.mark.timeout(900)  # the peer suite runs in a subprocess with its own 900 s limit
@pytest.mark.parametrize("library", ["scipy", "numpy"])
def test_library_suite_passes_on_gpmath(library):
    done = run_swapped(library, (FULL if os.environ.get("GPMATH_SCIPY_SUITE") == "full" else CI)[library])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.timeout(900)
@pytest.mark.skipif(os.environ.get("GPMATH_SCIPY_SUITE") != "full", reason="GPMATH_SCIPY_SUITE=full runs SciPy's "
                                                                          "modules again in its array-API mode")
def test_scipy_suite_passes_in_its_array_api_mode():
    """``SCIPY_ARRAY_API=1``: SciPy's tests that take an array namespace run on torch tensors and CuPy
    arrays too (CUDA ones where a GPU is usable), gpmath's functions swapped in."""
    done = run_swapped("scipy", FULL["scipy"], environment=array_api_environment())
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.parametrize("doc, heading, reasons", [
    ("linalg.md", "## Differences from SciPy", set(differences.REASONS) - set(differences.FFT_REASONS)),
    ("fft.md", "## Differences from NumPy's numpy.fft", set(differences.FFT_REASONS))])
def test_every_difference_is_documented(doc, heading, reasons):
    section = (HERE.parent / "docs" / doc).read_text().partition(heading)[2].partition("\n## ")[0]
    assert section, f"docs/{doc} has no '{heading}' section"
    missing = sorted(key for key in reasons if f"`{key}`" not in section)
    assert not missing, f"reasons not documented in docs/{doc}: {missing}"


def test_every_listed_test_has_a_known_reason():
    tables = [differences.XFAILS, *differences.XFAILS_BY_SCIPY.values()]
    assert set().union(*(table.values() for table in tables)) | differences.GPU_ONLY <= set(differences.REASONS)
