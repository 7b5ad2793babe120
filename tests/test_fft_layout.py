"""The layout maths against a NumPy model of cuFFT's advanced layout.

``_run_layout`` executes a :class:`Layout` the way cuFFT would: it reads and writes flat
buffers through ``(n, embed, stride, dist, batch)`` address arithmetic, one launch per offset
pair, checking cuFFT's validity rules and that every address stays inside the array it belongs
to.  The result is compared with scipy.fft, so a wrong stride, embed or offset shows up as a
wrong answer without a GPU.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.fft
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

from gpmath.fft._layout import MAX_LOOPS, dense_strides, plan_layout


def _element_addresses(shape, strides, origin):
    """Sorted unique element addresses (in elements) of a strided view."""
    grids = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((0, 1), int)
    return np.unique(origin + np.asarray(strides, int) @ grids)


def _signal_addresses(extents, embed, stride):
    """Addresses of one signal's elements relative to its start, C order over *extents*."""
    index = np.indices(extents).reshape(len(extents), -1)
    linear = index[0]
    for k in range(1, len(extents)):
        linear = linear * embed[k] + index[k]
    return linear * stride


def _check_pass_validity(p):
    rank = len(p.n)
    assert 1 <= rank <= 3 and min(p.n) >= 1 and p.batch >= 1
    assert p.direction == {"c2c": p.direction, "r2c": -1, "c2r": 1}[p.kind]
    assert p.istride >= 1 and p.ostride >= 1 and p.idist >= 1 and p.odist >= 1
    half = list(p.n[:-1]) + [p.n[-1] // 2 + 1]
    in_ext = half if p.kind == "c2r" else list(p.n)
    out_ext = half if p.kind == "r2c" else list(p.n)
    assert all(p.inembed[k] >= in_ext[k] for k in range(1, rank))
    assert all(p.onembed[k] >= out_ext[k] for k in range(1, rank))
    assert p.source != p.target or (p.kind == "c2c" and p.inembed[1:] == p.onembed[1:])
    # measured on an H200 (CUDA 13): a multi-dimensional c2r with a last length of 1 returns wrong values
    assert not (p.kind == "c2r" and rank > 1 and p.n[-1] == 1), "cuFFT's n-D c2r of a last length 1"
    return in_ext, out_ext


def _transform(kind, signals, n, direction):
    axes = tuple(range(1, len(n) + 1))
    if kind == "r2c":
        return np.fft.rfftn(signals.real, s=n, axes=axes)
    if kind == "c2r":
        return np.fft.irfftn(signals, s=n, axes=axes) * math.prod(n)
    if direction < 0:
        return np.fft.fftn(signals, axes=axes)
    return np.fft.ifftn(signals, axes=axes) * math.prod(n)


def _run_pass(p, buffers, direction, readable):
    """Run pass *p* on ``buffers = {name: (flat array, origin)}`` like cufftXtExec would."""
    in_ext, out_ext = _check_pass_validity(p)
    src, src_origin = buffers[p.source]
    dst, dst_origin = buffers[p.target]
    in_rel = _signal_addresses(in_ext, p.inembed, p.istride)
    out_rel = _signal_addresses(out_ext, p.onembed, p.ostride)
    written = []
    for src_off, dst_off in p.offsets:
        batch = np.arange(p.batch)[:, None]
        reads = src_origin + src_off + batch * p.idist + in_rel
        writes = dst_origin + dst_off + batch * p.odist + out_rel
        assert np.isin(reads, readable[p.source]).all(), "a read leaves the source array"
        assert np.isin(writes, readable[p.target]).all(), "a write leaves the target array"
        signals = src[reads].reshape([p.batch] + in_ext)
        sign = direction if p.direction is None else p.direction
        dst[writes] = _transform(p.kind, signals, p.n, sign).reshape(p.batch, -1)
        written.append(writes.ravel())
    written = np.concatenate(written)
    assert len(np.unique(written)) == len(written), "two writes hit one address"


def _run_layout(x, base, layout, direction=-1):
    """Execute *layout* on view *x* of flat buffer *base*; return the result as an array."""
    origin = (x.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // x.itemsize
    strides = tuple(s // x.itemsize for s in x.strides)
    crop = tuple(slice(0, min(m, n)) for m, n in zip(x.shape, layout.in_shape))
    if layout.copy_order is None:
        in_buf, in_origin = base.astype(complex).copy(), origin
        readable = _element_addresses(layout.in_shape, strides, origin)
    else:
        dense = dense_strides(layout.in_shape, layout.copy_order)
        in_buf, in_origin = np.zeros(math.prod(layout.in_shape), complex), 0
        as_strided(in_buf, layout.in_shape, [d * 16 for d in dense])[crop] = x[crop]
        readable, strides = np.arange(in_buf.size), dense
    buffers = {"input": (in_buf, in_origin)}
    regions = {"input": readable}
    if layout.out_order is not None:
        out_strides = dense_strides(layout.out_shape, layout.out_order)
        buffers["output"] = (np.full(math.prod(layout.out_shape), np.nan, complex), 0)
        regions["output"] = np.arange(math.prod(layout.out_shape))
    for p in layout.passes:
        _run_pass(p, buffers, direction, regions)
    if layout.out_order is None:
        return as_strided(in_buf[in_origin:], layout.out_shape, [s * 16 for s in strides])
    return as_strided(buffers["output"][0], layout.out_shape, [s * 16 for s in out_strides])


def _expected(x, kind, axes, s, direction=-1):
    if kind == "r2c":
        return scipy.fft.rfftn(x.real, s=s, axes=axes)
    if kind == "c2r":
        return scipy.fft.irfftn(x, s=s, axes=axes, norm="forward")
    if direction < 0:
        return scipy.fft.fftn(x, s=s, axes=axes)
    return scipy.fft.ifftn(x, s=s, axes=axes, norm="forward")


def _check(x, base, axes, kind, s=None, direction=-1, **options):
    s = tuple(x.shape[a] for a in axes) if s is None else tuple(s)
    strides = tuple(v // x.itemsize for v in x.strides)
    layout = plan_layout(x.shape, strides, axes, kind, s, **options)
    got = _run_layout(x, base, layout, direction)
    want = _expected(x, kind, axes, s, direction)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.real if kind == "c2r" else got, want, rtol=1e-10, atol=1e-10)
    return layout


def _array(shape, seed=0, dtype=complex):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(math.prod(shape)) + (1j * rng.standard_normal(math.prod(shape)) if dtype is complex else 0)
    return base.reshape(shape), base


# --- hand-picked cases -------------------------------------------------------------------


def test_c_ordered_rows_need_no_copy_and_one_launch():
    x, base = _array((8, 64))
    layout = _check(x, base, (1,), "c2c")
    assert layout.copy_order is None and len(layout.passes) == 1
    p = layout.passes[0]
    assert (p.n, p.batch, p.idist, p.istride, p.offsets) == ((64,), 8, 64, 1, ((0, 0),))


@pytest.mark.parametrize("direction", [-1, 1])
def test_non_last_axis_is_read_with_a_stride(direction):
    x, base = _array((16, 6))
    p = _check(x, base, (0,), "c2c", direction=direction).passes[0]
    assert (p.istride, p.idist, p.batch) == (6, 1, 6)


def test_fortran_order_2d_keeps_its_order_in_the_output():
    a, base = _array((5, 7))
    layout = _check(a.T, base, (0, 1), "c2c")
    assert layout.copy_order is None and layout.out_order == (1, 0)


def test_middle_axis_of_3d_loops_over_the_smaller_outer_group():
    x, base = _array((3, 16, 5))
    layout = _check(x, base, (1,), "c2c")
    p = layout.passes[0]
    assert layout.copy_order is None and p.batch == 5 and len(p.offsets) == 3


def test_many_outer_loops_fall_back_to_one_copy():
    x, base = _array((MAX_LOOPS + 1, 4, MAX_LOOPS + 2))
    layout = _check(x, base, (1,), "c2c")
    assert layout.copy_order == (0, 2, 1) and len(layout.passes[0].offsets) == 1


def test_non_nesting_strides_are_copied():
    a, base = _array((6, 30))
    x = a[:, ::7]  # row stride 30 is not a multiple of the column stride 7
    assert _check(x, base, (0, 1), "c2c").copy_order is not None


def test_cropping_is_a_view_and_padding_a_copy():
    x, base = _array((4, 12))
    assert _check(x, base, (1,), "c2c", s=(7,)).copy_order is None
    assert _check(x, base, (1,), "c2c", s=(17,)).copy_order is not None


def test_size_one_axes_with_odd_strides_are_ignored():
    a, base = _array((4, 1, 8))
    x = as_strided(a, a.shape, (a.strides[0], 12345 * 16, a.strides[2]))
    layout = _check(x, base, (0, 2), "c2c")
    assert layout.copy_order is None and layout.passes[0].n == (4, 8)


def test_all_size_one_transform_axes_still_make_a_valid_plan():
    x, base = _array((5, 1))
    assert _check(x, base, (1,), "c2c").passes[0].n == (1,)


def test_rfft_of_a_non_last_axis_needs_no_copy():
    x, base = _array((10, 3), dtype=float)
    assert _check(x, base, (0,), "r2c").copy_order is None


def test_rfftn_whose_halved_axis_is_outermost_is_copied():
    x, base = _array((6, 5), dtype=float)
    layout = _check(x, base, (1, 0), "r2c")
    assert layout.copy_order == (1, 0)


def test_c2r_copies_unless_the_input_may_be_overwritten():
    x, base = _array((4, 5))
    assert _check(x, base, (1,), "c2r", s=(8,), must_copy=True).copy_order is not None
    assert _check(x, base, (1,), "c2r", s=(8,)).copy_order is None


def test_sliding_windows_are_read_without_a_copy():
    signal = np.random.default_rng(1).standard_normal(40) + 0j
    frames = as_strided(signal, (30, 11), (16, 16))
    assert _check(frames, signal, (1,), "c2c").copy_order is None


@pytest.mark.parametrize("shape, axes", [((3, 1), (0, 1)), ((1, 3), (1, 0)), ((2, 3, 1), (1, 2)), ((6, 1, 1), (0, 1, 2)),
                                         ((2, 3, 4, 5, 1), (0, 1, 2, 3, 4))])
@pytest.mark.parametrize("options", [{}, {"must_copy": True}])
def test_c2r_of_a_halved_axis_of_one_point_runs_that_axis_alone(shape, axes, options):
    x, base = _array(shape, seed=3)
    _check(x, base, axes, "c2r", [shape[a] for a in axes], **options)


def test_broadcast_batch_is_copied():
    row, base = _array((1, 8))
    x = np.broadcast_to(row, (4, 8))
    assert _check(x, base, (1,), "c2c").copy_order is not None


@pytest.mark.parametrize("kind", ["c2c", "r2c", "c2r"])
def test_more_than_three_axes_run_as_several_passes(kind):
    x, base = _array((2, 3, 2, 4, 3), dtype=float if kind == "r2c" else complex)
    axes = (0, 1, 2, 3, 4)
    s = (2, 3, 2, 4, 4) if kind == "c2r" else None
    layout = _check(x, base, axes, kind, s=s)
    assert [len(p.n) for p in layout.passes] in ([3, 2], [2, 3])


def test_seven_axes_with_a_batch_axis_in_the_dense_copy():
    x, base = _array((2, 2, 3, 2, 2, 2, 2, 3))
    layout = _check(x, base, (0, 1, 2, 4, 5, 6, 7), "c2c", s=(2, 2, 3, 2, 2, 2, 5))
    assert [len(p.n) for p in layout.passes] == [3, 3, 1]


def test_inplace_c2c_writes_over_the_input():
    x, base = _array((4, 6, 5))
    layout = _check(x, base, (0, 2), "c2c", inplace=True)
    assert layout.out_order is None and {p.target for p in layout.passes} == {"input"}


def test_inplace_rejects_padding_other_kinds_and_inexpressible_strides():
    with pytest.raises(ValueError, match="zero-pad"):
        plan_layout((4, 8), (8, 1), (1,), "c2c", (9,), inplace=True)
    with pytest.raises(ValueError, match="complex-to-complex"):
        plan_layout((4, 8), (8, 1), (1,), "r2c", (8,), inplace=True)
    with pytest.raises(ValueError, match="cannot express"):
        plan_layout((4, 8), (0, 1), (1,), "c2c", (8,), inplace=True)


def test_empty_batch_gives_no_passes():
    layout = plan_layout((0, 8), (8, 1), (1,), "r2c", (8,))
    assert layout.passes == () and layout.out_shape == (0, 5)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        plan_layout((8,), (1,), (0,), "z2z", (8,))


# --- property test over shapes, strides, axes and kinds ----------------------------------


@st.composite
def _cases(draw):
    ndim = draw(st.integers(1, 5))
    shape = draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    perm = draw(st.permutations(range(ndim)))
    steps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 3, -1]), min_size=ndim, max_size=ndim))
    naxes = draw(st.integers(1, ndim))
    axes = tuple(draw(st.permutations(range(ndim)))[:naxes])
    kind = draw(st.sampled_from(["c2c", "r2c", "c2r"]))
    s = tuple(draw(st.sampled_from([None, None, None, 1, 2, 3, 5, 6])) for _ in axes)
    options = draw(st.sampled_from([{}, {}, {"must_copy": True}] + ([{"inplace": True}] if kind == "c2c" else [])))
    odd_unit_strides = draw(st.booleans())
    broadcast_axis = draw(st.sampled_from([-1, -1, -1, draw(st.integers(0, ndim - 1))]))
    return shape, perm, steps, axes, kind, s, options, odd_unit_strides, broadcast_axis


