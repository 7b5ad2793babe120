"""SciPy's ``assume_a`` structures in ``solve`` and ``inv``: each reads only what SciPy's route
reads, so values in the unreferenced part (here 7s and NaNs) cannot change a result.  Compared
with SciPy in float64 on NumPy and torch CPU (torch CUDA and CuPy in the gpu variants)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy

RNG = np.random.default_rng(41)
TOLERANCE = {"float32": 2e-4, "complex64": 2e-4, "float64": 1e-10, "complex128": 1e-10}


def hermitian(n: int, dtype: str, batch=()) -> np.ndarray:
    x = RNG.standard_normal(batch + (n, n))
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(batch + (n, n))
    return (x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)).astype(dtype)


def spoiled(a: np.ndarray, route: str, lower: bool, fill: float) -> np.ndarray:
    """*a* with *fill* wherever *route* (with *lower*) does not read."""
    n = a.shape[-1]
    rows, cols = np.indices((n, n))
    unread = {"diagonal": rows != cols, "upper triangular": rows > cols, "lower triangular": rows < cols}.get(
        route, (rows < cols) if lower else (rows > cols))
    out = a.copy()
    out[..., unread] = fill
    return out


ROUTES = ["pos", "sym", "her", "upper triangular", "lower triangular", "diagonal"]


def scipy_inverse(a: np.ndarray, route: str, lower: bool) -> np.ndarray:
    """SciPy's inverse of what *route* reads (SciPy's own explicit "diagonal" leaves the off-diagonal
    entries of ``a`` in its result: the inverse of the diagonal matrix is compared instead)."""
    if route == "diagonal":
        return np.vectorize(np.diag, signature="(n)->(n,n)")(1 / np.diagonal(a, axis1=-2, axis2=-1))
    wide = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    return np.stack([sl.inv(m, assume_a=route, lower=lower) for m in wide.reshape(-1, *a.shape[-2:])]).reshape(a.shape)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("route", ROUTES)
def test_inv_reads_what_scipy_reads(route, lower, dtype, package, device):
    a = hermitian(5, dtype, (2,))
    if route == "her" and np.dtype(dtype).kind == "c":
        a = a + 1j * np.eye(5) * 0.5  # an imaginary diagonal, which "her" does not read
        a = a.astype(dtype)
    expected = scipy_inverse(spoiled(a, route, lower, 7.0), route, lower)
    got = linalg.inv(in_package(spoiled(a, route, lower, np.nan), package, device), assume_a=route, lower=lower,
                     check_finite=False)
    np.testing.assert_allclose(to_numpy(got), expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("route", ROUTES)
def test_solve_reads_what_scipy_reads(route, lower, dtype, package, device):
    a = hermitian(6, dtype)
    b = RNG.standard_normal((6, 2)).astype(dtype)
    reference = spoiled(a, route, lower, 7.0)
    expected = sl.solve(np.diag(np.diag(reference)) if route == "diagonal" else reference, b, assume_a=route, lower=lower)
    got = linalg.solve(in_package(spoiled(a, route, lower, np.nan), package, device), in_package(b, package, device),
                       assume_a=route, lower=lower, check_finite=False)
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("route", ["pos", "upper triangular", "diagonal", "sym", None])
def test_inv_of_empty_and_singular_matrices(route):
    empty = linalg.inv(np.zeros((3, 0, 0)), assume_a=route)
    assert empty.shape == (3, 0, 0) and empty.dtype == np.float64
    with pytest.raises(linalg.LinAlgError):
        linalg.inv(np.zeros((2, 2)), assume_a=route)


def test_unknown_structure_is_refused():
    with pytest.raises(ValueError, match="not a recognized matrix structure"):
        linalg.inv(np.eye(2), assume_a="spd")


@pytest.mark.parametrize("call", [
    "linalg.solve(a, b, assume_a='tridiagonal')", "linalg.solve(a, b, assume_a='sym')",
    "linalg.solve(a, b, assume_a='her')", "linalg.solve(a, b, assume_a='diagonal')",
    "linalg.inv(a, assume_a='sym')", "linalg.inv(a)", "linalg.norm(a)", "linalg.det(a)",
])
def test_a_fresh_processs_first_call_on_numpy_arrays(call):
    """NumPy operands take a shortcut that classifies no array: whatever the first call of a process
    is, the package of a NumPy array is known (a tridiagonal solve first raised AttributeError)."""
    import subprocess
    import sys

    code = ("import numpy as np, scipy.linalg as sl\nfrom gpmath import linalg\n"
            "a = np.diag(np.arange(1.0, 6.0)) + 0.5; b = np.ones(5)\n"
            f"got = {call}\nexpected = {call.replace('linalg.', 'sl.')}\n"
            "assert np.allclose(got, expected), (got, expected)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
