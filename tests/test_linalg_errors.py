"""Numerical failures, bad arguments and the planner contract of gpmath.linalg / gpmath.solver (CPU)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import pytest

import gpmath
from gpmath import linalg
from gpmath.solver import LU, Cholesky, Eigh, Solve

from test_linalg_convert import DEVICE, HOST, in_package

CPU = {"execution": "cpu"}


def batch_with_bad_matrix(bad: np.ndarray, batch=(2, 3), index=(1, 2)) -> np.ndarray:
    n = bad.shape[-1]
    a = np.broadcast_to(4 * np.eye(n), batch + (n, n)).copy()
    a[index] = bad
    return a


def not_positive_definite(n=4, minor=3):
    """Identity except a negative diagonal entry at row minor-1: leading minor of order *minor* fails."""
    a = np.eye(n)
    a[minor - 1, minor - 1] = -1.0
    return a


def singular(n=4, zero_row=2):
    a = np.triu(np.ones((n, n))) + np.eye(n)
    a[zero_row:, zero_row] = 0.0  # column zero from the pivot down: U[zero_row, zero_row] = 0
    return a


def test_linalgerror_is_numpys():
    assert issubclass(linalg.LinAlgError, np.linalg.LinAlgError)
    assert linalg.LinAlgError is gpmath.LinAlgError


@pytest.mark.parametrize("func", [
    lambda a: linalg.cholesky(a, **CPU),
    lambda a: linalg.cho_factor(a, lower=True, **CPU),
    lambda a: linalg.solve(a, np.ones(4), assume_a="pos", **CPU),
])
def test_not_positive_definite_names_matrix_and_minor(func):
    a = batch_with_bad_matrix(not_positive_definite(4, 3))
    with pytest.raises(linalg.LinAlgError, match=r"a\[1, 2\] is not positive definite.*minor of order 3"):
        func(a)


def test_not_positive_definite_single_matrix():
    with pytest.raises(np.linalg.LinAlgError, match=r"^a is not positive definite.*order 2"):
        linalg.cholesky(not_positive_definite(3, 2), **CPU)


@pytest.mark.parametrize("func", [
    lambda a: linalg.solve(a, np.ones(4), **CPU),
    lambda a: linalg.lu_factor(a, **CPU),
    lambda a: linalg.inv(a, **CPU),
])
def test_singular_names_matrix_and_pivot(func):
    a = batch_with_bad_matrix(singular(4, 2))  # (inv, as SciPy's, inverts a triangular matrix as such)
    with pytest.raises(linalg.LinAlgError, match=r"a\[1, 2\] is singular: (pivot U|its diagonal entry )\[2, 2\]"):
        func(a)


def test_zero_diagonal_names_matrix_and_entry():
    a = np.triu(np.random.default_rng(3).uniform(1, 2, (2, 3, 4, 4)))
    a[1, 2, 3, 3] = 0.0
    with pytest.raises(linalg.LinAlgError, match=r"a\[1, 2\] is singular: its diagonal entry \[3, 3\] is exactly zero"):
        linalg.solve_triangular(a, np.ones(4), **CPU)
    x = linalg.solve_triangular(a, np.ones(4), unit_diagonal=True, **CPU)  # the diagonal is not read
    assert np.isfinite(x).all()


def test_mixed_solve_of_singular_raises():
    with pytest.raises(linalg.LinAlgError, match="singular"):
        linalg.solve(singular(4, 1), np.ones(4), refine="mixed", **CPU)


def test_lstsq_errors_carry_scipy_1_18s_words():
    """SciPy 1.18's TestLstsq.test_errors: the driver is checked first, then the shapes."""
    with pytest.raises(ValueError, match='LAPACK driver "krampus" is not found'):
        linalg.lstsq(np.ones((3, 4)), np.ones(4), lapack_driver="krampus", **CPU)
    with pytest.raises(ValueError, match="Shape mismatch"):
        linalg.lstsq(np.ones((3, 4)), np.ones(4), **CPU)
    with pytest.raises(ValueError, match="Input array"):
        linalg.lstsq(np.ones(3), np.ones(3), **CPU)


@pytest.mark.parametrize("func, shape, message", [
    (linalg.cholesky, (3, 4), "square"),
    (linalg.eigh, (4,), "Expected a square matrix or batch thereof for a"),
    (linalg.inv, (2, 3, 4), "square"),
    (linalg.svd, (5,), "at least 2 dimensions"),
])
def test_bad_shapes(func, shape, message):
    with pytest.raises(ValueError, match=message):
        func(np.ones(shape), **CPU)