def _strided_view(shape, perm, steps, odd_unit_strides, broadcast_axis, dtype):
    stored = [shape[p] * abs(step) for p, step in zip(perm, steps)]
    base, flat = _array(stored, seed=len(shape), dtype=dtype)
    view = base[tuple(slice(None, None, step) for step in steps)].transpose(np.argsort(perm))
    strides = list(view.strides)
    if odd_unit_strides:
        strides = [977 * view.itemsize if n == 1 else v for n, v in zip(shape, strides)]
    if broadcast_axis >= 0:
        strides[broadcast_axis] = 0
    return as_strided(view, view.shape, strides), flat


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_any_layout_matches_scipy(case):
    shape, perm, steps, axes, kind, s, options, odd_unit_strides, broadcast_axis = case
    x, flat = _strided_view(shape, perm, steps, odd_unit_strides, broadcast_axis, float if kind == "r2c" else complex)
    full = [x.shape[a] if n is None else n for a, n in zip(axes, s)]
    if kind == "c2r" and s[-1] is None:
        full[-1] = 2 * (x.shape[axes[-1]] - 1) or 1
    strides = tuple(v // x.itemsize for v in x.strides)
    try:
        layout = plan_layout(x.shape, strides, axes, kind, full, **options)
    except ValueError:
        assert options.get("inplace")  # padding or overlap: refused only for in-place
        return
    got = _run_layout(x, flat, layout)
    want = _expected(x, kind, axes, full)
    np.testing.assert_allclose(got.real if kind == "c2r" else got, want, rtol=1e-9, atol=1e-9)
