"""SciPy's and NumPy's tests that fail on gpmath by design: node-id patterns -> a reason key.

Each reason is one entry of docs/linalg.md's "Differences from SciPy" section (tests/test_scipy_linalg_suite.py
checks that the docs name every key).  Patterns are :func:`fnmatch.fnmatchcase` patterns over node ids
relative to site-packages (a node id also matches itself, its brackets read literally); the plugin marks every test they match ``xfail(strict=True)``.
"""

REASONS: dict[str, str] = {
    "lu-factor-square": "lu_factor factors square matrices only (cuSOLVER's batched getrf is square)",
}

XFAILS: dict[str, str] = {
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_hrectangular": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_vrectangular": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_hrectangular_complex": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_vrectangular_complex": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_medium1": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_medium1_complex": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-0-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-0-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-1-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-1-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-2-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float32-2-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-0-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-0-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-1-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-1-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-2-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[float64-2-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-0-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-0-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-1-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-1-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-2-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex64-2-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-0-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-0-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-1-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-1-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-2-0]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_shape_dtype[complex128-2-1]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_empty[0-2]": "lu-factor-square",
    "scipy/linalg/tests/test_decomp_lu.py::TestLUFactor::test_empty[2-0]": "lu-factor-square",
}
