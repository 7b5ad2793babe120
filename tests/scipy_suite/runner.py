"""One run of the peers' own tests on gpmath's functions (:mod:`plugin`), in a pytest subprocess.

Each run is a separate process: the swap must not leak into the calling one, whose oracles are
SciPy's and NumPy's own functions.
"""

from __future__ import annotations

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
