"""An independent differential oracle: every public function against NumPy/SciPy.

Each test is one (function, package, execution) id; hypothesis draws the rest — layouts (C,
Fortran, strided, negative strides, element offsets, stride-0 broadcasts, big-endian and
read-only NumPy, torch conj and neg bits), shapes (empty dimensions and batches, size 1,
batches) and dtypes.  The reference is NumPy/SciPy on the same data in float64/complex128; the
result must match it in value (``helpers.TOLERANCE``), dtype (SciPy's for that input dtype),
shape, package and device.  Decompositions that are not unique are checked by their invariants.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import scipy.linalg
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import gpmath
from gpmath import fft as gfft
from gpmath import linalg as gla
from gpmath.blas import Matmul

from helpers import examples, lstsq_residues, relative_error, to_numpy, tolerance

ORACLE = settings(max_examples=examples(30), deadline=None, derandomize=True, database=None,
                  phases=(Phase.explicit, Phase.generate),
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

REAL = ("float32", "float64")
COMPLEX = ("complex64", "complex128")
FLOATS = REAL + COMPLEX


# ----------------------------------------------------------------------------------------------
# Targets: a package (and device) crossed with an execution; device ones are gpu-marked.

def _targets(executions=("cpu", None, "cuda", "auto")):
    """``None``: automatic execution under the suite's placement mode ("cuda": host arrays on a
    GPU where one is usable); ``"auto"``: automatic execution in automatic placement, as a user's
    calls run (host arrays only: small ones take the host shortcuts)."""
    params = []
    for package in ("numpy", "torch", "torch-cuda", "cupy"):
        for execution in executions:
            if execution == "auto" and package in ("torch-cuda", "cupy"):
                continue
            gpu = package in ("torch-cuda", "cupy") or execution == "cuda"
            params.append(pytest.param((package, execution), id=f"{package}-{execution or 'default'}",
                                       marks=[pytest.mark.gpu] if gpu else []))
    return params


TARGETS = _targets()
PACKAGES_ONLY = _targets((None,))


class Target:
    """Makes operands of one package/device/layout from float64 NumPy references."""

    def __init__(self, name: str, execution):
        self.name, self.execution = name, execution
        self.module = name.partition("-")[0]
        self.device = "cuda" if name in ("torch-cuda", "cupy") else "cpu"
        self.xp = pytest.importorskip(self.module) if self.module != "numpy" else np

    def __repr__(self):
        return f"{self.name}/{self.execution}"

    def layouts(self, dtype, broadcast: bool = True) -> list[str]:
        common = ["C", "F", "strided", "offset"] + (["broadcast"] if broadcast else [])
        if self.module == "numpy":
            return common + ["negative", "bigendian", "readonly"]
        if self.module == "cupy":
            return common + ["negative"]
        return common + ["neg"] + (["conj"] if np.dtype(dtype).kind == "c" else [])

    def asarray(self, host: np.ndarray):
        """A C-contiguous copy of NumPy *host* in this package and device."""
        if self.module == "torch":
            return self.xp.from_numpy(np.ascontiguousarray(host).copy()).to(self.device)
        return self.xp.asarray(np.ascontiguousarray(host).copy())

    def make(self, ref: np.ndarray, dtype, layout: str = "C"):
        """``(x, values)``: *ref* as *dtype* in *layout*, and the values *x* holds (float64/complex128).

        "broadcast" repeats ``ref[:1]`` along axis 0 (a stride-0 axis), so *values* differ from *ref*.
        """
        ref = np.asarray(ref)
        if layout == "broadcast" and ref.ndim:
            ref = np.broadcast_to(ref[:1], ref.shape)
        host = np.ascontiguousarray(ref.astype(dtype))
        values = host.astype(np.complex128 if host.dtype.kind == "c" else np.float64)
        return self._layout(host, layout), values

    def _layout(self, host: np.ndarray, layout: str):
        shape, ndim = host.shape, host.ndim
        if layout == "bigendian":
            return host.astype(host.dtype.newbyteorder(">"))
        if layout == "readonly":
            host.flags.writeable = False
            return host
        if layout == "F":
            rev = tuple(reversed(range(ndim)))
            x = self.asarray(host.transpose(rev))
            return x.permute(*rev) if self.module == "torch" else x.transpose(rev)
        if layout == "strided":
            step = (slice(None, None, 2),) * ndim
            big = np.zeros(tuple(2 * n for n in shape), host.dtype)
            big[step] = host
            return self.asarray(big)[step]
        if layout == "negative":
            rev = (slice(None, None, -1),) * ndim
            return self.asarray(host[rev])[rev]
        if layout == "offset":
            flat = np.zeros(host.size + 1, host.dtype)
            flat[1:] = host.ravel()
            return self.asarray(flat)[1:].reshape(shape)
        if layout == "broadcast" and ndim:
            first = self.asarray(host[:1])
            return first.expand(*shape) if self.module == "torch" else self.xp.broadcast_to(first, shape)
        if layout == "conj":
            return self.asarray(host.conj()).conj()
        if layout == "neg":
            return self.xp._neg_view(self.asarray(-host))
        return self.asarray(host)


@pytest.fixture
def packages(request, _placement_as_written):
    """The Target factory of this test id's (package, execution)."""
    if request.param[1] == "auto":
        gpmath.set_placement("auto")
    return Target(*request.param)


