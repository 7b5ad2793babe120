"""SciPy's and NumPy's tests that fail on gpmath by design: node-id patterns -> a reason key.

Each reason is one entry of docs/linalg.md's "Differences from SciPy" section, or of docs/fft.md's
"Differences from NumPy's numpy.fft" for those of :data:`FFT_REASONS` (tests/test_scipy_linalg_suite.py
checks that the docs name every key).  Patterns are :func:`fnmatch.fnmatchcase` patterns over node ids
relative to site-packages (a node id also matches itself, its brackets read literally; in a pattern with
wildcards ``[[]`` is a bracket).  :func:`xfails` gives those of one SciPy version: :data:`XFAILS`, which
hold for every version, and that version's table in :data:`XFAILS_BY_SCIPY` (the tests it alone has, or
parametrises differently).  The plugin marks every test they match ``xfail(strict=True)``, except those
of the reasons in :data:`GPU_ONLY`.
"""

from __future__ import annotations

import itertools
import re

import pytest

REASONS: dict[str, str] = {
    "numpy-float16": "gpmath computes float16 in float32, as SciPy does; NumPy's linalg raises TypeError",
    "numpy-subclass": "results are base arrays of the operand's package; NumPy keeps ndarray subclasses",
    "numpy-error-types": "gpmath raises SciPy's exception types (ValueError for mismatched shapes); NumPy "
                         "raises LinAlgError",
    "overwrite-side-effects": "gpmath writes into an overwrite_a/overwrite_b operand only a result SciPy 1.18 "
                              "returns there (cholesky's and qr's a, solve's and lstsq's b); SciPy's tests also "
                              "assert that LAPACK's work changes the others (the a of solve, lstsq, inv, det, "
                              "eig and svd, eig's b)",
    "legacy-dtypes": "strings, bytes, void and objects raise ValueError, datetimes TypeError, longdouble "
                     "computes in float64; SciPy keeps 1.16's per-function conversions and errors",
    "cho-factor-batch-flag": "a batched cho_factor returns one lower flag; SciPy's returns an array of them",
    "zero-size-batches": "empty batches give empty results; SciPy's eig and toeplitz raise ValueError",
    "argument-quirks": "SciPy's test passes a dict as qr's overwrite_a and expects an error; gpmath "
                       "accepts any truthy flag",
    "batch-routes": "on a GPU a batch and each of its matrices alone can take different SVD, eigensolver, LU or "
                        "inverse routines (placement and the crossover table choose by size and precision): in "
                        "float32 and complex64 they agree to a few ulps, singular vectors up to a sign or phase, "
                        "and a complex LU may pick another of two pivots of near magnitude (another valid P, L, "
                        "U), not to the rtol=1e-7 of SciPy's batch-against-loop tests",
    "gpu-float32-rounding": "on a GPU, float32 and complex64 results carry cuSOLVER's rounding, a few ulps "
                            "(up to about 10 on NumPy's 2x2 and 3x2 cases) from LAPACK's, beyond the 5-6 "
                            "absolute decimals NumPy's tests ask of values up to 36 and the 1e-6 SciPy's "
                            "batched qr_multiply test asks of float32 values near 0.5",
    "gpu-64-bit-sizes": "on a GPU gpmath computes an SVD whose factors pass 2**31 - 1 elements (cuSOLVER's "
                        "64-bit API); SciPy's 32-bit LAPACK refuses it with ValueError, as gpmath's CPU "
                        "engine does, and the test expects that",
}

FFT_REASONS: dict[str, str] = {
    "longdouble": "gpmath computes in float32 and float64 and raises TypeError for longdouble and "
                  "clongdouble (numpy.fft computes in them)",
    "repeated-axes": "an axis named twice in axes raises ValueError, as in scipy.fft; numpy.fft "
                     "transforms it again",
    "numpy-fft-deprecations": "no DeprecationWarning for s without axes (scipy.fft's convention, which "
                              "gpmath follows) and a ValueError for None in s, which NumPy 2 deprecates",
    "gpu-layout-rounding": "on a GPU, C- and Fortran-ordered copies of an array can take different cuFFT plans "
                           "(the axes in memory order): float64 results agree to about 60 eps (1.3e-14 "
                           "relative, one element of 728 in NumPy's test), not the 25 eps NumPy's test asks",
    "scipy-layout-rounding": "on the CPU gpmath transforms through scipy.fft, whose DUCC backend (SciPy 1.18 on) "
                             "rounds C- and Fortran-ordered copies of an array differently over several axes: "
                             "complex results agree to about 70 eps (1.3e-14 relative, one element of 728 in "
                             "NumPy's test), not the 25 eps NumPy's test asks; SciPy's own fftn does the same",
}
REASONS.update(FFT_REASONS)

