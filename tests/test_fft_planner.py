"""The FFT planner (plan / execute / reset_operands / free) and the stateless plan cache.

NumPy bodies run everywhere (the GPU when present, else the CPU engine); torch and CuPy bodies,
streams, threads and the cache's device behaviour need a GPU.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft
from gpmath.fft import FFT
from helpers import relative_error, to_numpy, to_package, tolerance

gpu = pytest.mark.gpu
PACKAGES = ["numpy", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]


def _complex(rng, shape):
    return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)


def _close(result, reference, dtype="complex128"):
    err = relative_error(result, reference)
    assert err < tolerance(dtype), f"relative error {err:.3g}"


def _sync(package):
    if package == "torch":
        import torch

        torch.cuda.synchronize()
    elif package == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("shape, axes", [((8, 64), (-1,)), ((17, 6), (0,)), ((5, 6, 7), (0, 2)), ((3, 4, 5, 6), None)])
def test_c2c_both_directions(rng, package, dtype, norm, shape, axes):
    x = to_package(_complex(rng, shape), package, dtype)
    ref = to_numpy(x)
    with FFT(x, axes=axes, norm=norm) as plan:
        plan.plan()
        forward, inverse = plan.execute("forward"), plan.execute(direction="inverse")
        _close(forward, scipy.fft.fftn(ref, axes=axes, norm=norm), dtype)
        _close(inverse, scipy.fft.ifftn(ref, axes=axes, norm=norm), dtype)
        assert type(forward) is type(x)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_r2c_then_c2r_round_trip(rng, package, dtype):
    x = to_package(rng.uniform(-1, 1, (6, 15)), package, dtype)
    ref = to_numpy(x)
    with FFT(x, axes=(0, 1)) as forward:
        spectrum = forward.execute()
        _close(spectrum, scipy.fft.rfftn(ref), "complex64" if dtype == "float32" else "complex128")
    with FFT(spectrum, axes=(0, 1), kind="c2r", s=(6, 15)) as inverse:
        before = to_numpy(spectrum).copy()
        _close(inverse.execute(), ref, dtype)
        np.testing.assert_array_equal(to_numpy(spectrum), before)  # c2r read a copy


@pytest.mark.parametrize("package", PACKAGES)
def test_repeated_execution_and_reset_operands(rng, package):
    x = to_package(_complex(rng, (9, 33)), package, "complex128")
    plan = FFT(x, axes=-1).plan()
    first = to_numpy(plan.execute())
    for _ in range(20):
        np.testing.assert_array_equal(to_numpy(plan.execute()), first)
    z = to_package(_complex(rng, (9, 33)), package, "complex128")
    plan.reset_operands(z)
    _close(plan.execute(), scipy.fft.fft(to_numpy(z)))
    _close(plan.execute("inverse"), scipy.fft.ifft(to_numpy(z)))
    plan.free()


@pytest.mark.parametrize("package", PACKAGES)
def test_reset_operands_rejects_mismatches(rng, package):
    x = to_package(_complex(rng, (8, 16)), package, "complex128")
    with FFT(x, axes=-1) as plan:
        plan.plan()
        with pytest.raises(ValueError, match="shape"):
            plan.reset_operands(to_package(_complex(rng, (8, 17)), package, "complex128"))
        with pytest.raises(ValueError, match="dtype"):
            plan.reset_operands(to_package(_complex(rng, (8, 16)), package, "complex64"))


@gpu
def test_reset_operands_rejects_another_package_or_device(rng):
    x = _complex(rng, (8, 16))
    with FFT(x, axes=-1) as plan:
        with pytest.raises(ValueError, match="numpy array on the same device"):
            plan.reset_operands(to_package(x, "torch", "complex128"))


@pytest.mark.parametrize("package", PACKAGES)
def test_inplace_c2c_overwrites_and_returns_x(rng, package):
    x = to_package(_complex(rng, (4, 6, 5)), package, "complex128")
    expected = scipy.fft.fftn(to_numpy(x), axes=(0, 2))
    with FFT(x, axes=(0, 2), inplace=True) as plan:
        assert plan.execute() is x
    _sync(package)
    _close(x, expected)


def test_free_is_idempotent_and_freed_plans_refuse_work(rng):
    x = _complex(rng, (4, 8))
    plan = FFT(x).plan()
    plan.free()
    plan.free()
    with pytest.raises(gpmath.FreedPlanError):
        plan.execute()
    with pytest.raises(gpmath.FreedPlanError):
        plan.reset_operands(x)
    assert "freed" in repr(plan)


@pytest.mark.parametrize("make, error, match", [
    (lambda x: FFT(x, kind="z2z"), ValueError, "kind"),
    (lambda x: FFT(x, axes=(0, 0)), ValueError, "unique"),
    (lambda x: FFT(x, axes=()), ValueError, "at least 1 axis must be transformed"),
    (lambda x: FFT(x, s=(0, 4)), ValueError, "at least 1"),
    (lambda x: FFT(x, norm="none"), ValueError, "norm"),
    (lambda x: FFT(x, kind="r2c"), TypeError, "real"),
    (lambda x: FFT(x.real, inplace=True), ValueError, "complex-to-complex"),
    (lambda x: FFT(x.real, kind="c2c", inplace=True), TypeError, "inplace"),
    (lambda x: FFT(x, s=(4, 6), inplace=True), ValueError, "crop or pad"),
    (lambda x: FFT(x.real.astype(np.int32)), TypeError, "int32"),
    (lambda x: FFT(x.real.astype(np.longdouble)), TypeError, "float128|longdouble"),
    (lambda x: FFT(x, workers=0), ValueError, "workers"),
    (lambda x: FFT(x, execution="tpu"), ValueError, "execution"),
])
def test_constructor_errors(rng, make, error, match):
    with pytest.raises(error, match=match):
        make(_complex(rng, (4, 8)))


def test_direction_errors(rng):
    x = rng.uniform(-1, 1, (4, 8))
    with FFT(x) as r2c:
        with pytest.raises(ValueError, match="forward only"):
            r2c.execute("inverse")
    with FFT(x + 0j, kind="c2r") as c2r:
        with pytest.raises(ValueError, match="inverse only"):
            c2r.execute("forward")
        with pytest.raises(ValueError, match="direction"):
            c2r.execute("sideways")


def test_kind_defaults_and_repr(rng):
    x = rng.uniform(-1, 1, (4, 8))
    with FFT(x) as real, FFT(x + 0j, axes=1) as complex_:
        assert real.problem.kind == "r2c" and complex_.problem.kind == "c2c"
        assert "r2c float64[4, 8]" in repr(real) and "complex128[4, 5]" in repr(real)


def test_cpu_execution_is_forced_with_execution_cpu(rng):
    x = _complex(rng, (4, 8))
    with FFT(x, execution="cpu") as plan:
        assert type(plan).__name__ == "CpuFFT"
        _close(plan.execute(), scipy.fft.fftn(x))


def test_stateless_calls_reuse_plans_through_the_cache(rng):
    x = _complex(rng, (8, 32))
    gpmath.cache_clear()
    hits = gpmath.cache_info()["fft"].hits
    fft.fft(x)
    fft.ifft(x)
    fft.fft(x.copy())
    info = gpmath.cache_info()["fft"]
    assert info.size == 1 and info.hits - hits == 2
    fft.fft(x[:, :16])
    assert gpmath.cache_info()["fft"].size == 2


# -- GPU only -------------------------------------------------------------------------------


@gpu
@pytest.mark.parametrize("function", ["fft", "ifft", "rfft", "irfft", "fft2", "ihfft"])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(64, 100), (1100, 1100)])
def test_host_arrays_take_their_norm_factor_on_the_device(rng, function, norm, dtype, shape):
    """NumPy operands computed on the GPU: every norm of every kind (real and complex results,
    single and double precision, one pinned block and more) as scipy.fft gives it."""
    x = rng.uniform(-1, 1, shape).astype(dtype)
    if function in ("fft", "ifft", "fft2"):
        x = (x + 1j * rng.uniform(-1, 1, shape)).astype(np.result_type(dtype, np.complex64))
    if function == "irfft":
        x = np.fft.rfft(x).astype(np.result_type(dtype, np.complex64))
    result = getattr(fft, function)(x, norm=norm, execution="cuda")
    expected = getattr(scipy.fft, function)(x, norm=norm)
    assert isinstance(result, np.ndarray) and result.dtype == expected.dtype
    _close(result, expected, str(result.dtype))


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_repeated_stateless_calls_stay_right_on_new_data_and_after_cache_clear(rng, package):
    """The repeated-call shortcut: fresh data each call, list axes, a cleared cache, views."""
    for step in range(6):
        data = _complex(rng, (6, 40))
        x = to_package(data, package, "complex128")
        _close(fft.fft(x, axis=0), scipy.fft.fft(data, axis=0))
        _close(fft.ifftn(x, axes=[0, 1], norm="ortho"), scipy.fft.ifftn(data, axes=[0, 1], norm="ortho"))
        _close(fft.fft(x[:, 1:], n=50), scipy.fft.fft(data[:, 1:], n=50))
        if step == 3:
            gpmath.cache_clear()
    if package == "torch":  # a lazily conjugated view has the same layout but other values
        data = _complex(rng, (6, 40))
        x = to_package(data, package, "complex128")
        _close(fft.fft(x), scipy.fft.fft(data))
        _close(fft.fft(x.conj()), scipy.fft.fft(data.conj()))


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_device_arrays_are_read_in_place_when_cufft_can(rng, package):
    x = to_package(_complex(rng, (16, 6, 8)), package, "complex64")
    for axes in [(2,), (0,), (0, 2), (1, 2)]:
        with FFT(x, axes=axes) as plan:
            plan.plan()
            assert plan.layout.copy_order is None, axes
            _close(plan.execute(), scipy.fft.fftn(to_numpy(x), axes=axes), "complex64")


def _stream(package):
    if package == "torch":
        import torch

        return torch.cuda.Stream()
    import cupy

    return cupy.cuda.Stream(non_blocking=True)


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_non_default_streams(rng, package):
    x = to_package(_complex(rng, (32, 128)), package, "complex64")
    s1, s2 = _stream(package), _stream(package)
    _sync(package)
    plan = FFT(x, axes=-1, norm="ortho", stream=s1).plan()
    y1 = plan.execute()
    y2 = plan.execute("inverse", stream=s2)
    s2.synchronize()
    _close(y1, scipy.fft.fft(to_numpy(x), norm="ortho"), "complex64")
    _close(y2, scipy.fft.ifft(to_numpy(x), norm="ortho"), "complex64")
    z = fft.rfft(to_package(rng.uniform(-1, 1, (4, 40)), package, "float32"), stream=s1)
    s1.synchronize()
    assert tuple(z.shape) == (4, 21)
    plan.free()


@gpu
def test_host_arrays_round_trip_through_the_gpu(rng):
    x = rng.uniform(-1, 1, (64, 100))
    with FFT(x, axes=0, execution="cuda") as plan:
        assert type(plan).__name__ == "CudaFFT" and plan.staged
        _close(plan.execute(), scipy.fft.rfft(x, axis=0))
    assert isinstance(fft.irfft(fft.rfft(x), n=100), np.ndarray)


@gpu
@pytest.mark.parametrize("package", ["torch", "cupy"])
def test_cache_is_keyed_by_stream_and_counts_work_area_bytes(rng, package):
    x = to_package(_complex(rng, (8, 1000)), package, "complex64")
    gpmath.cache_clear()
    fft.fft(x)
    fft.fft(x, stream=_stream(package))
    info = gpmath.cache_info()["fft"]
    assert info.size == 2 and info.nbytes >= 0
    _sync(package)


@gpu
@pytest.mark.parametrize("package", ["numpy", "torch", "cupy"])
def test_threads_use_their_own_plans(rng, package):
    inputs = [to_package(_complex(rng, (16, 256)), package, "complex128") for _ in range(4)]
    errors = []

    def work(x):
        try:
            for _ in range(20):
                y = fft.fft(x)
                _sync(package)
                _close(y, scipy.fft.fft(to_numpy(x)))
        except Exception as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(x,)) for x in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@gpu
def test_float16_and_bfloat16_inputs_compute_in_float32(rng):
    torch = pytest.importorskip("torch")
    data = rng.uniform(-1, 1, (4, 64))
    for dtype in (torch.float16, torch.bfloat16):
        x = torch.from_numpy(data).to(device="cuda", dtype=dtype)
        y = fft.rfft(x)
        assert y.dtype == torch.complex64
        _close(y, scipy.fft.rfft(to_numpy(x)), "complex64")
