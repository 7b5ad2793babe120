"""``overwrite_a``/``overwrite_b`` as SciPy 1.18 defines them, where a result is returned in its
operand.  cholesky and cho_factor: the factor is written over a writable, C- or F-contiguous
matrix already in the result's dtype, and that matrix is returned; any other operand (an integer
matrix, a strided view, a read-only array, a batch) is left as it was.  The factor is compared
with SciPy's in float64.  solve's and lstsq's ``overwrite_b`` and qr's ``overwrite_a``: likewise
for F-contiguous NumPy operands (LAPACK's layout), the sharing compared with SciPy's where SciPy
1.17 and 1.18 agree (solve), else with SciPy 1.18's rule."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg

from helpers import SCIPY_VERSION, lstsq_residues
from test_linalg_convert import DEVICE, HOST, to_numpy

RNG = np.random.default_rng(29)
TOLERANCE = {"float32": 1e-4, "complex64": 1e-4, "float64": 1e-11, "complex128": 1e-11}


def spd(n: int, dtype: str) -> np.ndarray:
    x = RNG.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal((n, n))
    return (x @ x.conj().T + n * np.eye(n)).astype(dtype)


def laid_out(x: np.ndarray, package: str, device: str | None, order: str):
    """*x* in *package* on *device*, C- or Fortran-ordered."""
    if package == "numpy":
        return np.asarray(x, order=order)
    if package == "torch":
        torch = pytest.importorskip("torch")
        t = torch.from_numpy(np.ascontiguousarray(x if order == "C" else x.T)).to(device)
        return t if order == "C" else t.mT
    cupy = pytest.importorskip("cupy")
    return cupy.asarray(x, order=order)


def shares(a, c) -> bool:
    if isinstance(a, np.ndarray):
        return np.shares_memory(a, c)
    return a.data_ptr() == c.data_ptr() if hasattr(a, "data_ptr") else a.data.ptr == c.data.ptr


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("function", ["cholesky", "cho_factor"])
def test_overwrite_writes_the_factor_over_a(function, dtype, lower, order, package, device):
    values = spd(6, dtype)
    reference = sl.cholesky(values.astype(np.complex128 if values.dtype.kind == "c" else np.float64), lower=lower)
    a = laid_out(values, package, device, order)
    got = getattr(linalg, function)(a, lower=lower, overwrite_a=True)
    c = got[0] if function == "cho_factor" else got
    assert c is a and shares(a, c)
    np.testing.assert_allclose(to_numpy(a), reference, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("kind", ["integer", "strided", "batch", "not asked"])
def test_other_operands_are_left_as_they_were(kind, package, device):
    values = spd(5, "float64")
    if kind == "integer":
        values = np.round(values).astype(np.int64) + 5 * np.eye(5, dtype=np.int64)
    elif kind == "batch":
        values = np.stack([values, values])
    a = laid_out(np.repeat(values, 2, axis=-1) if kind == "strided" else values, package, device, "C")
    if kind == "strided":
        a = a[:, ::2]
    before = to_numpy(a).copy()
    c = linalg.cholesky(a, overwrite_a=kind != "not asked")
    assert not shares(a, c)
    np.testing.assert_array_equal(to_numpy(a), before)
    np.testing.assert_allclose(to_numpy(c), sl.cholesky(before.astype(np.float64)), rtol=1e-11, atol=1e-11)


def test_read_only_and_big_endian_arrays_are_left_as_they_were():
    values = spd(4, "float64")
    read_only = values.copy()
    read_only.flags.writeable = False
    big_endian = values.astype(">f8")
    for a in (read_only, big_endian):
        c = linalg.cholesky(a, overwrite_a=True)
        assert not np.shares_memory(a, c)
        np.testing.assert_array_equal(a, values)
        np.testing.assert_allclose(c, sl.cholesky(values), rtol=1e-11, atol=1e-11)


def solve_operands(case: str):
    """``(a, b, options)`` for ``solve``: b's layout and dtype, a's dtype, batch and structure."""
    a, b = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]), np.arange(1.0, 4.0)
    matrix = np.stack([b, 2 * b], axis=1)
    return {"vector": (a, b, {}), "F matrix": (a, np.asfortranarray(matrix), {}),
            "C matrix": (a, matrix, {}), "C column": (a, b[:, None].copy(), {}),
            "int b": (a, b.astype(np.int64), {}), "float32 b": (a, b.astype(np.float32), {}),
            "float32 a": (a.astype(np.float32), b, {}), "complex b": (a, b + 0j, {}),
            "transposed": (a, b, {"transposed": True}), "pos": (a, b, {"assume_a": "pos"}),
            "upper triangular": (a, b, {"assume_a": "upper triangular"}),
            "diagonal": (a, b, {"assume_a": "diagonal"}), "sym": (a, b, {"assume_a": "sym"}),
            "batch of a": (np.stack([a, 2 * a]), b, {}), "1x1 a": (a[:1, :1], b[:1], {})}[case]


@pytest.mark.parametrize("case", ["vector", "F matrix", "C matrix", "C column", "int b", "float32 b", "float32 a",
                                  "complex b", "transposed", "pos", "upper triangular", "diagonal", "sym",
                                  "batch of a", "1x1 a"])
def test_solve_overwrite_b_solves_in_b_where_scipy_does(case):
    """SciPy (1.17 and 1.18 alike) is the oracle: x lands in b, and b is returned, where SciPy's does."""
    a, b, options = solve_operands(case)
    scipy_b = b.copy(order="K")
    expected = sl.solve(a, scipy_b, overwrite_b=True, **options)
    before = b.copy()
    x = linalg.solve(a, b, overwrite_b=True, **options)
    np.testing.assert_allclose(x, expected, rtol=1e-6)
    assert (x is b) == np.shares_memory(expected, scipy_b)
    np.testing.assert_array_equal(b, x if x is b else before)
    assert not np.shares_memory(linalg.solve(a, b.copy(order="K"), **options), b)  # overwrite_b=False


