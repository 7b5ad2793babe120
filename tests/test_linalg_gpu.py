"""gpmath.linalg on the GPU against scipy.linalg in float64, for NumPy, CuPy and PyTorch inputs.

Marked ``gpu``: skipped without a GPU (tests/conftest.py).  Inputs are built with NumPy and
converted, so one oracle body serves every package.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg
from gpmath.solver import Cholesky, Eigh, Solve, SolveTriangular
from gpmath.solver._cuda_small import SmallKernelCholesky, SmallKernelSolve

from helpers import routed
from test_linalg import (TOL, assert_eig, assert_qr_like_cpu, conditioned, ct, general, hermitian, low_rank_at_eps,
                         random, rank_deficient, spd)

pytestmark = pytest.mark.gpu
PACKAGES = ["numpy", "cupy", "torch"]


def to_package(x, package):
    if package == "numpy":
        return x
    module = pytest.importorskip(package)
    return module.asarray(x) if package == "cupy" else module.as_tensor(x, device="cuda")


def host(x):
    if isinstance(x, tuple):
        return tuple(host(v) for v in x)
    if type(x).__module__.startswith("cupy"):
        return x.get()
    if type(x).__module__.startswith("torch"):
        return x.cpu().numpy()
    return np.asarray(x)


def close(actual, expected, dtype, scale=10.0):
    actual, expected = np.asarray(actual, np.complex128), np.asarray(expected, np.complex128)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max(initial=0) <= TOL[dtype] * scale * max(1.0, np.abs(expected).max(initial=0))


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("batch", [(), (3,), (200,)])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n", [24, 40])  # gpmath's small Cholesky kernel (n <= 32), potrf
def test_cholesky(package, dtype, batch, lower, n):
    a = spd(batch, n, dtype)
    c = host(linalg.cholesky(to_package(a, package), lower, execution="cuda"))
    close(c @ ct(c) if lower else ct(c) @ c, a, dtype)
    close(c, (np.tril if lower else np.triu)(c), dtype)
    close(c, np.linalg.cholesky(a) if lower else ct(np.linalg.cholesky(a)), dtype, 100)


@pytest.mark.parametrize("package", ["cupy", "torch"])
@pytest.mark.parametrize("dtype", ["float64", "complex64"])
@pytest.mark.parametrize("n", [1, 2, 7, 31, 32])
def test_cholesky_kernel_reads_the_named_triangle_where_it_lies(package, dtype, n):
    """The kernel route: every order, strided, transposed and broadcast operands, the other
    triangle holding garbage, and potrf's info for a matrix that is not positive definite."""
    a = spd((6,), n, dtype)
    for lower in (False, True):
        junk = np.full((n, n), 7.0 + 3.0j if dtype == "complex64" else 7.0)
        noisy = (a + (np.triu(junk, 1) if lower else np.tril(junk, -1))).astype(dtype)  # the other triangle: junk
        x = to_package(np.stack([noisy, 0 * noisy], axis=1), package)[:, 0]  # every other matrix of a batch
        with Cholesky(x, lower=lower, execution="cuda") as plan:
            assert isinstance(plan.plan().route, SmallKernelCholesky)
            c = host(plan.execute(check=True))
        close(c, np.linalg.cholesky(a) if lower else ct(np.linalg.cholesky(a)), dtype, 100)
        t = to_package(np.swapaxes(noisy, -1, -2).copy(), package)  # column-major in memory: its transpose
        c = host(linalg.cholesky(t.swapaxes(-1, -2) if package == "cupy" else t.mT, lower, execution="cuda"))
        close(c, np.linalg.cholesky(a) if lower else ct(np.linalg.cholesky(a)), dtype, 100)
    one = to_package(a[0], package)
    b = pytest.importorskip(package)
    broadcast = b.broadcast_to(one, (3, n, n)) if package == "cupy" else one.expand(3, n, n)
    close(host(linalg.cholesky(broadcast, True, execution="cuda")), np.broadcast_to(np.linalg.cholesky(a[0]), (3, n, n)),
          dtype, 100)
    bad = a.copy()
    bad[4, n - 1, n - 1] = -1.0
    with pytest.raises(linalg.LinAlgError, match=rf"a\[4\] is not positive definite.*order {n}"):
        linalg.cholesky(to_package(bad, package), execution="cuda")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
@pytest.mark.parametrize("batch, nrhs", [((), 1), ((4,), 3), ((300,), 1), ((300,), 2)])
@pytest.mark.parametrize("n", [20, 40])  # gpmath's small-solve kernel (n <= 32), getrf + getrs
def test_solve(package, dtype, assume_a, batch, nrhs, n):
    a = spd(batch, n, dtype) if assume_a == "pos" else general(batch, n, dtype)
    b = random(batch + (n, nrhs), dtype, 1)
    x = host(linalg.solve(to_package(a, package), to_package(b, package), assume_a=assume_a, execution="cuda"))
    close(a @ x, b, dtype, 100)


