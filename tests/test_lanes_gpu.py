"""Stateless calls on device arrays that come back by a lane (:func:`gpmath._core.stateless.lane_key`).

A repeated ``gpmath.matmul`` or ``gpmath.fft.*`` call on torch CUDA tensors or CuPy arrays with
default options finds its cached plan by a short key and runs it with one library call.  Every
call here gets new random data and is checked against NumPy in float64; a spy on the full path's
key (``stateless._key``) shows which calls took the lane.  What must never take a lane that
belongs to another call: other shapes, strides, dtypes, alignments, streams, lazily conjugated
views, threads, and plans the cache has freed.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gpmath
from gpmath._core import stateless
from gpmath._core.packages import package_of

pytestmark = pytest.mark.gpu

TOLERANCE = {"float32": 2e-5, "complex64": 2e-5, "float64": 1e-12, "complex128": 1e-12}


def _torch():
    return pytest.importorskip("torch")


def to_device(package: str, array: np.ndarray):
    if package == "torch":
        x = _torch().from_numpy(np.ascontiguousarray(array)).cuda()
    else:
        x = pytest.importorskip("cupy").asarray(array)
    package_of(x, "x")  # its type known: a lane from the first call on
    return x


def to_host(x) -> np.ndarray:
    if type(x).__module__.startswith("torch"):
        return x.resolve_conj().cpu().numpy()
    return x.get()


def random(rng, shape, dtype: str) -> np.ndarray:
    values = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def close(result, reference: np.ndarray, dtype: str) -> None:
    got = to_host(result)
    scale = max(float(np.abs(reference).max(initial=0.0)), 1.0)
    assert got.shape == reference.shape
    assert np.abs(got - reference).max(initial=0.0) <= TOLERANCE[dtype] * scale * max(reference.shape[-1:] + (1,)), (
        f"wrong values: max error {np.abs(got - reference).max()}")


@pytest.fixture
def full_path(monkeypatch):
    """A list that gets one entry per call that builds a full key (so took no lane)."""
    calls = []
    key = stateless._key

    def counting(*args):
        calls.append(args[0])
        return key(*args)

    monkeypatch.setattr(stateless, "_key", counting)
    return calls


def counts(name: str) -> tuple[int, int]:
    info = gpmath.cache_info()[name]
    return info.hits, info.misses


@pytest.mark.parametrize("package", ["torch", "cupy"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shapes", [((64, 64), (64, 64)), ((3, 5), (5, 7)), ((4, 8, 16), (4, 16, 8)), ((16,), (16, 9)),
                                    ((2, 1, 6, 5), (3, 5, 4))])
def test_repeated_products_take_the_lane_with_new_data_every_call(rng, full_path, package, dtype, shapes):
    gpmath.cache_clear()
    hits, misses = counts("matmul")
    for call in range(5):
        a, b = random(rng, shapes[0], dtype), random(rng, shapes[1], dtype)
        close(gpmath.matmul(to_device(package, a), to_device(package, b)), a.astype(complex) @ b, dtype)
        assert len(full_path) == 1, "from the second call on, the lane"
    assert counts("matmul") == (hits + 4, misses + 1)


@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_interleaved_layouts_each_keep_their_own_lane(rng, full_path, package):
    gpmath.cache_clear()
    a = random(rng, (48, 32), "float32")
    b = random(rng, (32, 24), "float32")
    cases = {
        "plain": lambda: (to_device(package, a), to_device(package, b)),
        "transposed a": lambda: (to_device(package, np.ascontiguousarray(a.T)).T, to_device(package, b)),
        "strided b": lambda: (to_device(package, a), to_device(package, np.repeat(b, 2, axis=1))[:, ::2]),
        "offset a": lambda: (to_device(package, np.concatenate([np.zeros(1, "float32"), a.ravel()]))[1:].reshape(48, 32),
                             to_device(package, b)),
        "float64": lambda: (to_device(package, a.astype("float64")), to_device(package, b.astype("float64"))),
    }
    for _ in range(4):
        for name, make in cases.items():
            x, y = make()
            close(gpmath.matmul(x, y), a.astype("float64") @ b, "float32")
    assert len(full_path) == len(cases)


def test_a_lazily_conjugated_view_never_takes_the_plain_lane(rng, full_path):
    gpmath.cache_clear()
    a, b = random(rng, (20, 30), "complex64"), random(rng, (30, 10), "complex64")
    ta, tb = to_device("torch", a), to_device("torch", b)
    for _ in range(3):
        close(gpmath.matmul(ta, tb), a.astype(complex) @ b, "complex64")
    for _ in range(3):
        close(gpmath.matmul(ta.conj(), tb), a.conj().astype(complex) @ b, "complex64")
        close(gpmath.fft.fft(tb.conj()), np.fft.fft(b.conj().astype(complex)), "complex64")
    for _ in range(3):
        close(gpmath.fft.fft(tb), np.fft.fft(b.astype(complex)), "complex64")
    assert len(full_path) == 1 + 1 + 3 + 1  # the conjugated product has a lane of its own; a conjugated FFT input none


@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_a_freed_plan_is_never_run_by_its_lane(rng, full_path, package):
    """Evictions (a cache of one plan, two layouts alternating), clearing, and a cache that keeps
    nothing: every call recomputes its plan and is right."""
    gpmath.cache_clear()
    before = gpmath.get_cache_limits("matmul")
    try:
        gpmath.set_cache_limits("matmul", maxsize=1)
        for _ in range(3):
            for m in (8, 12):
                a, b = random(rng, (m, 16), "float64"), random(rng, (16, m), "float64")
                close(gpmath.matmul(to_device(package, a), to_device(package, b)), a @ b, "float64")
        assert len(full_path) == 6
        gpmath.set_cache_limits("matmul", maxsize=4)
        a, b = random(rng, (8, 16), "float64"), random(rng, (16, 8), "float64")
        x, y = to_device(package, a), to_device(package, b)
        for _ in range(3):
            close(gpmath.matmul(x, y), a @ b, "float64")
        gpmath.cache_clear()
        close(gpmath.matmul(x, y), a @ b, "float64")
        gpmath.set_cache_limits("matmul", maxsize=0)
        for _ in range(3):
            close(gpmath.matmul(x, y), a @ b, "float64")
        assert gpmath.cache_info()["matmul"].size == 0
    finally:
        gpmath.set_cache_limits("matmul", maxsize=before.maxsize)


def test_each_stream_has_its_own_lane_and_results_are_ordered_on_it(rng, full_path):
    torch = _torch()
    gpmath.cache_clear()
    side = torch.cuda.Stream()
    a, b = random(rng, (256, 256), "float32"), random(rng, (256, 256), "float32")
    for _ in range(3):
        close(gpmath.matmul(to_device("torch", a), to_device("torch", b)), a.astype("float64") @ b, "float32")
    with torch.cuda.stream(side):
        for _ in range(3):
            x, y = to_device("torch", a), to_device("torch", b)
            result = gpmath.matmul(x, y)
            spectrum = gpmath.fft.rfft(x)
        side.synchronize()
    close(result, a.astype("float64") @ b, "float32")
    close(spectrum, np.fft.rfft(a.astype("float64")), "float32")
    assert len(full_path) == 3  # one lane a call and stream


def test_threads_run_their_own_lanes(rng):
    torch = _torch()
    gpmath.cache_clear()
    a, b = random(rng, (64, 32), "float32"), random(rng, (32, 64), "float32")
    x, y = to_device("torch", a), to_device("torch", b)
    reference = a.astype("float64") @ b
    errors = []

    def work():
        try:
            for _ in range(50):
                close(gpmath.matmul(x, y), reference, "float32")
                close(gpmath.fft.fft(x), np.fft.fft(a.astype("float64")), "float32")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    torch.cuda.synchronize()
    assert not errors, errors[0]


def test_each_result_is_a_new_array(rng):
    gpmath.cache_clear()
    a, b = random(rng, (32, 32), "float32"), random(rng, (32, 32), "float32")
    first = [gpmath.matmul(to_device("torch", a), to_device("torch", b)) for _ in range(3)]
    second = [gpmath.fft.fft(to_device("torch", b)) for _ in range(3)]
    c = random(rng, (32, 32), "float32")
    gpmath.matmul(to_device("torch", c), to_device("torch", c))
    gpmath.fft.fft(to_device("torch", c))
    for result in first:
        close(result, a.astype("float64") @ b, "float32")
    for result in second:
        close(result, np.fft.fft(b.astype("float64")), "float32")
    assert len({result.data_ptr() for result in first + second}) == 6


FFTS = {  # name: (gpmath call, NumPy reference, input dtype)
    "fft": (lambda x: gpmath.fft.fft(x), np.fft.fft, "complex64"),
    "ifft n=40": (lambda x: gpmath.fft.ifft(x, n=40), lambda x: np.fft.ifft(x, n=40), "complex128"),
    "fft axis=0": (lambda x: gpmath.fft.fft(x, axis=0), lambda x: np.fft.fft(x, axis=0), "complex64"),
    "fft ortho": (lambda x: gpmath.fft.fft(x, norm="ortho"), lambda x: np.fft.fft(x, norm="ortho"), "complex64"),
    "rfft": (lambda x: gpmath.fft.rfft(x), np.fft.rfft, "float32"),
    "irfft": (lambda x: gpmath.fft.irfft(x), np.fft.irfft, "complex128"),
    "fft2": (lambda x: gpmath.fft.fft2(x), np.fft.fft2, "complex128"),
    "rfftn axes": (lambda x: gpmath.fft.rfftn(x, axes=(0, 1)), lambda x: np.fft.rfftn(x, axes=(0, 1)), "float64"),
    "ifftn s list": (lambda x: gpmath.fft.ifftn(x, s=[6, 40], axes=(0, 1)),
                     lambda x: np.fft.ifftn(x, s=[6, 40], axes=(0, 1)), "complex64"),
    "hfft": (lambda x: gpmath.fft.hfft(x), np.fft.hfft, "complex64"),
}


@pytest.mark.parametrize("package", ["torch", "cupy"])
@pytest.mark.parametrize("name", FFTS)
def test_repeated_transforms_are_right_on_every_call(rng, package, name):
    gpmath.cache_clear()
    call, reference, dtype = FFTS[name]
    for _ in range(5):
        x = random(rng, (6, 36), dtype)
        expected = reference(x.astype("complex128" if dtype.startswith("complex") else "float64"))
        close(call(to_device(package, x)), expected, np.result_type(dtype, np.complex64).name)  # (the precision)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fft2", "rfftn axes", "ifft n=40"])
def test_plain_transforms_take_the_lane_from_the_second_call(rng, full_path, name):
    gpmath.cache_clear()
    call, reference, dtype = FFTS[name]
    for _ in range(4):
        x = random(rng, (6, 36), dtype)
        close(call(to_device("torch", x)), reference(x.astype("complex128" if "complex" in dtype else "float64")),
              "complex64" if dtype in ("complex64", "float32") else "complex128")
    assert len(full_path) == 1


def test_a_plan_used_directly_is_left_unbound_by_execute_with(rng):
    from gpmath._errors import FreedPlanError

    torch = _torch()
    a, b = random(rng, (16, 16), "float32"), random(rng, (16, 16), "float32")
    x, y = to_device("torch", a), to_device("torch", b)
    with gpmath.blas.Matmul(x, y) as plan:
        plan.plan()
        plan.execute()
        close(plan.execute_with(y, x), b.astype("float64") @ a, "float32")
        with pytest.raises(ValueError, match="no operand"):
            plan.execute()
    with pytest.raises(FreedPlanError):
        plan.execute_with(x, y)
    with gpmath.fft.FFT(x.to(torch.complex64)) as plan:
        plan.plan()
        close(plan.execute_with(y.to(torch.complex64)), np.fft.fft2(b.astype("complex128")), "complex64")
        with pytest.raises(ValueError, match="no operand"):
            plan.execute()
    with pytest.raises(FreedPlanError):
        plan.execute_with(x.to(torch.complex64))


def test_a_tensor_that_needs_grad_is_warned_of_though_a_plain_lane_exists(rng):
    gpmath.cache_clear()
    a, b = random(rng, (16, 16), "float32"), random(rng, (16, 16), "float32")
    for _ in range(2):
        gpmath.matmul(to_device("torch", a), to_device("torch", b))
    x = to_device("torch", a).requires_grad_()
    with pytest.warns(UserWarning, match="requires grad"):
        close(gpmath.matmul(x, to_device("torch", b)).detach(), a.astype("float64") @ b, "float32")


def _spd(rng, n: int, dtype: str) -> np.ndarray:
    x = random(rng, (n, n), dtype)
    return (x @ x.conj().T / n + 4 * np.eye(n)).astype(dtype)  # (condition number about 2)


@pytest.mark.parametrize("package", ["torch", "cupy"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("n", [8, 40])  # the one-warp kernels, potrf/getrf
def test_repeated_cholesky_and_solve_take_their_lanes_and_still_check(rng, full_path, package, dtype, n):
    """linalg.cholesky and linalg.solve on device arrays: new data every call, right every call, one
    full call per options and layout; through the lane a NaN still raises SciPy's ValueError (the
    plan's own test) and a singular matrix LinAlgError."""
    gpmath.cache_clear()
    linalg = gpmath.linalg
    for _ in range(4):
        a, b = _spd(rng, n, dtype), random(rng, (n, 3), dtype)
        wide = a.astype("complex128")
        close(linalg.cholesky(to_device(package, a), lower=True), np.linalg.cholesky(wide), dtype)
        for assume_a in (None, "pos"):
            x = linalg.solve(to_device(package, a), to_device(package, b), assume_a=assume_a)
            close(x, np.linalg.solve(wide, b), dtype)
    assert len(full_path) == 3, "one full call each (cholesky, solve, solve pos), then lanes"
    bad = _spd(rng, n, dtype)
    bad[0, n - 1] = np.nan  # in the triangle lower=True never reads: the check reads both
    with pytest.raises(ValueError, match="infs or NaNs: a holds"):
        linalg.cholesky(to_device(package, bad), lower=True)
    with pytest.raises(ValueError, match="infs or NaNs: b holds"):
        linalg.solve(to_device(package, a), to_device(package, np.full((n, 3), np.inf, dtype)))
    singular = a.copy()
    singular[:, 1] = 0  # an exactly zero pivot
    with pytest.raises(linalg.LinAlgError):
        linalg.solve(to_device(package, singular), to_device(package, b))
    assert len(full_path) == 3, "the failures came by the lanes too"