def where(x) -> tuple[str, str]:
    """(package module, "cpu" or "cuda") of an array or scalar."""
    module = type(x).__module__.partition(".")[0]
    if module == "torch":
        return module, x.device.type
    return module, "cuda" if module == "cupy" else "cpu"


def dtype_name(x) -> str:
    """The name of the dtype of *x* (an array of any package), or of *x* itself when a dtype."""
    dtype = getattr(x, "dtype", x)
    return str(dtype).rpartition(".")[2] if type(dtype).__module__ == "torch" else np.dtype(dtype).name


def host(x) -> np.ndarray:
    """*x* (any package, conj/neg bits resolved) as float64/complex128 NumPy."""
    if where(x)[0] == "torch":
        x = x.detach().resolve_conj().resolve_neg()
    return to_numpy(x)


def check_meta(result, dtype, shape, packages: Target) -> None:
    """Package, device, dtype and shape of *result*."""
    assert where(result) == (packages.module, packages.device), f"{type(result)} on {where(result)[1]}, wanted {packages}"
    assert dtype_name(result) == dtype_name(dtype), f"dtype {dtype_name(result)}, SciPy/NumPy give {dtype_name(dtype)}"
    assert tuple(result.shape) == tuple(shape), f"shape {tuple(result.shape)}, wanted {tuple(shape)}"


def assert_close(actual, reference, dtype, scale: float = 1.0, k: int = 1, same_nonfinite: bool = True) -> None:
    """Max-norm relative error of *actual* against *reference* within the dtype's tolerance; where
    the reference is NaN or infinite, *actual* must hold the same value (with *same_nonfinite*
    false, any NaN or infinity)."""
    actual, reference = host(actual), np.asarray(reference)
    finite = np.isfinite(reference)
    if same_nonfinite:
        np.testing.assert_array_equal(actual[~finite], reference[~finite], err_msg="non-finite entries differ")
    else:
        assert not np.isfinite(actual[~finite]).any(), "finite where NumPy/SciPy give NaN or infinity"
    error, bound = relative_error(actual[finite], reference[finite]), tolerance(dtype_name(dtype), k) * scale
    assert error <= bound, f"relative error {error:.3g} > {bound:.3g} ({dtype_name(dtype)})"


def compare(result, reference, dtype, packages: Target, scale: float = 1.0, k: int = 1, precision=None,
            same_nonfinite: bool = True) -> None:
    """*result* against the NumPy/SciPy *reference*: package, device, dtype, shape and value (to
    the tolerance of *precision*, the dtype computed in, by default *dtype*; non-finite entries as
    :func:`assert_close` takes them)."""
    reference = np.asarray(reference)
    check_meta(result, dtype, reference.shape, packages)
    assert_close(result, reference, dtype if precision is None else precision, scale, k, same_nonfinite)


