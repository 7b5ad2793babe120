"""Generalized (types 1-3) and subset Hermitian eigenproblems against scipy.linalg.eigh, in
float64, on NumPy and torch CPU (torch CUDA and CuPy in the gpu variants): the eigenvalues equal
SciPy's, and the eigenvectors satisfy the problem and LAPACK's normalization (eigenvectors are
defined up to phase, so they are checked by what defines them)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import FreedPlanError, linalg
from gpmath.solver import Eigh

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy

RNG = np.random.default_rng(53)
TOLERANCE = {"float32": 2e-3, "complex64": 2e-3, "float64": 1e-9, "complex128": 1e-9}


def pair(n: int, dtype: str, batch=()) -> tuple[np.ndarray, np.ndarray]:
    """A Hermitian ``a`` and a Hermitian positive-definite ``b``."""
    x, y = RNG.standard_normal((2, *batch, n, n))
    if np.dtype(dtype).kind == "c":
        x, y = x + 1j * RNG.standard_normal(x.shape), y + 1j * RNG.standard_normal(y.shape)
    h = lambda m: np.conj(np.swapaxes(m, -1, -2))
    return (x + h(x)).astype(dtype), (y @ h(y) + n * np.eye(n)).astype(dtype)


def hermitian_transpose(m: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(m, -1, -2))


def check_pairs(a, b, w, v, type_, tolerance):
    """``v`` solves the problem of *type_* with ``w`` and has LAPACK's normalization."""
    scale = max(1.0, float(np.abs(a).max()), float(np.abs(b).max()))
    if type_ == 1:
        residual, gram = a @ v - b @ v * w[..., None, :], hermitian_transpose(v) @ b @ v
    elif type_ == 2:
        residual, gram = a @ b @ v - v * w[..., None, :], hermitian_transpose(v) @ b @ v
    else:
        residual, gram = b @ a @ v - v * w[..., None, :], hermitian_transpose(v) @ np.linalg.inv(b) @ v
    assert np.abs(residual).max() <= 50 * tolerance * scale ** 2 * max(1.0, float(np.abs(w).max()))
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(v.shape[-1]), gram.shape), atol=50 * tolerance * scale)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("type_", [1, 2, 3])
def test_generalized_problems_match_scipy(type_, lower, dtype, package, device):
    a, b = pair(6, dtype, (2,))
    rows, cols = np.indices((6, 6))
    unread = (rows < cols) if lower else (rows > cols)
    a_in, b_in = a.copy(), b.copy()
    a_in[..., unread], b_in[..., unread] = np.nan, np.nan  # never read
    w, v = linalg.eigh(in_package(a_in, package, device), in_package(b_in, package, device), lower=lower, type=type_,
                       check_finite=False)
    w, v = to_numpy(w), to_numpy(v)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    expected = np.stack([sl.eigh(a[i].astype(wide), b[i].astype(wide), type=type_, eigvals_only=True) for i in range(2)])
    assert w.dtype == np.dtype(dtype).type(0).real.dtype and v.dtype == np.dtype(dtype)
    np.testing.assert_allclose(w, expected, rtol=TOLERANCE[dtype] * 10, atol=TOLERANCE[dtype] * 10)
    check_pairs(a.astype(wide), b.astype(wide), w.astype(np.float64), v.astype(wide), type_, TOLERANCE[dtype])


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("generalized", [False, True])
def test_subsets_match_scipy(generalized, package, device):
    a, b = pair(7, "float64")
    other = (b,) if generalized else ()
    operands = [in_package(x, package, device) for x in (a, *other)]
    for selection in ({"subset_by_index": (2, 4)}, {"subset_by_index": (0, 0)}, {"subset_by_value": (-1.0, 2.0)},
                      {"subset_by_value": (-np.inf, 0.0)}):
        expected_w, expected_v = sl.eigh(a, *other, **selection)
        w, v = linalg.eigh(*operands, **selection)
        np.testing.assert_allclose(to_numpy(w), expected_w, rtol=1e-9, atol=1e-9)
        assert to_numpy(v).shape == expected_v.shape
        np.testing.assert_allclose(np.abs(np.sum(np.conj(to_numpy(v)) * expected_v, axis=0)),
                                   np.abs(np.sum(np.conj(expected_v) * expected_v, axis=0)), rtol=1e-7)
        np.testing.assert_allclose(to_numpy(linalg.eigvalsh(*operands, **selection)), expected_w, rtol=1e-9, atol=1e-9)


