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
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent
SUITE = HERE / "scipy_suite"
sys.path.insert(0, str(SUITE))
import differences  # noqa: E402

scipy = pytest.importorskip("scipy")
SITE = pathlib.Path(scipy.__file__).parent.parent

CI = {"scipy": ["scipy/linalg/tests/test_decomp_cholesky.py", "scipy/linalg/tests/test_decomp_lu.py"],
      "numpy": ["numpy/linalg/tests/test_regression.py"]}
FULL = {"scipy": [f"scipy/linalg/tests/test_{name}.py" for name in
                  ("basic", "decomp", "decomp_cholesky", "decomp_lu", "batch")],
        "numpy": ["numpy/linalg/tests/test_linalg.py", "numpy/linalg/tests/test_regression.py"]}


@pytest.mark.timeout(900)  # the peer suite runs in a subprocess with its own 900 s limit
@pytest.mark.parametrize("library", ["scipy", "numpy"])
def test_library_suite_passes_on_gpmath(library):
    modules = (FULL if os.environ.get("GPMATH_SCIPY_SUITE") == "full" else CI)[library]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SUITE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
               GPMATH_PLACEMENT="cuda")  # SciPy's small arrays on the GPU too, where there is one
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "plugin",
               f"--gpmath-swap={library}", f"--rootdir={SITE}", "-rfE", *modules]
    done = subprocess.run(command, cwd=SITE, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_every_difference_is_documented():
    docs = (HERE.parent / "docs" / "linalg.md").read_text()
    section = docs.partition("## Differences from SciPy")[2]
    assert section, "docs/linalg.md has no 'Differences from SciPy' section"
    missing = [key for key in differences.REASONS if f"`{key}`" not in section]
    assert not missing, f"reasons not documented in docs/linalg.md: {missing}"
    tables = [differences.XFAILS, *differences.XFAILS_BY_SCIPY.values()]
    assert set().union(*(table.values() for table in tables)) | differences.GPU_ONLY <= set(differences.REASONS)