RAISES: dict[str, tuple[type[BaseException], ...]] = {
    "longdouble": (TypeError,),
    "gpu-layout-rounding": (AssertionError,),
    "scipy-layout-rounding": (AssertionError,),
    "repeated-axes": (ValueError,),
    "numpy-fft-deprecations": (ValueError, pytest.fail.Exception),  # gpmath's refusal, or "DID NOT WARN"
}
"""What a test of these reasons must fail with (``xfail(raises=...)``): another failure, a wrong number
say, fails the run."""

GPU_ONLY: frozenset[str] = frozenset({"batch-routes", "gpu-64-bit-sizes", "gpu-float32-rounding", "gpu-layout-rounding"})
"""Reasons whose tests fail only where gpmath computes on a GPU: the plugin marks them
``xfail(strict=False)`` there (whether a batch takes another route depends on the device's
calibration) and leaves them unmarked elsewhere, where they must pass."""
NOT_STRICT: frozenset[str] = GPU_ONLY | {"scipy-layout-rounding"}
"""Reasons whose tests may pass on another machine or route (the GPU's, or another CPU's rounding): their
xfail is not strict (a pass is no stale entry)."""


def _grid(test: str, *axes: tuple[str, ...]) -> list[str]:
    """The node ids of *test* for every combination of the parameter ids in *axes* (in the order
    pytest joins them: the innermost ``parametrize`` first)."""
    return [f"{test}[{'-'.join(ids)}]" for ids in itertools.product(*axes)]


BASIC, DECOMP, BATCH = (f"scipy/linalg/tests/test_{name}.py" for name in ("basic", "decomp", "batch"))
BOOLS, GIVEN = ("True", "False"), ("True", "False", "None")  # GIVEN: an overwrite_* keyword True, False, absent
SOLVE_OVERWRITE_A = (BOOLS, ("1", "2"), ("C", "F"), ("int", "float"), ("F",), ("float",), GIVEN, ("True",))
"""TestSolve::test_overwrite_args's cases that expect LAPACK's factors in a (overwrite_a, a F-contiguous
float): (transposed, b_ndim, b_order, b_dtype, a_order, a_dtype, overwrite_b, overwrite_a)."""

POCKETFFT = "numpy/fft/tests/test_pocketfft.py"