def test_batched_subset_by_value_needs_one_count():
    a = np.stack([np.diag([1.0, 2.0, 3.0]), np.diag([1.0, 5.0, 6.0])])
    np.testing.assert_allclose(linalg.eigvalsh(a, subset_by_value=(0.0, 1.5)), [[1.0], [1.0]])
    with pytest.raises(ValueError, match="different eigenvalues in different matrices"):
        linalg.eigvalsh(a, subset_by_value=(0.0, 2.5))


@pytest.mark.parametrize("kwargs, message", [
    ({"b": np.eye(3), "type": 4}, '"type" keyword only accepts 1, 2, and 3'),
    ({"b": np.eye(2)}, "wrong b dimensions"),
    ({"driver": "gvd"}, "requires input b array"),
    ({"b": np.eye(3), "driver": "evr"}, "does not accept input b array"),
    ({"subset_by_index": (0, 1), "subset_by_value": (0, 1)}, "Either index or value subset"),
    ({"subset_by_index": (0, 1), "driver": "evd"}, "cannot compute subsets"),
    ({"subset_by_index": (2, 1)}, "Requested eigenvalue indices are not valid"),
    ({"subset_by_index": (0, 3)}, "Requested eigenvalue indices are not valid"),
    ({"subset_by_value": (1.0, 1.0)}, "Requested eigenvalue bounds are not valid"),
])
def test_bad_options_raise_as_scipy(kwargs, message):
    a = np.diag([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=message):
        sl.eigh(a, **kwargs)
    with pytest.raises(ValueError, match=message):
        linalg.eigh(a, **kwargs)


def test_b_not_positive_definite_is_named():
    with pytest.raises(linalg.LinAlgError, match=r"^b\[1\] is not positive definite"):
        linalg.eigh(np.stack([np.eye(3)] * 2), np.stack([np.eye(3), -np.eye(3)]))


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("type_", [1, 2, 3])
def test_eigh_plan_with_b_matches_scipy_over_new_operands(type_, lower, dtype, package, device):
    """``Eigh(a, b)`` plans its steps once; every later execute on new operands (reset_operands)
    solves the new problem: SciPy's eigenvalues, and eigenvectors that solve it."""
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    a, b = pair(5, dtype, (3,))
    with Eigh(in_package(a, package, device), in_package(b, package, device), type=type_, lower=lower) as plan:
        plan.plan()
        for round_ in range(3):
            if round_:
                a, b = pair(5, dtype, (3,))
                plan.reset_operands(in_package(a, package, device), in_package(b, package, device))
            w, v = (to_numpy(x) for x in plan.execute())
            expected = np.stack([sl.eigh(a[i].astype(wide), b[i].astype(wide), type=type_, lower=lower,
                                         eigvals_only=True) for i in range(3)])
            np.testing.assert_allclose(w, expected, rtol=TOLERANCE[dtype] * 10, atol=TOLERANCE[dtype] * 10)
            check_pairs(a.astype(wide), b.astype(wide), w.astype(np.float64), v.astype(wide), type_, TOLERANCE[dtype])
            if round_ == 0:
                steps = len(plan._steps.plans)
                assert not to_numpy(plan.info()).any() and to_numpy(plan.info()).shape == (3,)
        assert len(plan._steps.plans) == steps  # nothing planned again
        made = list(plan._steps.plans.values())
    assert plan.freed and all(step.freed for step in made)  # freeing the plan frees its steps


def test_eigh_plan_with_b_checks_what_it_is_given():
    a, b = pair(3, "float64")
    with pytest.raises(ValueError, match="b must have a's shape"):
        Eigh(a, np.eye(4))
    with pytest.raises(TypeError, match="does not mix dtypes"):
        Eigh(a, b.astype(np.float32))
    with pytest.raises(ValueError, match='"type" keyword only accepts 1, 2, and 3'):
        Eigh(a, b, type=0)
    plan = Eigh(a, b, eigvals_only=True)
    with pytest.raises(ValueError, match="keep the planned"):
        plan.reset_operands(np.eye(2), np.eye(2))
    with pytest.raises(linalg.LinAlgError, match=r"^b is not positive definite"):
        plan.reset_operands(a, -b)
        plan.execute()
    plan.free()
    with pytest.raises(FreedPlanError):
        plan.execute()