def scipy_dtype(fn, values, dtype, *args, **kwargs):
    """The dtype SciPy/NumPy's *fn* returns for *values* given as *dtype* (first output if a tuple)."""
    out = fn(*[np.asarray(v).astype(dtype) for v in values], *args, **kwargs)
    return (out[0] if isinstance(out, tuple) else out).dtype


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def random(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    return x + 1j * rng.uniform(-1, 1, shape) if np.dtype(dtype).kind == "c" else x


def draw_layout(data, packages, dtype, label, broadcast=True):
    return data.draw(st.sampled_from(packages.layouts(dtype, broadcast)), label=label)


# ----------------------------------------------------------------------------------------------
# matmul and the Matmul planner

def draw_matmul(data, packages):
    """A drawn ``alpha * a @ b + beta * c`` problem: operands, values and layouts."""
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(("float16",) + FLOATS), label="dtype")
    m, k, n = (data.draw(st.sampled_from([0, 1, 2, 3, 5]), label=x) for x in "mkn")
    batch = data.draw(st.sampled_from([(), (1,), (3,), (0,), (2, 1)]), label="batch")
    vector = data.draw(st.sampled_from([None, "a", "b"]), label="vector")
    shapes = {"a": (k,) if vector == "a" else batch + (m, k),
              "b": (k,) if vector == "b" else data.draw(st.sampled_from([batch, batch[1:]]), label="b batch") + (k, n)}
    if vector is None and data.draw(st.booleans(), label="c"):
        shapes["c"] = np.broadcast_shapes(shapes["a"][:-2], shapes["b"][:-2]) + (m, n)
    p = dict(dtype=dtype, k=k, alpha=data.draw(st.sampled_from([1, 0.5, -2]), label="alpha"),
             beta=data.draw(st.sampled_from([None, 1, 0.5]), label="beta") if "c" in shapes else None, c=None)
    for name, shape in shapes.items():
        p[name + "_layout"] = draw_layout(data, packages, dtype, name + " layout")
        p[name], p[name + "_val"] = packages.make(random(rng, shape, dtype), dtype, p[name + "_layout"])
    p["expected"] = scipy_dtype(np.matmul, (p["a_val"], p["b_val"]), dtype)
    return p


def matmul_ref(p, a_val):
    c_term = 0 if p["c"] is None else (1 if p["beta"] is None else p["beta"]) * p["c_val"]
    return p["alpha"] * np.matmul(a_val, p["b_val"]) + c_term


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@ORACLE
@given(data=st.data())
def test_matmul(packages, data):
    p = draw_matmul(data, packages)
    result = gpmath.matmul(p["a"], p["b"], p["c"], alpha=p["alpha"], beta=p["beta"], execution=packages.execution)
    compare(result, matmul_ref(p, p["a_val"]), p["expected"], packages, k=max(p["k"], 1))


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@ORACLE
@given(data=st.data())
def test_matmul_planner(packages, data):
    p = draw_matmul(data, packages)
    with Matmul(p["a"], p["b"], p["c"], alpha=p["alpha"], beta=p["beta"], execution=packages.execution) as mm:
        mm.plan()
        compare(mm.execute(), matmul_ref(p, p["a_val"]), p["expected"], packages, k=max(p["k"], 1))
        a2, a2_val = packages.make(-p["a_val"], p["dtype"], p["a_layout"])  # same layout, new values
        mm.reset_operands(a=a2)
        compare(mm.execute(), matmul_ref(p, a2_val), p["expected"], packages, k=max(p["k"], 1))


# ----------------------------------------------------------------------------------------------
# FFT functions, helpers and the FFT planner

C2C = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn")
R2C = ("rfft", "rfft2", "rfftn", "ihfft")
C2R = ("irfft", "irfft2", "irfftn", "hfft")


def draw_fft_call(data, name, ndim):
    """Keyword arguments of scipy.fft.<name> for an input of *ndim* dimensions, and the axes it transforms."""
    norm = data.draw(st.sampled_from([None, "backward", "ortho", "forward"]), label="norm")
    if name[-1] not in "2n":  # one axis
        axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
        n = data.draw(st.sampled_from([None, 1, 3, 4, 8]), label="n")
        return dict(n=n, axis=axis, norm=norm), (axis % ndim,)
    if name.endswith("2"):
        axes = data.draw(st.sampled_from([(-2, -1), (0, -1), (-1, 0)]), label="axes")
    else:
        axes = data.draw(st.sampled_from([None, (-1,), (0,), tuple(range(ndim)), tuple(range(ndim))[::-1], ()]),
                         label="axes")
    transformed = tuple(range(ndim)) if axes is None else tuple(a % ndim for a in axes)
    s = data.draw(st.sampled_from([None, tuple(3 for _ in transformed), tuple(range(2, 2 + len(transformed)))]),
                  label="s")
    return dict(s=s, axes=axes, norm=norm), transformed


