"""A pytest plugin running SciPy's and NumPy's own linear-algebra tests on gpmath's functions.

Load it with ``-p plugin`` (this folder on ``sys.path``) and ``--gpmath-swap=scipy`` or
``--gpmath-swap=numpy``, then name the installed test modules (``--pyargs
scipy.linalg.tests.test_basic``).  Before pytest collects them, each test module is imported with
the library's functions temporarily replaced by gpmath's (:mod:`swap`), so the names it imports
(``from scipy.linalg import solve``) and the parameter lists it builds hold gpmath's functions;
a module that calls ``linalg.solve`` at run time gets a copy of ``linalg`` with them swapped in.
The library modules themselves are restored at once: gpmath's CPU engine calls into them.

Every test named in :mod:`differences` (a deliberate difference, documented in docs/linalg.md) is
marked ``xfail(strict=True)``: it must fail, and one that passes fails the run as stale.  A
listed pattern that matches no test of a collected module is reported as stale too.
"""

from __future__ import annotations

import fnmatch
import importlib

import pytest

import differences
import swap

LIBRARIES = {"scipy": ("scipy.linalg", swap.SCIPY), "numpy": ("numpy.linalg", swap.NUMPY)}


def pytest_addoption(parser):
    parser.addoption("--gpmath-swap", choices=sorted(LIBRARIES), required=True,
                     help="whose linalg functions to replace by gpmath's")


def pytest_configure(config):
    config.stash[_STALE] = []


def pytest_collect_file(file_path, parent):
    """Import a test module with the swapped functions before pytest collects it."""
    name = _module_name(str(file_path))
    if name is None:
        return None
    library, swaps = LIBRARIES[parent.config.getoption("--gpmath-swap")]
    namespace = importlib.import_module(library)
    originals = {key: getattr(namespace, key) for key in swaps}
    vars(namespace).update(swaps)
    try:
        module = importlib.import_module(name)
    finally:
        vars(namespace).update(originals)
    proxy = swap.swapped_module(namespace, swaps)
    for key, value in list(vars(module).items()):
        if value is namespace:
            setattr(module, key, proxy)
    return None


def _module_name(path: str) -> str | None:
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    for root in ("scipy", "numpy"):
        if root in parts and parts[-1].startswith("test_"):
            return ".".join(parts[len(parts) - 1 - parts[::-1].index(root):])
    return None


_STALE = pytest.StashKey[list]()


def pytest_collection_modifyitems(config, items):
    patterns = differences.XFAILS
    used = set()
    collected_files = {item.nodeid.split("::")[0] for item in items}
    for item in items:
        for pattern, reason in patterns.items():
            if item.nodeid == pattern or fnmatch.fnmatchcase(item.nodeid, pattern):
                used.add(pattern)
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"{reason}: {differences.REASONS[reason]}"))
                break
    stale = [p for p in patterns if p not in used and p.split("::")[0] in collected_files]
    config.stash[_STALE].extend(stale)


def pytest_sessionfinish(session, exitstatus):
    stale = session.config.stash[_STALE]
    if stale and not session.config.getoption("-k") and not session.config.getoption("-m"):
        print("\nstale xfail patterns (match no collected test):\n  " + "\n  ".join(stale))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    counts = {key: len(terminalreporter.stats.get(key, [])) for key in ("passed", "failed", "xfailed", "error")}
    terminalreporter.write_line("gpmath swap counts: " + " ".join(f"{k}={v}" for k, v in counts.items()))

