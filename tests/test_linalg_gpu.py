"""gpmath.linalg on the GPU against scipy.linalg in float64, for NumPy, CuPy and PyTorch inputs.

Marked ``gpu``: skipped without a GPU (tests/conftest.py).  Inputs are built with NumPy and
converted, so one oracle body serves every package.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg
from gpmath.solver import Cholesky, Eigh, Solve

from test_linalg import TOL, ct, general, hermitian, random, spd

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
def test_cholesky(package, dtype, batch, lower):
    a = spd(batch, 24, dtype)
    c = host(linalg.cholesky(to_package(a, package), lower, execution="cuda"))
    close(c @ ct(c) if lower else ct(c) @ c, a, dtype)
    close(c, (np.tril if lower else np.triu)(c), dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
@pytest.mark.parametrize("batch, nrhs", [((), 1), ((4,), 3), ((300,), 1), ((300,), 2)])
def test_solve(package, dtype, assume_a, batch, nrhs):
    a = spd(batch, 20, dtype) if assume_a == "pos" else general(batch, 20, dtype)
    b = random(batch + (20, nrhs), dtype, 1)
    x = host(linalg.solve(to_package(a, package), to_package(b, package), assume_a=assume_a, execution="cuda"))
    close(a @ x, b, dtype, 100)


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


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("driver", [None, "syevd", "syevj"])
@pytest.mark.parametrize("n, batch", [(8, ()), (33, (16,)), (100, (3,))])
def test_eigh(package, dtype, driver, n, batch):
    a = hermitian(batch, n, dtype)
    w, v = host(linalg.eigh(to_package(a, package), driver=driver, execution="cuda"))
    close((v * w[..., None, :]) @ ct(v), a, dtype, 100)
    first = (0,) * len(batch)
    close(w[first], sl.eigvalsh(a[first].astype(np.complex128)), dtype, 100)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("driver", [None, "gesvd", "gesvdj"])
@pytest.mark.parametrize("shape, batch", [((12, 7), (5,)), ((7, 12), (5,)), ((40, 33), (2,)), ((30, 50), ())])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd(package, dtype, driver, shape, batch, full_matrices):
    a = random(batch + shape, dtype)
    u, s, vh = host(linalg.svd(to_package(a, package), full_matrices, driver=driver, execution="cuda"))
    k = min(shape)
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, dtype, 100)
    close(s, np.linalg.svd(a, compute_uv=False), dtype, 100)


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