def draw_fft_input(data, packages, name, dtypes):
    """``(x, values, kwargs)`` for gpmath.fft.<name>: a transform with an empty batch axis at times."""
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    ndim = data.draw(st.integers(2 if name[-1] == "2" else 1, 3), label="ndim")
    kwargs, transformed = draw_fft_call(data, name, ndim)
    shape = [data.draw(st.sampled_from([1, 2, 3, 4, 5, 8]), label=f"len{i}") for i in range(ndim)]
    untouched = [i for i in range(ndim) if i not in transformed]
    if untouched and data.draw(st.booleans(), label="empty batch"):
        shape[data.draw(st.sampled_from(untouched), label="empty axis")] = 0
    layout = draw_layout(data, packages, dtype, "layout")
    x, values = packages.make(random(rng, tuple(shape), dtype), dtype, layout)
    return x, values, dtype, kwargs, layout


def fft_case(packages, data, name, dtypes):
    x, values, dtype, kwargs, _ = draw_fft_input(data, packages, name, dtypes)
    fn = getattr(scipy.fft, name)
    try:
        ref = fn(values, **kwargs)
        expected = scipy_dtype(fn, (values,), dtype, **kwargs)
    except Exception as error:  # SciPy refuses: gpmath must raise the same type
        with pytest.raises(type(error)):
            getattr(gfft, name)(x, **kwargs, execution=packages.execution)
        return
    result = getattr(gfft, name)(x, **kwargs, execution=packages.execution)
    compare(result, ref, expected, packages, k=max(values.size, 1))


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("name", C2C)
@ORACLE
@given(data=st.data())
def test_fft_complex(packages, name, data):
    fft_case(packages, data, name, ("float16",) + FLOATS)


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("name", R2C)
@ORACLE
@given(data=st.data())
def test_fft_real_input(packages, name, data):
    fft_case(packages, data, name, ("float16",) + REAL)


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("name", C2R)
@ORACLE
@given(data=st.data())
def test_fft_real_output(packages, name, data):
    fft_case(packages, data, name, FLOATS)


@pytest.mark.parametrize("packages", PACKAGES_ONLY, indirect=True)
@pytest.mark.parametrize("name", ("fftshift", "ifftshift"))
@ORACLE
@given(data=st.data())
def test_fft_shift(packages, name, data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(("float16",) + FLOATS), label="dtype")
    shape = tuple(data.draw(st.lists(st.sampled_from([0, 1, 2, 3, 5]), min_size=1, max_size=3), label="shape"))
    axes = data.draw(st.sampled_from([None, -1, 0, tuple(range(len(shape)))]), label="axes")
    x, values = packages.make(random(rng, shape, dtype), dtype, draw_layout(data, packages, dtype, "layout"))
    fn = getattr(scipy.fft, name)
    compare(getattr(gfft, name)(x, axes=axes), fn(values, axes=axes), scipy_dtype(fn, (values,), dtype, axes=axes),
            packages)


@pytest.mark.parametrize("packages", PACKAGES_ONLY, indirect=True)
@pytest.mark.parametrize("name", ("fftfreq", "rfftfreq"))
@ORACLE
@given(n=st.integers(1, 12), d=st.sampled_from([1.0, 0.1, 3]))
def test_fft_freq(packages, name, n, d):
    xp = None if packages.module == "numpy" else packages.xp
    where = {"device": packages.device} if packages.module == "torch" else {}  # CuPy's fftfreq takes no device
    expected = getattr((xp or np).fft, name)(n, d, **where)  # the package's own default dtype
    compare(getattr(gfft, name)(n, d, xp=xp, **where), getattr(scipy.fft, name)(n, d), expected.dtype, packages)


PLAN_KINDS = {"c2c": (scipy.fft.fftn, scipy.fft.ifftn, FLOATS), "r2c": (scipy.fft.rfftn, None, REAL),
              "c2r": (scipy.fft.irfftn, None, COMPLEX)}


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("kind", sorted(PLAN_KINDS))
@ORACLE
@given(data=st.data())
def test_fft_planner(packages, kind, data):
    forward, inverse, dtypes = PLAN_KINDS[kind]
    x, values, dtype, kwargs, layout = draw_fft_input(data, packages, "fftn", dtypes)
    kwargs["s"] = None if kind == "c2r" else kwargs["s"]
    if kwargs["axes"] == ():  # a plan transforms something (the functions return x itself)
        with pytest.raises(ValueError, match="at least 1 axis must be transformed"):
            gfft.FFT(x, (), kind=kind, s=kwargs["s"], execution=packages.execution)
        return
    if kind == "c2r":
        axis = (kwargs["axes"] or (-1,))[-1]
        if values.shape[axis] < 2:
            return
    ref = forward(values, **kwargs)
    expected = scipy_dtype(forward, (values,), dtype, **kwargs)
    with gfft.FFT(x, kwargs["axes"], kind=kind, s=kwargs["s"], norm=kwargs["norm"], execution=packages.execution) as f:
        f.plan()
        compare(f.execute(), ref, expected, packages, k=max(values.size, 1))
        if inverse is not None:
            compare(f.execute(direction="inverse"), inverse(values, **kwargs), expected, packages, k=max(values.size, 1))
        x2, values2 = packages.make(2 * values, dtype, layout)  # same layout, new values
        f.reset_operands(x2)
        compare(f.execute(), forward(values2, **kwargs), expected, packages, k=max(values.size, 1))


