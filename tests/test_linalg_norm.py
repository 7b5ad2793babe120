"""gpmath.linalg.norm against scipy.linalg.norm: every order, axis choice, keepdims, dtype and
layout, on NumPy and torch CPU (torch CUDA and CuPy in the gpu variants)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg
from gpmath.linalg import _norm as norm_module

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy

RNG = np.random.default_rng(5)
PACKAGES = HOST + DEVICE
TOLERANCE = {"float32": 2e-5, "complex64": 2e-5, "float64": 1e-12, "complex128": 1e-12}
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]
VECTOR_ORDS = [None, 0, 1, -1, 2, -2, 3, 0.5, np.inf, -np.inf]


def values(shape, dtype):
    x = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def check(got, expected, dtype, package, device):
    result = to_numpy(got) if not np.isscalar(got) else np.asarray(got)
    expected = np.asarray(expected)
    assert result.shape == expected.shape
    real = {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
    assert str(result.dtype) == real, (result.dtype, real)
    np.testing.assert_allclose(result, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    if package == "torch":
        assert got.device.type == device
    if package == "numpy" and expected.ndim == 0:  # a NumPy scalar, as SciPy's (not a 0-d array)
        assert not isinstance(got, np.ndarray), type(got)


@pytest.mark.parametrize("package, device", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms(package, device, dtype, ord):
    x = values((3, 4, 5), dtype)
    for axis, keepdims in (((1, 2), False), ((2, 0), True), ((-1, -3), False)):
        got = linalg.norm(in_package(x, package, device), ord, axis=axis, keepdims=keepdims)
        check(got, sl.norm(x, ord, axis=axis, keepdims=keepdims), dtype, package, device)
    m = x[1]
    check(linalg.norm(in_package(m, package, device), ord), sl.norm(m, ord), dtype, package, device)


@pytest.mark.parametrize("package, device", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms(package, device, dtype, ord):
    x = values((4, 6), dtype)
    for axis, keepdims in ((1, False), (0, True), (-1, True)):
        got = linalg.norm(in_package(x, package, device), ord, axis=axis, keepdims=keepdims)
        check(got, sl.norm(x, ord, axis=axis, keepdims=keepdims), dtype, package, device)
    v = x[0]
    check(linalg.norm(in_package(v, package, device), ord), sl.norm(v, ord), dtype, package, device)


@pytest.mark.parametrize("package, device", PACKAGES)
def test_flattened_strided_integer_and_empty(package, device):
    x = values((5, 6, 7), "float64")[::2, ::-1]
    check(linalg.norm(in_package(np.ascontiguousarray(x), package, device)), sl.norm(x), "float64", package, device)
    ints = np.arange(-6, 6).reshape(3, 4)
    check(linalg.norm(in_package(ints, package, device), 2), sl.norm(ints, 2), "float64", package, device)
    for shape in ((2, 0, 3), (2, 3, 0), (0, 3, 2), (0, 0, 3)):
        empty = np.zeros(shape)
        for ord in (None, "fro", 2, "nuc", 1, -1, np.inf, -np.inf, -2):
            try:
                expected = sl.norm(empty, ord, axis=(1, 2))
            except ValueError:
                with pytest.raises(ValueError, match="norm of an empty matrix"):
                    linalg.norm(in_package(empty, package, device), ord, axis=(1, 2))
                continue
            check(linalg.norm(in_package(empty, package, device), ord, axis=(1, 2)), expected, "float64", package, device)


def test_array_likes_and_numpy_strides():
    x = values((4, 5), "float64")
    assert linalg.norm(x.tolist(), 1) == pytest.approx(sl.norm(x, 1), rel=1e-14)
    view = x[::-1, ::2]
    assert float(linalg.norm(view, "nuc")) == pytest.approx(sl.norm(view, "nuc"), rel=1e-12)
    big_endian = x.astype(">f8")
    assert float(linalg.norm(big_endian, 2)) == pytest.approx(sl.norm(x, 2), rel=1e-12)


@pytest.mark.parametrize("bad, error, message", [
    (dict(ord="fro", axis=0), ValueError, "Invalid norm order 'fro' for vectors"),
    (dict(ord=3, axis=(0, 1)), ValueError, "Invalid norm order"),
    (dict(axis=(0, 0)), ValueError, "duplicate axes"),
    (dict(axis=3), ValueError, "out of bounds"),
    (dict(axis=(0, 1, 2)), ValueError, "Improper number of dimensions"),
])
def test_bad_arguments_raise_as_scipy(bad, error, message):
    x = values((2, 3, 4), "float64")
    with pytest.raises(error):
        sl.norm(x, **bad)
    with pytest.raises(error, match=message):
        linalg.norm(x, **bad)
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        linalg.norm(x, 2)


@pytest.mark.parametrize("package, device", HOST)
def test_the_same_errors_in_every_package(package, device):
    x = in_package(values((2, 3), "float64"), package, device)
    with pytest.raises(ValueError, match="Invalid norm order 'nuc' for vectors"):
        linalg.norm(x, "nuc", axis=1)
    with pytest.raises(TypeError, match="axis must be an int or a tuple of ints"):
        linalg.norm(x, axis=0.5)  # NumPy truncates a float axis; gpmath refuses it


@pytest.fixture(params=["nrm2", "dot first"])
def host_route(request, monkeypatch):
    """Both of the NumPy fast path's routes at every size: BLAS nrm2 after isfinite, or a plain
    sum of squares first (else from 16384 elements on)."""
    monkeypatch.setattr(norm_module, "_DOT_FIRST", 2**62 if request.param == "nrm2" else 1)
    return request.param


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_non_finite_input_is_refused_unless_asked(host_route, bad, dtype):
    for shape in ((2, 2), (129, 130)):
        x = np.ones(shape, dtype)
        x[-1, 1] = bad
        for array in (x, np.asfortranarray(x), x.ravel()):
            with pytest.raises(ValueError, match="must not contain infs or NaNs"):
                linalg.norm(array)
            got = linalg.norm(array, check_finite=False)
            assert got == np.inf if not np.isnan(bad) else np.isnan(got)


@pytest.mark.parametrize("package, device", PACKAGES)
@pytest.mark.parametrize("dtype, magnitude", [("float32", 1e20), ("float32", 1e-25), ("complex64", 1e20),
                                              ("float64", 1e160), ("float64", 1e-170)])
@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"ord": "fro"}, {"axis": 0, "keepdims": True}], ids=str)
@pytest.mark.parametrize("shape", [(3, 4), (130, 129)])
def test_euclidean_norms_neither_overflow_nor_underflow(package, device, dtype, magnitude, kwargs, shape, host_route):
    """SciPy's 1-D norm scales as BLAS nrm2 does; gpmath does for every Euclidean norm."""
    values = np.random.default_rng(3).uniform(0.5, 1.0, shape)
    a = (values * magnitude).astype(dtype)
    expected = np.linalg.norm(values, **kwargs) * magnitude  # in float64, of values that do not overflow
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the host's plain first pass may overflow: silently
        got = to_numpy(linalg.norm(in_package(a, package, device), **kwargs))
    assert np.all(np.isfinite(got)) and got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_euclidean_norm_of_inf_and_nan_as_numpy():
    a = np.array([np.inf, 1.0, -np.inf])
    assert linalg.norm(a, check_finite=False) == np.inf
    assert np.isnan(linalg.norm(np.array([np.nan, 1.0]), check_finite=False))
    assert linalg.norm(np.zeros(4)) == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("layout", ["C", "F", "reversed", "strided", "big-endian", "read-only", "3-D"])
def test_the_norm_of_every_element_in_every_numpy_layout(dtype, layout, host_route):
    """The whole-array Euclidean norm of NumPy arrays (BLAS nrm2 on contiguous elements, the
    general path otherwise), as ``norm(x)``, ``norm(matrix, "fro")`` and ``norm(vector, 2)``,
    against a complex128 sum, in every layout."""
    x = values((6, 5, 4) if layout == "3-D" else (6, 5), dtype)
    x = {"F": np.asfortranarray(x), "reversed": x[::-1, ::-1], "strided": x[::2],
         "big-endian": x.astype(x.dtype.newbyteorder(">"))}.get(layout, x)
    x.flags.writeable = layout != "read-only"
    expected = np.sqrt(np.sum(np.abs(x.astype(np.complex128)) ** 2))
    real = np.dtype({"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)).type
    calls = [(x, None), (x.ravel(), 2)] + ([(x, "fro")] if x.ndim == 2 else [])
    for array, ord in calls:
        got = linalg.norm(array, ord)
        assert type(got) is real
        np.testing.assert_allclose(float(got), expected, rtol=TOLERANCE[dtype])