@pytest.mark.parametrize("package", ["cupy", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_positive_solve_kernel_reads_the_named_triangle(package, dtype):
    """assume_a="pos" at n <= 32 (gpmath's Cholesky-solve kernel): the triangle named by *lower*,
    junk in the other, transposed (real), and potrf's order of the failing minor."""
    a, b = spd((5,), 12, dtype), random((5, 12, 3), dtype, 1)
    junk = np.full((12, 12), 5.0 + 2.0j if dtype == "complex128" else 5.0)
    for lower in (False, True):
        noisy = (a + (np.triu(junk, 1) if lower else np.tril(junk, -1))).astype(dtype)
        for transposed in (False, True) if dtype == "float32" else (False,):
            x = host(linalg.solve(to_package(noisy, package), to_package(b, package), lower=lower, assume_a="pos",
                                  transposed=transposed, execution="cuda"))
            close(a @ x, b, dtype, 100)
    bad = a.copy()
    bad[3, 6, 6] = -50.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[3\] is not positive definite.*order 7"):
        linalg.solve(to_package(bad, package), to_package(b, package), assume_a="pos", execution="cuda")


@pytest.mark.parametrize("package", PACKAGES)
def test_solve_vector_and_transposed(package):
    a, b = general((2,), 16, "float64"), random((16,), "float64", 2)
    x = host(linalg.solve(to_package(a, package), to_package(b, package), execution="cuda"))
    close(np.einsum("bij,bj->bi", a, x), np.broadcast_to(b, (2, 16)), "float64")
    xt = host(linalg.solve(to_package(a[0], package), to_package(b, package), transposed=True, execution="cuda"))
    close(a[0].T @ xt, b, "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("precision", ["f32", "tf32", "f16", "bf16"])
def test_mixed_solve_reaches_f64_residual(package, precision):
    a, b = general((), 256, "float64"), random((256, 2), "float64", 3)
    x, info = linalg.solve(to_package(a, package), to_package(b, package), refine="mixed", precision=precision,
                           full_output=True, execution="cuda")
    direct = np.abs(a @ np.linalg.solve(a, b) - b).max()
    assert np.abs(a @ host(x) - b).max() <= 10 * max(direct, 1e-13)
    assert info.iterations >= 0


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_mixed_solve_of_every_dtype_takes_the_default_inner_precision(dtype):
    """precision=None: the table's (or a calibration's) inner precision, which cuSOLVER's IRS takes
    beside every main precision, to the residual of a direct solve."""
    from gpmath.solver import _crossover

    a, b = general((), 128, dtype), random((128, 2), dtype, 3)
    with Solve(a, b, refine="mixed", execution="cuda") as plan:
        x = plan.execute(check=True)
        assert plan.inner_precision == _crossover.choose(_crossover.MIXED, 128, 1, device_id=plan.device_id)
    direct = np.abs(a @ np.linalg.solve(a, b) - b).max()
    assert np.abs(a @ x - b).max() <= 10 * max(direct, 1e-5 if dtype in ("float32", "complex64") else 1e-13)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("driver", [None, "syevd", "syevj", "syevBatched"])
@pytest.mark.parametrize("n, batch", [(8, ()), (33, (16,)), (100, (3,))])
def test_eigh(package, dtype, driver, n, batch):
    a = hermitian(batch, n, dtype)
    w, v = host(linalg.eigh(to_package(a, package), driver=driver, execution="cuda"))
    close((v * w[..., None, :]) @ ct(v), a, dtype, 100)
    first = (0,) * len(batch)
    close(w[first], sl.eigvalsh(a[first].astype(np.complex128)), dtype, 100)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("driver", [None, "gesvd", "gesvdj", "gesvdp"])
@pytest.mark.parametrize("shape, batch", [((12, 7), (5,)), ((7, 12), (5,)), ((40, 33), (2,)), ((30, 50), ())])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd(package, dtype, driver, shape, batch, full_matrices):
    a = random(batch + shape, dtype)
    u, s, vh = host(linalg.svd(to_package(a, package), full_matrices, driver=driver, execution="cuda"))
    k = min(shape)
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, dtype, 100)
    close(s, np.linalg.svd(a, compute_uv=False), dtype, 100)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (9, 5)])
