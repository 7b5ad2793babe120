"""The package adapter, host staging and the engine table, without a GPU (torch CPU where installed)."""

from __future__ import annotations

import numpy as np
import pytest

import gpmath
from gpmath._core import engines
from gpmath._core.dtypes import DTYPES
from gpmath._core.packages import NUMPY, as_array, package_of
from gpmath._core.staging import HostStaging, deliver


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_numpy_host_values_are_native_and_equal(rng, dtype):
    x = rng.standard_normal((5, 4)).astype(dtype)
    swapped = x.astype(x.dtype.newbyteorder(">" if x.dtype.byteorder in "=<" else "<"))
    values = NUMPY.host_values(swapped)
    assert values.dtype.isnative and values.dtype == x.dtype
    np.testing.assert_array_equal(values, x)
    assert NUMPY.host_values(x) is x  # native: no copy


def test_torch_host_values_resolve_lazy_views(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    t = torch.from_numpy(x)
    pkg = package_of(t, "x")
    np.testing.assert_array_equal(pkg.host_values(t.conj()), np.conj(x))
    np.testing.assert_array_equal(pkg.host_values(torch._neg_view(t)), -x)
    plain = pkg.host_values(t)
    assert np.shares_memory(plain, x)  # a view where the memory holds the values
    bf16 = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    np.testing.assert_array_equal(pkg.host_values(bf16), np.array([1.5, -2.0], np.float32))


def test_torch_host_values_of_tensors_that_require_grad_are_their_values(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 4))
    t = torch.tensor(x, requires_grad=True)
    pkg = package_of(t, "x")
    np.testing.assert_array_equal(pkg.host_values(t), x)
    np.testing.assert_array_equal(pkg.to_numpy(t.conj()), x)


