"""SciPy's LinAlgWarning for ill-conditioned systems, against SciPy and LAPACK.

gpmath's ``solve`` and ``inv`` must warn exactly where SciPy's do (on SciPy's own test matrices
and on matrices whose singular values we choose far from the threshold), name the same slices,
and estimate a reciprocal condition number within a factor 10 of LAPACK's ``?gecon``/``?pocon``
(or of the exact one).  NumPy and torch CPU here; CuPy and torch CUDA in the ``gpu`` variants,
where the stateless functions never warn (device arrays are not estimated; ``Solve(condition=True)``
estimates on request); the CUDA engines on the CPU in ``test_linalg_emulated.py``.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.linalg import LinAlgWarning, lapack

from gpmath import linalg
from gpmath.solver import Solve

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy

DTYPES = ["float32", "float64", "complex64", "complex128"]
STRUCTURES = ["diagonal", "tridiagonal", "lower triangular", "upper triangular", "symmetric", "hermitian",
              "positive definite", "general", "banded", None]
_SLICES = re.compile(r"slice (\d+) has rcond = ([^,]+?)(?:,|\.$)")


def conditioned(batch: tuple, n: int, dtype: str, smallest, seed: int = 0, positive: bool = False,
                symmetric: bool = False) -> np.ndarray:
    """Matrices ``U diag(s) Vᴴ`` (``U diag(s) Uᴴ`` if *positive*, ``U diag(s) Uᵀ`` if *symmetric*)
    whose singular values run from 1 down to *smallest* (one value per matrix, broadcast to *batch*)."""
    rng = np.random.default_rng(seed)
    complex_ = np.dtype(dtype).kind == "c"
    smallest = np.broadcast_to(np.asarray(smallest, dtype=float), batch)

    def unitary():
        x = rng.standard_normal(batch + (n, n)) + (1j * rng.standard_normal(batch + (n, n)) if complex_ else 0)
        return np.linalg.qr(x)[0]

    s = np.exp(np.linspace(0, 1, n) * np.log(smallest)[..., None])
    u = unitary()
    v = u if positive else np.conj(u) if symmetric else unitary()
    a = (u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return ((a + np.conj(np.swapaxes(a, -1, -2))) / 2 if positive else a).astype(dtype)


def scaled_positive(batch: tuple, n: int, dtype: str, spread, seed: int = 0) -> np.ndarray:
    """Positive-definite matrices ``D S D``, S well conditioned, ``D = diag(logspace(0, -spread))``:
    condition ~10^(2 spread), and Cholesky succeeds however large it is."""
    s = conditioned(batch, n, dtype, 0.5, seed, positive=True) + np.eye(n)
    d = np.exp(np.linspace(0, 1, n) * np.log(10.0) * -np.broadcast_to(np.asarray(spread, float), batch)[..., None])
    return (d[..., :, None] * s * d[..., None, :]).astype(dtype)


def lapack_rcond(a: np.ndarray, positive: bool = False) -> np.ndarray:
    """LAPACK's ``?gecon`` (``?pocon`` if *positive*) estimate for each matrix of *a*."""
    out = np.empty(a.shape[:-2])
    for index in np.ndindex(*a.shape[:-2]):
        m = a[index]
        norm = np.abs(m).sum(0).max()
        if positive:
            c = lapack.get_lapack_funcs("potrf", (m,))(m, lower=False)[0]
            out[index] = lapack.get_lapack_funcs("pocon", (m,))(c, norm)[0]
        else:
            lu = lapack.get_lapack_funcs("getrf", (m,))(m)[0]
            out[index] = lapack.get_lapack_funcs("gecon", (m,))(lu, norm)[0]
    return out


def scipy_warned(a: np.ndarray, b: np.ndarray, assume_a) -> dict[int, float]:
    """The slices SciPy warns of, solving matrix by matrix (SciPy's own message numbers the
    ill-conditioned slices 0, 1, ... in its list of problems, not by their index in the batch)."""
    found = {}
    for index in np.ndindex(*a.shape[:-2]):
        found.update({np.ravel_multi_index(index, a.shape[:-2]): r
                      for r in warned(lambda: sl.solve(a[index], b[index], assume_a=assume_a)).values()})
    return found


