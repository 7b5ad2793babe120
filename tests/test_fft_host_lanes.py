"""Host lanes of the stateless FFTs and DCTs/DSTs: a repeated small call on a NumPy array with
default options goes straight to scipy.fft's function kept for its arguments, shape and dtype.
Checked against scipy.fft on random data over interleaved calls that change one thing at a time
(shape, dtype, lengths, axes, norm, workers, layout), and against the placement mode."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

import gpmath
from gpmath import fft
from gpmath.fft import _functions

@pytest.fixture(autouse=True)
def _automatic_placement(_placement_as_written):
    """Automatic placement, as a user's calls have it (the suite's default sends host arrays to a GPU)."""
    gpmath.set_placement("auto")


TOLERANCE = {np.float32: 2e-5, np.complex64: 2e-5, np.float64: 1e-12, np.complex128: 1e-12}

CALLS = [  # (name, kwargs, real input)
    ("fft", {}, False), ("ifft", {"n": 12}, False), ("fft", {"axis": 0, "norm": "ortho"}, False),
    ("rfft", {}, True), ("irfft", {"n": 10}, False), ("hfft", {}, False), ("ihfft", {}, True),
    ("fft2", {}, False), ("ifftn", {"axes": (0,)}, False), ("rfftn", {"s": (4, 6)}, True),
    ("fft", {"workers": 2}, False), ("dct", {}, True), ("idct", {"type": 3, "norm": "ortho"}, True),
    ("dst", {"type": 4, "n": 9}, True), ("dctn", {"type": 1}, True), ("idstn", {"axes": (1,)}, True),
    ("dct", {"orthogonalize": False, "norm": "ortho"}, True),
    # lengths equal to SciPy's defaults are left to SciPy: the halved axis of c2r too (2 (m - 1), odd lengths not)
    ("irfft", {}, False), ("irfft", {"n": 11}, False), ("irfftn", {}, False), ("irfft2", {"s": (3, 5)}, False),
]


def _input(rng, shape, dtype, real: bool, layout: str) -> np.ndarray:
    x = rng.standard_normal(shape)
    if not real:
        x = x + 1j * rng.standard_normal(shape)
    x = x.astype(np.dtype(dtype).char.lower() if real else np.result_type(dtype, np.complex64))
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "reversed":
        x = x[::-1, ::-1]
    elif layout == "big-endian":
        x = x.astype(x.dtype.newbyteorder(">"))
    elif layout == "read-only":
        x.flags.writeable = False
    return x


def _check(got, expected, dtype):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[np.dtype(dtype).type], atol=TOLERANCE[np.dtype(dtype).type] * scale)


@pytest.mark.parametrize("name, kwargs, real", CALLS, ids=lambda v: str(v))
def test_repeated_calls_that_change_one_thing_at_a_time_match_scipy(name, kwargs, real):
    rng = np.random.default_rng(11)
    variants = [(shape, dtype, layout) for shape in ((6, 8), (5, 8), (6, 9))
                for dtype in (np.float64, np.float32) for layout in ("C", "F", "reversed", "big-endian", "read-only")]
    order = [variants[i] for i in rng.permutation(len(variants))] * 2  # every variant twice, interleaved
    for shape, dtype, layout in order:
        x = _input(rng, shape, dtype, real, layout)
        _check(getattr(fft, name)(x, **kwargs), getattr(scipy.fft, name)(x, **kwargs),
               np.complex64 if dtype == np.float32 else np.complex128)


@pytest.fixture
def transforms(monkeypatch):
    """A list that gets an entry for every call that reaches :func:`small_transform` (a call that
    took no host lane)."""
    calls: list = []
    original = _functions.small_transform
    monkeypatch.setattr(_functions, "small_transform", lambda *args: calls.append(1) or original(*args))
    monkeypatch.setattr(_functions, "_HOST_LANES", {})
    return calls


def test_a_repeat_takes_the_host_lane_and_a_change_does_not(transforms):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 8))
    for _ in range(3):
        fft.fft(rng.standard_normal((4, 8)))
    assert len(transforms) == 1
    fft.fft(x, n=8)  # n given: another key, the same function
    fft.fft(x.astype(np.float32))
    fft.fft(x, norm="forward")
    fft.fft(x, execution="cpu")  # not the default options: no lane
    fft.fft(x, execution="cpu")
    assert len(transforms) == 6
    fft.fft(x, 8)  # the lane of n=8
    assert len(transforms) == 6


def test_no_host_lane_when_placement_sends_host_arrays_to_a_gpu(transforms):
    x = np.random.default_rng(3).standard_normal(16)
    fft.rfft(x)
    gpmath.set_placement("cuda")  # (without a GPU the plans run on the CPU engine)
    before = gpmath.cache_info()["fft"].hits + gpmath.cache_info()["fft"].misses
    for _ in range(2):
        _check(fft.rfft(x), scipy.fft.rfft(x), np.complex128)
    assert len(transforms) == 3  # every call took the plan path, not the lane the first kept
    assert gpmath.cache_info()["fft"].hits + gpmath.cache_info()["fft"].misses == before + 2


def test_the_table_of_host_lanes_stays_bounded(transforms, monkeypatch):
    monkeypatch.setattr(_functions, "_MOST_HOST_LANES", 8)
    rng = np.random.default_rng(4)
    for n in range(2, 40):
        x = rng.standard_normal(n)
        _check(fft.fft(x), scipy.fft.fft(x), np.complex128)
        assert len(_functions._HOST_LANES) <= 8


def test_lengths_that_are_not_plain_ints_take_no_lane(transforms):
    x = np.random.default_rng(5).standard_normal(8)
    fft.fft(x, n=8)
    with pytest.raises(TypeError):
        fft.fft(x, n=8.0)  # equal to 8 as a key, refused by the full path
    with pytest.raises(TypeError):
        fft.dct(x, n=8.0)
    grid = np.random.default_rng(6).standard_normal((4, 5))
    for _ in range(2):  # an array of lengths, as SciPy's own tests pass them: no lane, the right answer
        _check(fft.idctn(grid, 1, np.array([6, 5]), (0, 1)), scipy.fft.idctn(grid, 1, np.array([6, 5]), (0, 1)),
               np.complex128)
        _check(fft.fftn(grid, np.array([6, 5])), scipy.fft.fftn(grid, np.array([6, 5])), np.complex128)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "fft2", "rfftn", "dct", "idst", "dctn"])
@pytest.mark.parametrize("package", ["numpy", "torch"])  # (torch CPU tensors: through their NumPy views)
def test_calls_that_differ_in_one_option_each_get_their_own_answer(name, package):
    """On one array, calls alike but for one option (norm, n, axis, type, orthogonalize, workers)
    in turn, each repeated: no lane answers for another's options."""
    rng = np.random.default_rng(12)
    real = name in ("rfft", "rfftn", "dct", "idst", "dctn")
    values = rng.standard_normal((6, 8)) if real else rng.standard_normal((6, 8)) + 1j * rng.standard_normal((6, 8))
    x = pytest.importorskip("torch").from_numpy(values) if package == "torch" else values
    variants = [{}, {"norm": "ortho"}, {"norm": "forward"}, {"norm": "backward"}, {"workers": 2}]
    if name in ("fft", "ifft", "rfft", "irfft", "dct", "idst"):
        variants += [{"n": 5}, {"n": 12}, {"axis": 0}, {"axis": 0, "n": 4}]
    if name in ("dct", "idst", "dctn"):
        variants += [{"type": 1}, {"type": 3}, {"type": 4, "norm": "ortho"}, {"norm": "ortho", "orthogonalize": False}]
    for kwargs in variants * 2:
        got = getattr(fft, name)(x, **kwargs)
        assert type(got) is type(x)
        _check(np.asarray(got), getattr(scipy.fft, name)(values, **kwargs), np.complex128)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "rfftn", "irfftn", "irfft2"])
