"""The shortcuts of small calls on host arrays under automatic placement (the suite's default
sends host arrays to a GPU): ``gpmath.matmul`` of small NumPy arrays and torch CPU tensors by
NumPy, small FFTs and DCTs of torch CPU tensors by scipy.fft.  Checked against NumPy/SciPy in
float64 on random data over dtypes and layouts, and against the full path's warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.fft

import gpmath

torch = pytest.importorskip("torch")

TOLERANCE = {"float32": 1e-5, "complex64": 1e-5, "float64": 1e-12, "complex128": 1e-12}
LAYOUTS = ["C", "transposed", "strided", "conj", "neg"]


@pytest.fixture(autouse=True)
def _automatic_placement(_placement_as_written):
    gpmath.set_placement("auto")


def _tensor(rng, shape, dtype, layout):
    values = rng.standard_normal(shape)
    if "complex" in dtype:
        values = values + 1j * rng.standard_normal(shape)
    t = torch.from_numpy(values.astype(dtype))
    if layout == "transposed":
        t = torch.from_numpy(values.T.copy().astype(dtype)).T
    elif layout == "strided":
        t = torch.from_numpy(np.repeat(values.astype(dtype), 2, axis=1))[:, ::2]
    elif layout == "conj" and t.is_complex():
        t = torch.from_numpy(np.conj(values).astype(dtype)).conj()  # the same values, a lazy view
    elif layout == "neg":
        t = torch._neg_view(torch.from_numpy((-values).astype(dtype)))
    return t


def _close(got, expected, dtype):
    assert isinstance(got, torch.Tensor) and got.device.type == "cpu" and str(got.dtype) == f"torch.{dtype}"
    np.testing.assert_allclose(got.numpy(), expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(5, 7, 3), (64, 64, 64), (1, 1, 1), (65, 64, 64)])  # (the last is not small)
def test_torch_cpu_products_match_numpy(rng, dtype, layout, shape):
    m, k, n = shape
    a, b = _tensor(rng, (m, k), dtype, layout), _tensor(rng, (k, n), dtype, "C")
    expected = a.resolve_conj().resolve_neg().numpy().astype(np.complex128) @ b.numpy().astype(np.complex128)
    for _ in range(2):
        _close(gpmath.matmul(a, b), expected if "complex" in dtype else expected.real, dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_torch_cpu_half_precision_products_keep_their_dtype(rng, dtype):
    a = torch.from_numpy(rng.standard_normal((4, 5)).astype(np.float32)).to(getattr(torch, dtype))
    b = torch.from_numpy(rng.standard_normal((5, 3)).astype(np.float32)).to(getattr(torch, dtype))
    got = gpmath.matmul(a, b)
    assert got.dtype == a.dtype
    np.testing.assert_allclose(got.float().numpy(), (a.float() @ b.float()).numpy(), rtol=2e-2, atol=2e-2)


def test_torch_cpu_products_of_tensors_that_require_grad_warn_as_the_full_path(rng):
    a = torch.from_numpy(rng.standard_normal((4, 4))).requires_grad_()
    b = torch.from_numpy(rng.standard_normal((4, 4)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = gpmath.matmul(a, b)
    assert [str(w.message).split(" requires grad")[0] for w in caught] == ["a"]
    assert caught[0].filename == __file__ and not got.requires_grad
    np.testing.assert_allclose(got.numpy(), a.detach().numpy() @ b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", [("fft", {}), ("ifft", {"n": 20}), ("rfft", {"axis": 0}), ("irfft", {}),
                                          ("fft2", {}), ("rfftn", {"s": (4, 6)}), ("dct", {"type": 3}),
                                          ("idstn", {"type": 1})])
@pytest.mark.parametrize("layout", ["C", "transposed", "neg", "conj"])
def test_torch_cpu_small_transforms_match_scipy(rng, dtype, name, kwargs, layout):
    real = name in ("rfft", "rfftn", "dct", "idstn")
    complex_dtype = {"float32": "complex64", "float64": "complex128"}[dtype]
    x = _tensor(rng, (6, 8), dtype if real else complex_dtype, layout)
    values = x.resolve_conj().resolve_neg().numpy()
    expected = getattr(scipy.fft, name)(values, **kwargs)
    for _ in range(2):
        _close(getattr(gpmath.fft, name)(x, **kwargs), expected, str(expected.dtype))