def warned(call) -> dict[int, float]:
    """The slices (and rcond) a LinAlgWarning of *call* names ({} without one; one warning at most)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    found = [w for w in caught if issubclass(w.category, LinAlgWarning)]
    assert len(found) <= 1, [str(w.message) for w in found]
    return {int(i): float(r) for i, r in _SLICES.findall(str(found[0].message))} if found else {}


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("structure", STRUCTURES)
def test_scipy_ill_condition_warning(package, device, structure):
    """SciPy's test_ill_condition_warning: diag(logspace(0, 50)) warns by every structure (host
    arrays; device arrays never warn)."""
    a = np.diag(np.logspace(0, 50, 10))
    b = np.random.default_rng(234859349452).random(10)
    found = warned(lambda: linalg.solve(in_package(a, package, device), in_package(b, package, device),
                                        assume_a=structure))
    assert set(found) == (set() if device == "cuda" else {0})


def _structured_cases(put) -> list:
    """SciPy's test_diagonal, test_tridiagonal, test_banded and TestInv's ill-conditioned matrices:
    ``(call, {slice: rcond or None})``, the slices SciPy warns of (rcond None: not compared)."""
    n = 4
    t = -2 * np.eye(n) + np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)
    tridiagonal = np.stack([np.triu(np.ones((n, n))), t])
    singular_corner = tridiagonal.copy()
    singular_corner[1, 0, 0] = 1e20
    banded = np.triu(np.tril(np.random.default_rng(982345982439826).random((20, 20)), k=5), k=-7)
    banded[0, 0] = 1e40
    stack = np.stack([np.diag([1.0, 1e-20]), np.eye(2), np.diag([1.0, 1e-20])])
    cases = [
        (lambda: linalg.solve(put([[1e30, 0], [0, 1]]), put(np.ones(2)), assume_a="diagonal"), {0: 1e-30}),
        (lambda: linalg.solve(put(tridiagonal), put(np.ones(n)), assume_a="tridiagonal"), {}),
        (lambda: linalg.solve(put(singular_corner), put(np.ones(n)), assume_a="tridiagonal"), {1: None}),
        (lambda: linalg.solve(put(banded), put(np.ones(20)), assume_a="banded"), {0: None}),
        (lambda: linalg.inv(put(np.diag([1.0, 1e-20]))), {0: None}),
        (lambda: linalg.inv(put([[1e30, 0], [0, 1]]), assume_a="diagonal"), {0: 1e-30}),
    ]
    for assume_a in (None, "pos", "sym", "diagonal", "upper triangular", "lower triangular"):
        cases.append((lambda assume_a=assume_a: linalg.inv(put(stack), assume_a=assume_a), {0: None, 2: None}))
    return cases


@pytest.mark.parametrize("package, device", HOST + DEVICE)
def test_scipy_structured_cases(package, device):
    """SciPy's own ill-conditioned cases warn for the same slices (and, where SciPy's test gives
    it, the same rcond) on host arrays; device arrays never warn."""
    for call, expected in _structured_cases(lambda x: in_package(np.asarray(x, dtype=float), package, device)):
        found = warned(call)
        if device == "cuda":
            assert found == {}
            continue
        assert set(found) == set(expected), expected
        for i, rcond in expected.items():
            assert rcond is None or found[i] == pytest.approx(rcond)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a", ["gen", "sym", "pos", "upper triangular", "lower triangular"])
def test_warns_where_scipy_warns(package, device, dtype, assume_a):
    """A batch of two well-conditioned and two ill-conditioned matrices: the same slices as SciPy,
    and rcond within a factor 10 of SciPy's."""
    single = np.dtype(dtype).itemsize == 4 or dtype == "complex64"
    # ill: at 1/eps (SciPy warns), not beyond, where LAPACK's estimate is rounding noise (at 1e-20 it moved 3.6x
    # between NumPy 2.4 and 2.5's constructions of the matrix, and gpmath's and SciPy's LU differ by 8x at 1e-17)
    well, ill = (1e-2, 1e-8) if single else (1e-4, 1e-16)
    if assume_a == "pos":
        a = scaled_positive((4,), 6, dtype, [1, 6 if single else 12, 0.5, 6 if single else 12])
    elif assume_a.endswith("triangular"):
        a = (np.tril if assume_a.startswith("lower") else np.triu)(conditioned((4,), 6, dtype, 0.5, seed=1)) + np.eye(6)
        a[1::2] *= np.logspace(0, -12 if single else -25, 6)  # columns scaled: ill-conditioned
        a = a.astype(dtype)
    else:
        a = conditioned((4,), 6, dtype, [well, ill, well, ill], seed=1, symmetric=assume_a == "sym")
    b = np.random.default_rng(2).standard_normal((4, 6, 2)).astype(dtype)
    expected = scipy_warned(a, b, assume_a)
    got = warned(lambda: linalg.solve(in_package(a, package, device), in_package(b, package, device),
                                      assume_a=assume_a))
    assert set(expected) == {1, 3}
    if device == "cuda":
        assert got == {}
        return
    assert set(got) == set(expected)
    for i in got:
        assert 0.1 <= got[i] / expected[i] <= 10, (got, expected)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