@pytest.mark.parametrize("rows", [2, 700], ids=["small", "plan"])  # scipy.fft at once, or through a CPU plan
def test_lengths_at_and_beside_scipys_defaults(name, rows):
    """gpmath leaves a length equal to SciPy's default for the input to SciPy (c2r: 2 (m - 1) on
    the last axis): lengths at, and one or two points beside, each rule's default."""
    rng = np.random.default_rng(6)
    real = name in ("rfft", "ihfft", "rfftn")
    for m in (3, 4, 7):
        x = _input(rng, (rows, m), np.float64, real, "C")
        for n in sorted({m - 1, m, m + 1, 2 * m - 3, 2 * m - 2, 2 * m - 1}):
            lengths = {"n": n} if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft") else {"s": (rows, n)}
            _check(getattr(fft, name)(x, **lengths), getattr(scipy.fft, name)(x, **lengths),
                   np.complex128 if name not in ("irfft", "hfft", "irfftn", "irfft2") else np.float64)


@pytest.mark.parametrize("name", ["fftn", "ifft2", "rfftn", "irfftn", "rfft2", "dctn", "idstn"])
@pytest.mark.parametrize("shape", [(6, 8), (3, 4, 5)])
def test_axes_that_name_scipys_default_and_others_each_get_scipys_answer(name, shape):
    """Axes written as SciPy's default axes (all of them in order, or the last two), in another
    order, or a subset: the host lanes leave the first to SciPy's default and give the others as
    they are; each call, repeated, is scipy.fft's with the same arguments."""
    rng = np.random.default_rng(13)
    real = name in ("rfftn", "rfft2", "dctn", "idstn")
    x = rng.standard_normal(shape) if real else rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    ndim = len(shape)
    forms = [None, tuple(range(ndim)), tuple(range(-ndim, 0)), (-2, -1), (ndim - 2, ndim - 1), (-1, -2), (1, 0), (0,),
             (-1,)]
    if ndim == 3:
        forms += [(0, 2), (2, 0), (0, 1)]
    for axes in forms * 2:
        kwargs = {} if axes is None else {"axes": axes}
        expected = getattr(scipy.fft, name)(x, **kwargs)
        got = getattr(fft, name)(x, **kwargs)
        assert got.shape == expected.shape, (axes, got.shape, expected.shape)
        _check(got, expected, expected.dtype)