def test_bad_rhs_shapes():
    a = np.eye(3)
    with pytest.raises(ValueError, match="^Shape mismatch: .* must have N = 3 rows"):  # SciPy 1.18's words
        linalg.solve(a, np.ones(4), **CPU)
    with pytest.raises(ValueError, match="do not broadcast"):
        linalg.solve(np.stack([a, a]), np.ones((3, 3, 1)), **CPU)
    with pytest.raises(ValueError, match="scalar"):
        linalg.solve(a, np.float64(1.0), **CPU)
    with pytest.raises(ValueError, match="piv must have shape"):
        linalg.lu_solve((a, np.zeros(2, dtype=np.int32)), np.ones(3), **CPU)


@pytest.mark.parametrize("dtype", ["float16", "int64", "bool"])
def test_integer_and_half_dtypes_compute_as_scipy_computes(dtype):
    a = np.diag([4, 9, 16]).astype(dtype)
    got, want = linalg.cholesky(a, **CPU), scipy.linalg.cholesky(a)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want)


def test_mixed_dtypes_promote_as_numpy_result_type():
    x = linalg.solve(np.eye(3), np.ones(3, dtype=np.float32), **CPU)
    assert x.dtype == np.float64
    x = linalg.solve(np.eye(3, dtype=np.float32), np.ones(3, dtype=np.complex64), **CPU)
    assert x.dtype == np.complex64
    assert linalg.solve([[2, 0], [0, 4]], [2, 4], **CPU).dtype == np.float64  # SciPy's solve: integers in float64


