"""torch CPU tensors through the linalg functions' NumPy path (gpmath._core.host_bridge): the
results are torch tensors equal to NumPy's path, and no torch operation runs between the LAPACK
calls (each would wake torch's thread pool, which then contends with OpenBLAS's for the cores);
calls the bridge does not take (overwrite, mixed packages, other dtypes) keep their behaviour."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gpmath import linalg

torch = pytest.importorskip("torch")

SPD = "spd"


def _matrix(rng, n, dtype, kind="general"):
    a = rng.standard_normal((n, n))
    if "complex" in dtype:
        a = a + 1j * rng.standard_normal((n, n))
    if kind == SPD:
        a = a @ a.conj().T + n * np.eye(n)
    return a.astype(dtype)


CALLS = {  # name: (call on (a, b, spd), matrices it needs)
    "solve": lambda a, b, s: linalg.solve(a, b),
    "solve sym": lambda a, b, s: linalg.solve(s, b, assume_a="sym"),
    "solve diagonal": lambda a, b, s: linalg.solve(a, b, assume_a="diagonal"),
    "solve tridiagonal": lambda a, b, s: linalg.solve(a, b, assume_a="tridiagonal"),
    "solve_triangular": lambda a, b, s: linalg.solve_triangular(s, b, lower=True),
    "inv": lambda a, b, s: linalg.inv(a),
    "inv pos": lambda a, b, s: linalg.inv(s, assume_a="pos"),
    "det": lambda a, b, s: linalg.det(a),
    "slogdet": lambda a, b, s: linalg.slogdet(a),
    "cholesky": lambda a, b, s: linalg.cholesky(s),
    "cho_solve": lambda a, b, s: linalg.cho_solve(linalg.cho_factor(s), b),
    "lu_solve": lambda a, b, s: linalg.lu_solve(linalg.lu_factor(a), b),
    "lu": lambda a, b, s: linalg.lu(a),
    "qr": lambda a, b, s: linalg.qr(a),
    "eigh": lambda a, b, s: linalg.eigh(s),
    "eigh generalized": lambda a, b, s: linalg.eigh(s, s * 2),
    "eig": lambda a, b, s: linalg.eig(a),
    "svd": lambda a, b, s: linalg.svd(a),
    "svdvals": lambda a, b, s: linalg.svdvals(a),
    "lstsq": lambda a, b, s: linalg.lstsq(a, b),
    "pinv": lambda a, b, s: linalg.pinv(a),
    "norm": lambda a, b, s: linalg.norm(a),
    "norm 2": lambda a, b, s: linalg.norm(a, 2),
}


def _results(value):
    return [value] if not isinstance(value, tuple) else [v for item in value for v in _results(item)]


@pytest.fixture
def no_torch_operations(monkeypatch):
    """torch's elementwise operations, reductions and factories raise (the bridge reads tensors
    through NumPy views and makes results with ``torch.from_numpy`` only)."""
    def refused(*args, **kwargs):
        raise AssertionError("a torch operation ran")
    for name in ("__add__", "__sub__", "__mul__", "__truediv__", "__matmul__", "__eq__", "__abs__", "sum", "abs",
                 "conj", "to", "clone", "contiguous", "triu", "tril", "diagonal", "max", "amax", "isfinite"):
        monkeypatch.setattr(torch.Tensor, name, refused)
    for name in ("where", "eye", "zeros", "arange", "tril", "triu", "isfinite", "as_tensor", "tensor"):
        monkeypatch.setattr(torch, name, refused)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_torch_cpu_calls_equal_the_numpy_path_bit_for_bit(name, dtype, rng):
    """The same computation on the same values (the NumPy path is SciPy's oracle's, in the
    packages' tests of every function): the bridge adds nothing to the numbers."""
    n = 6
    a, s, b = _matrix(rng, n, dtype), _matrix(rng, n, dtype, SPD), rng.standard_normal(n).astype(dtype)
    expected = _results(CALLS[name](a, b, s))
    tensors = [torch.from_numpy(x.copy()) for x in (a, b, s)]
    got = _results(CALLS[name](*tensors))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, (np.ndarray, np.generic)):
            assert isinstance(g, torch.Tensor) and g.device.type == "cpu" and g.numpy().dtype == np.asarray(e).dtype
            np.testing.assert_array_equal(g.numpy(), e)
        else:
            assert g == e


@pytest.mark.parametrize("name", ["solve", "solve diagonal", "solve tridiagonal", "inv", "inv pos", "det", "cholesky",
                                  "cho_solve", "lu_solve", "eigh", "lstsq", "norm", "norm 2", "svd", "qr"])
def test_no_torch_operation_runs_in_a_bridged_call(name, no_torch_operations, rng):
    a, s, b = _matrix(rng, 5, "float64"), _matrix(rng, 5, "float64", SPD), rng.standard_normal(5)
    CALLS[name](*(torch.from_numpy(x) for x in (a, b, s)))


def test_lazy_views_and_grad_are_read_as_the_planners_read_them(rng):
    a = torch.from_numpy(_matrix(rng, 4, "complex128"))
    b = torch.from_numpy(rng.standard_normal(4) + 0j)
    np.testing.assert_allclose(linalg.solve(a.conj(), b).numpy(), np.linalg.solve(a.numpy().conj(), b.numpy()))
    np.testing.assert_allclose(linalg.solve(torch._neg_view(a), b).numpy(), np.linalg.solve(-a.numpy(), b.numpy()))
    leaf = torch.from_numpy(_matrix(rng, 4, "float64")).requires_grad_()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inverse = linalg.inv(leaf)
    assert [str(w.message).split(" requires grad")[0] for w in caught] == ["a"] and caught[0].filename == __file__
    assert not inverse.requires_grad


def test_calls_the_bridge_leaves_alone(rng):
    s = torch.from_numpy(_matrix(rng, 4, "float64", SPD))
    assert linalg.cholesky(s, overwrite_a=True) is s  # SciPy's in-place result: the operand itself
    with pytest.raises((TypeError, ValueError)):
        linalg.solve(s, np.ones(4))  # a tensor and a NumPy array: refused as before
    half = torch.from_numpy(_matrix(rng, 4, "float64", SPD)).to(torch.bfloat16)
    assert linalg.cholesky(half).dtype == torch.float32  # (SciPy's promotion, on the general path)


def test_each_bridged_function_is_the_function_of_its_name():
    import inspect

    import gpmath.linalg as namespace

    bridged = [name for name in namespace.__all__ if hasattr(getattr(namespace, name), "__wrapped__")]
    assert len(bridged) == 21
    for name in bridged:
        function = getattr(namespace, name)
        assert function.__wrapped__.__name__ == name
        assert inspect.signature(function) == inspect.signature(function.__wrapped__)
