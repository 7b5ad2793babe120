"""gpmath.linalg.lu against scipy.linalg.lu: every output form, dtypes, batches, rectangular,
empty and singular matrices, on NumPy and torch CPU (torch CUDA and CuPy in the gpu variants)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy

RNG = np.random.default_rng(11)
TOLERANCE = {"float32": 1e-4, "complex64": 1e-4, "float64": 1e-11, "complex128": 1e-11}
FORMS = [{}, {"p_indices": True}, {"permute_l": True}, {"permute_l": True, "p_indices": True}]


def values(shape, dtype):
    x = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def check(got, expected, dtype, package, device, a=None):
    """*got* has SciPy's forms, dtypes and shapes; its values are SciPy's, or, for complex *a*
    (whose pivots may rank candidates otherwise than LAPACK), a valid factorization of *a*."""
    assert len(got) == len(expected)
    results = [to_numpy(g) for g in got]
    for g, result, e in zip(got, results, expected):
        assert result.shape == e.shape and result.dtype == e.dtype, (result.shape, result.dtype, e.shape, e.dtype)
        if package == "torch":
            assert g.device.type == device
    if a is None or a.dtype.kind != "c" or a.size == 0:
        for result, e in zip(results, expected):
            np.testing.assert_allclose(result, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
        return
    *head, l, u = results
    k = min(a.shape[-2:])
    if len(head) == 0:  # permute_l: (P L) U
        np.testing.assert_allclose(l @ u, a, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 10)
        return
    p = head[0]
    if p.ndim == a.ndim - 1:  # row indices: a = L[p] @ U
        np.testing.assert_array_equal(np.sort(p, axis=-1), np.broadcast_to(np.arange(a.shape[-2]), p.shape))
        rows = np.take_along_axis(l, p[..., :, None].astype(np.intp), axis=-2)
        np.testing.assert_allclose(rows @ u, a, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 10)
    else:
        np.testing.assert_array_equal(np.sort(p, axis=-1)[..., ::-1][..., 0], 1)  # one unit per row
        np.testing.assert_allclose(p @ l @ u, a, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 10)
    np.testing.assert_array_equal(np.triu(l[..., :k, :k], 1), 0)
    np.testing.assert_array_equal(np.diagonal(l, axis1=-2, axis2=-1), 1)
    np.testing.assert_array_equal(np.tril(u[..., :k, :k], -1), 0)
    assert np.abs(l).max() <= np.sqrt(2) * (1 + TOLERANCE[dtype])  # partial pivoting bounds the multipliers


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(5, 5), (3, 4, 4), (1, 1), (4, 6), (6, 4), (2, 3, 5), (0, 3), (2, 0, 0)], ids=str)
@pytest.mark.parametrize("form", FORMS, ids=lambda f: "-".join(f) or "plu")
def test_factors_match_scipy(package, device, dtype, shape, form):
    a = values(shape, dtype)
    check(linalg.lu(in_package(a, package, device), **form), sl.lu(a, **form), dtype, package, device, a)


@pytest.mark.parametrize("package, device", HOST + DEVICE)
def test_singular_and_permuted_matrices_factor_without_error(package, device):
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    check(linalg.lu(in_package(singular, package, device)), sl.lu(singular), "float64", package, device)
    permutation = np.eye(4)[[2, 0, 3, 1]]
    p, l, u = linalg.lu(in_package(permutation, package, device))
    np.testing.assert_allclose(to_numpy(p) @ to_numpy(l) @ to_numpy(u), permutation)


def test_layouts_and_array_likes():
    a = values((6, 7), "float64")
    for view in (a[:, :6], a[::-1, 1:], np.asfortranarray(a[:, :6]), a[:, :6].astype(">f8")):
        native = view.astype(view.dtype.newbyteorder("="))  # SciPy 1.17's lu returns garbage for big-endian input
        for g, e in zip(linalg.lu(view), sl.lu(native)):
            np.testing.assert_allclose(g, e, atol=1e-12)
    ints = [[4, 3], [6, 3]]
    for g, e in zip(linalg.lu(ints), sl.lu(ints)):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e)


def test_bad_input():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        linalg.lu(np.ones(3))
    with pytest.raises(ValueError, match="must not contain infs or NaNs"):
        linalg.lu(np.array([[1.0, np.nan], [0.0, 1.0]]))


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (2, 3, 5), (3, 1, 2), (0, 2), (2, 0), (0, 3, 4), (3, 0, 2)], ids=str)
def test_rectangular_lu_factor_matches_scipy(package, device, dtype, shape):
    a = values(shape, dtype)
    lu, piv = linalg.lu_factor(in_package(a, package, device))
    k = min(shape[-2:])
    expected_lu, expected_piv = np.zeros(shape, dtype), np.zeros((*shape[:-2], k), np.int32)
    for index in np.ndindex(*shape[:-2]):
        if k:
            expected_lu[index], expected_piv[index] = sl.lu_factor(a[index])
    check((lu, piv), (expected_lu, expected_piv), dtype, package, device)


def test_rectangular_singular_lu_factor_warns_as_scipy():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    with pytest.warns(sl.LinAlgWarning):
        expected = sl.lu_factor(a)
    with pytest.warns(sl.LinAlgWarning):
        lu, piv = linalg.lu_factor(a)
    np.testing.assert_allclose(lu, expected[0])
    np.testing.assert_array_equal(piv, expected[1])



def test_host_lu_placed_on_the_cpu_builds_no_plan(monkeypatch):
    """A NumPy ``lu`` that the LU front would put on the CPU is SciPy's at once, no plan built;
    one it would put on a GPU builds the plan (here a stand-in that records it)."""
    from gpmath.linalg import _lu

    built = []

    class Recorded:
        def __init__(self, a, **where):
            built.append(where)
            raise RuntimeError("planned")

    monkeypatch.setattr(_lu, "LU", Recorded)
    a = np.array([[4.0, 3.0, 1.0], [6.0, 3.0, 2.0], [1.0, 5.0, 7.0]])
    for ours, theirs in zip(linalg.lu(a, execution="cpu"), sl.lu(a)):
        np.testing.assert_array_equal(ours, theirs)
    assert built == []
    monkeypatch.setattr(_lu, "on_cpu", lambda *args: False)  # the front's choice: a GPU
    with pytest.raises(RuntimeError, match="planned"):
        linalg.lu(a)
    assert built == [{"execution": None, "stream": None, "device_id": None}]