# ----------------------------------------------------------------------------------------------
# gpmath.linalg: each case draws its operands and checks the result or its invariants

def matrices(rng, shape, dtype, kind):
    """Well-conditioned float64 test matrices of *kind* (general, pos, herm, lower, upper, rect)."""
    a = random(rng, shape, dtype)
    n = shape[-1]
    eye = np.eye(n)
    if kind == "pos":
        return a @ np.conj(np.swapaxes(a, -1, -2)) + n * eye
    if kind == "herm":
        return (a + np.conj(np.swapaxes(a, -1, -2))) / 2
    if kind == "rect":
        return a
    general = a + 2 * max(n, 1) * eye
    return np.tril(general) if kind == "lower" else np.triu(general) if kind == "upper" else general


class Draw:
    """Shared draws of a linalg case: seed, dtype, batch, size, and operands in random layouts."""

    def __init__(self, data, packages, square=True):
        self.data, self.packages, self.rng = data, packages, seeded(data)
        self.dtype = data.draw(st.sampled_from(FLOATS), label="dtype")
        self.batch = data.draw(st.sampled_from([(), (1,), (3,), (2, 2), (0,)]), label="batch")
        self.n = data.draw(st.integers(0, 5), label="n")
        self.m = self.n if square else data.draw(st.integers(0, 6), label="m")

    def matrix(self, kind="general", label="a"):
        shape = self.batch + ((self.m, self.n) if kind == "rect" else (self.n, self.n))
        layout = draw_layout(self.data, self.packages, self.dtype, f"{label} layout", broadcast=bool(self.batch))
        return self.packages.make(matrices(self.rng, shape, self.dtype, kind), self.dtype, layout)

    def rhs(self, rows=None, label="b", shape=None):
        rows = self.n if rows is None else rows
        shape = shape or self.data.draw(st.sampled_from([(rows,), self.batch + (rows, 2), (rows, 1)]),
                                        label=f"{label} shape")
        layout = draw_layout(self.data, self.packages, self.dtype, f"{label} layout")
        return self.packages.make(random(self.rng, shape, self.dtype), self.dtype, layout)

    def flag(self, label):
        return self.data.draw(st.booleans(), label=label)

    def call(self, fn, *args, **kwargs):
        return fn(*args, **kwargs, execution=self.packages.execution)


def solved(a, b):
    """NumPy's batched solve with gpmath's (and NumPy 2's) rule: b is a vector only when 1-D."""
    return np.linalg.solve(a, b)


def eye_like(x):
    return np.broadcast_to(np.eye(x.shape[-1]), x.shape[:-2] + (x.shape[-1],) * 2)


def ct(x):
    return np.conj(np.swapaxes(x, -1, -2))


def check_orthonormal_columns(q, dtype):
    qh = host(q)
    assert_close(ct(qh) @ qh, eye_like(ct(qh) @ qh), dtype, scale=10)


def case_solve(d):
    assume_a = d.data.draw(st.sampled_from(["gen", "pos"]), label="assume_a")
    a, av = d.matrix("pos" if assume_a == "pos" else "general")
    b, bv = d.rhs()
    compare(d.call(gla.solve, a, b, assume_a=assume_a), solved(av, bv),
            scipy_dtype(np.linalg.solve, (np.eye(2), np.ones(2)), d.dtype), d.packages, scale=10)


