"""DCT/DST (types 1-4), the n-D Hermitian FFTs and the fast Hankel transform against scipy.fft.

The oracle: random data, every type, norm and orthogonalisation, lengths (odd, even, 1, padded,
cropped), axes, layouts and dtypes, computed by gpmath on each package and by SciPy in float64.
Packages: NumPy and torch on the CPU here; torch CUDA and CuPy in the ``gpu`` variants.  Host
arrays whose FFTs run on the CPU take scipy.fft's own DCT/DST in the stateless functions; the
stateless tests also run with that shortcut off (``route`` "composed"), so the composed steps that
host arrays computed on a GPU take are checked here too.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.fft

import gpmath
import gpmath.fft as gfft
from gpmath._errors import FreedPlanError
from gpmath.fft import DCT, DST, _r2r_planner
from helpers import relative_error, to_numpy

gpu = pytest.mark.gpu
PACKAGES = ["numpy", "torch-cpu", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]
TOL = {"float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}
NORMS = [None, "ortho", "forward"]


@pytest.fixture(params=["scipy", "composed"])
def route(request, monkeypatch):
    """The stateless route of host arrays on the CPU: scipy.fft's transform, or gpmath's composed
    steps around its CPU FFTs (device arrays take neither: one run of them is enough)."""
    package = getattr(getattr(request.node, "callspec", None), "params", {}).get("package", "numpy")
    if request.param == "composed":
        if package in ("torch", "cupy"):
            pytest.skip("device arrays do not take the host route")
        monkeypatch.setattr(_r2r_planner, "_on_cpu", lambda *args: False)
        monkeypatch.setattr(_r2r_planner, "small_on_host", lambda *args: False)
    return request.param


def convert(x: np.ndarray, package: str, dtype: str):
    """*x* as *package*'s array of *dtype*, keeping *x*'s strides where the package can."""
    if package == "numpy":
        return x.astype(dtype, copy=False)
    if package == "cupy":
        return pytest.importorskip("cupy").asarray(x.astype(dtype))
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(np.ascontiguousarray(x)).to(dtype=getattr(torch, dtype))
    return t if package == "torch-cpu" else t.to("cuda")


def check(result, reference, dtype: str) -> None:
    reference = np.asarray(reference)
    assert tuple(result.shape) == reference.shape
    precision = "float32" if dtype in ("float16", "float32", "complex64") else "float64"
    assert relative_error(result, reference) < TOL[precision] * max(1, reference.shape[-1] if reference.ndim else 1)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", ["dct", "idct", "dst", "idst"])
@pytest.mark.parametrize("kind", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [1, 2, 5, 8, 17])
def test_1d_every_norm_and_orthogonalize(rng, route, package, name, kind, n):
    if name.endswith("dct") and kind == 1 and n == 1:
        pytest.skip("DCT-I needs 2 points")
    x = rng.uniform(-1, 1, (3, n))
    xp = convert(x, package, "float64")
    for norm, orthogonalize in itertools.product(NORMS, [None, True, False]):
        result = getattr(gfft, name)(xp, type=kind, norm=norm, orthogonalize=orthogonalize)
        assert type(result).__module__.partition(".")[0] == package.partition("-")[0]
        check(result, getattr(scipy.fft, name)(x, type=kind, norm=norm, orthogonalize=orthogonalize), "float64")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "complex64", "complex128"])
@pytest.mark.parametrize("name", ["dct", "dst"])
def test_dtypes_follow_scipy(rng, route, package, dtype, name):
    if package != "numpy" and dtype == "float16":
        dtype = "float32"
    x = rng.uniform(-10, 10, (4, 12))
    if dtype.startswith("complex"):
        x = x + 1j * rng.uniform(-1, 1, x.shape)
    x = x.astype(dtype)
    for type in (1, 2, 3, 4):
        result = getattr(gfft, name)(convert(x, package, dtype), type=type)
        reference = getattr(scipy.fft, name)(x, type=type)
        assert str(result.dtype).rpartition(".")[2] == reference.dtype.name
        wide = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
        check(result, getattr(scipy.fft, name)(wide, type=type), dtype)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_layouts_axes_and_lengths(rng, route, package, layout, axis):
    base = rng.uniform(-1, 1, (9, 10, 7))
    x = {"C": base, "F": np.asfortranarray(base), "strided": base[::2, 1::2], "reversed": base[::-1, :, ::-1]}[layout]
    xp = convert(x, package, "float64") if package == "numpy" else convert(np.ascontiguousarray(x), package, "float64")
    for name, type, n in itertools.product(["dct", "idst"], [1, 2, 3, 4], [None, 3, 12]):
        reference = getattr(scipy.fft, name)(x, type=type, n=n, axis=axis)
        check(getattr(gfft, name)(xp, type=type, n=n, axis=axis), reference, "float64")
    assert np.array_equal(to_numpy(xp), x)  # the caller's array is unchanged


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", ["dctn", "idctn", "dstn", "idstn"])
@pytest.mark.parametrize("s, axes", [(None, None), ((4, 6), None), (None, (0, 2)), ((5, -1), (2, 0)), (None, -2)])
def test_nd(rng, route, package, name, s, axes):
    x = rng.uniform(-1, 1, (4, 5, 6))
    for type, norm in itertools.product([1, 2, 3, 4], NORMS):
        result = getattr(gfft, name)(convert(x, package, "float64"), type=type, s=s, axes=axes, norm=norm)
        check(result, getattr(scipy.fft, name)(x, type=type, s=s, axes=axes, norm=norm), "float64")


@pytest.mark.parametrize("package", PACKAGES)
def test_empty_batches(route, package):
    x = np.zeros((0, 6))
    for name, type in itertools.product(["dct", "dst", "idct"], [1, 2, 3, 4]):
        result = getattr(gfft, name)(convert(x, package, "float32"), type=type)
        assert tuple(result.shape) == (0, 6)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("planner, name", [(DCT, "dctn"), (DST, "dstn")])
def test_planner_contract(rng, package, planner, name):
    x, x2 = rng.uniform(-1, 1, (2, 6, 8)), rng.uniform(-1, 1, (2, 6, 8))
    with planner(convert(x, package, "float32"), type=3, axes=(1, 2), norm="ortho") as plan:
        assert plan.plan() is plan and "planned" in repr(plan)
        check(plan.execute(), getattr(scipy.fft, name)(x, type=3, axes=(1, 2), norm="ortho"), "float32")
        plan.reset_operands(convert(x2, package, "float32"))
        check(plan.execute("inverse"), getattr(scipy.fft, "i" + name)(x2, type=3, axes=(1, 2), norm="ortho"), "float32")
        plan.reset_operands_unchecked(convert(x, package, "float32"))
        check(plan.execute(), getattr(scipy.fft, name)(x, type=3, axes=(1, 2), norm="ortho"), "float32")
        with pytest.raises(ValueError, match="shape"):
            plan.reset_operands(convert(x[:1], package, "float32"))
        with pytest.raises(ValueError, match="direction"):
            plan.execute("sideways")
    assert "freed" in repr(plan)
    with pytest.raises(FreedPlanError):
        plan.execute()


def test_bad_arguments_raise_scipys_errors():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="type"):
        gfft.dct(x, type=5)
    for wrong in (2.0, np.float64(3.0), "2", True):  # SciPy's dct and dstn: TypeError for the first three
        for name in ("dct", "idct", "dstn"):
            with pytest.raises(TypeError, match="type must be an integer"):
                getattr(gfft, name)(x, type=wrong)
            if wrong is not True and name != "idct":  # (SciPy's idct looks the type up: 2.0 passes there)
                with pytest.raises(TypeError):
                    getattr(scipy.fft, name)(x, type=wrong)
    np.testing.assert_allclose(gfft.dct(x, type=np.int64(3)), scipy.fft.dct(x, type=3))
    for call in (lambda m: m.dct(np.ones(1), type=1), lambda m: m.idctn(np.ones((1, 5)), type=1)):
        with pytest.raises(Exception) as scipys:
            call(scipy.fft)
        with pytest.raises(ValueError, match="at least 2") as ours:  # gpmath's type, and SciPy's too
            call(gfft)
        assert isinstance(ours.value, type(scipys.value)), (ours.value, scipys.value)
    with pytest.raises(ValueError, match="at least 2"):  # also empty (documented: SciPy 1.17 returns it)
        gfft.dct(np.ones((0, 1)), type=1)
    with pytest.raises(ValueError, match="invalid number of data points"):
        gfft.dst(x, n=0)
    with pytest.raises(ValueError, match="norm"):
        gfft.idct(x, norm="both")
    with pytest.raises(IndexError):
        gfft.dct(x, axis=2)
    with pytest.raises(ValueError, match="workers must not be zero"):
        gfft.dctn(x, workers=0)
    with pytest.raises(TypeError, match="longdouble|float128"):
        gfft.dct(x.astype(np.longdouble))
    with pytest.raises(NotImplementedError, match="precomputed plan"):
        gfft.hfft2(x, plan="foo")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", ["dctn", "idctn", "dstn", "idstn", "fftn", "ifftn", "fft2"])
@pytest.mark.parametrize("s", [None, (3, 5), 4])
@pytest.mark.parametrize("dtype", ["float32", "int64", "complex128"])
def test_empty_axes_transform_nothing_whatever_s_says(rng, package, name, s, dtype):
    """SciPy (and NumPy) return x itself for ``axes=()``, ignoring the lengths in s; gpmath a copy."""
    x = (10 * rng.uniform(-1, 1, (2, 3, 4))).astype(dtype)
    xp = convert(x, package, dtype)
    result = getattr(gfft, name)(xp, s=s, axes=())
    assert result is not xp and type(result) is type(xp) and result.dtype == xp.dtype
    np.testing.assert_array_equal(to_numpy(result), to_numpy(getattr(scipy.fft, name)(x, s=s, axes=())))


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name, last", [("irfftn", 1), ("irfft2", 1), ("hfftn", 1), ("hfft2", 1), ("irfftn", 2)])
def test_nd_complex_to_real_of_one_point_gives_one_point(rng, package, name, last):
    """irfftn and hfftn of a last axis of one point give one point by default, as SciPy's (its
    pocketfft's default length ``2 m - 1`` for m = 1); irfft and hfft raise, as SciPy's."""
    x = rng.uniform(-1, 1, (3, last)) + 1j * rng.uniform(-1, 1, (3, last))
    xp = convert(x, package, "complex128")
    check(getattr(gfft, name)(xp), getattr(scipy.fft, name)(x), "complex128")
    for one_d in ("irfft", "hfft"):
        if last == 1:
            with pytest.raises(ValueError, match="invalid number of data points"):
                getattr(gfft, one_d)(xp)
            with pytest.raises(ValueError, match="(?i)invalid number of data points"):
                getattr(scipy.fft, one_d)(x)


def test_planners_refuse_empty_axes():
    x = np.ones((3, 4))
    for planner in (DCT, DST, gpmath.fft.FFT):
        with pytest.raises(ValueError, match="at least 1 axis must be transformed"):
            planner(x, axes=())


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name, s, axes", [("hfft2", None, (-2, -1)), ("hfftn", (4, 9), None), ("hfftn", None, (2, 0)),
                                           ("ihfft2", None, (0, 1)), ("ihfftn", (5, 6), None), ("ihfftn", None, None)])
def test_hermitian_nd(rng, package, name, s, axes):
    x = rng.uniform(-1, 1, (4, 5, 6))
    if name.startswith("h"):
        x = x + 1j * rng.uniform(-1, 1, x.shape)
    dtype = "complex128" if name.startswith("h") else "float64"
    xp = convert(x, package, dtype)
    for norm in NORMS:
        result = getattr(gfft, name)(xp, s=s, axes=axes, norm=norm)
        check(result, getattr(scipy.fft, name)(x, s=s, axes=axes, norm=norm), dtype)
    assert np.array_equal(to_numpy(xp), x)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("n", [63, 64])
@pytest.mark.parametrize("mu, bias, offset", [(0.3, 0.0, 0.0), (-1.5, 0.4, 0.7), (2.0, -0.3, "optimal")])
def test_fht(rng, package, n, mu, bias, offset):
    a = rng.standard_normal((2, n))
    dln = 0.07
    if offset == "optimal":
        offset = gfft.fhtoffset(dln, mu, initial=0.2, bias=bias)
        assert abs(offset - scipy.fft.fhtoffset(dln, mu, initial=0.2, bias=bias)) < 1e-12
    forward = gfft.fht(convert(a, package, "float64"), dln, mu, offset=offset, bias=bias)
    check(forward, scipy.fft.fht(a, dln, mu, offset=offset, bias=bias), "float64")
    back = gfft.ifht(forward, dln, mu, offset=offset, bias=bias)
    check(back, scipy.fft.ifht(to_numpy(forward), dln, mu, offset=offset, bias=bias), "float64")
    assert relative_error(back, a) < 1e-7


@pytest.mark.parametrize("name", ["fht", "ifht"])
def test_fht_of_no_spacing_raises_as_scipy_does(name):
    """dln = 0 (no logarithmic spacing): SciPy's ZeroDivisionError, not an array of NaNs."""
    a = np.ones(8)
    with pytest.raises(ZeroDivisionError):
        getattr(scipy.fft, name)(a, 0.0, 0.5)
    with pytest.raises(ZeroDivisionError, match="dln must not be zero"):
        getattr(gfft, name)(a, 0.0, 0.5)


