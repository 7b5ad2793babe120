"""Host lanes of ``cholesky`` and ``det``: a repeated call on NumPy arrays (or torch CPU tensors,
through their NumPy views) with default placement arguments runs the plan its last such call
ran, at once.  Checked against SciPy in float64 on random data over interleaved calls that change
one thing at a time (shape, dtype, layout, ``lower``, ``check_finite``, the placement mode), for
the finite test and the errors the full path gives, and against the cache's counts (a changed
call builds or finds its own plan)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import gpmath
from gpmath import linalg

TOLERANCE = {"float32": 2e-4, "complex64": 2e-4, "float64": 1e-11, "complex128": 1e-11}
LAYOUTS = ["C", "F", "strided", "reversed"]


@pytest.fixture(params=["auto", "cpu"])
def placement(request, _placement_as_written):
    """The placement modes that keep small host arrays on the host (the suite's default sends them to a GPU)."""
    gpmath.set_placement(request.param)
    return request.param


def _spd(rng, n: int, dtype: str, layout: str) -> np.ndarray:
    x = rng.standard_normal((n, n))
    if "complex" in dtype:
        x = x + 1j * rng.standard_normal((n, n))
    a = (x @ x.conj().T + n * np.eye(n)).astype(dtype)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        return np.repeat(np.repeat(a, 2, axis=0), 2, axis=1)[::2, ::2]
    if layout == "reversed":  # the reversed matrix of the reversed values: the same matrix, negative strides
        return a[::-1, ::-1].copy()[::-1, ::-1]
    return a


def _close(got, expected, dtype: str) -> None:
    tol = TOLERANCE[dtype]
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)


def _counts() -> tuple[int, int]:
    info = gpmath.cache_info()["linalg"]
    return info.hits, info.misses


CALLS = [("cholesky", {}), ("cholesky", {"lower": True}), ("det", {})]


@pytest.mark.parametrize("name, kwargs", CALLS, ids=str)
def test_repeated_calls_that_change_one_thing_at_a_time_match_scipy(placement, name, kwargs):
    rng = np.random.default_rng(3)
    mine, theirs = getattr(linalg, name), getattr(scipy.linalg, name)
    steps = [(8, "float64", "C"), (8, "float64", "C"), (9, "float64", "C"), (8, "float32", "C"),
             (8, "complex128", "C"), (8, "complex64", "F"), (8, "float64", "F"), (8, "float64", "strided"),
             (8, "float64", "reversed"), (8, "float64", "C"), (1, "float64", "C")]
    for n, dtype, layout in steps:
        for _ in range(2):  # the second call takes the lane the first kept
            a = _spd(rng, n, dtype, layout)
            got = mine(a, **kwargs)
            expected = theirs(a.astype(np.result_type(dtype, np.float64)), **kwargs)
            assert type(got) is type(expected)
            if name == "det":
                assert np.asarray(got).dtype == np.result_type(dtype, np.float64)
            else:
                assert got.dtype == np.dtype(dtype) and got.shape == a.shape
            _close(got, expected, dtype)


@pytest.mark.parametrize("name, kwargs", CALLS, ids=str)
def test_a_repeated_call_reuses_its_plan_and_a_changed_one_builds_its_own(placement, name, kwargs):
    function = getattr(linalg, name)
    a = _spd(np.random.default_rng(5), 6, "float64", "C")
    function(a, **kwargs)
    hits, misses = _counts()
    function(a.copy(), **kwargs)
    assert _counts() == (hits + 1, misses)
    for changed in (a.T.copy().T, a[:5, :5].copy(), a.astype(np.float32)):  # strides, shape, dtype
        hits, misses = _counts()
        function(changed, **kwargs)
        assert _counts() == (hits, misses + 1)


@pytest.mark.parametrize("name, kwargs", CALLS, ids=str)
def test_a_lane_tests_for_infs_and_nans_as_the_full_path_does(placement, name, kwargs):
    function = getattr(linalg, name)
    a = _spd(np.random.default_rng(7), 5, "float64", "C")
    function(a, **kwargs)  # the lane is kept
    for bad in (np.nan, np.inf):
        b = a.copy()
        b[2, 3] = b[3, 2] = bad
        with pytest.raises(ValueError, match="must not contain infs or NaNs: a holds"):
            function(b, **kwargs)
    function(a, **kwargs, check_finite=False)
    b = a.copy()
    b[1, 1] = np.nan
    if name == "det":  # unchecked, as SciPy's: LAPACK's answer
        assert np.isnan(function(b, check_finite=False))


def test_a_lane_raises_for_a_matrix_that_is_not_positive_definite(placement):
    a = _spd(np.random.default_rng(9), 5, "float64", "C")
    linalg.cholesky(a)
    b = a.copy()
    b[4, 4] = -100.0
    with pytest.raises(np.linalg.LinAlgError):
        linalg.cholesky(b)
    np.testing.assert_array_equal(linalg.cholesky(a), linalg.cholesky(a.copy()))  # the lane is still there


def test_a_lane_is_keyed_by_the_placement_mode(placement):
    a = _spd(np.random.default_rng(13), 4, "float64", "C")
    linalg.det(a)
    hits, misses = _counts()
    gpmath.set_placement("cpu" if placement == "auto" else "auto")
    linalg.det(a)
    assert _counts() == (hits, misses + 1)


def test_torch_cpu_tensors_take_the_lane_through_their_numpy_views(placement):
    torch = pytest.importorskip("torch")
    a = _spd(np.random.default_rng(17), 6, "float64", "C")
    for _ in range(3):
        c = linalg.cholesky(torch.from_numpy(a))
        assert isinstance(c, torch.Tensor)
        _close(c.numpy(), scipy.linalg.cholesky(a), "float64")
        d = linalg.det(torch.from_numpy(a))
        _close(np.asarray(d), scipy.linalg.det(a), "float64")


def test_a_host_lane_never_serves_a_plan_that_stages_through_a_gpu(monkeypatch):
    from gpmath.linalg import _dispatch

    class Staged:  # a kept plan of a GPU engine: host operands moved both ways
        device_id = 0

        def execute_with(self, *arrays, **kwargs):
            raise AssertionError("a host lane ran a GPU plan")

    a = np.eye(3)
    lane = _dispatch.host_lane_for(("det", True), None, None, None, a)
    monkeypatch.setattr(_dispatch._PATH, "lane", lambda key: Staged() if key == lane else None)
    assert _dispatch.by_lane(lane, a, check_finite=True) is None
    assert linalg.det(a) == 1.0  # the full path
