"""fftfreq, rfftfreq, fftshift, ifftshift and next_fast_len against SciPy and their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from gpmath import fft
from helpers import to_numpy, to_package

gpu = pytest.mark.gpu
PACKAGES = ["numpy", pytest.param("torch", marks=gpu), pytest.param("cupy", marks=gpu)]


@pytest.mark.parametrize("n", [1, 2, 7, 8, 33])
@pytest.mark.parametrize("d", [1.0, 0.25, 3])
def test_frequencies_match_scipy(n, d):
    np.testing.assert_allclose(fft.fftfreq(n, d), scipy.fft.fftfreq(n, d), rtol=1e-15)
    np.testing.assert_allclose(fft.rfftfreq(n, d), scipy.fft.rfftfreq(n, d), rtol=1e-15)
    assert fft.fftfreq(n, d).dtype == np.float64


def test_frequencies_in_another_namespace():
    result = fft.fftfreq(4, xp=np)
    assert isinstance(result, np.ndarray)


@gpu
def test_frequencies_on_a_torch_device():
    torch = pytest.importorskip("torch")
    result = fft.rfftfreq(10, 0.5, xp=torch, device="cuda")
    assert result.is_cuda
    np.testing.assert_allclose(result.cpu().numpy(), scipy.fft.rfftfreq(10, 0.5))


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_frequencies_reject_bad_lengths(bad):
    with pytest.raises(ValueError, match="n must"):
        fft.fftfreq(bad)


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("axes", [None, 0, 1, (1, 0), -1, (), (0, 0), (1, 0, 1)])
def test_shifts_match_scipy(rng, package, axes):
    """(an axis named twice is shifted twice, as SciPy and NumPy do; no axes: a copy)"""
    data = rng.uniform(-1, 1, (5, 8))
    x = to_package(data, package, "float64")
    shifted = fft.fftshift(x, axes=axes)
    assert type(shifted) is type(x)
    np.testing.assert_array_equal(to_numpy(shifted), scipy.fft.fftshift(data, axes=axes))
    np.testing.assert_array_equal(to_numpy(fft.ifftshift(shifted, axes=axes)), data)
    np.testing.assert_array_equal(to_numpy(fft.ifftshift(x, axes=axes)), scipy.fft.ifftshift(data, axes=axes))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_a_bool_length_is_refused(name):
    """As gpmath's transforms refuse ``n=True`` (SciPy's fftfreq raises TypeError; its rfftfreq reads
    True as 1)."""
    with pytest.raises(TypeError, match="n must be an integer, not True"):
        getattr(fft, name)(True)


def test_shift_errors():
    with pytest.raises(ValueError, match="axes"):
        fft.fftshift(np.ones((2, 3)), axes=2)


def _smooth(n):
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    return n == 1


def test_next_fast_len_is_the_smallest_7_smooth_length():
    for target in range(1, 3000):
        for real in (False, True):
            got = fft.next_fast_len(target, real)
            assert got >= target and _smooth(got) and (not real or got % 2 == 0 or target == 1)
            assert not any(_smooth(m) and (not real or m % 2 == 0) for m in range(target, got))


def test_next_fast_len_large_and_edge_values():
    assert fft.next_fast_len(0) == 0
    big = fft.next_fast_len(2**40 + 1)
    assert 2**40 < big < 2**41 and _smooth(big)
    assert _smooth(fft.next_fast_len(10**15 + 37))
    with pytest.raises(ValueError, match="target"):
        fft.next_fast_len(-1)
    with pytest.raises(TypeError, match="target"):
        fft.next_fast_len(1.5)


def test_prev_fast_len_is_the_largest_7_smooth_length():
    for target in range(3, 3000):
        for real in (False, True):
            got = fft.prev_fast_len(target, real)
            assert got <= target and _smooth(got) and (not real or got % 2 == 0)
            assert not any(_smooth(m) and (not real or m % 2 == 0) for m in range(got + 1, target + 1))


def test_prev_fast_len_large_and_edge_values():
    assert [fft.prev_fast_len(t) for t in (0, 1, 2)] == [0, 1, 2]  # as SciPy's
    assert fft.prev_fast_len(np.int64(13)) == 12 and fft.prev_fast_len(2**40 + 1) == 2**40
    big = fft.prev_fast_len(10**15 + 37, real=True)
    assert 10**15 * 0.99 < big <= 10**15 + 37 and _smooth(big) and big % 2 == 0
    with pytest.raises(ValueError, match="target"):
        fft.prev_fast_len(-1)


@pytest.mark.parametrize("call", [lambda m: m.next_fast_len(2.5), lambda m: m.next_fast_len("3"),
                                  lambda m: m.prev_fast_len(2.5), lambda m: m.prev_fast_len("3"),
                                  lambda m: m.fftshift(np.ones((2, 3)), 0.5), lambda m: m.fftshift(np.ones((2, 3)), "0"),
                                  lambda m: m.ifftshift(np.ones((2, 3)), (0, 1.5)), lambda m: m.fftfreq(2.5),
                                  lambda m: m.fftfreq(True)])
def test_helper_argument_errors_have_scipys_type(call):
    with pytest.raises(Exception) as theirs:
        call(scipy.fft)
    with pytest.raises(type(theirs.value)):
        call(fft)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 5)])
@pytest.mark.parametrize("axes", [None, 0, -1, ()])
def test_shifts_of_zero_length_axes_match_numpy(shape, axes):
    data = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    for ours, theirs in ((fft.fftshift, np.fft.fftshift), (fft.ifftshift, np.fft.ifftshift)):
        result = ours(data, axes=axes)
        assert result.shape == shape
        np.testing.assert_array_equal(result, theirs(data, axes=axes))