def case_solve_triangular(d):
    lower = d.flag("lower")
    a, av = d.matrix("lower" if lower else "upper")
    b, bv = d.rhs()
    trans = d.data.draw(st.sampled_from([0, 1, 2]), label="trans")
    op = [av, np.swapaxes(av, -1, -2), ct(av)][trans]
    expected = scipy_dtype(scipy.linalg.solve_triangular, (np.eye(2), np.ones(2)), d.dtype)
    compare(d.call(gla.solve_triangular, a, b, trans=trans, lower=lower), solved(op, bv), expected, d.packages,
            scale=10)


def lu_reconstruct(lu, piv, av, dtype):
    """``P L U`` of lu_factor's packed result equals *av*."""
    lu, piv = host(lu), np.asarray(host(piv)).astype(int)
    lower = np.tril(lu, -1) + eye_like(lu)
    upper = np.triu(lu)
    permuted = np.array(av, copy=True)
    for index in np.ndindex(av.shape[:-2]):
        rows = permuted[index]  # a view of one matrix
        for i, p in enumerate(piv[index]):
            rows[[i, p]] = rows[[p, i]]
    assert_close(lower @ upper, permuted, dtype, scale=10)


def case_lu_factor(d):
    a, av = d.matrix()
    lu, piv = d.call(gla.lu_factor, a)
    check_meta(lu, scipy_dtype(scipy.linalg.lu_factor, (np.eye(2),), d.dtype), av.shape, d.packages)
    check_meta(piv, scipy.linalg.lu_factor(np.eye(2))[1].dtype, av.shape[:-1], d.packages)
    lu_reconstruct(lu, piv, av, d.dtype)


def case_lu_solve(d):
    a, av = d.matrix()
    b, bv = d.rhs()
    trans = d.data.draw(st.sampled_from([0, 1, 2]), label="trans")
    op = [av, np.swapaxes(av, -1, -2), ct(av)][trans]
    x = d.call(gla.lu_solve, d.call(gla.lu_factor, a), b, trans=trans)
    compare(x, solved(op, bv), scipy_dtype(np.linalg.solve, (np.eye(2), np.ones(2)), d.dtype), d.packages, scale=10)


def cholesky_ref(av, lower):
    low = np.linalg.cholesky(av)
    return low if lower else ct(low)


def case_cholesky(d):
    a, av = d.matrix("pos")
    lower = d.flag("lower")
    expected = scipy_dtype(scipy.linalg.cholesky, (np.eye(2),), d.dtype)
    compare(d.call(gla.cholesky, a, lower=lower), cholesky_ref(av, lower), expected, d.packages, scale=10)


def case_cho_factor(d):
    a, av = d.matrix("pos")
    lower = d.flag("lower")
    c, flag = d.call(gla.cho_factor, a, lower=lower)
    assert flag is lower
    triangle = np.tril if lower else np.triu
    check_meta(c, scipy_dtype(scipy.linalg.cholesky, (np.eye(2),), d.dtype), av.shape, d.packages)
    assert_close(triangle(host(c)), cholesky_ref(av, lower), d.dtype, scale=10)


def case_cho_solve(d):
    a, av = d.matrix("pos")
    lower = d.flag("lower")
    c, _ = d.packages.make(cholesky_ref(av, lower), d.dtype, draw_layout(d.data, d.packages, d.dtype, "c layout",
                                                                        broadcast=False))
    b, bv = d.rhs()
    compare(d.call(gla.cho_solve, (c, lower), b), solved(av, bv),
            scipy_dtype(np.linalg.solve, (np.eye(2), np.ones(2)), d.dtype), d.packages, scale=100)


def case_qr(d):
    a, av = d.matrix("rect")
    mode = d.data.draw(st.sampled_from(["full", "economic", "r"]), label="mode")
    k = min(d.m, d.n)
    expected = scipy_dtype(scipy.linalg.qr, (np.eye(2),), d.dtype)
    result = d.call(gla.qr, a, mode=mode)
    if mode == "r":
        (r,) = result
        check_meta(r, expected, av.shape, d.packages)
        # R is unique up to the signs (phases) of its rows: compare Rᴴ R = Aᴴ A
        assert_close(ct(host(r)) @ host(r), ct(av) @ av, d.dtype, scale=10)
        return
    q, r = result
    cols = d.m if mode == "full" else k
    check_meta(q, expected, d.batch + (d.m, cols), d.packages)
    check_meta(r, expected, d.batch + (cols, d.n), d.packages)
    assert_close(host(q) @ host(r), av, d.dtype, scale=10)
    assert_close(np.tril(host(r), -1), np.zeros(host(r).shape), d.dtype)
    check_orthonormal_columns(q, d.dtype)