@pytest.mark.parametrize("kind", ["read-only", "big-endian", "torch"])
def test_solve_overwrite_b_leaves_other_operands_alone(kind):
    """Never a read-only (SciPy 1.17 writes into one), byte-swapped or non-NumPy b."""
    matrix, values = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[1.0], [2.0]])
    a = laid_out(matrix, "torch" if kind == "torch" else "numpy", "cpu", "C")
    if kind == "torch":
        b = laid_out(values, "torch", "cpu", "F")
    else:
        b = values.astype(">f8") if kind == "big-endian" else values.copy()
        b.flags.writeable = kind != "read-only"
    x = linalg.solve(a, b, overwrite_b=True)
    assert not shares(b, x)
    np.testing.assert_array_equal(to_numpy(b), values)
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(matrix, values))


LSTSQ_CASES = {  # b's layout, a's shape and batch -> whether SciPy 1.18 solves in b (M >= N, one matrix a,
    # an F-contiguous b in the result's dtype: SciPy 1.18's test_overwrite's rule; SciPy 1.17 never does)
    "tall, vector": ((5, 3), "vector", True), "tall, F matrix": ((5, 3), "F", True),
    "tall, C column": ((5, 3), "C column", True), "tall, C matrix": ((5, 3), "C", False),
    "square, F matrix": ((3, 3), "F", True), "wide, F matrix": ((3, 5), "F", False),
    "tall, int b": ((5, 3), "int", False), "batch of a": ((2, 5, 3), "F", False),
}


@pytest.mark.parametrize("driver", ["gelsd", "gelss", "gelsy"])
@pytest.mark.parametrize("case", list(LSTSQ_CASES))
def test_lstsq_overwrite_b_solves_in_b_where_scipy_1_18_does(case, driver):
    shape, layout, in_place = LSTSQ_CASES[case]
    a = RNG.standard_normal(shape)
    values = RNG.standard_normal((shape[-2], 1 if layout == "C column" else 2))
    b = {"vector": values[:, 0].copy(), "F": np.asfortranarray(values), "C": values, "C column": values,
         "int": np.round(10 * values).astype(np.int64)}[layout]
    before = b.copy(order="K")  # b's layout: SciPy's own check below takes a copy of it
    expected = sl.lstsq(a, before, lapack_driver=driver) if a.ndim == 2 else None
    x, residues, rank, s = linalg.lstsq(a, b, overwrite_b=True, lapack_driver=driver)
    if expected is not None:
        np.testing.assert_allclose(x, expected[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(residues, lstsq_residues(a, before, driver), rtol=1e-10, atol=1e-12)
    assert np.shares_memory(x, b) == in_place
    np.testing.assert_array_equal(b[: shape[-1]] if in_place else b, x if in_place else before)
    if SCIPY_VERSION >= (1, 18) and expected is not None:
        scipy_b = before.copy(order="K")
        assert np.shares_memory(sl.lstsq(a, scipy_b, overwrite_b=True, lapack_driver=driver)[0], scipy_b) == in_place


@pytest.mark.parametrize("pivoting", [False, True])
@pytest.mark.parametrize("mode, index", [("full", 1), ("economic", 0), ("r", 0), ("raw", (0, 0))])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
@pytest.mark.parametrize("kind", ["F float", "C float", "F int", "batch"])
def test_qr_overwrite_a_computes_in_a_where_scipy_1_18_does(kind, shape, mode, index, pivoting):
    """R ("full", "r"), Q ("economic") or h ("raw") is returned in a F-contiguous float a of one matrix
    (SciPy 1.18's test_overwrite_args's rule: SciPy 1.17 returns copies); the values are SciPy's."""
    values = RNG.standard_normal((2,) + shape if kind == "batch" else shape)
    a = np.asarray(np.round(10 * values).astype(np.int64) if kind == "F int" else values,
                   order="C" if kind == "C float" else "F")
    before = a.copy()
    got = linalg.qr(a, overwrite_a=True, mode=mode, pivoting=pivoting)
    part = got[index[0]][index[1]] if mode == "raw" else got[index]
    in_place = kind == "F float"
    assert np.shares_memory(a, part) == in_place and (part is a) == (in_place and part.shape == a.shape)
    if not in_place:
        np.testing.assert_array_equal(a, before)
    if kind != "batch":
        expected = sl.qr(before, mode=mode, pivoting=pivoting)
        want = expected[index[0]][index[1]] if mode == "raw" else expected[index]
        np.testing.assert_allclose(part, want, rtol=1e-10, atol=1e-12)


def test_qr_raw_householder_matrices_are_f_ordered():
    """SciPy 1.18's test_raw_flags: each matrix F-ordered, a batch's matrices one after another."""
    a = np.eye(3, dtype=np.float32)
    h = linalg.qr(a, mode="raw")[0][0]
    assert h.strides == (4, 12) and h.strides == sl.qr(a, mode="raw")[0][0].strides
    assert linalg.qr(np.stack([a, 2 * a]), mode="raw")[0][0].strides == (36, 4, 12)
