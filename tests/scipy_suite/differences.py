"""SciPy's and NumPy's tests that fail on gpmath by design: node-id patterns -> a reason key.

Each reason is one entry of docs/linalg.md's "Differences from SciPy" section (tests/test_scipy_linalg_suite.py
checks that the docs name every key).  Patterns are :func:`fnmatch.fnmatchcase` patterns over node ids
relative to site-packages (a node id also matches itself, its brackets read literally); the plugin marks every test they match ``xfail(strict=True)``.
"""

REASONS: dict[str, str] = {}  # none left: rectangular lu_factor, the last, is supported since session 12

XFAILS: dict[str, str] = {}
