"""Every docstring example in gpmath runs and shows what it says (the same as
``pytest --doctest-modules gpmath``, inside the normal test command)."""

from __future__ import annotations

import doctest
import importlib
import pathlib
import pkgutil

import pytest

import gpmath

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(gpmath.__path__, "gpmath."))


def test_modules_are_found():
    assert {"gpmath.blas._planner", "gpmath.fft._basic", "gpmath.linalg._solvers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    gpmath.cache_clear()  # each module's examples from a fresh state, as in their own process
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        if pathlib.Path(test.filename or "").resolve().is_relative_to(pathlib.Path(gpmath.__file__).parent.resolve()):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (see the output above)"
