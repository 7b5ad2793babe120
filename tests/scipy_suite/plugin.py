"""A pytest plugin running SciPy's and NumPy's own tests on gpmath's functions.

Load it with ``-p plugin`` (this folder on ``sys.path``) and ``--gpmath-swap=scipy``,
``--gpmath-swap=numpy`` (linear algebra), ``--gpmath-swap=numpy-fft`` or ``--gpmath-swap=scipy-fft-backend``
(the tests of SciPy's own scipy.fft backend module, which import its transforms), then name the installed
test modules (``--pyargs scipy.linalg.tests.test_basic``).  Before pytest collects them, each test
module is imported with the library's functions temporarily replaced by gpmath's (:mod:`swap`), so
the names it imports (``from scipy.linalg import solve``) and the parameter lists it builds hold
gpmath's functions; a module that calls ``linalg.solve`` at run time gets a copy of ``linalg`` with
them swapped in.  The linear-algebra modules themselves are restored at once: gpmath's CPU engine
calls into them.  ``numpy.fft`` stays swapped for the whole run: NumPy's tests call ``np.fft.fft``
through ``numpy`` at run time, and gpmath never calls numpy.fft.

Every test named in :mod:`differences` for the installed SciPy (a deliberate difference,
documented in docs/linalg.md or docs/fft.md) is marked ``xfail(strict=True)``: it must fail, and one that
passes fails the run as stale.  Those of a GPU-only reason are marked ``xfail(strict=False)`` where gpmath
computes on a GPU, and left unmarked elsewhere; the other reasons of :data:`differences.NOT_STRICT`
(another CPU's rounding) are marked ``xfail(strict=False)`` everywhere.  A listed pattern that matches
no test of a collected module is reported as stale too, and fails the run (under pytest-xdist the
controller reports it, from the node ids its workers collected).
"""

from __future__ import annotations

import fnmatch
import importlib

import pytest

import differences
import swap

LIBRARIES = {"scipy": (("scipy.linalg", swap.SCIPY),), "numpy": (("numpy.linalg", swap.NUMPY),),
             "numpy-fft": (("numpy.fft", swap.NUMPY_FFT),), "scipy-fft-backend": swap.SCIPY_FFT_BACKEND}
HELD = frozenset({"numpy-fft"})  # swapped for the whole run (see the module notes)


def pytest_addoption(parser):
    parser.addoption("--gpmath-swap", choices=sorted(LIBRARIES), required=True,
                     help="whose functions to replace by gpmath's")


def pytest_configure(config):
    import scipy

    config.stash[_PATTERNS] = differences.xfails(scipy.__version__)
    config.stash[_COLLECTED] = set()


def pytest_collect_file(file_path, parent):
    """Import a test module with the swapped functions before pytest collects it."""
    name = _module_name(str(file_path))
    if name is None:
        return None
    choice = parent.config.getoption("--gpmath-swap")
    namespaces = [(importlib.import_module(library), swaps) for library, swaps in LIBRARIES[choice]]
    originals = [{key: getattr(namespace, key) for key in swaps} for namespace, swaps in namespaces]
    for namespace, swaps in namespaces:
        vars(namespace).update(swaps)
    try:
        module = importlib.import_module(name)
    finally:
        if choice not in HELD:
            for (namespace, _), kept in zip(namespaces, originals):
                vars(namespace).update(kept)
    for namespace, swaps in namespaces:
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


_PATTERNS = pytest.StashKey[dict]()
_COLLECTED = pytest.StashKey[set]()


def _on_gpu() -> bool:
    """Whether gpmath computes the suite's host operands on a GPU (one is usable, and placement
    is not forced to the CPU)."""
    import gpmath
    from gpmath._core import runtime

    return runtime.device_count() > 0 and gpmath.get_placement() != "cpu"


def pytest_collection_modifyitems(config, items):
    patterns = config.stash[_PATTERNS]
    gpu = _on_gpu()
    for item in items:
        reason = next((reason for pattern, reason in patterns.items() if _matches(item.nodeid, pattern)), None)
        if reason is None or (reason in differences.GPU_ONLY and not gpu):
            continue
        strict = reason not in differences.NOT_STRICT
        item.add_marker(pytest.mark.xfail(strict=strict, reason=f"{reason}: {differences.REASONS[reason]}",
                                          raises=differences.RAISES.get(reason)))
    _collected(config, [item.nodeid for item in items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """pytest-xdist's controller: the node ids a worker collected (for the stale patterns)."""
    _collected(node.config, ids)


def _collected(config, ids) -> None:
    if not hasattr(config, "workerinput"):  # an xdist worker leaves the report to its controller
        config.stash[_COLLECTED].update(ids)


def _matches(nodeid: str, pattern: str) -> bool:
    return nodeid == pattern or fnmatch.fnmatchcase(nodeid, pattern)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    collected = config.stash[_COLLECTED]
    if not collected or config.getoption("-k") or config.getoption("-m"):
        return
    files = {nodeid.split("::")[0] for nodeid in collected}
    stale = [pattern for pattern in config.stash[_PATTERNS] if pattern.split("::")[0] in files and pattern
             not in collected and not any(fnmatch.fnmatchcase(nodeid, pattern) for nodeid in collected)]
    if stale:
        print("\nstale xfail patterns (match no collected test):\n  " + "\n  ".join(stale))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    counts = {key: len(terminalreporter.stats.get(key, [])) for key in ("passed", "failed", "xfailed", "xpassed",
                                                                          "error")}
    terminalreporter.write_line("gpmath swap counts: " + " ".join(f"{k}={v}" for k, v in counts.items()))