def test_fht_warns_for_singular_transforms():
    """At every call, as SciPy's does (the coefficients are kept for repeated calls, the warning is
    not: SciPy's own fht test, run on torch tensors after NumPy arrays, found it silent)."""
    a = np.random.default_rng(1).standard_normal(16)
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="singular transform"):
            gfft.fht(a, 0.1, -3.5, bias=0.5)
        with pytest.warns(RuntimeWarning, match="singular inverse transform"):
            gfft.ifht(a, 0.1, -2.5, bias=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gfft.fht(a, 0.1, -4.0, bias=1.0)


@pytest.mark.parametrize("name", ["dct", "idstn", "hfft2", "ihfftn", "fht"])
def test_scipy_backend_runs_gpmath(rng, name):
    x = rng.uniform(-1, 1, (6, 8))
    args = (0.1, 0.5) if name == "fht" else ()
    with scipy.fft.set_backend(gfft, only=True):
        result = getattr(scipy.fft, name)(x, *args)
    check(result, getattr(scipy.fft, name)(x, *args), "float64")


def test_small_numpy_arrays_skip_the_cost_model(rng, monkeypatch):
    """A small NumPy DCT/DST under automatic placement is scipy.fft's without asking the engines'
    cost model (gpmath.fft._functions.small_on_host); a larger one, or another package, asks it."""
    asked = []
    real = _r2r_planner._on_cpu
    monkeypatch.setattr(_r2r_planner, "_on_cpu", lambda *args: asked.append(args[0].shape) or real(*args))
    gpmath.set_placement("auto")  # (the suite's default is "cuda": tests/conftest.py)
    small, large = rng.uniform(-1, 1, (4, 6)), rng.uniform(-1, 1, (80, 60))  # (over SMALL_SIZE elements)
    np.testing.assert_array_equal(gfft.dst(small, type=1), scipy.fft.dst(small, type=1))
    assert asked == []
    check(gfft.dst(large, type=1), scipy.fft.dst(large, type=1), "float64")
    assert asked == [(80, 60)]


@pytest.mark.parametrize("package", ["numpy", "torch-cpu"])
def test_host_arrays_on_the_cpu_take_scipys_transform(rng, package, route, monkeypatch):
    """Where the FFTs of a host array run on the CPU, the stateless DCT/DST is scipy.fft's (its
    values exactly, in the caller's package); where they run on a GPU, or with the shortcut off,
    gpmath's own steps."""
    from gpmath.fft._cpu import SCIPY_BACKEND as backend  # _duccfft or _pocketfft, by SciPy's version

    assert backend is not None, "SciPy moved its backend module again: small transforms pay uarray's dispatch"
    calls = []
    real = backend.dctn

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(backend, "dctn", counted)
    x = rng.uniform(-1, 1, (4, 6))
    result = gfft.dctn(convert(x, package, "float32"), type=3, axes=(0, 1), norm="ortho", execution="cpu")
    assert type(result).__module__.partition(".")[0] == package.partition("-")[0]
    assert str(result.dtype).endswith("float32")
    assert len(calls) == (route == "scipy")
    if calls:
        assert calls[0]["type"] == 3 and calls[0].get("orthogonalize") in (True, None)  # (None: True under "ortho")
        np.testing.assert_array_equal(to_numpy(result), real(x.astype(np.float32), type=3, axes=(0, 1), norm="ortho"))
    check(result, real(x, type=3, axes=(0, 1), norm="ortho"), "float32")


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", ["dct", "idct", "dst", "idst"])
@pytest.mark.parametrize("kind", [1, 2, 3, 4])
@pytest.mark.parametrize("norm, orthogonalize", [(None, True), ("ortho", False), ("forward", True)])
def test_complex_input_honours_orthogonalize_as_its_real_and_imaginary_parts(rng, package, name, kind, norm,
                                                                             orthogonalize):
    """A DCT/DST is real and linear: a complex array's is its real part's plus i times its imaginary
    part's, on every path.  (SciPy 1.17's transform of a complex array ignores an orthogonalize
    that differs from norm == "ortho"; its real transforms, the reference here, honour it.)"""
    x = rng.uniform(-1, 1, (3, 9)) + 1j * rng.uniform(-1, 1, (3, 9))
    reference = getattr(scipy.fft, name)
    expected = (reference(x.real, kind, norm=norm, orthogonalize=orthogonalize)
                + 1j * reference(x.imag, kind, norm=norm, orthogonalize=orthogonalize))
    stateless = getattr(gfft, name)(convert(x, package, "complex128"), kind, norm=norm, orthogonalize=orthogonalize)
    check(stateless, expected, "complex128")
    planner = DCT if name.endswith("dct") else DST
    with planner(convert(x, package, "complex128"), kind, -1, norm=norm, orthogonalize=orthogonalize) as plan:
        planned = plan.plan().execute("inverse" if name.startswith("i") else None)
    check(planned, expected, "complex128")