@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_torch_cpu_finite_tests_read_the_values_without_torchs_reductions(rng, monkeypatch, bad):
    """torch's own reductions would wake its thread pool between SciPy's LAPACK calls (contention
    that made a 256² solve ten times slower): CPU tensors are tested through NumPy views."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((5, 6)) + 1j * rng.standard_normal((5, 6))
    if bad is not None:
        x[3, 2] = complex(1.0, bad)
    tensors = [torch.from_numpy(x), torch.from_numpy(x).conj(), torch._neg_view(torch.from_numpy(x)),
               torch.from_numpy(x.real.copy()).to(torch.bfloat16), torch.from_numpy(x.real.copy()).requires_grad_()]
    pkg = package_of(tensors[0], "x")

    def refused(*args, **kwargs):
        raise AssertionError("a torch reduction ran")
    for name in ("sum", "all", "isfinite"):
        monkeypatch.setattr(torch.Tensor, name, refused, raising=False)
    for t in tensors:
        expected = bool(np.isfinite(pkg.host_values(t)).all())
        assert bool(pkg.finite_flag(t)) is expected
        assert bool(np.isfinite(complex(pkg.finite_probe([t])))) is expected
    assert bool(pkg.finite_flag(tensors[0])) is (bad is None)


def test_plain_host_views_are_views_of_plain_host_tensors_only(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    t = torch.from_numpy(x)
    pkg = package_of(t, "x")
    for plain in (t, t.real.contiguous(), torch.from_numpy(x.astype(np.complex64)), t.mT, t[:, ::2]):
        view = pkg.plain_host_view(plain)
        assert np.shares_memory(view, plain.numpy()) and np.array_equal(view, plain.numpy())
    refused = [t.conj(), torch._neg_view(t), t.real.clone().requires_grad_(), t.real.to(torch.bfloat16),
               t.real.to(torch.float16), torch.arange(3)]
    assert all(pkg.plain_host_view(r) is None for r in refused)
    assert NUMPY.plain_host_view(x) is None  # (NumPy arrays need no bridge)


@pytest.mark.parametrize("convert", ["asarray", "from_numpy"])
def test_torch_asarray_of_host_results_in_every_layout(convert):
    """Both ways a host result becomes a CPU tensor: over the values where torch can be (no copy,
    its layout), over a copy of read-only memory (a broadcast batch's rcond came so) and of
    negative strides; never torch's warning of a tensor over read-only memory."""
    torch = pytest.importorskip("torch")
    import warnings

    pkg = package_of(torch.ones(1), "x")
    to_tensor = pkg.asarray if convert == "asarray" else lambda x, device_id: pkg.from_numpy(x, DTYPES["float64"], None)
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    read_only = np.arange(3.0)
    read_only.flags.writeable = False
    cases = [fortran, read_only, np.broadcast_to(np.arange(3.0), (2, 3)), np.arange(3.0)[::-1][:1],
             np.arange(6.0)[::-1], np.float64(2.5), [1, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (torch warns of a tensor over read-only memory)
        results = [to_tensor(x, None) for x in cases]
    for x, t in zip(cases, results):
        np.testing.assert_array_equal(t.numpy(), np.asarray(x))
        assert str(t.dtype) == f"torch.{'float64' if convert == 'from_numpy' else np.asarray(x).dtype}"
    assert np.shares_memory(results[0].numpy(), fortran) and results[0].stride() == (1, 3)  # no copy, its layout
    assert not np.shares_memory(results[1].numpy(), read_only)
    results[2][0, 0] = 7.0  # (a tensor of its own: one element written, not a broadcast row)
    assert results[2][1, 0] == 0.0


def test_deliver_keeps_the_callers_package_and_makes_0d_arrays():
    torch = pytest.importorskip("torch")
    pkg = package_of(torch.zeros(1), "x")
    w, rank, s = deliver(pkg, (np.arange(3.0), 2, np.float64(4.0)), None)
    assert isinstance(w, torch.Tensor) and w.dtype == torch.float64 and rank == 2
    assert isinstance(s, torch.Tensor) and s.shape == ()
    pivots = deliver(pkg, np.array([1, 0], np.int32), None)
    assert pivots.dtype == torch.int32
    assert deliver(NUMPY, np.float64(4.0), None) == 4.0


def test_staging_writes_back_into_an_out_that_is_not_its_memory(rng):
    x = rng.standard_normal((3, 3))
    out = np.zeros((3, 3), ">f8")
    staging = HostStaging(NUMPY)
    mirror = staging.inward(out)
    mirror[...] = x
    assert staging.written(out, mirror) is out
    np.testing.assert_array_equal(out, x)


def test_bfloat16_host_operands_come_back_bfloat16(rng):
    torch = pytest.importorskip("torch")
    a = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32)).to(torch.bfloat16)
    staging = HostStaging(package_of(a, "a"))
    mirror = staging.inward(a)
    assert mirror.dtype == np.float32
    assert staging.outward(mirror @ mirror.T).dtype == torch.bfloat16


def test_as_array_rejects_ragged_and_object_input():
    with pytest.raises(ValueError, match="x is not a regular array"):
        as_array([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="must hold numbers"):
        as_array([object()])
    array, pkg = as_array([1, 2, 3])
    assert pkg is NUMPY and array.tolist() == [1, 2, 3]


@pytest.mark.parametrize("front", sorted(engines.TABLE))
def test_every_table_row_names_engines_of_its_front(front):
    cuda, cpu, _ = engines.TABLE[front]
    cuda_engine, cpu_engine = engines._load(cuda), engines._load(cpu)
    assert [k.__name__ for k in cuda_engine.__mro__].index(front) > 0
    assert [k.__name__ for k in cpu_engine.__mro__].index(front) > 0


def test_empty_operands_choose_the_cpu_engine():
    a = np.ones((0, 3))
    located = [("a", NUMPY, None)]
    choice = engines.choose("Matmul", None, located, empty=engines.any_empty(a))
    assert choice.device_id is None and choice.staging is None
    assert choice.engine.__name__ == "CpuMatmul"


def test_a_plan_chooses_its_engine_once(monkeypatch):
    calls = []
    real = engines.resolve_execution
    monkeypatch.setattr(engines, "resolve_execution", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    a = np.eye(3)
    gpmath.linalg.solve(a, np.ones(3))
    gpmath.blas.Matmul(a, a)
    gpmath.fft.FFT(a)
    assert len(calls) == 3


def test_dtype_table_names_numpy_dtypes():
    for name, dtype in DTYPES.items():
        assert dtype.numpy is None or dtype.numpy.name == name


def test_a_plan_locates_each_operand_once(monkeypatch):
    from gpmath.blas import _planner

    calls = []
    real = _planner.locate
    monkeypatch.setattr(_planner, "locate", lambda x, name: calls.append(name) or real(x, name))
    gpmath.blas.Matmul(np.eye(3), np.eye(3))
    assert calls == ["a", "b"]


@pytest.mark.parametrize("call", ["matmul", "fft", "dct", "solve"])
@pytest.mark.parametrize("placement", ["cuda", "auto"])  # (auto: the small calls' shortcuts)
def test_torch_operands_that_require_grad_warn_once_at_the_callers_line(call, placement):
    torch = pytest.importorskip("torch")
    import warnings

    import gpmath

    gpmath.set_placement(placement)
    leaf = torch.eye(3, dtype=torch.float64, requires_grad=True)
    run = {"matmul": lambda a: gpmath.matmul(a, a), "fft": lambda a: gpmath.fft.fft(a),
           "dct": lambda a: gpmath.fft.dct(a),
           "solve": lambda a: gpmath.linalg.solve(a, torch.ones(3, dtype=torch.float64))}[call]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(leaf)
    messages = [w for w in caught if "records no autograd graph" in str(w.message)]
    assert messages and all(w.filename == __file__ for w in messages), [(w.filename, str(w.message)) for w in caught]
    import scipy.fft

    expected = {"matmul": np.eye(3), "fft": np.fft.fft(np.eye(3)), "dct": scipy.fft.dct(np.eye(3)), "solve": np.ones(3)}[call]
    np.testing.assert_allclose(result.numpy(), expected, atol=1e-12)  # (cuFFT's zeros: rounding)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.no_grad():
            run(leaf)
        run(leaf.detach())