@pytest.mark.parametrize("call, message", [
    (lambda: linalg.qr(np.eye(2), mode="bad", **CPU), "mode"),
    (lambda: linalg.eigh(np.eye(2), driver="bad", **CPU), "driver"),
    (lambda: linalg.svd(np.eye(2), driver="gesdd", **CPU), "driver"),
    (lambda: linalg.solve(np.eye(2), np.ones(2), assume_a="diag", **CPU), "recognized matrix structure"),
    (lambda: linalg.svd(np.eye(2), lapack_driver="gesvj", **CPU), "lapack_driver"),
    (lambda: linalg.solve(np.eye(2), np.ones(2), refine="mixed", precision="f8", **CPU), "precision"),
    (lambda: linalg.solve(np.eye(2), np.ones(2), refine="mixed", assume_a="pos", **CPU), "general"),
    (lambda: linalg.lu_solve(linalg.lu_factor(np.eye(2), **CPU), np.ones(2), trans=3, **CPU), "trans"),
    (lambda: linalg.solve_triangular(np.eye(2), np.ones(2), trans="H", **CPU), "trans must be one of"),
    (lambda: linalg.pinv(np.eye(2), atol=-1.0, **CPU), "atol must be a non-negative number"),
    (lambda: linalg.pinv(np.eye(2), rtol=float("nan"), **CPU), "rtol must be a non-negative number"),
    (lambda: linalg.solve_triangular(np.eye(2), np.ones(2), trans=True, **CPU), "trans must be one of"),
    (lambda: linalg.cholesky(np.eye(2), execution="tpu"), "execution"),
])
def test_bad_options(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_eig_refuses_what_scipy_refuses():
    with pytest.raises(ValueError, match="square"):
        linalg.eigvals(np.ones((2, 3)), **CPU)
    with pytest.raises(ValueError, match="square"):
        linalg.eig(np.ones((2, 3)), np.eye(2), **CPU)
    with pytest.raises(ValueError, match="b must have a's matrix shape"):
        linalg.eig(np.eye(2), np.eye(3), **CPU)


def test_svd_of_nan_past_check_finite_raises_value_error_as_scipy():
    a = np.eye(3)
    a[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scipy.linalg.svd(a, check_finite=False)
    with pytest.raises(ValueError, match="NaN"):
        linalg.svd(a, check_finite=False, **CPU)


def test_transposed_complex_is_not_implemented():
    with pytest.raises(NotImplementedError):
        linalg.solve(np.eye(2, dtype=complex), np.ones(2, dtype=complex), transposed=True, **CPU)


def test_array_likes_are_read_as_numpy_reads_them():
    np.testing.assert_allclose(linalg.cholesky([[4.0, 2.0], [2.0, 3.0]], **CPU),
                               scipy.linalg.cholesky([[4.0, 2.0], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="a is not a regular array"):
        linalg.cholesky([[1.0, 0.0], [0.0]], **CPU)
    with pytest.raises(TypeError, match="a must hold numbers"):
        linalg.cholesky([[object()]], **CPU)


# -- the planner contract ------------------------------------------------------------------------
def test_plan_execute_reset_free():
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    plan = Cholesky(a, lower=True, **CPU)
    assert "Cpu" in type(plan).__name__ and isinstance(plan, Cholesky)
    assert plan.plan() is plan
    np.testing.assert_allclose(plan.execute(), np.linalg.cholesky(a))
    plan.reset_operands(2 * a)
    np.testing.assert_allclose(plan.execute(check=True), np.linalg.cholesky(2 * a))
    assert plan.info() == 0 and isinstance(plan.info(), int)  # one matrix: a Python int
    with pytest.raises(ValueError, match="shape"):
        plan.reset_operands(np.eye(3))
    plan.free()
    plan.free()  # idempotent
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()


def test_context_manager_and_released_operands():
    a, b = np.eye(3) * 2, np.ones((4, 3, 1))
    with Solve(a, b, **CPU) as plan:
        x = plan.execute()
        plan.release_operands()
        with pytest.raises(ValueError, match="reset_operands"):
            plan.execute()
        plan.reset_operands(a, 2 * b)
        np.testing.assert_allclose(plan.execute(), x * 2)
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()


def test_results_belong_to_the_caller():
    a = np.array([[2.0, 1.0], [1.0, 2.0]])
    plan = Eigh(a, **CPU)
    w1, _ = plan.execute()
    w2, _ = plan.execute()
    assert w1 is not w2 and not np.shares_memory(w1, w2)


def test_plan_batch_info_and_repr():
    plan = LU(np.broadcast_to(np.eye(3), (5, 3, 3)), **CPU)
    lu, piv = plan.execute()
    assert plan.info().shape == (5,) and not plan.info().any()
    assert "LU" in repr(plan) and "float64[5, 3, 3]" in repr(plan)


def _huge(shape, dtype=np.float64):
    """A read-only view of *shape* over one element: sizes past 32 bits without the memory."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=dtype), shape=shape, strides=(0,) * len(shape))


@pytest.mark.parametrize("shape", [(4799, 53130), (53130, 4799)])
def test_svd_too_large_for_32_bit_lapack_is_refused_at_once_as_in_scipy(shape):
    import scipy.linalg

    a = _huge(shape)
    with pytest.raises(ValueError) as theirs:
        scipy.linalg.svd(a, check_finite=False)
    with pytest.raises(ValueError, match="32-bit LAPACK"):
        linalg.svd(a, check_finite=False, **CPU)
    assert type(theirs.value) is ValueError


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4799, 53130), (1000, 1000), (1000, 2000), (3000, 1000)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_gesdd_work_size_is_lapacks(dtype, shape, full_matrices):
    from scipy.linalg import lapack

    from gpmath.solver._cpu_svd import _gesdd_work

    query = lapack.get_lapack_funcs("gesdd_lwork", (np.zeros(1, dtype),))
    expected, info = query(*shape, compute_uv=1, full_matrices=int(full_matrices))
    assert info == 0
    assert _gesdd_work(*shape, "A" if full_matrices else "S", False) == pytest.approx(expected.real, rel=1e-3)


@pytest.mark.parametrize("call", [lambda a: linalg.svd(a, full_matrices=False, check_finite=False, **CPU),
                                  lambda a: linalg.pinv(a, check_finite=False, **CPU)])
def test_svd_whose_work_array_overflows_32_bits_is_refused(call):  # (CPU lstsq of this size is SciPy's gelsd)
    with pytest.raises(ValueError, match="Too large work array"):
        call(_huge((30000, 30000)))


@pytest.mark.parametrize(
    "problem, argument",
    [
        (dict(batch_shape=(2**31,), m=4, n=4), "batch count"),
        (dict(batch_shape=(2**16, 2**15), m=4, n=4), "batch count"),
        (dict(batch_shape=(), m=2**31, n=4), "m \\(rows"),
        (dict(batch_shape=(), m=4, n=2**31), "n \\(columns"),
        (dict(batch_shape=(), m=4, n=4, nrhs=2**31), "nrhs"),
    ],
)
def test_index_range_names_the_int32_argument(problem, argument):
    from gpmath._core.dtypes import DTYPES
    from gpmath.solver._problem import Problem, Rhs, check_index_range

    nrhs = problem.pop("nrhs", None)
    rhs = None if nrhs is None else Rhs(problem["batch_shape"], problem["m"], nrhs, False)
    huge = Problem(**problem, dtype=DTYPES["float64"], rhs=rhs)
    with pytest.raises(ValueError, match=f"CudaSolve: {argument}.*int32"):
        check_index_range(huge, "CudaSolve")
    fitting = Problem((2**31 - 1,), 4, 4, DTYPES["float64"], Rhs((2**31 - 1,), 4, 1, False))
    check_index_range(fitting, "CudaSolve")


def test_index_range_of_one_trsm_over_the_batch():
    from gpmath._core.dtypes import DTYPES
    from gpmath.solver._problem import Problem, Rhs, check_index_range

    problem = Problem((2**16,), 4, 4, DTYPES["float64"], Rhs((2**16,), 4, 2**15, False))
    check_index_range(problem, "CudaSolve")  # batched routines: the columns stay per matrix
    with pytest.raises(ValueError, match="batch count \\* nrhs"):
        check_index_range(problem, "CudaSolveTriangular")


def _finite_calls(a, b):
    """``name -> (gpmath call, scipy.linalg call)`` of every linalg function on *a* (and *b*)."""
    import scipy.linalg as sl

    lu_piv = (a, np.arange(3, dtype=np.int32))
    pairs = {
        "solve": lambda m, **k: m.solve(a, b, **k), "solve_triangular": lambda m, **k: m.solve_triangular(a, b, **k),
        "cho_solve": lambda m, **k: m.cho_solve((a, False), b, **k), "lu_solve": lambda m, **k: m.lu_solve(lu_piv, b, **k),
        "lstsq": lambda m, **k: m.lstsq(a, b, **k), "pinv": lambda m, **k: m.pinv(a, **k), "inv": lambda m, **k: m.inv(a, **k),
        "det": lambda m, **k: m.det(a, **k), "cholesky": lambda m, **k: m.cholesky(a, **k),
        "cho_factor": lambda m, **k: m.cho_factor(a, **k), "lu_factor": lambda m, **k: m.lu_factor(a, **k),
        "qr": lambda m, **k: m.qr(a, **k), "eig": lambda m, **k: m.eig(a, **k), "eigvals": lambda m, **k: m.eigvals(a, **k),
        "eigh": lambda m, **k: m.eigh(a, **k), "eigvalsh": lambda m, **k: m.eigvalsh(a, **k),
        "svd": lambda m, **k: m.svd(a, **k), "svdvals": lambda m, **k: m.svdvals(a, **k),
    }
    return {name: (lambda f=f, **k: f(linalg, execution="cpu", **k), lambda f=f, **k: f(sl, **k)) for name, f in pairs.items()}


FINITE_NAMES = sorted(_finite_calls(None, None))


@pytest.mark.parametrize("name", FINITE_NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, complex(0, np.nan)])
@pytest.mark.parametrize("where", ["a", "b"])
def test_non_finite_operands_raise_as_in_scipy(name, bad, where):
    a = np.eye(3) * 4 + 1
    b = np.ones(3)
    (a if where == "a" else b)[1] = bad.real if not np.iscomplex(bad) else np.nan
    ours, theirs = _finite_calls(a, b)[name]
    argument = {"cho_solve": "c"}.get(name, "a") if where == "a" else "b"
    try:
        theirs()
    except ValueError as error:
        assert "infs or NaNs" in str(error)
        with pytest.raises(ValueError, match=f"array must not contain infs or NaNs: {argument}"):
            ours()
    else:  # the call does not read that operand (lu_solve's a, b of one-matrix functions): neither do we
        ours()


@pytest.mark.parametrize("name", ["det", "inv", "lu_factor"])
def test_check_finite_false_skips_the_check_as_in_scipy(name):
    a = np.eye(3) * 4
    a[0, 2] = np.nan
    ours, theirs = _finite_calls(a, None)[name]
    expected, result = theirs(check_finite=False), ours(check_finite=False)
    assert np.isnan(np.asarray(result[0] if name == "lu_factor" else result)).any()
    assert np.isnan(np.asarray(expected[0] if name == "lu_factor" else expected)).any()


def test_slogdet_checks_finiteness():
    with pytest.raises(ValueError, match="infs or NaNs: a"):
        linalg.slogdet(np.full((2, 2), np.inf), **CPU)


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_finiteness_of_torch_tensors_in_their_package(bad):
    torch = pytest.importorskip("torch")
    from gpmath._core.finite import require_finite

    good = torch.eye(3, dtype=torch.complex64)
    require_finite(True, a=good, b=torch.eye(2, dtype=torch.bfloat16))
    with pytest.raises(ValueError, match="infs or NaNs: b"):
        require_finite(True, a=good, b=torch.tensor([1.0, bad]))
    with pytest.raises(ValueError, match="infs or NaNs: a"):
        linalg.det(torch.tensor([[1.0, bad], [0.0, 1.0]], dtype=torch.float64), **CPU)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "complex64", "float64"])
def test_finite_operands_whose_sum_overflows_pass_and_a_single_nan_is_named(dtype, package, device):
    """The check sums each operand (one reduction, one read): finite values whose sum overflows
    must still pass, and one NaN or inf among large values must still be named, in every package."""
    from gpmath._core.finite import require_finite

    huge = float(np.finfo(dtype).max) / 2
    a, b = np.full((4, 4), huge, dtype), np.full(4, -huge, dtype)
    require_finite(True, a=in_package(a, package, device), b=in_package(b, package, device))
    for value in (np.nan, np.inf, -np.inf):
        bad = b.copy()
        bad[2] = value
        with pytest.raises(ValueError, match="infs or NaNs: b"):
            require_finite(True, a=in_package(a, package, device), b=in_package(bad, package, device))


@pytest.mark.parametrize("bare", [np.eye(3), np.eye(2), np.eye(3)[None], (np.eye(3),)])
@pytest.mark.parametrize("name, argument", [("cho_solve", "c_and_lower"), ("lu_solve", "lu_and_piv")])
def test_factor_pairs_must_be_pairs_as_in_scipy(bare, name, argument):
    import scipy.linalg as sl

    b = np.ones(len(bare[0]) if isinstance(bare, tuple) else bare.shape[-1])
    with pytest.raises(Exception) as theirs:  # ValueError, but f2py's own error for lu_solve of a 2 x 2 array
        getattr(sl, name)(bare, b)
    expected = ValueError if type(theirs.value).__module__ == "builtins" else Exception
    assert issubclass(ValueError, expected) and issubclass(type(theirs.value), expected)
    with pytest.raises(ValueError, match=argument):
        getattr(linalg, name)(bare, b, **CPU)


@pytest.mark.parametrize("call", [lambda a, b: linalg.eigh(a, b), lambda a, b: linalg.eigh(a, b, eigvals_only=True),
                                  lambda a, b: linalg.eig(a, b), lambda a, b: linalg.eigvals(a, b),
                                  lambda a, b: linalg.solve(a, b), lambda a, b: linalg.cho_solve((a, False), b)],
                         ids=["eigh", "eigvalsh-form", "eig", "eigvals", "solve", "cho_solve"])
def test_a_second_operand_of_another_package_is_named(call):
    """Two operands of two packages raise ValueError naming both (the generalized eigh raised
    AttributeError from inside its reduction; eig with b computed on the mixture)."""
    torch = pytest.importorskip("torch")
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    for first, second in ((a, torch.from_numpy(a.copy())), (torch.from_numpy(a.copy()), a)):
        with pytest.raises(ValueError, match="pass operands of one package"):
            call(first, second)


@pytest.mark.parametrize("name", ["inv", "solve", "cholesky"])
@pytest.mark.parametrize("batch", [(), (2, 3)])
def test_where_numpys_routine_fails_scipys_lapack_answers(name, batch, monkeypatch):
    """Below their LAPACK orders the CPU engine's inv, solve and cholesky take NumPy's gufuncs,
    whose LAPACK may meet an exactly zero pivot (or minor) where SciPy's, rounding otherwise, does
    not: then SciPy's routine answers for the whole batch, as SciPy's own function would, or names
    the matrix it fails on."""
    rng = np.random.default_rng(7)
    r = rng.standard_normal(batch + (5, 5))
    a = r @ np.swapaxes(r, -1, -2) + 5 * np.eye(5)
    b = rng.standard_normal(batch + (5, 2))

    def refused(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")
    monkeypatch.setattr(np.linalg, name, refused)
    calls = {"inv": lambda m: linalg.inv(m, **CPU), "solve": lambda m: linalg.solve(m, b, **CPU),
             "cholesky": lambda m: linalg.cholesky(m, **CPU)}
    got = calls[name](a)
    monkeypatch.undo()
    expected = {"inv": lambda: np.linalg.inv(a), "solve": lambda: np.linalg.solve(a, b),
                "cholesky": lambda: np.swapaxes(np.linalg.cholesky(a), -1, -2).conj()}[name]()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    monkeypatch.setattr(np.linalg, name, refused)
    bad = a.copy()
    bad[(1, 2) if batch else ()] = singular(5, 3) if name != "cholesky" else -np.eye(5)
    message = r"is not positive definite" if name == "cholesky" else r"is singular"
    with pytest.raises(linalg.LinAlgError, match=(r"a\[1, 2\] " if batch else r"a ") + message):
        calls[name](bad)
