"""gpmath.fft's functions against scipy.fft in float64 (the oracle pattern).

One body per case runs on NumPy arrays (the GPU when present, else the CPU path) and, on a GPU
machine, on torch and CuPy arrays; the reference is scipy.fft applied to the float64/complex128
value of the very input gpmath received.  Complex-to-real inputs (irfft*, hfft) are genuine
half spectra (``rfftn`` of real data), so the result does not depend on how an implementation
treats the imaginary parts a Hermitian spectrum cannot have.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft
from helpers import relative_error, to_numpy, to_package, tolerance

gpu = pytest.mark.gpu
PACKAGES = ["numpy", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]
NORMS = [None, "backward", "ortho", "forward"]
C2C_1D, R2C_1D, C2R_1D = ("fft", "ifft"), ("rfft", "ihfft"), ("irfft", "hfft")
C2C_ND, R2C_ND, C2R_ND = ("fft2", "ifft2", "fftn", "ifftn"), ("rfft2", "rfftn"), ("irfft2", "irfftn")
RESULT_DTYPE = {"float32": "complex64", "complex64": "complex64", "float64": "complex128", "complex128": "complex128"}


def _input_dtypes(name):
    if name in R2C_1D + R2C_ND:
        return ["float32", "float64"]
    if name in C2R_1D + C2R_ND:
        return ["complex64", "complex128"]
    return ["float32", "float64", "complex64", "complex128"]


def _half_spectrum(rng, shape, axes):
    """A Hermitian half spectrum: rfftn of real data of *shape* over *axes* (the last halved)."""
    return scipy.fft.rfftn(rng.uniform(-1, 1, shape), axes=axes)


def _data(rng, name, shape, dtype, axes):
    if name in C2R_1D + C2R_ND:
        return _half_spectrum(rng, shape, axes)
    x = rng.uniform(-1, 1, shape)
    return x + 1j * rng.uniform(-1, 1, shape) if dtype.startswith("complex") else x


def _dtype_name(x) -> str:
    return str(x.dtype).rpartition(".")[2]


def _check(result, x, package, name, *args, dtype, **kwargs):
    """*result* against scipy.fft.<name> of *x*'s float64 value: package, dtype, shape, values."""
    reference = getattr(scipy.fft, name)(to_numpy(x), *args, **kwargs)
    assert type(result).__module__.partition(".")[0] == package
    precision = "float32" if dtype in ("float32", "complex64") else "float64"
    expected = reference.dtype.name if precision == "float64" else {"complex128": "complex64", "float64": "float32"}[reference.dtype.name]
    assert _dtype_name(result) == expected
    assert tuple(result.shape) == reference.shape
    err = relative_error(result, reference)
    assert err < tolerance(expected), f"{name}: relative error {err:.3g}"


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("size", [1, 8, 15, 17, 31, 64])
@pytest.mark.parametrize("name", C2C_1D + R2C_1D + C2R_1D)
def test_1d_functions_every_norm_and_size(rng, package, norm, size, name):
    for dtype in _input_dtypes(name):
        data = _data(rng, name, (3, size), dtype, (1,))
        x = to_package(data, package, dtype)
        n = size if name in C2R_1D else None  # the real length: odd sizes need it
        _check(getattr(fft, name)(x, n=n, norm=norm), x, package, name, n=n, norm=norm, dtype=dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("shape", [(4, 6, 5), (3, 17, 2), (2, 3, 4, 5)])
@pytest.mark.parametrize("name", C2C_ND + R2C_ND + C2R_ND)
def test_nd_functions_every_norm(rng, package, norm, shape, name):
    axes = (-2, -1) if name.endswith("2") else None
    used = tuple(range(len(shape)))[-2:] if axes else tuple(range(len(shape)))
    for dtype in _input_dtypes(name):
        x = to_package(_data(rng, name, shape, dtype, used), package, dtype)
        s = [shape[a] for a in used] if name in C2R_ND else None
        _check(getattr(fft, name)(x, s=s, axes=axes, norm=norm), x, package, name, s=s, axes=axes, norm=norm,
               dtype=dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("n", [1, 5, 13, 24, 40])
@pytest.mark.parametrize("name", C2C_1D + R2C_1D)
def test_1d_padding_and_cropping(rng, package, n, name):
    x = to_package(_data(rng, name, (2, 16, 3), "float64", (1,)), package, "float64")
    _check(getattr(fft, name)(x, n=n, axis=1), x, package, name, n=n, axis=1, dtype="float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("n", [7, 9, 31, 40])  # odd crops and any pad keep a half spectrum valid
@pytest.mark.parametrize("name", C2R_1D)
def test_1d_complex_to_real_padding_and_cropping(rng, package, n, name):
    x = to_package(_half_spectrum(rng, (3, 20), (1,)), package, "complex128")
    _check(getattr(fft, name)(x, n=n), x, package, name, n=n, dtype="complex128")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("s, axes", [((3, 8), None), ((9, -1), (0, 2)), ((2, 7, 11), (2, 0, 1)), ((5,), (-2,)),
                                     ((4, 4, 4, 4), (0, 1, 2, 3))])
@pytest.mark.parametrize("name", ("fftn", "ifftn", "rfftn"))
def test_nd_padding_cropping_and_axes(rng, package, s, axes, name):
    shape = (6, 5, 7, 3) if len(s) == 4 else (6, 5, 7)
    x = to_package(_data(rng, name, shape, "float64", axes), package, "float64")
    _check(getattr(fft, name)(x, s=s, axes=axes), x, package, name, s=s, axes=axes, dtype="float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("axes", [(0,), (1,), (2, 0), (0, 1, 2), (1, 0, 2, 3), (3, 1)])
@pytest.mark.parametrize("name", ("fftn", "rfftn", "irfftn"))
def test_non_last_axes_batches_and_many_passes(rng, package, axes, name):
    shape = (6, 5, 4, 3)
    dtype = {"fftn": "complex128", "rfftn": "float64", "irfftn": "complex128"}[name]
    x = to_package(_data(rng, name, shape, dtype, axes), package, dtype)
    s = [shape[a] for a in axes] if name == "irfftn" else None
    _check(getattr(fft, name)(x, s=s, axes=axes), x, package, name, s=s, axes=axes, dtype=dtype)


def _views(package):
    views = {
        "strided": lambda x: x[::2, 1:, ::3],
        "swapped": lambda x: x.swapaxes(0, 2),
        "column": lambda x: x[:, 2:3, :],
    }
    if package != "torch":  # torch has no negative strides
        views["reversed"] = lambda x: x[::-1, :, ::-2]
    return views


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("view", ["strided", "swapped", "column", "reversed"])
@pytest.mark.parametrize("name, kwargs", [("fft", {"axis": 0}), ("fft", {"axis": -1}), ("ifftn", {"axes": (0, 2)}),
                                          ("rfft", {"axis": 1}), ("rfftn", {"axes": (2, 0)}),
                                          ("fft2", {"s": (3, 9)}), ("rfft", {"n": 20, "axis": 0})])
def test_strided_views(rng, package, view, name, kwargs):
    make = _views(package).get(view)
    if make is None:
        pytest.skip(f"{package} has no {view} views")
    dtype = "float64" if name.startswith("r") else "complex128"
    base = to_package(_data(rng, name, (8, 6, 12), dtype, (0,)), package, dtype)
    x = make(base)
    _check(getattr(fft, name)(x, **kwargs), x, package, name, dtype=dtype, **kwargs)


def test_broadcast_and_size_one_strides(rng):
    row = rng.uniform(-1, 1, (1, 16))
    x = np.broadcast_to(row, (5, 16))
    _check(fft.fft(x), x, "numpy", "fft", dtype="float64")
    odd = np.lib.stride_tricks.as_strided(rng.uniform(-1, 1, (4, 1, 8)), (4, 1, 8), (64, 12345 * 8, 8))
    _check(fft.fftn(odd, axes=(0, 2)), odd, "numpy", "fftn", axes=(0, 2), dtype="float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "bool"])
@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fftn", "rfftn", "ihfft"])
def test_integer_and_bool_inputs_are_promoted_like_scipy(rng, package, dtype, name):
    if package == "torch" and dtype == "uint16":
        pytest.skip("torch has no uint16 tensors on every version")
    data = rng.integers(0, 2 if dtype == "bool" else 50, (4, 9)).astype(dtype)
    x = data if package == "numpy" else to_package(data, package, dtype)
    result = getattr(fft, name)(x)
    reference = getattr(scipy.fft, name)(data)
    assert _dtype_name(result) == reference.dtype.name and tuple(result.shape) == reference.shape
    assert relative_error(result, reference) < 1e-12


def test_float16_is_computed_in_float32(rng):
    x = rng.uniform(-1, 1, (3, 10)).astype(np.float16)
    for name in ("fft", "rfft", "fftn", "irfft"):
        result, reference = getattr(fft, name)(x), getattr(scipy.fft, name)(x)
        assert result.dtype == reference.dtype
        assert relative_error(result, reference) < tolerance("float32")


def test_array_likes_are_numpy():
    result = fft.rfft([1.0, 2.0, 3.0, 4.0])
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, scipy.fft.rfft([1.0, 2.0, 3.0, 4.0]))


def test_empty_batches_and_empty_axes(rng):
    x = np.zeros((0, 8))
    for name in ("fft", "rfft", "irfft", "hfft", "ihfft"):
        result, reference = getattr(fft, name)(x), getattr(scipy.fft, name)(x)
        assert result.shape == reference.shape and result.dtype == reference.dtype
    for name in ("fftn", "rfftn", "irfftn"):  # a transform over a zero-length axis
        with pytest.raises(ValueError, match="at least 1"):
            getattr(fft, name)(x)
    y = rng.uniform(-1, 1, (3, 4))
    for name in ("fftn", "ifftn"):
        result = getattr(fft, name)(y, axes=())
        assert result.dtype == np.float64 and result is not y
        np.testing.assert_array_equal(result, y)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name, kwargs", [("irfft", {}), ("irfftn", {}), ("irfft2", {}), ("hfft", {}),
                                          ("irfftn", {"axes": (0,)}), ("irfft", {"n": 31})])
def test_complex_to_real_never_changes_the_input(rng, package, name, kwargs):
    axes = kwargs.get("axes", (0, 1) if name.endswith(("n", "2")) else (1,))
    x = to_package(_half_spectrum(rng, (6, 10), axes), package, "complex128")
    before = to_numpy(x).copy()
    getattr(fft, name)(x, **kwargs)
    np.testing.assert_array_equal(to_numpy(x), before)
    result = getattr(fft, name)(x, overwrite_x=True, **kwargs)  # may destroy x, still right
    _check(result, before, package, name, dtype="complex128", **kwargs)


@pytest.mark.parametrize("package", PACKAGES)
def test_workers_are_accepted(rng, package):
    x = to_package(rng.uniform(-1, 1, (4, 32)), package, "float64")
    _check(fft.rfft(x, workers=2), x, package, "rfft", dtype="float64")
    _check(fft.fft(x, workers=-1), x, package, "fft", dtype="float64")


@pytest.mark.parametrize("call, error, match", [
    (lambda x: fft.fft(x, axis=2), ValueError, "axis"),
    (lambda x: fft.fft(x, axis=1.5), TypeError, "axis must be an integer"),
    (lambda x: fft.fftn(x, axes=(0, 0)), ValueError, "axes must be unique"),
    (lambda x: fft.fftn(x, axes=(0, 5)), ValueError, "axes"),
    (lambda x: fft.fftn(x, s=(3, 3, 3)), ValueError, "s has 3 lengths"),
    (lambda x: fft.fftn(x, s=(3,), axes=(0, 1)), ValueError, "axes and shape arguments have to be of the same length"),
    (lambda x: fft.fft(x, n=0), ValueError, "n must be at least 1"),
    (lambda x: fft.fft(x, n=-4), ValueError, "n must be at least 1"),
    (lambda x: fft.fft(x, n=2.5), TypeError, "n must be an integer"),
    (lambda x: fft.fftn(x, s=(0, 4)), ValueError, "s must be at least 1"),
    (lambda x: fft.fft(x, norm="unitary"), ValueError, "norm"),
    (lambda x: fft.hfft(x, norm="unitary"), ValueError, "norm"),
    (lambda x: fft.fft(x, workers=0), ValueError, "workers"),
    (lambda x: fft.fft(x, plan=object()), NotImplementedError, "plan"),
    (lambda x: fft.rfft(x + 1j), TypeError, "x must be a real sequence"),
    (lambda x: fft.rfftn(x, axes=()), ValueError, "at least 1 axis must be transformed"),
    (lambda x: fft.irfft(x[:, :1]), ValueError, "n must be at least 1"),
    (lambda x: fft.fft(x.astype(np.longdouble)), TypeError, "computes in"),
    (lambda x: fft.fft(np.array(["a", "b"])), TypeError, "computes in"),
    (lambda x: fft.fft(np.float64(3.0)), ValueError, "axis"),
])
@pytest.mark.parametrize("placement", ["cuda", "auto"])  # (auto: small calls take scipy.fft's shortcut)
def test_errors_name_the_argument(call, error, match, placement):
    gpmath.set_placement(placement)
    with pytest.raises(error, match=match):
        call(np.ones((4, 6)))


def test_bad_axis_is_also_an_index_error_like_numpy():
    with pytest.raises(IndexError):
        fft.fft(np.ones(4), axis=1)


SCIPY_ARGUMENT_ERRORS = [
    ("fft", (), {"n": 2.5}), ("fft", (), {"n": "3"}), ("fft", (), {"n": np.float64(3)}), ("fft", (), {"n": 0}),
    ("fft", (), {"axis": "0"}), ("fft", (), {"axis": 0.0}), ("fft", (), {"axis": None}), ("rfft", (), {"n": 2.5}),
    ("irfft", (), {"n": 2.5}), ("hfft", (), {"n": 2.5}), ("ihfft", (), {"axis": 1.5}), ("fft", (), {"workers": 1.5}),
    ("fft", (), {"workers": "2"}), ("fft", (), {"workers": 0}), ("fft", (), {"norm": 1}),
    ("fftn", (), {"s": (2.5,)}), ("fftn", (), {"s": 2.5}), ("fft2", (), {"s": (2, 2.5)}), ("fftn", (), {"s": [None]}),
    ("fftn", (), {"axes": (0.5,)}), ("fftn", (), {"axes": "0"}), ("irfftn", (), {"s": (2.5,)}),
    ("fftn", (), {"s": (3,), "axes": (0, 1)}),
]


@pytest.mark.parametrize("name, args, kwargs", SCIPY_ARGUMENT_ERRORS)
def test_argument_errors_have_scipys_type(name, args, kwargs):
    x = np.ones((4, 6))
    with pytest.raises(Exception) as theirs:
        getattr(scipy.fft, name)(x, *args, **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(fft, name)(x, *args, **kwargs)
    assert next(iter(kwargs)) in str(ours.value)


@pytest.mark.parametrize("ragged", [[[1, 2], [3]], [[1.0], [2.0, 3.0], []]])
def test_ragged_lists_raise_value_error_as_in_scipy(ragged):
    with pytest.raises(ValueError):
        scipy.fft.fft(ragged)
    with pytest.raises(ValueError, match="x is not a regular array"):
        fft.fft(ragged)