def test_plan_rcond_against_lapack(package, device, dtype, assume_a):
    """Solve(condition=True).rcond(): per matrix of the broadcast batch, in the operands' package,
    within a factor 10 of LAPACK's estimate; None without condition=True; no warning from a plan."""
    if assume_a == "pos":
        a = scaled_positive((3,), 12, dtype, [0.5, 3, 6])
    else:
        a = conditioned((3,), 12, dtype, [1e-1, 1e-4, 1e-6], seed=3)
    b = np.random.default_rng(4).standard_normal((2, 3, 12, 1)).astype(dtype)  # a broadcast along b
    expected = lapack_rcond(a, assume_a == "pos")  # in the dtype, as SciPy computes
    a, b = in_package(a, package, device), in_package(b, package, device)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        with Solve(a, b, assume_a=assume_a, condition=True) as plan:
            plan.execute(check=True)
            rcond = plan.rcond()
    assert type(rcond).__module__.split(".")[0] == package
    rcond = to_numpy(rcond)
    assert rcond.shape == (2, 3) and rcond.dtype == np.finfo(np.dtype(dtype)).dtype
    ratio = rcond / expected
    assert ((0.1 <= ratio) & (ratio <= 10)).all(), ratio
    assert Solve(a, b).rcond() is None


def test_one_matrix_rcond_is_a_float_and_mixed_has_none():
    a = np.array([[4.0, 1.0], [2.0, 3.0]])
    with Solve(a, np.ones(2), condition=True) as plan:
        plan.execute()
        assert isinstance(plan.rcond(), float)
        assert plan.rcond() == pytest.approx(lapack_rcond(a[None])[0])
    with Solve(a, np.ones(2), refine="mixed", condition=True) as plan:
        plan.execute()
        assert plan.rcond() is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_well_conditioned_never_warn(dtype):
    """Random well-conditioned matrices of every route and size: no warning."""
    for n in (1, 2, 7, 33, 70):
        a = (np.random.default_rng(n).standard_normal((2, n, n)) + n * np.eye(n)).astype(dtype)
        b = np.ones((2, n), dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for assume_a in (None, "sym", "her", "diagonal", "upper triangular", "lower triangular"):
                linalg.solve(a, b[..., None], assume_a=assume_a)
            linalg.solve(scaled_positive((2,), n, dtype, 0.5), b[..., None], assume_a="pos")
            linalg.inv(a)


def test_warning_points_at_the_caller():
    with pytest.warns(LinAlgWarning) as caught:
        linalg.solve(np.diag([1.0, 1e-20]), np.ones(2))
    assert caught[0].filename == __file__
    with pytest.warns(LinAlgWarning) as caught:
        linalg.inv(np.diag([1.0, 1e-20]))
    assert caught[0].filename == __file__


def test_singular_still_raises_and_empty_is_silent():
    with pytest.raises(linalg.LinAlgError):
        linalg.solve(np.zeros((3, 3)), np.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert linalg.solve(np.zeros((0, 0)), np.zeros(0)).shape == (0,)
        assert linalg.solve(np.zeros((2, 0, 0)), np.zeros((2, 0, 1)), assume_a="upper triangular").shape == (2, 0, 1)
        assert linalg.inv(np.zeros((0, 0))).shape == (0, 0)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [((), 40), ((3,), 300)])
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
def test_staged_rcond_on_the_gpu(dtype, batch, n, assume_a, monkeypatch):
    """NumPy operands solved on the GPU: gpmath's kernels (condition.cu) take the estimate's steps
    on the device; within a factor 10 of LAPACK's, and the same estimates as the host-side steps
    (NVRTC taken away) up to rounding."""
    from gpmath.solver import _device

    count = int(np.prod(batch))
    if assume_a == "pos":
        a = scaled_positive(batch, n, dtype, np.linspace(0.5, 5, count).reshape(batch))
    else:
        a = conditioned(batch, n, dtype, np.logspace(-1, -5, count).reshape(batch), seed=n)
    b = np.random.default_rng(5).standard_normal(batch + (n, 2)).astype(dtype)
    found = []
    for compiler in (True, False):
        monkeypatch.setattr(_device.LIBRARIES, "compiler_available", lambda: compiler)
        with Solve(a, b, assume_a=assume_a, condition=True, execution="cuda") as plan:
            plan.execute(check=True)
            found.append(np.asarray(plan.rcond()))
    ratio = found[0] / lapack_rcond(a, assume_a == "pos")
    assert ((0.1 <= ratio) & (ratio <= 10)).all(), ratio
    np.testing.assert_allclose(found[0], found[1], rtol=2e-5 if dtype in ("float32", "complex64") else 1e-12)