def eig_check(d, w, av):
    """Eigenvalues as the roots of the characteristic polynomial, order-independent."""
    ref = np.linalg.eigvals(av)
    check_meta(w, scipy_dtype(scipy.linalg.eigvals, (np.eye(2),), d.dtype), ref.shape, d.packages)
    poly = lambda values: np.array([np.poly(values[i]) for i in np.ndindex(values.shape[:-1])])
    assert_close(poly(host(w)), poly(ref), d.dtype, scale=1000)


def case_eig(d):
    a, av = d.matrix()
    w, v = d.call(gla.eig, a)
    eig_check(d, w, av)
    real = np.isrealobj(av) and not np.any(host(w).imag)  # SciPy's rule: real vectors when every value is real
    check_meta(v, {"complex64": "float32", "complex128": "float64"}[dtype_name(w)] if real else dtype_name(w),
               av.shape, d.packages)
    vh = host(v)
    assert_close(av @ vh, vh * host(w)[..., None, :], d.dtype, scale=1000)
    assert_close(np.linalg.norm(vh, axis=-2), np.ones(vh.shape[:-1]), d.dtype, scale=10)


def case_eigvals(d):
    a, av = d.matrix()
    eig_check(d, d.call(gla.eigvals, a), av)


def case_eigh(d):
    a, av = d.matrix("herm")
    lower = d.flag("lower")
    expected = scipy_dtype(scipy.linalg.eigh, (np.eye(2),), d.dtype)
    w, v = d.call(gla.eigh, a, lower=lower)
    compare(w, np.linalg.eigvalsh(av), expected, d.packages, scale=10)
    check_meta(v, d.dtype, av.shape, d.packages)
    vh = host(v)
    assert_close(av @ vh, vh * host(w)[..., None, :], d.dtype, scale=10)
    check_orthonormal_columns(v, d.dtype)


def case_eigvalsh(d):
    a, av = d.matrix("herm")
    compare(d.call(gla.eigvalsh, a), np.linalg.eigvalsh(av), scipy_dtype(scipy.linalg.eigvalsh, (np.eye(2),), d.dtype),
            d.packages, scale=10)


def case_svd(d):
    a, av = d.matrix("rect")
    full = d.flag("full_matrices")
    real = scipy_dtype(scipy.linalg.svdvals, (np.eye(2),), d.dtype)
    u, s, vh = d.call(gla.svd, a, full_matrices=full)
    k = min(d.m, d.n)
    compare(s, np.linalg.svd(av, compute_uv=False), real, d.packages, scale=10)
    check_meta(u, d.dtype, d.batch + (d.m, d.m if full else k), d.packages)
    check_meta(vh, d.dtype, d.batch + (d.n if full else k, d.n), d.packages)
    uh, vhh = host(u)[..., :k], host(vh)[..., :k, :]
    assert_close((uh * host(s)[..., None, :]) @ vhh, av, d.dtype, scale=10)
    check_orthonormal_columns(u, d.dtype)
    check_orthonormal_columns(ct(host(vh)), d.dtype)


def case_svdvals(d):
    a, av = d.matrix("rect")
    compare(d.call(gla.svdvals, a), np.linalg.svd(av, compute_uv=False),
            scipy_dtype(scipy.linalg.svdvals, (np.eye(2),), d.dtype), d.packages, scale=10)


def per_matrix(fn, a, b):
    """SciPy's unbatched *fn* over the batch of a (and b, of the same batch)."""
    return [fn(a[i], b[i] if b.ndim > 1 and b.shape[:-2] == a.shape[:-2] else b) for i in np.ndindex(a.shape[:-2])]


def case_lstsq(d):
    d.batch = d.batch if len(d.batch) < 2 else (2,)
    a, av = d.matrix("rect")
    b, bv = d.rhs(rows=d.m)
    x, residues, rank, s = d.call(gla.lstsq, a, b)
    refs = per_matrix(scipy.linalg.lstsq, av, bv)
    expected = scipy_dtype(scipy.linalg.lstsq, (np.eye(2), np.ones(2)), d.dtype)
    x_shape = np.broadcast_shapes(av.shape[:-2], bv.shape[:-2]) + (d.n,) + bv.shape[-1:] * (bv.ndim > 1)
    check_meta(x, expected, x_shape, d.packages)
    if refs:
        assert_close(x, np.reshape([r[0] for r in refs], x_shape), d.dtype, scale=100)
        assert_close(s, np.reshape([r[3] for r in refs], d.batch + (min(d.m, d.n),)), d.dtype, scale=10)
        assert np.array_equal(np.reshape(host(rank), -1), [r[2] for r in refs])
    if not d.batch or min(d.m, d.n):  # (SciPy 1.18 gives a batch of empty matrices unbatched residues)
        # residues are real in a's precision, as SciPy 1.17's are where there are any (its empty
        # ones, and SciPy 1.18's all, take a's complex dtype: a quirk gpmath does not copy)
        compare(residues, lstsq_residues(av, bv), np.finfo(np.dtype(d.dtype)).dtype, d.packages, scale=100)


