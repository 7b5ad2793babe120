"""One run of the peers' own tests on gpmath's functions (:mod:`plugin`), in a pytest subprocess.

Each run is a separate process: the swap must not leak into the calling one, whose oracles are
SciPy's and NumPy's own functions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
SITE = pathlib.Path(__import__("numpy").__file__).parent.parent  # site-packages: NumPy's and SciPy's tests


def run_swapped(library: str, modules: list[str], placement: str = "cuda", *options: str,
                environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """pytest over the installed test *modules* (paths relative to site-packages) with *library*'s
    functions swapped for gpmath's (``--gpmath-swap``), under ``GPMATH_PLACEMENT=placement``
    (``"cuda"``: the tests' small host arrays on the GPU too, where there is one), with pytest's
    *options* and the variables of *environment* added."""
    path = os.pathsep.join([str(HERE), str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path, GPMATH_PLACEMENT=placement, **(environment or {}))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "plugin",
               f"--gpmath-swap={library}", f"--rootdir={SITE}", "-rfE", *options, *modules]
    return subprocess.run(command, cwd=SITE, env=env, capture_output=True, text=True, timeout=900)


ARRAY_API_PACKAGES = [name for name in ("torch", "cupy") if importlib.util.find_spec(name)]
"""The array packages besides NumPy that gpmath serves and are installed."""


def array_api_environment() -> dict[str, str]:
    """The variables of SciPy's array-API runs on the packages gpmath serves: SciPy's conftest takes
    every array library installed (JAX, Dask ... which gpmath does not take), so they are named; on
    the GPU where one is usable (torch's default device; CuPy's arrays are there anyway)."""
    from gpmath._core import runtime

    return {"SCIPY_ARRAY_API": json.dumps(["numpy", *ARRAY_API_PACKAGES]),
            "SCIPY_DEVICE": "cuda" if runtime.device_count() else "cpu"}