XFAILS: dict[str, str] = {
    f"{POCKETFFT}::TestFFT1D::test_identity_long_short[longdouble]": "longdouble",
    f"{POCKETFFT}::TestFFT1D::test_identity_long_short_reversed[longdouble]": "longdouble",
    f"{POCKETFFT}::TestFFT1D::test_rfftn": "repeated-axes",
    f"{POCKETFFT}::TestFFT1D::test_s_axes_none[[]*]": "numpy-fft-deprecations",  # [function]
    f"{POCKETFFT}::TestFFT1D::test_s_axes_none_2D[[]*]": "numpy-fft-deprecations",
    f"{POCKETFFT}::TestFFT1D::test_s_contains_none[[]*]": "numpy-fft-deprecations",
    # [fft-order-dtype], found on an H100 (session 28)
    **dict.fromkeys([f"{POCKETFFT}::test_fft_with_order[{fft}-{order}-{dtype}]" for dtype in ("float64", "complex128")
                     for order in ("F", "non-contiguous") for fft in ("fft", "fft2", "fftn", "ifft", "ifft2", "ifftn")],
                    "gpu-layout-rounding"),
    "numpy/linalg/tests/test_linalg.py::test_unsupported_commontype": "numpy-float16",
    "numpy/linalg/tests/test_linalg.py::TestSolve::test_0_size": "numpy-subclass",
    "numpy/linalg/tests/test_linalg.py::TestSolve::test_0_size_k": "numpy-subclass",
    "numpy/linalg/tests/test_linalg.py::TestLstsq::test_incompatible_dims": "numpy-error-types",
    # the full run of SciPy's modules (GPMATH_SCIPY_SUITE=full), every version
    f"{BASIC}::TestInv::test_overwrite_a[True]": "overwrite-side-effects",
    f"{BASIC}::TestDet::test_incompatible_dtype_input": "legacy-dtypes",
    f"{BASIC}::TestDet::test_overwrite_a": "overwrite-side-effects",
    f"{BASIC}::TestDTypes::test_inv[M]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_inv[m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[g]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[G]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[S]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[U]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[V]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_det[O]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[?-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[b-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[h-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[i-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[l-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[q-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[n-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[p-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[B-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[H-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[I-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-?]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-b]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-h]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-i]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-l]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-q]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-n]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-p]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-B]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-H]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-I]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-L]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-Q]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-N]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-P]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-e]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-f]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-d]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-g]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-F]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-D]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[S-G]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-?]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-b]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-h]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-i]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-l]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-q]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-n]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-p]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-B]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-H]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-I]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-L]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-Q]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-N]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-P]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-e]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-f]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-d]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-g]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-F]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-D]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[U-G]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[M-M]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[M-m]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-?]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-b]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-h]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-i]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-l]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-q]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-n]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-p]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-B]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-H]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-I]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-M]": "legacy-dtypes",
    f"{BASIC}::TestDTypes::test_solve[m-m]": "legacy-dtypes",
    f"{DECOMP}::TestQR::test_lwork": "argument-quirks",
    f"{BATCH}::TestBatch::test_ldl_cholesky[float32-fun_n_out2]": "cho-factor-batch-flag",
    f"{BATCH}::TestBatch::test_ldl_cholesky[float64-fun_n_out2]": "cho-factor-batch-flag",
    f"{BATCH}::TestBatch::test_ldl_cholesky[complex64-fun_n_out2]": "cho-factor-batch-flag",
    f"{BATCH}::TestBatch::test_ldl_cholesky[complex128-fun_n_out2]": "cho-factor-batch-flag",
    f"{BATCH}::TestBatch::test_svd[[]float32-*]": "batch-routes",  # [dtype-full_matrices(-compute_uv)]
    f"{BATCH}::TestBatch::test_svd[[]complex64-*]": "batch-routes",
    f"{BATCH}::TestBatch::test_svdvals[float32-svdvals]": "batch-routes",
    f"{BATCH}::TestBatch::test_svdvals[complex64-svdvals]": "batch-routes",
    f"{BATCH}::TestBatch::test_pinv[complex64]": "batch-routes",
    f"{BATCH}::TestBatch::test_matmat[complex64-pinv]": "batch-routes",
    f"{BATCH}::TestBatch::test_eigh[[]complex64-*]": "batch-routes",  # [dtype-fun_n_nout-eigvals_only]
    # found by the full suites' first run on an H200 (session 26)
    f"{BATCH}::TestBatch::test_eigh[float32-fun_n_nout1-True]": "batch-routes",
    f"{BATCH}::TestBatch::test_eigh[[]complex128-*]": "batch-routes",
    f"{BATCH}::TestBatch::test_matmat[complex64-inv]": "batch-routes",
    f"{BATCH}::TestBatch::test_schur_lu[complex64-lu_factor]": "batch-routes",
    f"{BATCH}::TestBatch::test_schur_lu[complex128-lu_factor]": "batch-routes",
    **dict.fromkeys([f"numpy/linalg/tests/test_linalg.py::{test}" for test in (
        "TestCond::test_sq_cases", "TestPinv::test_generalized_sq_cases", "TestDet::test_generalized_sq_cases",
        "TestLstsq::test_nonsq_cases", "TestLstsq::test_sq_cases", "TestEighCases::test_generalized_herm_cases",
        "TestQR::test_mode_all_but_economic")], "gpu-float32-rounding"),
    # [dtype-cdim]: Q of a batch of 5 x 5 float32 from the GPU, times c, 1.3e-6 off in 120 values near 0.5 (10 ulps;
    # SciPy's atol is 1e-6); found where placement put the batch on an H100 (session 38)
    f"{BATCH}::TestBatch::test_qr_multiply[[]float32-*]": "gpu-float32-rounding",
}