@pytest.mark.parametrize("package", ["torch", "cupy"])
@pytest.mark.parametrize("n", [6, 48])
def test_linalg_layouts_each_keep_their_own_lane(rng, full_path, package, n):
    """Transposed, strided, offset and (torch) lazily conjugated operands of solve and cholesky,
    interleaved: each layout's first call takes the full path, every later one its own lane, and
    every result is right (the kernels and cuSOLVER read each layout where it lies, or a copy)."""
    gpmath.cache_clear()
    linalg, dtype = gpmath.linalg, "complex128"
    layouts = {
        "plain": lambda m: to_device(package, m),
        "transposed": lambda m: to_device(package, np.ascontiguousarray(m.T)).T,
        "strided": lambda m: to_device(package, np.repeat(m, 2, axis=1))[:, ::2],
        "offset": lambda m: to_device(package, np.concatenate([np.zeros(1, m.dtype), m.ravel()]))[1:].reshape(m.shape),
    }
    if package == "torch":
        layouts["conjugated"] = lambda m: to_device(package, m.conj()).conj()  # (a lazy view: its own lane)
    for _ in range(3):
        for name, make in layouts.items():
            a, b = _spd(rng, n, dtype), random(rng, (n, 2), dtype)
            close(linalg.solve(make(a), make(b)), np.linalg.solve(a, b), dtype)
            close(linalg.cholesky(make(a), lower=True), np.linalg.cholesky(a), dtype)
    assert len(full_path) == 2 * len(layouts), "each layout's first call, then its lanes"
