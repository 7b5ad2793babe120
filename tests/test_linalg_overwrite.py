"""``overwrite_a=True`` of cholesky and cho_factor as SciPy 1.18 defines it: the factor is written
over a writable, C- or F-contiguous matrix already in the result's dtype, and that matrix is
returned; any other operand (an integer matrix, a strided view, a read-only array, a batch) is
left as it was.  The factor is compared with SciPy's in float64."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg

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