def test_default_svd_of_one_rank_deficient_matrix_is_accurate(dtype, shape):
    """The one-matrix default: every singular value within a few eps of ‖a‖ of float64 LAPACK's, zeros
    included (gesvdp, the default before, was off by more than ‖a‖ in float32 at 300 x 200)."""
    a = rank_deficient((), *shape, min(shape) // 2, dtype)
    s = host(linalg.svdvals(to_package(a, "torch"), execution="cuda")).astype(np.float64)
    reference = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    assert np.abs(s - reference).max() <= 50 * np.finfo(dtype).eps * reference[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_failures_name_the_matrix(package):
    a = np.broadcast_to(4 * np.eye(5), (3, 5, 5)).copy()
    a[2, 3, 3] = -1.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[2\] is not positive definite.*order 4"):
        linalg.cholesky(to_package(a, package), execution="cuda")
    a = np.broadcast_to(4 * np.eye(5), (3, 5, 5)).copy()
    a[1, :, 2] = 0.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
        linalg.solve(to_package(a, package), to_package(np.ones(5), package), execution="cuda")


def test_info_stays_on_device_until_asked():
    a = np.broadcast_to(np.eye(4), (2, 4, 4)).copy()
    a[1, 0, 0] = -1.0
    with Cholesky(a, execution="cuda") as plan:
        plan.execute()  # no check: no error, no sync
        assert plan.info().tolist() == [0, 1]
        with pytest.raises(linalg.LinAlgError):
            plan.execute(check=True)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("driver", ["syevjBatched", "syevBatched"])
def test_eigvalsh_of_a_batch_with_each_batched_driver(dtype, driver):
    a = hermitian((6,), 24, dtype, 3)
    w = host(linalg.eigvalsh(to_package(a, "torch"), driver=driver, execution="cuda"))
    close(w, np.linalg.eigvalsh(a.astype(np.complex128)), dtype, 100)


@pytest.mark.parametrize("package", PACKAGES)
def test_plans_reuse_and_reset(package):
    a1, a2 = hermitian((4,), 10, "float64", 1), hermitian((4,), 10, "float64", 2)
    with Eigh(to_package(a1, package), eigvals_only=True, execution="cuda") as plan:
        w1 = host(plan.plan().execute(check=True))
        plan.reset_operands(to_package(a2, package))
        w2 = host(plan.execute(check=True))
    close(w1, np.linalg.eigvalsh(a1), "float64")
    close(w2, np.linalg.eigvalsh(a2), "float64")
    with Solve(to_package(a1 + 10 * np.eye(10), package), to_package(np.ones((4, 10, 1)), package),
               execution="cuda") as plan:
        assert plan.execute(check=True).shape == (4, 10, 1)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("batch, n", [((), 20), ((300,), 12), ((2,), 140)])
def test_lu_factor_solve_inv_det(package, dtype, batch, n):
    a, b = general(batch, n, dtype), random(batch + (n, 2), dtype, 1)
    lu, piv = host(linalg.lu_factor(to_package(a, package), execution="cuda"))
    first = (0,) * len(batch)
    expected_lu, expected_piv = sl.lu_factor(a[first])
    np.testing.assert_array_equal(piv[first], expected_piv)
    close(lu[first], expected_lu, dtype)
    for trans, op in ((0, a), (1, np.swapaxes(a, -1, -2)), (2, ct(a))):
        x = linalg.lu_solve((to_package(lu, package), to_package(piv, package)), to_package(b, package), trans,
                            execution="cuda")
        close(op @ host(x), b, dtype, 100)
    close(host(linalg.inv(to_package(a, package), execution="cuda")), np.linalg.inv(a), dtype, 100)
    sign, logabsdet = host(linalg.slogdet(to_package(a, package), execution="cuda"))
    expected_sign, expected_log = np.linalg.slogdet(a)
    close(sign, expected_sign, dtype, 100)
    close(logabsdet, expected_log, dtype, 100)
    if n <= 20:
        close(host(linalg.det(to_package(a, package), execution="cuda")), np.linalg.det(a), dtype, 1000)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve(package, dtype, lower):
    a, b = spd((3,), 16, dtype), random((3, 16, 2), dtype, 1)
    c = linalg.cho_factor(to_package(a, package), lower, execution="cuda")
    close(a @ host(linalg.cho_solve(c, to_package(b, package), execution="cuda")), b, dtype, 100)


@pytest.mark.parametrize("route", ["geev", "host"])
@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("batch, n", [((), 1), ((), 9), ((3,), 40), ((), 200)])
def test_eig(route, package, dtype, batch, n):
    """cusolverDnXgeev (complex eigenvalues for real matrices too, their packed eigenvectors
    unpacked) or LAPACK's geev on the host: the results in the operand's package, on its device."""
    a = random(batch + (n, n), dtype, 4)
    given = to_package(a, package)
    with routed("EIG", route):
        w, v = linalg.eig(given, execution="cuda")
        assert_eig(a, host(w), host(v), dtype)
        assert_eig(a, host(linalg.eigvals(given, execution="cuda")), None, dtype)
    for x in (w, v):
        assert type(x) is type(given) and getattr(x, "device", None) == getattr(given, "device", None)


@pytest.mark.parametrize("route", ["geev", "host"])
@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_eigvals_of_small_real_matrices_with_complex_pairs(route, package, dtype, n):
    """NumPy's own test matrix ``[[1, 0.5], [-1, 1]]`` (eigenvalues ``1 ± 0.707j``; an H200 once
    gave them real) and rotations: every eigenvalue whole, with and without the eigenvectors."""
    rotation = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    a = np.array([[1, 0.5], [-1, 1]]) if n == 2 else np.kron(np.eye(n // 2 + 1), rotation)[:n, :n] * 2
    a = np.stack([a, a.T + np.eye(n)]).astype(dtype)
    with routed("EIG", route):
        found = (host(linalg.eigvals(to_package(a, package), execution="cuda")),
                 host(linalg.eig(to_package(a, package), execution="cuda"))[0],
                 host(linalg.eigvals(to_package(a[0], package), execution="cuda"))[None])
    for w in found:
        assert np.abs(w.imag).max() > 0.1
        assert_eig(a[: len(w)], w, None, dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape, batch", [((9, 5), ()), ((5, 9), (3,)), ((70, 40), (2,))])
def test_pinv(package, dtype, shape, batch):
    """Full rank with SciPy's thresholds; rank 3 with rtol=1e-4 (above the rounding of the inputs, so
    that the float64 reference sees the same rank)."""
    for a, rank, rtol in ((random(batch + shape, dtype), min(shape), None),
                          (rank_deficient(batch, *shape, 3, dtype), 3, 1e-4)):
        b, found = host(linalg.pinv(to_package(a, package), rtol=rtol, return_rank=True, execution="cuda"))
        assert np.all(np.asarray(found) == rank)
        for index in np.ndindex(*batch):
            close(b[index], sl.pinv(a[index].astype(np.complex128), rtol=rtol), dtype, 1000)


EMPTY_CALLS = {
    "cholesky": lambda a, b, **kw: linalg.cholesky(a, **kw), "eigh": lambda a, b, **kw: linalg.eigh(a, **kw),
    "eig": lambda a, b, **kw: linalg.eig(a, **kw), "svd": lambda a, b, **kw: linalg.svd(a, **kw),
    "qr": lambda a, b, **kw: linalg.qr(a, **kw), "inv": lambda a, b, **kw: linalg.inv(a, **kw),
    "det": lambda a, b, **kw: linalg.det(a, **kw), "lu_factor": lambda a, b, **kw: linalg.lu_factor(a, **kw),
    "pinv": lambda a, b, **kw: linalg.pinv(a, **kw), "solve": lambda a, b, **kw: linalg.solve(a, b, **kw),
    "solve_triangular": lambda a, b, **kw: linalg.solve_triangular(a, b, **kw),
    "lstsq": lambda a, b, **kw: linalg.lstsq(a, b, **kw)[0],
}


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", list(EMPTY_CALLS))
@pytest.mark.parametrize("a_shape, b_shape", [((0, 0), (0, 2)), ((3, 0, 0), (3, 0, 2)), ((0, 4, 4), (0, 4, 2))])
def test_empty_operands(package, name, a_shape, b_shape):
    """Nothing to compute (cuSOLVER rejects empty matrices): the CPU engine's results, in the
    operands' package and on their device, as on the CPU path."""
    call = EMPTY_CALLS[name]
    a, b = np.zeros(a_shape), np.zeros(b_shape)
    got = call(to_package(a, package), to_package(b, package), execution="cuda")
    expected = call(a, b, execution="cpu")
    for g, e in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple) else (expected,)):
        assert type(g).__module__.split(".")[0] == package
        np.testing.assert_array_equal(host(g), e)


@pytest.mark.parametrize("package", ["cupy", "torch"])
def test_eig_of_a_transposed_view(package):
    a = random((2, 12, 12), "float64", 5)
    x = to_package(np.swapaxes(a, -1, -2).copy(), package)
    w, v = host(linalg.eig(x.mT if package == "torch" else x.swapaxes(-1, -2), execution="cuda"))
    assert_eig(a, w, v, "float64")


@pytest.mark.parametrize("route", ["geev", "host"])
@pytest.mark.parametrize("package", ["cupy", "torch"])
@pytest.mark.parametrize("n", [8, 200])
def test_eig_real_vectors_on_a_callers_stream(route, package, n):
    """A real matrix with real eigenvalues gets real eigenvectors (SciPy's rule), made on the stream
    the caller names: used right away on that stream, then compared; a rotation pair keeps them complex."""
    module = pytest.importorskip(package)
    a = np.triu(random((n, n), "float64", 6)) + np.diag(np.arange(n, dtype=float))
    rotation = np.kron(np.eye(n // 2), np.array([[0.0, -1.0], [1.0, 0.0]])) + np.diag(np.arange(n, dtype=float))
    stream = module.cuda.Stream()
    with routed("EIG", route):
        for matrix, kind in ((a, "f"), (rotation, "c")):
            w, v = linalg.eig(to_package(matrix, package), stream=stream)
            with (stream if package == "cupy" else module.cuda.stream(stream)):
                product = v * 2  # enqueued on the caller's stream right behind the results
            stream.synchronize()
            assert host(v).dtype.kind == kind and host(w).dtype.kind == "c"
            np.testing.assert_array_equal(host(product), 2 * host(v))
            assert_eig(matrix, host(w), host(v), "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("batch, a_batch, n", [((), (), 24), ((3,), (3,), 24), ((200,), (), 24), ((200,), (200,), 24),
                                               ((), (), 700), ((3,), (3,), 700), ((3,), (), 700)])
def test_solve_triangular(package, dtype, batch, a_batch, n):
    """trsm (one matrix) and trsmBatched, A shared by a batch of b, every trans and fill mode;
    the unread triangle holds junk."""
    a, b = general(a_batch, n, dtype), random(batch + (n, 3), dtype, 1)
    for lower in (False, True):
        tri = (np.tril if lower else np.triu)(a)
        noisy = (a + (np.triu if lower else np.tril)(np.full((n, n), 7.0), 1 if lower else -1)).astype(dtype)
        for trans, op in ((0, tri), (1, np.swapaxes(tri, -1, -2)), ("C", ct(tri))):
            x = host(linalg.solve_triangular(to_package(noisy, package), to_package(b, package), trans, lower,
                                             execution="cuda"))
            close(op @ x, np.broadcast_to(b, x.shape), dtype, 100)


@pytest.mark.parametrize("package", PACKAGES)
def test_solve_triangular_views_vectors_and_unit_diagonal(package):
    """A transposed (column-major) A and a lazily conjugated torch A are copied; a vector b; the
    diagonal left unread with unit_diagonal."""
    a, b = general((2,), 9, "complex128"), random((2, 9), "complex128", 1)
    view = to_package(np.swapaxes(a, -1, -2).copy(), package)
    view = view.mT if package == "torch" else view.swapaxes(-1, -2)
    x = host(linalg.solve_triangular(view, to_package(b[0], package), lower=True, execution="cuda"))
    close((np.tril(a) @ x[..., None])[..., 0], np.broadcast_to(b[0], (2, 9)), "complex128", 100)
    if package == "torch":
        x = host(linalg.solve_triangular(to_package(a, package).conj(), to_package(b[0], package), execution="cuda"))
        close((np.triu(a.conj()) @ x[..., None])[..., 0], np.broadcast_to(b[0], (2, 9)), "complex128", 100)
    unit = np.triu(a, 1) + np.eye(9)
    x = host(linalg.solve_triangular(to_package(a, package), to_package(b[..., None], package), unit_diagonal=True,
                                     execution="cuda"))
    close(unit @ x, b[..., None], "complex128", 100)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_solve_triangular_zero_diagonal(package, dtype):
    a = np.triu(general((3,), 5, dtype))
    a[1, 4, 4] = 0.0
    b = to_package(random((5,), dtype, 1), package)
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular: its diagonal entry \[4, 4\] is exactly zero"):
        linalg.solve_triangular(to_package(a, package), b, execution="cuda")
    with SolveTriangular(to_package(a, package), b, execution="cuda") as plan:
        x = host(plan.execute())  # no check: cuBLAS divides by the zero
        assert not np.isfinite(x[1]).all() and np.isfinite(x[[0, 2]]).all()
        assert plan.info().tolist() == [0, 5, 0]


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(9, 5), (5, 9), (6, 6)])
@pytest.mark.parametrize("mode", ["full", "economic", "r"])
def test_qr(package, dtype, shape, mode):
    a = random((2,) + shape, dtype)
    assert_qr_like_cpu(host(linalg.qr(to_package(a, package), mode=mode, execution="cuda")), a, mode, dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape, vector", [((12, 5), True), ((12, 5), False), ((5, 12), False)])
@pytest.mark.parametrize("driver", ["gelsd", "gelsy"])
def test_lstsq(package, dtype, shape, vector, driver):
    a = random((2,) + shape, dtype)
    b = random((shape[0],) if vector else (2, shape[0], 3), dtype, 1)
    got = linalg.lstsq(to_package(a, package), to_package(b, package), lapack_driver=driver, execution="cuda")
    want = linalg.lstsq(a, b, lapack_driver=driver, execution="cpu")
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            close(host(g), w, dtype, 100)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float64", "complex64"])
@pytest.mark.parametrize("shape", [(12, 5), (5, 12), (300, 200)])
def test_lstsq_gelsy_of_a_rank_deficient_batch_is_lapacks(package, dtype, shape):
    """A batch holding a rank-deficient matrix: the unpivoted QR sees it, the SVD solves the batch;
    the minimum-norm solutions and ranks of LAPACK's pivoted gelsy."""
    a, b = random((3,) + shape, dtype), random((shape[0], 2), dtype, 1)
    a[1, :, 3] = a[1, :, 0]  # rank deficient, tall or wide
    a[1, 3, :] = a[1, 0, :]
    cond = 1000 * np.finfo(dtype).eps  # well above the rounding of the duplicated column's R entry
    x, residues, rank, s = linalg.lstsq(to_package(a, package), to_package(b, package), cond, lapack_driver="gelsy",
                                        execution="cuda")
    assert s is None and tuple(residues.shape) == (3, 0)
    for i in range(3):
        want = sl.lstsq(a[i].astype(np.complex128), b.astype(np.complex128), cond, lapack_driver="gelsy")
        close(host(x)[i], want[0], dtype, 1000)
        assert int(host(rank)[i]) == want[2]


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(400, 64), (64, 400)])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_lstsq_gelsy_through_cholesky_qr(package, dtype, shape, batch):
    """Cholesky QR2 (cuBLAS's gemm and trsm, cuSOLVER's potrf, the orthogonality test's
    kernel) where cond(A) is modest: within a small multiple of cond(A) eps of SciPy's solution in
    float64, for right-hand sides in A's range; where cond(A)² eps is far above 1, Householder QR's."""
    from gpmath.solver import Lstsq

    eps = np.finfo(dtype).eps
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    for cond, falls_back in ((10.0, False), (1e3 if eps > 1e-10 else 1e6, False), (eps ** -0.75, True)):
        a = conditioned(batch, shape, cond, dtype)
        b = (a.astype(wide) @ random(batch + (shape[1], 2), wide, 1)).astype(dtype)
        with Lstsq(to_package(a, package), to_package(b, package), lapack_driver="gelsy", execution="cuda") as plan:
            plan.plan()
            assert type(plan.route).__name__ == "CholeskyQrLeastSquares"
            for _ in range(2):  # (a repeat reuses the plan's buffers)
                x, residues, rank, s = plan.execute()
            assert (plan.route._householder is not None) == falls_back, cond
        assert s is None and tuple(residues.shape) == batch + (0,)
        for i in np.ndindex(batch):
            want = sl.lstsq(a[i].astype(wide), b[i].astype(wide), lapack_driver="gelsd")[0]
            error = np.linalg.norm(host(x)[i] - want) / np.linalg.norm(want)
            assert error <= 100 * cond * eps, (cond, error)
            assert int(np.asarray(host(rank))[i]) == min(shape)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
def test_lstsq_gelsy_of_low_rank_matrices_at_the_default_cond(package, shape):
    """Rank 2 at SciPy's default ``cond``, where R's diagonal holds rounding above eps (SciPy 1.18's
    own lstsq tests found the "full-rank" solutions cuSOLVER's QR gave them): LAPACK's gelsy's
    minimum-norm solutions and ranks."""
    a = low_rank_at_eps(shape, 4, seed=sum(shape))
    b = random((4, shape[0], 2), "float64", 3)
    x, residues, rank, s = linalg.lstsq(to_package(a, package), to_package(b, package), lapack_driver="gelsy",
                                        execution="cuda")
    for i in range(4):
        want = sl.lstsq(a[i], b[i], lapack_driver="gelsy")
        close(host(x)[i], want[0], "float64", 1000)
        assert int(host(rank)[i]) == want[2] == 2


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("swapped", [False, True])
def test_solve_looped_route_with_the_interchanges_on_the_device(package, dtype, swapped, monkeypatch):
    """n > 512: one matrix at a time; with the LU of A itself (getrs "N") gpmath's kernel applies
    the interchanges to b, for each matrix of the batch."""
    import gpmath
    from gpmath.solver import _cuda_solve

    monkeypatch.setattr(_cuda_solve, "SOLVE_SWAPPED", swapped)
    gpmath.cache_clear()
    a, b = general((2,), 600, dtype), random((2, 600, 3), dtype, 4)
    with Solve(to_package(a, package), to_package(b, package), execution="cuda") as plan:
        x = host(plan.execute(check=True))
        assert (plan.route.permute is not None) and not plan.route.lu.batched
    close(x, np.linalg.solve(a, b), dtype, 1000)
    x = host(linalg.solve(to_package(a[0], package), to_package(b[0, :, 1], package), execution="cuda"))
    close(x, np.linalg.solve(a[0], b[0, :, 1]), dtype, 1000)
    gpmath.cache_clear()


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("batch", [(), (300,)])
def test_solve_swapped_route(package, batch, monkeypatch):
    import gpmath
    from gpmath.solver import _cuda_solve

    monkeypatch.setattr(_cuda_solve, "SOLVE_SWAPPED", True)
    gpmath.cache_clear()
    a, b = general(batch, 40, "complex128"), random(batch + (40, 2), "complex128", 1)  # n > 32: getrf + getrs
    close(a @ host(linalg.solve(to_package(a, package), to_package(b, package), execution="cuda")), b, "complex128", 100)
    a = a.real.copy()
    xt = host(linalg.solve(to_package(a, package), to_package(b.real.copy(), package), transposed=True, execution="cuda"))
    close(np.swapaxes(a, -1, -2) @ xt, b.real, "float64", 100)
    gpmath.cache_clear()


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("n", [1, 2, 7, 16, 31, 32])
def test_small_solve_kernel_matches_lapack(package, dtype, n):
    """The one-launch kernel (n <= 32) on contiguous, broadcast, strided and vector operands, read
    where they lie on the device; its x agrees with LAPACK's getrf + getrs to rounding."""
    a, b = general((5, 40), n, dtype), random((5, 40, n, 3), dtype, 1)
    pa, pb = to_package(a, package), to_package(b, package)

    def swap01(x):
        return x.transpose(0, 1) if type(x).__module__.startswith("torch") else x.swapaxes(0, 1)

    views = (  # (of a, of b), applied alike to the NumPy oracle and the package's arrays
        (lambda x: x, lambda x: x), (lambda x: x[2, 7], lambda x: x), (lambda x: x, lambda x: x[1, 3, :, 0]),
        (lambda x: x[:, ::3], lambda x: x[:, ::3, :, 1:]), (lambda x: x[:1], lambda x: x), (swap01, swap01),
    )
    for view_a, view_b in views:
        x_a, x_b = view_a(a), view_b(b)
        with Solve(view_a(pa), view_b(pb), execution="cuda") as plan:
            x = host(plan.execute(check=True))
            assert isinstance(plan.route, SmallKernelSolve)
        column = np.broadcast_to(x_b[:, None], x_a.shape[:-1] + (1,)) if x_b.ndim == 1 else x_b
        expected = np.linalg.solve(x_a, column)
        close(x, expected[..., 0] if x_b.ndim == 1 else expected, dtype, 10 * n)
    if dtype in ("float32", "float64"):
        xt = host(linalg.solve(to_package(a, package), to_package(b, package), transposed=True, execution="cuda"))
        close(xt, np.linalg.solve(np.swapaxes(a, -1, -2), b), dtype, 10 * n)
    singular = a.copy()
    singular[3, 11, :, n // 2] = 0
    with pytest.raises(linalg.LinAlgError, match=rf"a\[3, 11\] is singular: pivot U\[{n // 2}"):
        linalg.solve(to_package(singular, package), to_package(b, package), execution="cuda")


def test_small_solve_kernel_reads_lazy_torch_views():
    torch = pytest.importorskip("torch")
    a, b = general((6,), 9, "complex128"), random((6, 9, 2), "complex128", 1)
    ta, tb = torch.as_tensor(a, device="cuda"), torch.as_tensor(b, device="cuda")
    x = host(linalg.solve(ta.conj(), tb, execution="cuda"))  # a lazy conjugate: its memory holds a
    close(x, np.linalg.solve(a.conj(), b), "complex128", 100)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("batch, n", [((), 300), ((2,), 531), ((), 1100)])
def test_inv_of_large_matrices_through_cublas_trsm(package, dtype, batch, n, monkeypatch):
    """inv from INVERSE_MIN_N on (inv(U) by trsm of I, trsm from the right, the permuted transpose),
    matrices whose LU interchanges rows, against NumPy; a plan, and a plan through getrs of I,
    agree; an exactly singular one raises, naming it."""
    from gpmath.solver import Inv, _cuda_inverse

    assert _cuda_inverse.INVERSE_MIN_N <= n <= _cuda_inverse.INVERSE_MAX_N
    a = general(batch, n, dtype)[..., ::-1, :].copy()
    x = host(linalg.inv(to_package(a, package), execution="cuda"))
    close(x, np.linalg.inv(a), dtype, 100)
    eye = np.broadcast_to(np.eye(n), a.shape)
    close(a @ x, eye, dtype, 100)
    with Inv(to_package(a, package), execution="cuda") as plan:
        close(host(plan.execute()), x, dtype, 10)
        assert isinstance(plan.route._triangular, _cuda_inverse.TriangularInverse)
    with monkeypatch.context() as patch:
        patch.setattr(_cuda_inverse, "INVERSE_MIN_N", n + 1)
        with Inv(to_package(a, package), execution="cuda") as plan:
            close(host(plan.execute()), x, dtype, 100)
            assert plan.route._triangular is None
    a[(0,) * len(batch) + (slice(None), 7)] = 0.0
    name = "a" if not batch else "a[0]"
    with pytest.raises(linalg.LinAlgError, match=re.escape(name) + " is singular"):
        linalg.inv(to_package(a, package), execution="cuda")


@pytest.mark.parametrize("package", PACKAGES)
def test_singular_lu_raises_and_det_is_zero(package):
    a = np.broadcast_to(4 * np.eye(5), (3, 5, 5)).copy()
    a[1, :, 2] = 0.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
        linalg.lu_factor(to_package(a, package), execution="cuda")
    with pytest.raises(linalg.LinAlgError, match=r"a\[1\] is singular"):
        linalg.inv(to_package(a, package), execution="cuda")
    assert host(linalg.det(to_package(a, package), execution="cuda")).tolist() == [1024.0, 0.0, 1024.0]


def test_stateless_calls_reuse_their_plan():
    torch = pytest.importorskip("torch")
    import gpmath

    a = torch.as_tensor(spd((4,), 8, "float64"), device="cuda")
    gpmath.cache_clear()
    first = linalg.cholesky(a)
    hits = gpmath.cache_info()["linalg"].hits
    assert torch.equal(linalg.cholesky(a.clone()), first)
    assert gpmath.cache_info()["linalg"].hits == hits + 1


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("n, batch, driver", [(16, (64,), None), (40, (3,), "syevBatched"), (24, (), "syevd")])
def test_eigh_reads_only_the_named_triangle(package, dtype, lower, n, batch, driver):
    a = hermitian(batch, n, dtype)
    noisy = (a + (np.triu if lower else np.tril)(np.full((n, n), 5.0), 1 if lower else -1)).astype(dtype)
    w, v = host(linalg.eigh(to_package(noisy, package), lower=lower, driver=driver, execution="cuda"))
    close((v * w[..., None, :]) @ ct(v), a, dtype, 100)
    close(host(linalg.eigvalsh(to_package(noisy, package), lower=lower, driver=driver, execution="cuda")),
          np.linalg.eigvalsh(a), dtype, 100)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_operands_copied_as_bytes_only_where_memory_holds_their_values(dtype):
    """Contiguous operands are copied as bytes; lazy torch views and strided arrays by a copy kernel."""
    torch = pytest.importorskip("torch")
    a, n = random((16, 12, 12), dtype, 5), 12
    h = hermitian((16,), n, dtype)
    t, th = torch.as_tensor(a, device="cuda"), torch.as_tensor(h, device="cuda")
    cases = {"plain": (t, a), "conj": (t.conj(), a.conj()), "neg": (torch._neg_view(t), -a),
             "transposed": (t.mT, np.swapaxes(a, -1, -2)), "every other": (t[::2], a[::2])}
    for name, (x, expected) in cases.items():
        close(host(linalg.svdvals(x, execution="cuda")), np.linalg.svd(expected, compute_uv=False), dtype, 100)
    w = host(linalg.eigvalsh(th.conj(), execution="cuda"))  # conj(h) is Hermitian with the same eigenvalues
    close(w, np.linalg.eigvalsh(h), dtype, 100)
    ca = pytest.importorskip("cupy").asarray(a)
    close(host(linalg.svdvals(ca[:, ::-1], execution="cuda")), np.linalg.svd(a[:, ::-1], compute_uv=False), dtype, 100)


@pytest.fixture
def jacobi_kernel_to_its_limit(monkeypatch):
    """Route every real eigh and square SVD the kernel can take (N <= 64) to it (the crossover
    rows send only part of them there)."""
    from gpmath.solver import _cuda_eigh, _cuda_jacobi, _cuda_svd

    kernel = ((1, _cuda_jacobi.MAX_N, "kernel"),)
    monkeypatch.setattr(_cuda_eigh, "EIGH", kernel + _cuda_eigh.EIGH)
    monkeypatch.setattr(_cuda_svd, "SVD_TABLE", kernel + _cuda_svd.SVD_TABLE)


def _jacobi_inputs(n, dtype, symmetric):
    """Random, rank-deficient, repeated-value, graded, zero and identity matrices, stacked."""
    rng = np.random.default_rng(n)
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    p = q if symmetric else np.linalg.qr(rng.standard_normal((n, n)))[0]
    spectra = [rng.standard_normal(n), np.r_[rng.standard_normal(n - n // 2), np.zeros(n // 2)],
               np.r_[np.ones(n // 2), -np.ones(n - n // 2)], np.logspace(-9, 0, n) * rng.choice([-1, 1], n)]
    made = [(q * d) @ p.T for d in spectra] + [np.zeros((n, n)), np.eye(n)]
    made.append(random((n, n), "float64", n) if not symmetric else hermitian((), n, "float64", n))
    return np.stack(made).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 31, 32, 33, 48, 64])
@pytest.mark.parametrize("package", ["cupy", "torch"])
def test_jacobi_kernel_matches_lapack(dtype, n, package, jacobi_kernel_to_its_limit):
    """gpmath's Jacobi kernel (the default for small real matrices): values against LAPACK, vectors
    orthonormal and reconstructing A, to a few epsilons of max|A| (Jacobi's accuracy)."""
    from gpmath.solver import SVD
    from gpmath.solver._cuda_jacobi import ROUTINE

    eps, one = np.finfo(dtype).eps, np.eye(n)
    bound = lambda x: 60 * n * eps * max(np.abs(x).max(), 1e-30)  # noqa: E731
    a = _jacobi_inputs(n, dtype, True)
    with Eigh(to_package(a, package), execution="cuda") as plan:
        assert plan.plan().routine == ROUTINE
        w, v = host(plan.execute(check=True))
    for x, wi, vi in zip(a.astype(np.float64), w, v):
        assert np.abs(wi - np.linalg.eigvalsh(x)).max() <= bound(x)
        assert np.abs(vi.T @ vi - one).max() <= 60 * n * eps
        assert np.abs((vi * wi) @ vi.T - x).max() <= bound(x)
    a = _jacobi_inputs(n, dtype, False)
    with SVD(to_package(a, package), execution="cuda") as plan:
        assert plan.plan().routine == ROUTINE
        u, s, vh = host(plan.execute(check=True))
    for x, ui, si, vhi in zip(a.astype(np.float64), u, s, vh):
        assert np.all(si[:-1] >= si[1:]) and np.all(si >= 0)
        assert np.abs(si - np.linalg.svd(x, compute_uv=False)).max() <= bound(x)
        assert max(np.abs(ui.T @ ui - one).max(), np.abs(vhi @ vhi.T - one).max()) <= 60 * n * eps
        assert np.abs((ui * si) @ vhi - x).max() <= bound(x)


@pytest.mark.parametrize("package", PACKAGES)
def test_jacobi_kernel_reads_operands_where_they_lie(package):
    """Broadcast, strided and transposed operands, the named triangle, values-only plans."""
    a = hermitian((6,), 12, "float64", 3)
    noisy = a + np.triu(np.full((12, 12), 9.0), 1)  # the lower triangle is a's
    x = to_package(noisy, package)
    wide = to_package(np.stack([noisy, 0 * noisy], axis=1), package)[:, 0]  # every other matrix of a batch
    for operand in (x, wide):
        w, v = host(linalg.eigh(operand, execution="cuda"))
        close((v * w[..., None, :]) @ ct(v), a, "float64", 100)
    close(host(linalg.eigvalsh(x[::2], execution="cuda")), np.linalg.eigvalsh(a[::2]), "float64", 100)
    g = random((5, 9, 9), "float64", 4)
    gt = to_package(np.swapaxes(g, -1, -2).copy(), package)
    transposed = gt.swapaxes(-1, -2) if package != "torch" else gt.mT  # g itself, column-major in memory
    close(host(linalg.svdvals(transposed, execution="cuda")), np.linalg.svd(g, compute_uv=False), "float64", 100)
    one = to_package(g[0], package)
    u, s, vh = host(linalg.svd(one, execution="cuda"))
    close((u * s) @ vh, g[0], "float64", 100)
    if package != "numpy":
        module = pytest.importorskip(package)
        b = module.broadcast_to(one, (4, 9, 9)) if package == "cupy" else one.expand(4, 9, 9)
        close(host(linalg.svdvals(b, execution="cuda")), np.linalg.svd(np.broadcast_to(g[0], (4, 9, 9)),
                                                                        compute_uv=False), "float64", 100)


@pytest.mark.parametrize("package", PACKAGES)
def test_jacobi_kernel_reports_non_finite_matrices(package):
    a = hermitian((4,), 8, "float64")
    a[2, 1, 5] = a[2, 5, 1] = np.nan
    with pytest.raises(linalg.LinAlgError, match=r"Jacobi kernel did not converge for a\[2\] \(info = 9\)"):
        linalg.eigh(to_package(a, package), execution="cuda", check_finite=False)  # the kernel's own report
    a[2, 1, 5] = a[2, 5, 1] = np.inf
    with pytest.raises(linalg.LinAlgError, match=r"a\[2\]"):
        linalg.svd(to_package(a, package), execution="cuda", check_finite=False)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("n, count", [(1, 1), (3, 1), (5, 2), (4, 3), (7, 5), (2, 8), (64, 9)])
def test_identities_are_written_on_the_device(dtype, n, count):
    """The solvers' device-side identity (inv's right-hand side): zeros, a pitched diagonal and
    doubling copies give exactly *count* identity matrices, and nothing past them."""
    from gpmath._core import memory, streams, transfer
    from gpmath.solver._device import LIBRARIES

    stream = streams.own_stream(0)
    item = np.dtype(dtype).itemsize
    buffer = memory.DeviceBuffer((count + 1) * n * n * item, stream, 0)
    ones = memory.DeviceBuffer(n * item, stream, 0)
    try:
        guard = np.full((count + 1, n, n), 7, dtype)
        transfer.to_device(buffer.ptr, guard.ctypes.data, guard.nbytes, stream)
        host_ones = np.ones(n, dtype)
        transfer.to_device(ones.ptr, host_ones.ctypes.data, host_ones.nbytes, stream)
        LIBRARIES.identity(buffer.ptr, n, count, item, ones.ptr, stream)
        back = np.empty_like(guard)
        transfer.to_host(back.ctypes.data, buffer.ptr, back.nbytes, stream)
    finally:
        buffer.release()
        ones.release()
    np.testing.assert_array_equal(back[:count], np.broadcast_to(np.eye(n, dtype=dtype), (count, n, n)))
    np.testing.assert_array_equal(back[count], guard[count])


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_one_numpy_matrixs_determinant_is_a_scalar_on_the_gpu_too(dtype):
    """As SciPy's and NumPy's (NumPy's own linalg tests check the type): a NumPy scalar for one
    matrix, arrays for a batch; the values SciPy's."""
    a = random((3, 4, 4), dtype)
    d, (sign, logabsdet) = linalg.det(a[0], execution="cuda"), linalg.slogdet(a[0], execution="cuda")
    assert type(d) is type(sl.det(a[0].astype(np.complex128 if "complex" in dtype else np.float64)))
    assert isinstance(sign, np.generic) and isinstance(logabsdet, np.generic)
    close(np.asarray(d), np.asarray(sl.det(a[0])), dtype, 100)
    batch = linalg.det(a, execution="cuda")
    assert type(batch) is np.ndarray and batch.shape == (3,)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("n", [5, 32, 40])  # the one-warp kernels (their own finiteness test), potrf/getrf
def test_check_finite_in_the_kernels_and_before_the_other_routes(package, dtype, n, monkeypatch):
    """SciPy's check_finite on the GPU: a NaN in the triangle Cholesky never reads, an inf in b, in
    one matrix of a batch, raise SciPy's ValueError naming the operand; the one-warp kernels report
    it in info with no reduction of their own (no probe before them), the other routes test first.
    check_finite=False leaves the unread triangle unread; finite operands give the same bits with
    the test and without."""
    from gpmath.solver import _cuda

    real, probes = _cuda.require_finite, []
    recorded = lambda check, **arrays: probes.append(sorted(arrays)) or real(check, **arrays)  # noqa: E731
    monkeypatch.setattr(_cuda, "require_finite", recorded)
    P, cuda = (lambda x: to_package(x, package)), {"execution": "cuda"}
    a, b = spd((4,), n, dtype), random((4, n, 3), dtype, 1)
    unread, bad_b = a.copy(), b.copy()
    unread[3, n - 1, 0] = np.nan
    bad_b[2, n - 1, 2] = np.inf
    with pytest.raises(ValueError, match="infs or NaNs: a holds"):
        linalg.cholesky(P(unread), **cuda)
    np.testing.assert_array_equal(host(linalg.cholesky(P(unread), check_finite=False, **cuda)),
                                  host(linalg.cholesky(P(a), **cuda)))
    for assume_a in ("gen", "pos"):
        with pytest.raises(ValueError, match="infs or NaNs: a holds"):
            linalg.solve(P(unread), P(bad_b), assume_a=assume_a, **cuda)
        with pytest.raises(ValueError, match="infs or NaNs: b holds"):
            linalg.solve(P(a), P(bad_b), assume_a=assume_a, **cuda)
        x = host(linalg.solve(P(a), P(b), assume_a=assume_a, **cuda))
        np.testing.assert_array_equal(x, host(linalg.solve(P(a), P(b), assume_a=assume_a, check_finite=False, **cuda)))
        close(x, np.linalg.solve(a, b), dtype, 100)
    for planner, operands, small in ((Cholesky, (P(a),), SmallKernelCholesky), (Solve, (P(a), P(b)), SmallKernelSolve)):
        with planner(*operands, check_finite=True, execution="cuda") as plan:
            kernel = isinstance(plan.plan().route, small)
            assert kernel is (n <= 32)
            probes.clear()
            plan.execute(check=True)
            assert bool(probes) is not kernel, probes  # a kernel's test is in its launch
    with Cholesky(P(unread), check_finite=True, execution="cuda") as plan:
        if n <= 32:
            plan.execute()  # reported in info, not read yet
            assert host(plan.info()).tolist() == [0, 0, 0, _cuda.NONFINITE]
            with pytest.raises(ValueError, match="a holds"):
                plan.execute(check=True)
        else:
            with pytest.raises(ValueError, match="a holds"):
                plan.execute()
