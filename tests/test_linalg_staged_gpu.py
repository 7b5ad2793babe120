"""NumPy operands large enough that the solver's staged copies are swapped on the GPU
(``kernels/swap.cu``) and a solve's ``‖A‖₁`` is taken there (``condition.cu``'s ``rcond_norms``),
against SciPy in float64, for every route that loads a swapped copy.

Marked ``gpu``: skipped without a GPU (tests/conftest.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg
from gpmath.solver import Solve, _workspace

from test_linalg import TOL, ct, general, hermitian, random, spd

pytestmark = pytest.mark.gpu
DTYPES = ["float32", "float64", "complex64", "complex128"]
CUDA = {"execution": "cuda"}


@pytest.fixture
def swaps(monkeypatch):
    """The shapes the GPU swapped (the test fails unless the kernel path is the one taken)."""
    seen = []
    real = _workspace.Workspace.swap

    def spy(self, src, dst, shape, dtype, conjugate, order=0):
        seen.append((tuple(shape), bool(conjugate)))
        return real(self, src, dst, shape, dtype, conjugate, order)

    monkeypatch.setattr(_workspace.Workspace, "swap", spy)
    return seen


def close(actual, expected, dtype, scale=100.0):
    actual, expected = np.asarray(actual, np.complex128), np.asarray(expected, np.complex128)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max(initial=0) <= TOL[dtype] * scale * max(1.0, np.abs(expected).max(initial=0))


def _size(dtype: str) -> int:
    """An order whose matrix is over DEVICE_SWAP_BYTES and not a multiple of the 32-wide tile."""
    return int((_workspace.DEVICE_SWAP_BYTES / np.dtype(dtype).itemsize) ** 0.5) + 37


def _unread_noise(a: np.ndarray, lower: bool) -> np.ndarray:
    """*a* with 5 added to the strict triangle that a *lower* (or upper) routine does not read."""
    n = a.shape[-1]
    return a + (np.triu if lower else np.tril)(np.full((n, n), 5.0, a.dtype), 1 if lower else -1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (2,)])
def test_solve_of_large_host_operands(swaps, dtype, batch):
    n = _size(dtype)
    a, b = general(batch, n, dtype, 1), random(batch + (n, 3), dtype, 2)
    x = linalg.solve(a, b, **CUDA)
    close(a @ x, b, dtype)
    assert ((*batch, n, n), False) in swaps
    xt = linalg.solve(np.asfortranarray(a[0] if batch else a), b[0] if batch else b, **CUDA)  # no swap needed
    close((a[0] if batch else a) @ xt, b[0] if batch else b, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
def test_positive_solve_reads_its_triangle(swaps, dtype, lower):
    n = _size(dtype)
    a = spd((), n, dtype, 3)
    noisy = _unread_noise(a, lower)
    b = random((n, 2), dtype, 4)
    x = linalg.solve(noisy, b, assume_a="pos", lower=lower, **CUDA)
    close(a @ x, b, dtype)
    c = linalg.cholesky(noisy, lower=lower, **CUDA)
    close(c @ ct(c) if lower else ct(c) @ c, a, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [False, True])
def test_eigh_of_large_host_operands(swaps, dtype, lower):
    n = _size(dtype)
    a = hermitian((), n, dtype, 5)
    noisy = _unread_noise(a, lower)
    w, v = linalg.eigh(noisy, lower=lower, **CUDA)
    close(w, sl.eigvalsh(a.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64)), dtype)
    close(a @ v, v * w[None, :], dtype, 1000)
    close(ct(v) @ v, np.eye(n), dtype, 1000)


@pytest.mark.parametrize("dtype", DTYPES)
def test_factorizations_of_large_host_operands(swaps, dtype):
    n = _size(dtype)
    a = general((), n, dtype, 6)
    lu, piv = linalg.lu_factor(a, **CUDA)
    expected_lu, expected_piv = sl.lu_factor(a.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64))
    np.testing.assert_array_equal(piv, expected_piv)
    close(lu, expected_lu, dtype)
    q, r = linalg.qr(a, **CUDA)
    close(q @ r, a, dtype)
    u, s, vh = linalg.svd(a, **CUDA)
    close((u * s) @ vh, a, dtype, 1000)
    close(linalg.inv(a, **CUDA) @ a, np.eye(n), dtype, 1000)
    tall = random((n + 50, n // 2), dtype, 7)
    y = random((n + 50,), dtype, 8)
    close(linalg.lstsq(tall, y, **CUDA)[0], np.linalg.lstsq(tall.astype(np.complex128), y, rcond=None)[0], dtype, 1000)
    assert len(swaps) >= 3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
def test_condition_of_large_host_operands(swaps, dtype, assume_a):
    """‖A‖₁ taken on the device: the estimate within a factor 10 of LAPACK's where LAPACK's is past
    the dtype's epsilon, below epsilon where LAPACK's is (a matrix singular to working precision:
    the rounding of its factors, which differs between the two, decides the estimate's digits),
    and SciPy's warning for such a matrix and none for a well-conditioned one."""
    from scipy.linalg import LinAlgWarning
    from test_linalg_condition import conditioned, lapack_rcond, scaled_positive

    n = _size(dtype)
    single = dtype in ("float32", "complex64")
    if assume_a == "pos":
        a = scaled_positive((2,), n, dtype, np.array([1.0, 6.0 if single else 12.0]))
    else:
        a = conditioned((2,), n, dtype, np.array([1e-1, 10**-7.5 if single else 1e-17]), seed=n)
    b = random((2, n, 1), dtype, 9)
    expected = lapack_rcond(a, assume_a == "pos")
    with Solve(a, b, assume_a=assume_a, condition=True, **CUDA) as plan:
        plan.execute(check=True)
        rcond = np.asarray(plan.rcond())
    eps = np.finfo(np.dtype(dtype)).eps
    determined = expected >= eps
    ratio = rcond / expected
    assert ((0.1 <= ratio[determined]) & (ratio[determined] <= 10)).all(), ratio
    assert (rcond[~determined] < eps).all(), (rcond, expected)
    if expected[1] < eps / 10:
        with pytest.warns(LinAlgWarning, match="slice 1 has rcond"):
            linalg.solve(a, b, assume_a=assume_a, **CUDA)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        linalg.solve(a[0], b[0], assume_a=assume_a, **CUDA)


@pytest.mark.parametrize("dtype", DTYPES)
def test_eig_and_triangular_solves_of_large_host_operands(swaps, dtype):
    from test_linalg import assert_eig

    n = _size(dtype)
    a = random((n, n), dtype, 10)
    w, v = linalg.eig(a, **CUDA)
    assert_eig(a, w, v, dtype, 1000)
    assert ((n, n), False) in swaps
    t = np.triu(general((), n, dtype, 11))
    b = random((n, n), dtype, 12)  # a right-hand side over the swap's threshold too
    for trans in (0, 1, 2):
        x = linalg.solve_triangular(t, b, trans=trans, **CUDA)
        op = {0: t, 1: t.T, 2: ct(t)}[trans]
        close(op @ x, b, dtype, 1000)
    assert len(swaps) >= 2


def _offset(a: np.ndarray) -> np.ndarray:
    """*a*'s values in a C-contiguous view that starts 3 elements into a larger buffer."""
    flat = np.empty(a.size + 3, a.dtype)
    view = flat[3:].reshape(a.shape)
    view[...] = a
    return view


@pytest.mark.parametrize("layout", ["big-endian", "negative strides", "read-only", "Fortran", "offset view"])
def test_large_host_operands_of_every_layout(layout):
    """Layouts the swap kernel does not take (they go through NumPy's copy) and those it does
    (read-only, a view at an offset into a larger buffer): the same answers as SciPy."""
    n = _size("float64")
    base = general((), n + 2, "float64", 13)
    a = {"big-endian": general((), n, "float64", 13).astype(">f8"),
         "negative strides": base[::-1, ::-1][:n, :n],
         "read-only": general((), n, "float64", 13),
         "Fortran": np.asfortranarray(general((), n, "float64", 13)),
         "offset view": _offset(general((), n, "float64", 13))}[layout]
    if layout == "read-only":
        a.setflags(write=False)
    b = random((n, 2), "float64", 14)
    reference = np.asarray(a, dtype=np.float64)
    close(reference @ linalg.solve(a, b, **CUDA), b, "float64")
    h = (reference + reference.T) / 2
    w = linalg.eigvalsh(h.astype(a.dtype) if layout == "big-endian" else h, **CUDA)
    close(w, sl.eigvalsh(h), "float64")
