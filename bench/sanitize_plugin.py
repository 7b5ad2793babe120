"""pytest plugin for ``bench/sanitize.sh`` (loaded with ``-p sanitize_plugin``, ``bench/`` on the path).

Three environment variables, each optional:

- ``SANITIZE_SELECT``: a file of node ids; only those tests run.
- ``SANITIZE_DESELECT``: a file of node ids that do not run (tests a sanitizer run already checked).
- ``SANITIZE_RECORD``: a path prefix; each worker appends to ``<prefix>.<pid>`` the node id of
  every test during which gpmath launched one of its own kernels (through
  :class:`gpmath._core.kernels.Launch`, their one launch point) or which started a child
  process (whose launches this process cannot see).

A sanitizer run whose check is limited to gpmath's kernels (``SANITIZE_KERNELS``) can report only
for the recorded tests: the others launch none of the kernels it checks.  So ``sanitize.sh -l``
records them in a pass without the sanitizer, then sanitizes only those.
"""

from __future__ import annotations

import multiprocessing.process
import os
import subprocess

_seen = {"launch": False}


def _ids(path: str) -> set[str]:
    with open(path) as file:
        return {line.strip() for line in file if line.strip()}


def _noting(method):
    """*method* that first notes that the current test started something on the GPU or a child."""
    def noted(*args, **kwargs):
        _seen["launch"] = True
        return method(*args, **kwargs)
    return noted


def pytest_configure(config) -> None:
    if os.environ.get("SANITIZE_RECORD"):
        from gpmath._core import kernels

        kernels.Launch.__call__ = _noting(kernels.Launch.__call__)
        subprocess.Popen.__init__ = _noting(subprocess.Popen.__init__)
        multiprocessing.process.BaseProcess.start = _noting(multiprocessing.process.BaseProcess.start)


def pytest_collection_modifyitems(config, items) -> None:
    done = _ids(os.environ["SANITIZE_DESELECT"]) if os.environ.get("SANITIZE_DESELECT") else set()
    wanted = _ids(os.environ["SANITIZE_SELECT"]) if os.environ.get("SANITIZE_SELECT") else None
    dropped = [item for item in items if item.nodeid in done or (wanted is not None and item.nodeid not in wanted)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in gone]


def pytest_runtest_setup(item) -> None:
    _seen["launch"] = False


def pytest_runtest_teardown(item, nextitem) -> None:
    prefix = os.environ.get("SANITIZE_RECORD")
    if prefix and _seen["launch"]:
        with open(f"{prefix}.{os.getpid()}", "a") as file:
            file.write(item.nodeid + "\n")
