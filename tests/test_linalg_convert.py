"""SciPy's input conventions in gpmath.linalg, against SciPy: array-likes, dtype promotion, assume_a.

Each test converts the same values to a package (NumPy and torch CPU here; torch CUDA and CuPy in
the ``gpu`` variants), calls gpmath, and compares with scipy.linalg on NumPy arrays of the same
dtype: the result's dtype must be SciPy's, its values SciPy's within the dtype's tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy
import scipy.linalg as sl

from gpmath import linalg

RNG = np.random.default_rng(17)
SCIPY_1_17 = tuple(int(part) for part in scipy.__version__.split(".")[:2]) == (1, 17)
HOST = [("numpy", None), ("torch", "cpu")]
DEVICE = [pytest.param("torch", "cuda", marks=pytest.mark.gpu), pytest.param("cupy", "cuda", marks=pytest.mark.gpu)]
TOLERANCE = {"float32": 1e-4, "complex64": 1e-4, "float64": 1e-10, "complex128": 1e-10}


def in_package(x: np.ndarray, package: str, device: str | None):
    if package == "numpy":
        return x
    if package == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(np.ascontiguousarray(x)).to(device)
    cupy = pytest.importorskip("cupy")
    return cupy.asarray(x)


def to_numpy(x) -> np.ndarray:
    if hasattr(x, "get"):
        return x.get()
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def matrix(n: int, dtype: str) -> np.ndarray:
    """A well-conditioned symmetric positive-definite matrix with entries exact in *dtype*."""
    a = np.round(RNG.uniform(0, 3, (n, n)))  # non-negative: unsigned dtypes hold it too
    a = a + a.T + 6 * n * np.eye(n)
    return np.eye(n, dtype=bool) if dtype == "bool" else a.astype(dtype)


def check(got, want, computed_in: str | None = None) -> None:
    """*got* has SciPy's dtype and values within the tolerance of the dtype computed in (default: *want*'s)."""
    got = to_numpy(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    tolerance = TOLERANCE[computed_in or want.dtype.name]
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


CALLS = {
    "solve": lambda f, a, b: f.solve(a, b),
    "inv": lambda f, a, b: f.inv(a),
    "cholesky": lambda f, a, b: f.cholesky(a),
    "det": lambda f, a, b: f.det(a),
    "lu_solve": lambda f, a, b: f.lu_solve(f.lu_factor(a), b),
    "cho_solve": lambda f, a, b: f.cho_solve(f.cho_factor(a), b),
    "lstsq": lambda f, a, b: f.lstsq(a, b)[0],
    "eigvalsh": lambda f, a, b: f.eigvalsh(a),
    "svdvals": lambda f, a, b: f.svdvals(a),
    "solve_triangular": lambda f, a, b: f.solve_triangular(a, b),
}


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_dtypes_promote_as_scipy(name, dtype, package, device):
    if package == "torch" and dtype == "uint8" and device == "cuda":
        pytest.skip("uint8 matrices on a GPU are exercised with CuPy")
    a, b = matrix(4, dtype), np.ones(4, dtype=dtype)
    want = np.asarray(CALLS[name](sl, a, b))
    if name == "lstsq" and dtype in ("int8", "uint8", "bool") and SCIPY_1_17:
        want = want.astype("float64")  # gpmath follows SciPy 1.18: small integers solve in float64 (1.17: float32)
    computed_in = "float32" if name == "det" and dtype in ("int8", "uint8", "bool", "float16") else None  # det: f64 out
    if name == "lstsq" and dtype in ("int8", "uint8", "bool") and SCIPY_1_17:
        computed_in = "float32"  # the reference itself was computed in float32
    check(CALLS[name](linalg, in_package(a, package, device), in_package(b, package, device)), want, computed_in)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("a_dtype, b_dtype", [("float32", "float64"), ("float32", "complex64"),
                                              ("float64", "complex64"), ("int64", "float32"), ("float16", "float32")])
def test_mixed_dtypes_promote_by_result_type(a_dtype, b_dtype, package, device):
    a, b = matrix(5, a_dtype), RNG.uniform(-1, 1, (5, 2)).astype(b_dtype)
    check(linalg.solve(in_package(a, package, device), in_package(b, package, device)), sl.solve(a, b))
    check(linalg.lstsq(in_package(a, package, device), in_package(b, package, device))[0], sl.lstsq(a, b)[0])


@pytest.mark.parametrize("package, device", HOST + DEVICE)
def test_array_likes_beside_an_array_join_its_package(package, device):
    a = matrix(3, "float64")
    x = linalg.solve(in_package(a, package, device), [1, 2, 3])
    assert type(x).__module__.partition(".")[0] == package
    check(x, sl.solve(a, [1, 2, 3]))
    check(linalg.solve(a.tolist(), (1, 2, 3)), sl.solve(a, [1, 2, 3]))


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("assume_a", [None, "gen", "general", "sym", "symmetric", "her", "hermitian", "pos",
                                      "positive definite", "tridiagonal", "banded", "upper triangular",
                                      "lower triangular", "diagonal"])
@pytest.mark.parametrize("transposed", [False, True])
def test_assume_a_names_solve_as_scipy(assume_a, transposed, package, device):
    a = matrix(5, "float64")
    if assume_a in ("upper triangular", "lower triangular", "diagonal", "tridiagonal"):
        keep = {"upper triangular": np.triu, "lower triangular": np.tril, "diagonal": lambda m: np.diag(np.diag(m)),
                "tridiagonal": lambda m: np.triu(np.tril(m, 1), -1)}[assume_a]
        a = keep(a)
    if assume_a == "banded":
        pytest.skip("SciPy's 'banded' reads the band from a (l, u) pair we do not pass; covered by 'tridiagonal'")
    b = RNG.uniform(-1, 1, (5, 3))
    want = sl.solve(a, b, assume_a=assume_a, transposed=transposed)
    check(linalg.solve(in_package(a, package, device), in_package(b, package, device), assume_a=assume_a,
                       transposed=transposed), want)


def test_unknown_assume_a_is_refused_as_scipy_refuses_it():
    with pytest.raises(ValueError, match="is not a recognized matrix structure"):
        sl.solve(np.eye(2), np.ones(2), assume_a="spd")
    with pytest.raises(ValueError, match="is not a recognized matrix structure"):
        linalg.solve(np.eye(2), np.ones(2), assume_a="spd")


@pytest.mark.parametrize("call", [
    lambda f, a: f.solve(a, np.ones(3), overwrite_a=True, overwrite_b=True),
    lambda f, a: f.lu_solve(f.lu_factor(a, overwrite_a=True), np.ones(3), overwrite_b=True),
    lambda f, a: f.cho_solve(f.cho_factor(a), np.ones(3), overwrite_b=True),
    lambda f, a: f.inv(a, overwrite_a=True),
    lambda f, a: f.det(a, overwrite_a=True),
    lambda f, a: f.lstsq(a, np.ones(3), overwrite_a=True, overwrite_b=True, lapack_driver="gelss")[0],
    lambda f, a: f.svd(a, overwrite_a=True, lapack_driver="gesvd")[1],
    lambda f, a: f.eigh(a, overwrite_a=True, driver="evr")[0],
    lambda f, a: f.qr(a, overwrite_a=True, lwork=None, mode="economic")[1].__abs__(),
    lambda f, a: f.solve_triangular(a, np.ones(3), overwrite_b=True),
])
def test_overwrite_flags_are_accepted_and_leave_operands_alone(call):
    """(cholesky and cho_factor write over ``a`` as SciPy 1.18 does: tests/test_linalg_overwrite.py)"""
    a = matrix(3, "float64")
    kept = a.copy()
    check(call(linalg, a), np.asarray(call(sl, a.copy())))
    np.testing.assert_array_equal(a, kept)


@pytest.mark.parametrize("a, b", [(1, [1, 2, 3]), (2.0, 4.0), ([[4]], [2, 6]), (np.float32(2), np.ones((2, 3), np.float32)),
                                  (np.array([-3.0]), [[1.0], [2.0]])])
def test_one_element_a_divides_b_as_in_scipy(a, b):
    expected = sl.solve(a, b)
    got = linalg.solve(a, b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("a_shape, b_shape", [((1, 1), (3, 1, 2)), ((2, 1, 1), (1, 2)), ((1, 1, 1, 1), (3, 1, 2))])
def test_one_by_one_matrices_with_batches_broadcast(a_shape, b_shape):
    """Batches of 1 x 1 systems (SciPy 1.17 raises for a (1, 1) a with a batched b: docs/linalg.md)."""
    rng = np.random.default_rng(8)
    a, b = rng.uniform(1, 2, a_shape), rng.standard_normal(b_shape)
    got = linalg.solve(a, b)
    expected = b / a  # x = b / a, batch dimensions broadcast
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("a", [0, [[0]], np.zeros((1, 1))])
def test_one_element_zero_a_is_singular(a):
    with pytest.raises(linalg.LinAlgError, match="singular"):
        linalg.solve(a, [0, 1])


@pytest.mark.parametrize("code", ["S", "U", "O", "V"])
def test_non_numeric_dtypes_raise_value_error_as_scipy(code):
    a = np.asarray([[b"a", b"b"], [b"c", b"d"]], dtype="V") if code == "V" else np.eye(2, dtype=code)
    with pytest.raises(ValueError):
        sl.inv(a)
    with pytest.raises(ValueError, match="computes on numbers"):
        linalg.inv(a)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "int64"])
@pytest.mark.parametrize("shape", [(), (1,), (3,)], ids=str)
@pytest.mark.parametrize("name", ["cholesky", "cho_factor"])
def test_cholesky_reads_scalars_and_vectors_as_scipy_does(package, device, dtype, shape, name):
    """SciPy's cholesky and cho_factor read their operand through atleast_2d: a scalar or a
    one-element vector is a 1 x 1 matrix, a longer vector a 1 x N one (not square: ValueError)."""
    a = np.full(shape, 6.25).astype(dtype)
    if shape == (3,):
        with pytest.raises(ValueError, match="square"):
            getattr(sl, name)(a)
        with pytest.raises(ValueError, match="square"):
            getattr(linalg, name)(in_package(a, package, device))
        return
    got, want = getattr(linalg, name)(in_package(a, package, device)), getattr(sl, name)(a)
    got, want = (got[0], want[0]) if name == "cho_factor" else (got, want)
    assert tuple(got.shape) == want.shape == (1, 1)
    assert str(got.dtype).rpartition(".")[2] == str(want.dtype)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_tridiagonal_reads_only_the_three_diagonals(package, device, dtype, batch):
    """As SciPy's ``?gtsv`` route: entries off the three diagonals (junk, NaN with
    ``check_finite=False``) change nothing; ``inv`` with the name inverts the same matrix."""
    rng = np.random.default_rng(3)
    n = 6
    a = rng.standard_normal(batch + (n, n)) + 4 * np.eye(n)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(a.shape)
    a = a.astype(dtype)
    band = np.triu(np.tril(a, 1), -1)
    noisy = a.copy()
    noisy[..., n - 1, 0] = np.nan
    b = rng.standard_normal(batch + (n, 2)).astype(dtype)
    x = linalg.solve(in_package(noisy, package, device), in_package(b, package, device), assume_a="tridiagonal",
                     check_finite=False)
    tolerance = TOLERANCE[dtype] * 10
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(band, b), rtol=tolerance, atol=tolerance)
    if not batch:
        np.testing.assert_allclose(to_numpy(x), sl.solve(noisy, b, assume_a="tridiagonal", check_finite=False),
                                   rtol=tolerance, atol=tolerance)
    inverse = linalg.inv(in_package(a, package, device), assume_a="tridiagonal")
    np.testing.assert_allclose(to_numpy(inverse), np.linalg.inv(band), rtol=tolerance, atol=tolerance)
