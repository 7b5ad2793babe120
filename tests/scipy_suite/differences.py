"""SciPy's and NumPy's tests that fail on gpmath by design: node-id patterns -> a reason key.

Each reason is one entry of docs/linalg.md's "Differences from SciPy" section (tests/test_scipy_linalg_suite.py
checks that the docs name every key).  Patterns are :func:`fnmatch.fnmatchcase` patterns over node ids
relative to site-packages (a node id also matches itself, its brackets read literally); the plugin marks every test they match ``xfail(strict=True)``.
"""

REASONS: dict[str, str] = {
    "numpy-float16": "gpmath computes float16 in float32, as SciPy does; NumPy's linalg raises TypeError",
    "numpy-subclass": "results are base arrays of the operand's package; NumPy keeps ndarray subclasses",
    "numpy-error-types": "gpmath raises SciPy's exception types (ValueError for mismatched shapes); NumPy "
                         "raises LinAlgError",
}

XFAILS: dict[str, str] = {
    "numpy/linalg/tests/test_linalg.py::test_unsupported_commontype": "numpy-float16",
    "numpy/linalg/tests/test_linalg.py::TestSolve::test_0_size": "numpy-subclass",
    "numpy/linalg/tests/test_linalg.py::TestSolve::test_0_size_k": "numpy-subclass",
    "numpy/linalg/tests/test_linalg.py::TestLstsq::test_incompatible_dims": "numpy-error-types",
}
