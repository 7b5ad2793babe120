"""gpmath.linalg against scipy.linalg in float64: reconstructions, residuals, dtypes, batches, modes.

These run on the CPU path (``execution="cpu"``); tests/test_linalg_gpu.py repeats the oracle on
the GPU for NumPy, CuPy and PyTorch inputs.
"""

from __future__ import annotations

import functools
import numpy as np
import pytest
import scipy.linalg as sl

import gpmath
from gpmath import linalg
from gpmath.solver import Solve, _cpu_factor
from gpmath.solver._cpu import LAPACK_DET_ORDER, LAPACK_INV_ORDER
from gpmath.solver._cpu_solve import LAPACK_SOLVE_ORDER
from gpmath.solver._cpu_svd import LAPACK_LSTSQ_ORDER

from helpers import lstsq_residues

DTYPES = ["float32", "float64", "complex64", "complex128"]
TOL = {"float32": 2e-4, "complex64": 2e-4, "float64": 1e-10, "complex128": 1e-10}
BATCHES = [(), (3,), (2, 2)]
CPU = {"execution": "cpu"}


def random(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def ct(x):
    return np.conj(np.swapaxes(x, -1, -2))


def general(batch, n, dtype, seed=0):
    """Well conditioned: a random matrix plus a dominant diagonal."""
    return (random(batch + (n, n), dtype, seed) + 2 * n**0.5 * np.eye(n)).astype(dtype)


def hermitian(batch, n, dtype, seed=0):
    x = random(batch + (n, n), dtype, seed)
    return ((x + ct(x)) / 2).astype(dtype)


def spd(batch, n, dtype, seed=0):
    x = random(batch + (n, n), dtype, seed)
    return (x @ ct(x) / n + np.eye(n)).astype(dtype)


def close(actual, expected, dtype, scale=1.0):
    actual = np.asarray(actual, dtype=np.complex128)
    expected = np.asarray(expected, dtype=np.complex128)
    assert actual.shape == expected.shape
    assert np.max(np.abs(actual - expected), initial=0) <= TOL[dtype] * scale * max(1.0, np.abs(expected).max(initial=0))


def assert_qr_like_cpu(result, a, mode, dtype):
    """*result* (host arrays) of ``qr(a, mode)`` matches the CPU path: shapes, dtypes, Q R = a, Qᴴ Q = I."""
    expected = linalg.qr(a, mode=mode, **CPU)
    assert [(r.shape, r.dtype) for r in result] == [(e.shape, e.dtype) for e in expected]
    if mode == "r":
        close(np.abs(result[0]), np.abs(expected[0]), dtype, 10)
        return
    q, r = result
    close(q @ r, a, dtype, 10)
    close(ct(q) @ q, np.broadcast_to(np.eye(q.shape[-1]), a.shape[:-2] + (q.shape[-1],) * 2), dtype, 10)
    close(r, np.triu(r), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n", [6, 70])  # NumPy's gufunc, and SciPy's potrf per matrix from order 64
def test_cholesky_reconstructs(dtype, batch, lower, n):
    a = spd(batch, n, dtype)
    c = linalg.cholesky(a, lower, **CPU)
    assert c.dtype == a.dtype and c.shape == a.shape
    product = c @ ct(c) if lower else ct(c) @ c
    close(product, a, dtype, 10)
    close(c, (np.tril if lower else np.triu)(c), dtype)
    close(c[(0,) * len(batch)], sl.cholesky(a[(0,) * len(batch)].astype(np.complex128), lower=lower), dtype, 10)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("n", [5, 70])
@pytest.mark.parametrize("masked", [True, False])  # the CPU route's unread triangle zeroed through a mask, or not
@pytest.mark.parametrize("garbage", [7.0, np.nan])
def test_cholesky_reads_only_its_triangle(dtype, n, masked, garbage, monkeypatch):
    monkeypatch.setattr(_cpu_factor, "_MASKED_ORDER", 2048 if masked else 0)
    a = spd((), n, dtype)
    upper_only = np.triu(a) + np.tril(np.full((n, n), garbage), -1)
    np.testing.assert_allclose(linalg.cholesky(upper_only, check_finite=False, **CPU), sl.cholesky(a), atol=1e-10)
    lower_only = np.tril(a) + np.triu(np.full((n, n), garbage), 1)
    np.testing.assert_allclose(linalg.cholesky(lower_only, True, check_finite=False, **CPU), sl.cholesky(a, lower=True),
                               atol=1e-10)


@pytest.mark.parametrize("n", [6, 70])
@pytest.mark.parametrize("lower", [False, True])
def test_a_matrix_factors_as_in_a_batch(n, lower):
    """SciPy's batch tests compare a batch's results with a loop over its matrices: one matrix's
    route must be the batch's (cholesky, lu_factor, lstsq), bit for bit."""
    a = spd((3,), n, "float32")
    batch = linalg.cholesky(a, lower, **CPU)
    for i in range(3):
        np.testing.assert_array_equal(linalg.cholesky(a[i], lower, **CPU), batch[i])
    g = general((3,), n, "float32")
    lu, piv = linalg.lu_factor(g, **CPU)
    x = linalg.lstsq(g[:, :, : n - 3], g[:, :, :2], **CPU)[0]  # the batch's SVD, or gelsd per matrix (70 - 3 >= 32)
    for i in range(3):
        one = linalg.lu_factor(g[i], **CPU)
        np.testing.assert_array_equal(one[0], lu[i])
        np.testing.assert_array_equal(one[1], piv[i])
        np.testing.assert_array_equal(linalg.lstsq(g[i, :, : n - 3], g[i, :, :2], **CPU)[0], x[i])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_lu_factor_reconstructs(dtype, batch):
    a = general(batch, 7, dtype)
    lu, piv = linalg.lu_factor(a, **CPU)
    assert piv.dtype == np.int32 and piv.shape == batch + (7,)
    for index in np.ndindex(*batch):
        expected_lu, expected_piv = sl.lu_factor(a[index])
        np.testing.assert_array_equal(piv[index], expected_piv)
        close(lu[index], expected_lu, dtype, 10)
        l, u = np.tril(lu[index], -1) + np.eye(7), np.triu(lu[index])
        perm = np.arange(7)
        for i, p in enumerate(piv[index]):
            perm[[i, p]] = perm[[p, i]]
        close((l @ u)[np.argsort(perm)], a[index], dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_residual(dtype, trans):
    a, b = general((3,), 6, dtype), random((3, 6, 2), dtype, 1)
    x = linalg.lu_solve(linalg.lu_factor(a, **CPU), b, trans, **CPU)
    op = {0: a, 1: np.swapaxes(a, -1, -2), 2: ct(a)}[trans]
    close(op @ x, b, dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve_residual(dtype, lower):
    a, b = spd((2,), 5, dtype), random((5,), dtype, 1)
    c_and_lower = linalg.cho_factor(a, lower, **CPU)
    assert c_and_lower[1] is lower
    x = linalg.cho_solve(c_and_lower, b, **CPU)
    assert x.shape == (2, 5)
    close((a @ x[..., None])[..., 0], np.broadcast_to(b, (2, 5)), dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_cho_solve_takes_scipys_cho_factor(dtype, lower, batch):
    """SciPy's ``cho_factor`` gives an array of flags for a batch (and SciPy 1.18 a 0-d array for
    one matrix): gpmath's ``cho_solve`` takes its pair as SciPy's does, the same solution; a repeat
    call finds its plan (the flag is keyed as a bool); flags that differ raise ``ValueError``."""
    a, b = spd(batch, 5, dtype), random(batch + (5, 2), dtype, 1)
    scipy_pair = sl.cho_factor(a, lower)
    for given in (scipy_pair, (scipy_pair[0], np.asarray(lower)), (scipy_pair[0], np.full(batch, lower))):
        x = linalg.cho_solve(given, b, **CPU)
        close(x, sl.cho_solve(scipy_pair, b), dtype, 10)
    hits = gpmath.cache_info()["linalg"].hits
    linalg.cho_solve((scipy_pair[0], np.asarray(lower)), b, **CPU)
    assert gpmath.cache_info()["linalg"].hits == hits + 1
    if batch:
        flags = np.zeros(batch, bool)
        flags.flat[0] = True
        with pytest.raises(ValueError, match="c_and_lower's lower flags differ"):
            linalg.cho_solve((scipy_pair[0], flags), b, **CPU)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("batch", BATCHES)
def test_solve_triangular_matches_scipy(dtype, trans, lower, unit_diagonal, batch):
    a, b = general(batch, 5, dtype), random(batch + (5, 2), dtype, 1)  # both triangles and the diagonal filled
    x = linalg.solve_triangular(a, b, trans, lower, unit_diagonal, **CPU)
    assert x.shape == b.shape and x.dtype == b.dtype
    for index in np.ndindex(*batch):
        close(x[index], sl.solve_triangular(a[index], b[index], trans, lower, unit_diagonal), dtype, 10)


@pytest.mark.parametrize("a_shape, b_shape", [((0, 0), (0,)), ((2, 0, 0), (2, 0, 3)), ((0, 3, 3), (0, 3, 2))])
def test_empty_operands_reach_no_lapack_routine(a_shape, b_shape, capfd):
    """Empty systems and factorisations have empty results, and LAPACK (which prints an error for
    a leading dimension of 0) is not called."""
    a, b = np.zeros(a_shape), np.zeros(b_shape)
    assert linalg.solve_triangular(a, b, **CPU).shape == b_shape
    assert linalg.solve(a, b, **CPU).shape == b_shape
    lu, piv = linalg.lu_factor(a, **CPU)
    assert lu.shape == a_shape and piv.shape == a_shape[:-1]
    assert linalg.lu_solve((lu, piv), b, **CPU).shape == b_shape
    assert linalg.cho_solve((a, False), b, **CPU).shape == b_shape
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("a_shape, b_shape", [((0, 3, 3), (3,)), ((0, 3, 3), (1, 3, 2)), ((3, 0, 2, 2), (2, 4)),
                                              ((3, 0, 2, 2), (0, 2, 1))])
def test_solve_of_an_empty_batch_matches_numpy(a_shape, b_shape):
    expected = np.linalg.solve(np.ones(a_shape), np.ones(b_shape))
    x = linalg.solve(np.ones(a_shape), np.ones(b_shape), **CPU)
    assert (x.shape, x.dtype) == (expected.shape, expected.dtype)


@pytest.mark.parametrize("shape", [(0, 3, 3), (3, 0, 2, 2)])
@pytest.mark.parametrize("ours, numpys", [
    (lambda a: linalg.inv(a, **CPU), np.linalg.inv), (lambda a: linalg.det(a, **CPU), np.linalg.det),
    (lambda a: linalg.cholesky(a, lower=True, **CPU), np.linalg.cholesky),
    (lambda a: linalg.eigh(a, **CPU)[0], lambda a: np.linalg.eigh(a)[0]),
    (lambda a: linalg.svd(a, **CPU)[1], lambda a: np.linalg.svd(a)[1]),
    (lambda a: linalg.solve_triangular(a, np.ones((a.shape[-1], 2)), **CPU), lambda a: np.linalg.solve(a, np.ones((a.shape[-1], 2)))),
])
def test_empty_batches_give_numpys_shapes(shape, ours, numpys):
    a = np.ones(shape) + np.eye(shape[-1])
    expected = numpys(a)
    assert ours(a).shape == expected.shape


def test_empty_batches_broadcast_as_in_numpy():
    with pytest.raises(ValueError, match="do not broadcast"):
        linalg.solve(np.ones((0, 3, 3)), np.ones((2, 3, 1)), **CPU)
    with pytest.raises(ValueError):
        np.linalg.solve(np.ones((0, 3, 3)), np.ones((2, 3, 1)))


def test_solve_triangular_broadcasts_and_takes_vectors():
    a, b = general((), 6, "float64"), random((4, 6, 3), "float64", 1)
    x = linalg.solve_triangular(a, b, lower=True, **CPU)
    close(np.tril(a) @ x, b, "float64", 10)
    v = linalg.solve_triangular(general((3,), 6, "float64"), b[0, :, 0], **CPU)
    assert v.shape == (3, 6)
    close((np.triu(general((3,), 6, "float64")) @ v[..., None])[..., 0], np.broadcast_to(b[0, :, 0], (3, 6)), "float64", 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a", ["gen", "sym", "her", "pos"])
@pytest.mark.parametrize("batch", BATCHES)
def test_solve_matches_scipy(dtype, assume_a, batch):
    a = spd(batch, 6, dtype) if assume_a in ("pos", "her") else general(batch, 6, dtype)
    if assume_a == "sym":
        a = ((a + np.swapaxes(a, -1, -2)) / 2 + 6 * np.eye(6)).astype(dtype)
    b = random(batch + (6, 3), dtype, 2)
    x = linalg.solve(a, b, assume_a=assume_a, **CPU)
    assert x.dtype == a.dtype and x.shape == b.shape
    close(a @ x, b, dtype, 10)
    first = (0,) * len(batch)
    close(x[first], sl.solve(a[first].astype(np.complex128), b[first]), dtype, 10)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_positive_solve_reads_the_named_triangle_of_a_itself(lower, transposed):
    """As scipy.linalg.solve(assume_a="pos"): the triangle of ``a`` named by *lower* (junk in the
    other), whether or not *transposed* (a positive definite matrix is its own transpose)."""
    a, b = spd((), 6, "float64"), random((6,), "float64", 5)
    noisy = a + (np.triu if lower else np.tril)(np.full((6, 6), 7.0), 1 if lower else -1)
    x = linalg.solve(noisy, b, lower=lower, assume_a="pos", transposed=transposed, **CPU)
    np.testing.assert_allclose(x, sl.solve(noisy, b, lower=lower, assume_a="pos", transposed=transposed), rtol=1e-12)
    np.testing.assert_allclose(a @ x, b, atol=1e-12)


def test_solve_vector_broadcast_and_transposed():
    a, b = general((4,), 5, "float64"), random((5,), "float64", 3)
    x = linalg.solve(a, b, **CPU)
    assert x.shape == (4, 5)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", a, x), np.broadcast_to(b, (4, 5)), atol=1e-10)
    xt = linalg.solve(a[0], b, transposed=True, **CPU)
    np.testing.assert_allclose(a[0].T @ xt, b, atol=1e-10)
    b_batch = random((2, 1, 5, 2), "float64", 4)
    assert linalg.solve(a, b_batch, **CPU).shape == (2, 4, 5, 2)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_mixed_solve_reaches_full_precision(dtype):
    a, b = general((3,), 40, dtype), random((3, 40, 2), dtype, 5)
    x, info = linalg.solve(a, b, refine="mixed", full_output=True, **CPU)
    exact = np.linalg.solve(a, b)
    assert not info.fell_back and 1 <= info.iterations <= 30
    direct_residual = np.abs(a @ exact - b).max()
    assert np.abs(a @ x - b).max() <= 10 * max(direct_residual, 1e-14)


def test_mixed_solve_falls_back_on_ill_conditioned():
    n = 12
    a = sl.hilbert(n)  # condition ~1e16: an f32 LU cannot refine it
    b = a @ np.ones(n)
    x, info = linalg.solve(a, b, refine="mixed", full_output=True, **CPU)
    assert info.fell_back
    np.testing.assert_allclose(x, np.linalg.solve(a, b))


def test_mixed_solve_float32_is_direct():
    a, b = general((), 8, "float32"), random((8,), "float32", 1)
    x, info = linalg.solve(a, b, refine="mixed", full_output=True, **CPU)
    assert info == linalg.Refinement(0, 0, False)
    close(a @ x, b, "float32", 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
@pytest.mark.parametrize("mode", ["full", "economic", "r"])
def test_qr_reconstructs(dtype, shape, mode):
    a = random((2,) + shape, dtype)
    result = linalg.qr(a, mode=mode, **CPU)
    expected = sl.qr(a[0].astype(np.complex128), mode=mode)
    assert isinstance(result, tuple) and len(result) == len(expected)
    for got, want in zip(result, expected):
        assert got.shape[1:] == want.shape and got.dtype == a.dtype
    if mode == "r":
        close(np.abs(result[0][0]), np.abs(expected[0]), dtype, 10)
        return
    q, r = result
    close(q @ r, a, dtype, 10)
    close(ct(q) @ q, np.broadcast_to(np.eye(q.shape[-1]), (2,) + (q.shape[-1],) * 2), dtype, 10)
    close(r, np.triu(r), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("driver", [None, "syevd", "syevj"])
def test_eigh_reconstructs(dtype, batch, driver):
    a = hermitian(batch, 6, dtype)
    w, v = linalg.eigh(a, driver=driver, **CPU)
    assert w.dtype == np.dtype(dtype).type(0).real.dtype and w.shape == batch + (6,)
    close((v * w[..., None, :]) @ ct(v), a, dtype, 10)
    close(linalg.eigvalsh(a, **CPU), w, dtype, 10)
    first = (0,) * len(batch)
    close(w[first], sl.eigh(a[first].astype(np.complex128), eigvals_only=True), dtype, 10)


def test_eigh_reads_the_named_triangle():
    a = hermitian((), 5, "float64")
    upper = np.triu(a) + np.tril(np.full((5, 5), 9.0), -1)
    np.testing.assert_allclose(linalg.eigvalsh(upper, lower=False, **CPU), sl.eigvalsh(a), atol=1e-12)
    np.testing.assert_allclose(linalg.eigh(upper, lower=False, eigvals_only=True, **CPU), sl.eigvalsh(a), atol=1e-12)


def assert_eig(a, w, v, dtype, scale=100):
    """*w*, *v* (host arrays) are eigenpairs of *a*: ``a v = v diag(w)``, unit columns, and the same
    spectrum as scipy.linalg.eig's (each of SciPy's eigenvalues has one of ours close by)."""
    complex_dtype = np.result_type(np.dtype(dtype), np.complex64)
    assert w.dtype == complex_dtype and w.shape == a.shape[:-1]
    for index in np.ndindex(*a.shape[:-2]):
        expected = sl.eigvals(a[index].astype(np.complex128))
        gaps = np.abs(w[index][:, None] - expected[None, :]).min(axis=0)
        assert gaps.max(initial=0) <= TOL[dtype] * scale * max(1.0, np.abs(expected).max(initial=0))
    if v is not None:  # SciPy's rule: real eigenvectors for a real matrix whose eigenvalues are all real
        real = np.dtype(dtype).kind == "f" and not np.any(w.imag)
        assert v.dtype == (np.dtype(dtype) if real else complex_dtype) and v.shape == a.shape
        close(a @ v, v * w[..., None, :], dtype, scale * np.abs(a).max())
        close(np.linalg.norm(v, axis=-2), np.ones(w.shape), dtype, scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_eig_matches_scipy(dtype, batch):
    a = random(batch + (7, 7), dtype)  # real ones have complex conjugate pairs
    w, v = linalg.eig(a, **CPU)
    assert_eig(a, w, v, dtype)
    assert_eig(a, linalg.eigvals(a, **CPU), None, dtype)


@pytest.mark.parametrize("package", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_eig_vectors_are_real_where_scipys_are(package, dtype):
    """Real eigenvectors exactly where SciPy returns them: a real matrix whose eigenvalues are all
    real (distinct, repeated, one by one, empty); complex for a rotation's pair, for complex input,
    and for a batch where any matrix has a pair (SciPy's batch stacks to complex)."""
    put, host = (lambda x: x), np.asarray
    if package == "torch":
        torch = pytest.importorskip("torch")
        put, host = torch.from_numpy, (lambda t: t.numpy())
    triangular = np.triu(random((5, 5), "float64")) + np.diag(np.arange(5.0))
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    cases = [triangular, np.eye(3), np.array([[4.0]]), np.zeros((0, 0)), rotation,
             np.stack([np.eye(2), 2 * np.eye(2)]), np.stack([np.eye(2), rotation])]
    for matrix in cases:
        a = matrix.astype(dtype)
        expected = sl.eig(a)[1]  # (NumPy's rule is another: from 2.5 on its eig is always complex)
        w, v = (host(x) for x in linalg.eig(put(a), **CPU))
        assert v.dtype == expected.dtype, (matrix, v.dtype, expected.dtype)
        close(a @ v, v * w[..., None, :], dtype, 100)
        if a.ndim == 2 and v.dtype.kind == "f":
            close(np.abs(v), np.abs(expected), dtype, 100)  # LAPACK's vectors, up to each one's sign
    assert host(linalg.eig(put(triangular.astype(dtype)), right=False, **CPU)).dtype.kind == "c"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_reconstructs(dtype, shape, full_matrices):
    a = random((3,) + shape, dtype)
    u, s, vh = linalg.svd(a, full_matrices, **CPU)
    k = min(shape)
    assert s.shape == (3, k) and u.shape[-1] == (shape[0] if full_matrices else k)
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, dtype, 10)
    close(s[0], sl.svdvals(a[0].astype(np.complex128)), dtype, 10)
    close(linalg.svdvals(a, **CPU), s, dtype, 10)
    close(linalg.svd(a, compute_uv=False, driver="gesvdj", **CPU), s, dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (40, 33), (33, 40)])  # the batch's SVD, and gelsd per matrix
@pytest.mark.parametrize("vector", [True, False])
def test_lstsq_matches_scipy(dtype, shape, vector):
    a = random(shape, dtype)
    b = random((shape[0],) if vector else (shape[0], 2), dtype, 1)
    x, residues, rank, s = linalg.lstsq(a, b, **CPU)
    ex, eres, erank, es = sl.lstsq(a.astype(np.complex128), b)
    close(x, ex, dtype, 10)
    close(residues, eres, dtype, 100)
    assert rank == erank
    close(s, es, dtype, 10)


@pytest.mark.parametrize("driver", ["gelsd", "gelsy"])
@pytest.mark.parametrize("shape", [(8, 5), (40, 33), (33, 40)])
def test_lstsq_without_right_hand_sides(driver, shape):
    """b of shape (M, 0): an empty x and residues, a's rank and singular values as with any b
    (LAPACK's drivers themselves refuse zero right-hand sides), a matrix as in a batch."""
    a = random((2,) + shape, "float64")
    x, residues, rank, s = linalg.lstsq(a, np.ones((2, shape[0], 0)), lapack_driver=driver, **CPU)
    assert x.shape == (2, shape[1], 0) and residues.shape == (2, 0)
    expected = sl.lstsq(a[1], np.ones((shape[0], 1)), lapack_driver=driver)
    assert rank.tolist() == [expected[2]] * 2
    if driver == "gelsd":
        np.testing.assert_allclose(s[1], expected[3], rtol=1e-12)
    one = linalg.lstsq(a[1], np.ones((shape[0], 0)), lapack_driver=driver, **CPU)
    assert one[0].shape == (shape[1], 0) and one[2] == expected[2]


@pytest.mark.parametrize("driver", ["gelsd", "gelss", "gelsy"])
@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (3, 3), (6, 0)])
@pytest.mark.parametrize("rhs", [(), (1,), (2,)])
def test_lstsq_residues_are_scipy_1_18s(driver, shape, rhs):
    """A batch whose second matrix has rank N - 1: its residues are NaN, the others' SciPy's."""
    batch = (3,) if shape[1] else ()  # (SciPy 1.18's own N = 0 residues are b's, unbatched)
    a = random(batch + shape, "float64")
    if shape[1]:
        a[1, :, -1] = a[1, :, 0] + a[1, :, 1]
    b = random(batch + shape[:1] + rhs, "float64", 1) if rhs else random(shape[:1], "float64", 1)
    x, residues, rank, s = linalg.lstsq(a, b, lapack_driver=driver, **CPU)
    expected = lstsq_residues(a, b, driver)
    assert residues.shape == expected.shape and residues.dtype == np.float64
    np.testing.assert_allclose(residues, expected, rtol=1e-10, atol=1e-10)  # NaN where expected is NaN
    for index in np.ndindex(batch):
        np.testing.assert_allclose(x[index], sl.lstsq(a[index], b[index] if rhs else b, lapack_driver=driver)[0],
                                   atol=1e-10)


def test_lstsq_residues_of_one_vector_are_0d_and_real():
    a, b = random((6, 3), "complex128"), random(6, "complex128", 1)
    residues = linalg.lstsq(a, b, **CPU)[1]
    assert residues.shape == () and residues.dtype == np.float64
    np.testing.assert_allclose(residues, np.linalg.norm(b - a @ sl.lstsq(a, b)[0]) ** 2, rtol=1e-10)
    assert np.isnan(linalg.lstsq(np.ones((6, 3)), b.real, **CPU)[1])


def rank_deficient(batch, m, n, rank, dtype, seed=0):
    """Products of (m x rank) and (rank x n) random matrices: rank *rank*."""
    return (random(batch + (m, rank), dtype, seed) @ random(batch + (rank, n), dtype, seed + 1)).astype(dtype)


def conditioned(batch, shape, cond: float, dtype, seed=0):
    """Random matrices of *shape* whose singular values are spaced evenly in log from 1 to 1 / *cond*."""
    m, n = shape
    k = min(m, n)
    u = np.linalg.qr(random(batch + (m, k), np.complex128 if np.dtype(dtype).kind == "c" else np.float64, seed))[0]
    v = np.linalg.qr(random(batch + (n, k), u.dtype, seed + 1))[0]
    return ((u * np.logspace(0, -np.log10(cond), k)) @ ct(v)).astype(dtype)


def low_rank_at_eps(shape, count: int, seed: int) -> np.ndarray:
    """*count* matrices of rank 2 whose rank at SciPy's default ``cond`` (eps) is not in doubt
    (third singular value below eps / 8 of the first; LAPACK's gelsy and gelsd both find 2), and
    whose unpivoted QR leaves a diagonal entry above eps times the largest: the case a rank test
    on R's diagonal at eps misjudges.  The columns the QR works on (the rows of a wide matrix) are
    scaled by powers of two, exactly: about one draw in ten then meets all of this (one in 40,000
    unscaled for 9x7, which took a minute on the device's host)."""
    return _low_rank_at_eps(tuple(shape), count, seed).copy()


@functools.cache
def _low_rank_at_eps(shape, count: int, seed: int) -> np.ndarray:
    rng, found = np.random.default_rng(seed), []
    b, eps = np.ones((shape[0], 1)), np.finfo(np.float64).eps
    wide = shape[0] < shape[1]
    graded = 2.0 ** np.arange(min(shape))
    while len(found) < count:
        a = rng.standard_normal((shape[0], 2)) @ rng.standard_normal((2, shape[1]))
        a = a * graded[:, None] if wide else a * graded
        s = np.linalg.svd(a, compute_uv=False)
        r = np.abs(np.diag(np.linalg.qr(a.T if wide else a, mode="r")))
        if s[2] < s[0] * eps / 8 and r.min() > eps * r.max() and \
                sl.lstsq(a, b, lapack_driver="gelsy")[2] == sl.lstsq(a, b)[2] == 2:
            found.append(a)
    return np.stack(found)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
@pytest.mark.parametrize("batch", BATCHES)
def test_pinv_matches_scipy(dtype, shape, batch):
    for a, rank in ((random(batch + shape, dtype), min(shape)), (rank_deficient(batch, *shape, 2, dtype), 2)):
        b, found = linalg.pinv(a, return_rank=True, **CPU)
        assert b.shape == batch + shape[::-1] and b.dtype == a.dtype
        assert np.all(np.asarray(found) == rank)
        for index in np.ndindex(*batch):
            close(b[index], sl.pinv(a[index]), dtype, 100)


def test_pinv_thresholds_as_scipy():
    a = np.diag([4.0, 1.0, 1e-3, 0.0])[:, :3]
    for atol, rtol in ((None, None), (0.01, None), (None, 0.5), (0.9, 0.1)):
        b, rank = linalg.pinv(a, atol=atol, rtol=rtol, return_rank=True, **CPU)
        expected, expected_rank = sl.pinv(a, atol=atol, rtol=rtol, return_rank=True)
        close(b, expected, "float64")
        assert rank == expected_rank


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_inv_det_slogdet(dtype, batch):
    a = general(batch, 5, dtype)
    close(linalg.inv(a, **CPU) @ a, np.broadcast_to(np.eye(5), batch + (5, 5)), dtype, 10)
    first = (0,) * len(batch)
    d = linalg.det(a, **CPU)
    assert np.shape(d) == batch
    close(np.asarray(d)[first], sl.det(a[first].astype(np.complex128)), dtype, 10)
    sign, logabsdet = linalg.slogdet(a, **CPU)
    close(sign * np.exp(logabsdet), d, dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [LAPACK_INV_ORDER - 1, LAPACK_INV_ORDER, 45])  # either side of the CPU route's change
def test_inv_of_a_batch_is_each_matrix_inverse_and_names_a_singular_one(dtype, n):
    a = general((2, 3), n, dtype, 3)
    batch = linalg.inv(a, **CPU)
    close(batch @ a, np.broadcast_to(np.eye(n), (2, 3, n, n)), dtype, 100)
    close(batch[1, 2], sl.inv(a[1, 2].astype(np.complex128)), dtype, 100)
    np.testing.assert_array_equal(linalg.inv(a[1, 2], **CPU), batch[1, 2])  # alone as in the batch
    a[1, 0, 4] = 0  # an exactly zero row
    with pytest.raises(np.linalg.LinAlgError, match=r"a\[1, 0\] is singular"):
        linalg.inv(a, **CPU)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [LAPACK_DET_ORDER - 1, LAPACK_DET_ORDER, 90])  # either side of the CPU route's change
@pytest.mark.parametrize("layout", ["C", "F", "reversed"])
def test_det_of_a_batch_is_each_matrixs_alone_as_scipys(dtype, n, layout):
    """Each matrix's determinant as SciPy's, the same bits alone and in the batch (SciPy's
    test_batch compares the two), the sign of every permutation's row interchanges kept, and 0
    for a matrix whose factorisation meets an exactly zero pivot."""
    a = general((2, 3), n, dtype, 6) / (2 * n**0.5)  # (about a unit diagonal: |det| stays in float32's range)
    a[0, 1] = a[0, 1][np.random.default_rng(7).permutation(n)]  # an odd or even permutation of rows
    a[1, 1, :, 5] = 0  # an exactly zero column
    a = {"C": a, "F": np.asfortranarray(a), "reversed": a[::-1, ::-1, ::-1, ::-1].copy()[::-1, ::-1, ::-1, ::-1]}[layout]
    batch = linalg.det(a, **CPU)
    assert batch.shape == (2, 3) and batch[1, 1] == 0
    for index in ((0, 0), (0, 1), (1, 2)):
        close(batch[index], sl.det(a[index].astype(np.complex128)), dtype, 100)
        np.testing.assert_array_equal(linalg.det(a[index], **CPU), batch[index])  # alone as in the batch


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [LAPACK_SOLVE_ORDER - 1, LAPACK_SOLVE_ORDER, 90])  # either side of the CPU route's change
@pytest.mark.parametrize("layout", ["C", "F", "reversed"])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("columns", [None, 3])
def test_a_solve_plan_on_the_cpu_solves_as_scipy_on_every_layout(dtype, n, layout, transposed, columns):
    """A Solve plan without the condition estimate (NumPy's solve below the order, LAPACK's
    getrf/getrs from it): SciPy's solution of ``a x = b`` (``aᵀ x = b``), a vector or columns of
    ``b``, C-, Fortran-ordered or reversed ``a``; a singular matrix raises naming its zero pivot."""
    if transposed and dtype.startswith("complex"):
        pytest.skip("transposed: real a only, as in SciPy")
    a = general((), n, dtype, 8)
    a = {"C": a, "F": np.asfortranarray(a), "reversed": a[::-1, ::-1].copy()[::-1, ::-1]}[layout]
    b = random((n,) if columns is None else (n, columns), dtype, 9)
    with Solve(a, b, transposed=transposed, **CPU) as plan:
        x = plan.plan().execute()
    wide = np.complex128 if dtype.startswith("complex") else np.float64
    close(x, sl.solve(a.astype(wide), b.astype(wide), transposed=transposed), dtype, 100)
    singular = a.copy()
    singular[:, 5] = 0
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        with Solve(singular, b, **CPU) as plan:
            plan.plan().execute()


def test_det_of_singular_is_zero_without_raising():
    a = np.ones((3, 3))
    assert linalg.det(a, **CPU) == 0
    sign, logabsdet = linalg.slogdet(a, **CPU)
    assert sign == 0 and logabsdet == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [LAPACK_LSTSQ_ORDER - 1, LAPACK_LSTSQ_ORDER, 40])  # either side of the CPU route's change
@pytest.mark.parametrize("rows", [0, 5])  # square; more equations than unknowns
def test_lstsq_of_a_batch_is_each_matrix_least_squares_solution(dtype, n, rows):
    a, b = random((2, 3, n + rows, n), dtype, 4), random((2, 3, n + rows, 2), dtype, 5)
    x, residues, rank, s = linalg.lstsq(a, b, **CPU)
    for index in ((0, 0), (1, 2)):
        ref = sl.lstsq(a[index].astype(np.complex128), b[index].astype(np.complex128))
        close(x[index], ref[0], dtype, 100)
        close(s[index], ref[3], dtype, 10)
        assert rank[index] == ref[2] == n
        alone = linalg.lstsq(a[index], b[index], **CPU)  # alone as in the batch
        np.testing.assert_array_equal(alone[0], x[index])
        np.testing.assert_array_equal(alone[3], s[index])
        if rows:
            close(residues[index], ref[1], dtype, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (3, 8)])
def test_lstsq_gelsy_matches_gelsd(dtype, shape):
    a, b = random((2,) + shape, dtype), random((2, shape[0], 2), dtype, 1)
    x, residues, rank, s = linalg.lstsq(a, b, lapack_driver="gelsy", **CPU)
    expected = linalg.lstsq(a, b, **CPU)
    assert s is None and rank.tolist() == expected[2].tolist()
    close(x, expected[0], dtype, 100)
    assert residues.shape == (2, 0)  # gelsy gives none (SciPy 1.18)
    gelss = linalg.lstsq(a, b, lapack_driver="gelss", **CPU)  # SciPy's other SVD driver: the same results
    for got, want in zip(gelss, expected):
        close(got, want, dtype, 1)
    with pytest.raises(ValueError, match="lapack_driver must be one of"):
        linalg.lstsq(a, b, lapack_driver="gelsx", **CPU)


def test_planners_are_reachable_from_linalg_and_run():
    import gpmath.solver

    for name in ("Cholesky", "CholeskySolve", "LU", "LUSolve", "Solve", "QR", "Eigh", "SVD", "Lstsq", "Inv", "Det"):
        assert getattr(linalg, name) is getattr(gpmath.solver, name)
    a = spd((3,), 5, "float64")
    with linalg.Cholesky(a, lower=True) as plan:
        l = plan.plan().execute(check=True)
    np.testing.assert_allclose(l @ np.swapaxes(l, -1, -2), a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (0, 0), (2, 3, 3)])
def test_det_and_slogdet_have_scipys_type_and_the_batch_shape(shape):
    a = (np.ones(shape) + 3 * np.eye(shape[-1])) if shape[-1] else np.ones(shape)
    expected, (sign, logabsdet) = sl.det(a), np.linalg.slogdet(a)
    result = linalg.det(a, **CPU)
    assert (type(result), np.shape(result)) == (type(expected), np.shape(expected))
    close(result, expected, "float64")
    for ours, theirs in zip(linalg.slogdet(a, **CPU), (sign, logabsdet)):
        assert (type(ours), np.shape(ours)) == (type(theirs), np.shape(theirs))
        close(ours, theirs, "float64")


@pytest.mark.parametrize("shape", [(3, 3), (0, 0), (2, 3, 3)])
def test_det_and_slogdet_of_torch_tensors_have_the_batch_shape(shape):
    torch = pytest.importorskip("torch")
    a = (np.ones(shape) + 3 * np.eye(shape[-1])) if shape[-1] else np.ones(shape)
    result = linalg.det(torch.from_numpy(a), **CPU)
    assert isinstance(result, torch.Tensor) and tuple(result.shape) == shape[:-2]
    close(result.numpy(), sl.det(a), "float64")
    for ours, theirs in zip(linalg.slogdet(torch.from_numpy(a), **CPU), np.linalg.slogdet(a)):
        assert isinstance(ours, torch.Tensor) and tuple(ours.shape) == shape[:-2]
        close(ours.numpy(), theirs, "float64")


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_det_from_lu_of_non_finite_matrices_is_numpys(rng, dtype, bad):
    """The GPU engines' determinant formula, fed LAPACK's LU, gives NumPy's det and slogdet of
    matrices holding a NaN or an infinity; a NaN matrix gives NumPy's NaN whatever its LU holds
    (cuSOLVER's LU of one can be finite)."""
    from gpmath._core.packages import NUMPY
    from gpmath.solver._ops import det_from_lu, nan_free_matrices

    a = (rng.standard_normal((4, 3, 3)) + 3 * np.eye(3)).astype(dtype)
    a[1, 0, 0], a[2, 2, 1] = bad, bad
    lu, piv = np.empty_like(a), np.empty(a.shape[:-1], np.int32)
    for i in range(len(a)):
        lu[i], piv[i] = sl.lu_factor(a[i], check_finite=False)
    if np.isnan(bad):
        lu[1:3] = 1.0
    defined = nan_free_matrices(NUMPY, a, 1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        det, (sign, logdet) = np.linalg.det(a), np.linalg.slogdet(a)
        ours = det_from_lu(NUMPY, lu, piv + 1, 1, False, defined)
        our_sign, our_log = det_from_lu(NUMPY, lu, piv + 1, 1, True, defined)
    if np.isnan(bad) and dtype == "float64":  # NumPy's sign of a real NaN matrix follows its LU's NaNs
        our_sign, sign = np.delete(our_sign, [1, 2]), np.delete(sign, [1, 2])
    for got, want in ((ours, det), (our_sign, sign), (our_log, logdet)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("assume_a", ["sym", "her", "pos"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("lower", [False, True])
def test_one_structured_matrix_on_the_cpu_reads_its_triangle_in_either_order(assume_a, dtype, order, lower):
    """The CPU's one-matrix routes (Bunch-Kaufman for sym/her, Cholesky for pos) read a C-ordered
    matrix as its transpose (no transposing copy): junk in the other triangle changes nothing, the
    answer and the condition warning are SciPy's."""
    n = 7
    m = general((), n, dtype)
    m = (m + (m.conj() if assume_a != "sym" else m).T) / 2
    if assume_a == "pos":
        m = m @ m.conj().T + n * np.eye(n)
    m = m.astype(dtype)
    junk = m + (np.triu if lower else np.tril)(np.full((n, n), 5.0 + (2j if dtype.startswith("c") else 0)),
                                                1 if lower else -1).astype(dtype)
    junk = np.asfortranarray(junk) if order == "F" else junk
    b = random((n, 2), dtype, 4)
    x = linalg.solve(junk, b, assume_a=assume_a, lower=lower, **CPU)
    assert x.dtype == np.dtype(dtype)
    close(x, sl.solve(junk, b, assume_a=assume_a, lower=lower), dtype, 100)
    close(m @ x, b, dtype, 100)


def test_a_singular_symmetric_matrix_names_its_factor():
    with pytest.raises(np.linalg.LinAlgError, match=r"a is singular: D\[\d, \d\] of its symmetric indefinite"):
        linalg.solve(np.zeros((3, 3)), np.ones(3), assume_a="sym", **CPU)


@pytest.mark.parametrize("structure", ["upper", "lower", "diagonal", "sym", "her", "gen"])
@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transposed", [False, True])
def test_solve_without_assume_a_detects_structure_as_scipy_on_the_cpu(structure, dtype, order, transposed):
    """``assume_a=None``: one matrix is looked at as SciPy's solve looks at it, and solved by the
    routine for what it is; the answer and the condition estimate (ill-conditioned: the warning)
    are SciPy's."""
    if transposed and dtype.startswith("complex"):
        pytest.skip("SciPy solves no transposed complex system")
    from gpmath.solver._cpu_solve import detected_structure

    n = 8
    base = general((), n, dtype) + n * np.eye(n)
    a = {"upper": np.triu(base), "lower": np.tril(base), "diagonal": np.diag(np.diag(base)),
         "sym": base + base.T, "her": base + base.conj().T, "gen": base}[structure].astype(dtype)
    expected = {"upper": "upper triangular", "lower": "lower triangular", "diagonal": "upper triangular",
                "sym": "sym", "gen": "gen", "her": "her" if dtype.startswith("complex") else "sym"}[structure]
    assert detected_structure(a) == expected
    a = np.asfortranarray(a) if order == "F" else a
    b = random((n, 2), dtype, 3)
    x = linalg.solve(a, b, transposed=transposed, **CPU)
    close(x, sl.solve(a, b, transposed=transposed), dtype, 100)
    with pytest.warns(sl.LinAlgWarning):  # an ill-conditioned one of the structure warns as SciPy's does
        scaled = a * np.logspace(0, -20 if dtype != "float32" else -9, n)[None, :]
        if structure in ("sym", "her"):
            scaled = a * 1e-20 + np.diag(np.logspace(0, -20 if dtype != "float32" else -9, n))
        linalg.solve(scaled.astype(dtype), b, **CPU)


@pytest.mark.parametrize("structure", ["upper", "lower", "diagonal"])
@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_inv_of_a_triangular_matrix_is_found_and_inverted_as_one(structure, dtype, order):
    """As SciPy's inv looks at its matrix: a triangular one (from order 32, the LAPACK route) is
    inverted by ``?trtri``; an exactly zero diagonal entry names itself."""
    n = 40
    base = general((), n, dtype) + n * np.eye(n)
    a = {"upper": np.triu(base), "lower": np.tril(base), "diagonal": np.diag(np.diag(base))}[structure].astype(dtype)
    a = np.asfortranarray(a) if order == "F" else a
    close(linalg.inv(a, **CPU) @ a, np.eye(n), dtype, 100)
    close(linalg.inv(np.stack([a, 2 * a]), **CPU)[1], sl.inv(2 * a), dtype, 100)
    a[7, 7] = 0
    with pytest.raises(np.linalg.LinAlgError, match=r"diagonal entry \[7, 7\] is exactly zero"):
        linalg.inv(a, **CPU)