def case_pinv(d):
    a, av = d.matrix("rect")
    compare(d.call(gla.pinv, a), np.linalg.pinv(av) if av.size else np.swapaxes(av, -1, -2),
            scipy_dtype(scipy.linalg.pinv, (np.eye(2),), d.dtype), d.packages, scale=100)


def case_inv(d):
    a, av = d.matrix()
    compare(d.call(gla.inv, a), np.linalg.inv(av), scipy_dtype(scipy.linalg.inv, (np.eye(2),), d.dtype), d.packages,
            scale=10)


def case_det(d):
    a, av = d.matrix()
    compare(d.call(gla.det, a), np.linalg.det(av), scipy_dtype(scipy.linalg.det, (np.eye(2),), d.dtype), d.packages,
            scale=10, precision=d.dtype)  # SciPy returns float64/complex128 of a float32/complex64 det


def case_slogdet(d):
    a, av = d.matrix()
    sign, logabs = d.call(gla.slogdet, a)
    ref_sign, ref_log = np.linalg.slogdet(av)
    compare(sign, ref_sign, scipy_dtype(np.linalg.slogdet, (np.eye(2),), d.dtype), d.packages, scale=10)
    compare(logabs, ref_log, np.linalg.slogdet(np.eye(2, dtype=d.dtype))[1].dtype, d.packages, scale=10)


LINALG = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("name", sorted(LINALG))
@ORACLE
@given(data=st.data())
def test_linalg(packages, name, data):
    LINALG[name](Draw(data, packages, square=name not in ("qr", "svd", "svdvals", "lstsq", "pinv")))


# ----------------------------------------------------------------------------------------------
# Solver planners: plan, execute, reset_operands, execute

def planner_cholesky(d):
    lower = d.flag("lower")
    (a, av), (a2, av2) = d.matrix("pos"), d.matrix("pos", "a2")
    return gla.Cholesky, (a,), (a2,), dict(lower=lower), [cholesky_ref(av, lower), cholesky_ref(av2, lower)]


def planner_solve(d):
    (a, av), (b, bv) = d.matrix(), d.rhs()
    (a2, av2), (b2, bv2) = d.matrix(label="a2"), d.rhs(label="b2", shape=bv.shape)
    return gla.Solve, (a, b), (a2, b2), {}, [solved(av, bv), solved(av2, bv2)]


def planner_eigh(d):
    (a, av), (a2, av2) = d.matrix("herm"), d.matrix("herm", "a2")
    return gla.Eigh, (a,), (a2,), dict(eigvals_only=True), [np.linalg.eigvalsh(av), np.linalg.eigvalsh(av2)]


PLANNERS = {"Cholesky": (planner_cholesky, scipy.linalg.cholesky),
            "Solve": (planner_solve, lambda a: np.linalg.solve(a, np.ones(2, a.dtype))),
            "Eigh": (planner_eigh, scipy.linalg.eigvalsh)}


@pytest.mark.parametrize("packages", TARGETS, indirect=True)
@pytest.mark.parametrize("name", sorted(PLANNERS))
@ORACLE
@given(data=st.data())
def test_solver_planner(packages, name, data):
    draw, scipy_fn = PLANNERS[name]
    d = Draw(data, packages)
    cls, operands, operands2, options, refs = draw(d)
    expected = scipy_dtype(scipy_fn, (np.eye(2),), d.dtype)
    with cls(*operands, **options, execution=packages.execution) as plan:
        plan.plan()
        compare(plan.execute(check=True), refs[0], expected, packages, scale=10)
        plan.reset_operands(*operands2)  # same package, device, dtype and shape; any layout
        compare(plan.execute(check=True), refs[1], expected, packages, scale=10)