XFAILS_BY_SCIPY: dict[tuple[int, int], dict[str, str]] = {
    (1, 17): {
        **dict.fromkeys(_grid(f"{BASIC}::TestSolve::test_overwrite_args", *SOLVE_OVERWRITE_A),
                        "overwrite-side-effects"),
        f"{BATCH}::TestBatch::test_zero_size_batch[eig-args1]": "zero-size-batches",
    },
    (1, 18): {
        # [dtype-full_matrices-compute_uv]: the singular vectors' signs (found on an H200, session 26)
        f"{BATCH}::TestBatch::test_svd[[]float64-*-True]": "batch-routes",
        f"{BATCH}::TestBatch::test_svd[[]complex128-*-True]": "batch-routes",
        # test_overwrite_args gained assume_a: "banded" ignores overwrite_a in SciPy too
        **dict.fromkeys(_grid(f"{BASIC}::TestSolve::test_overwrite_args", ("None",), *SOLVE_OVERWRITE_A),
                        "overwrite-side-effects"),
        # [order-nrhs-shape-dtype-driver-overwrite_b-overwrite_a]: F-contiguous float a of one matrix
        **dict.fromkeys(_grid(f"{BASIC}::TestLstsq::test_overwrite", ("F",), ("1", "5"), ("shape1", "shape2"),
                              ("float",), ("gelss", "gelsd", "gelsy"), GIVEN, ("True",)), "overwrite-side-effects"),
        # [overwrite_a-ndim-order-dtyp], then [overwrite_b-overwrite_a-ndim_b-ndim_a-order_b-order_a-dtyp_b-dtyp_a]:
        # an operand of one matrix, F-contiguous, already in the result's dtype
        **dict.fromkeys(_grid(f"{DECOMP}::TestEig::test_overwrite_reg", ("True",), ("2",), ("F",),
                              ("float", "complex")), "overwrite-side-effects"),
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-C-F-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-C-F-float-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-C-F-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-C-F-int-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-C-F-int-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-F-F-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-F-F-float-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-F-F-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-F-F-int-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[False-True-2-2-F-F-int-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-C-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-C-complex-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-C-complex-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-C-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-C-float-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-F-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-F-complex-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-F-complex-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-F-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-False-2-2-F-F-float-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-C-F-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-C-F-float-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-C-F-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-C-F-int-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-C-F-int-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-C-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-C-complex-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-C-complex-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-C-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-C-float-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-complex-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-complex-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-complex-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-float-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-float-float]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-float-int]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-int-complex]": "overwrite-side-effects",
        f"{DECOMP}::TestEig::test_overwrite_gen[True-True-2-2-F-F-int-float]": "overwrite-side-effects",
        # [mn-full_matrices-overwrite_a-ndim-order-dtyp]
        **dict.fromkeys([test for driver in ("GESDD", "GESVD") for test in _grid(
            f"{DECOMP}::TestSVD_{driver}::test_overwrite", ("mn0", "mn1"), BOOLS, ("True",), ("2",), ("F",),
            ("float", "complex"))], "overwrite-side-effects"),
        f"{DECOMP}::test_svd_gesdd_nosegfault": "gpu-64-bit-sizes",
        # [fft-order-dtype]: 1.67x the tolerance with NumPy 2.5.2 and SciPy 1.18.1 on the CPU machine (session 38;
        # the nearest others: fftn-F-complex64 0.79x, fft2-F-complex128 0.51x)
        f"{POCKETFFT}::test_fft_with_order[fftn-F-complex128]": "scipy-layout-rounding",
    },
}
"""Per SciPy version (major, minor), the patterns that hold for it alone; a later version takes the
table of the newest version listed before it."""


def xfails(scipy_version: str) -> dict[str, str]:
    """The patterns that hold for SciPy *scipy_version* (such as ``"1.18.1"``): :data:`XFAILS` and the
    table of :data:`XFAILS_BY_SCIPY` of the newest version listed that is not newer.

    >>> len(xfails("1.19.0.dev0")) == len(XFAILS.keys() | XFAILS_BY_SCIPY[(1, 18)].keys())
    True
    """
    version = tuple(int(part) for part in re.findall(r"\d+", scipy_version)[:2])
    listed = [key for key in XFAILS_BY_SCIPY if key <= version]
    return {**XFAILS, **(XFAILS_BY_SCIPY[max(listed)] if listed else {})}
