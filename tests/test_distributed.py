"""gpmath.distributed on the CPU: descriptors, partitions and argument checks (no MPI, no GPU).

The GPU runs (one rank in this process, then 2 ranks under ``mpirun``) are in
tests/test_distributed_gpu.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpmath.distributed as gd
from gpmath._core.errors import GpmathError
from gpmath.distributed._matmul import _output_distribution


# -- Box, Slab, check_tiling --------------------------------------------------------------------------
def test_box_shape_slices_and_intersection():
    box = gd.Box((1, 2), (4, 6))
    assert box.shape == (3, 4) and box.size == 12
    assert np.arange(64).reshape(8, 8)[box.slices].shape == (3, 4)
    assert box.intersect(gd.Box((3, 0), (8, 3))) == gd.Box((3, 2), (4, 3))
    assert box.intersect(gd.Box((4, 0), (8, 8))) is None


@pytest.mark.parametrize("lower, upper, error", [((0, 0), (1,), ValueError), ((2,), (1,), ValueError),
                                                 ((-1,), (1,), ValueError), ((0.5,), (1,), TypeError), (3, (1,), TypeError)])
def test_bad_boxes(lower, upper, error):
    with pytest.raises(error):
        gd.Box(lower, upper)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 13), min_size=1, max_size=3), nranks=st.integers(1, 9), axis=st.integers(-3, 2))
def test_slabs_tile_the_array(shape, nranks, axis):
    if not -len(shape) <= axis < len(shape):
        with pytest.raises(ValueError, match="out of range"):
            gd.Slab(axis).boxes(shape, nranks)
        return
    boxes = gd.Slab(axis).boxes(shape, nranks)
    gd.check_tiling(boxes, shape)
    sizes = [b.shape[axis] for b in boxes]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_slab_layout_matches_cufftmp():
    assert [b.lower[1] for b in gd.Slab(1).boxes((4, 10, 3), 4)] == [0, 3, 6, 8]
    assert gd.Slab(-1).box((4, 10, 3), 2, 3) == gd.Box((0, 0, 2), (4, 10, 3))


def test_check_tiling_reports_gaps_and_overlaps():
    with pytest.raises(ValueError, match="overlaps"):
        gd.check_tiling([gd.Box((0,), (3,)), gd.Box((2,), (4,))], (4,))
    with pytest.raises(ValueError, match="cover 3 elements of the 4"):
        gd.check_tiling([gd.Box((0,), (3,))], (4,))
    with pytest.raises(ValueError, match="beyond"):
        gd.check_tiling([gd.Box((0,), (5,))], (4,))


# -- BlockCyclic ----------------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(m=st.integers(1, 40), n=st.integers(1, 40), mb=st.integers(1, 9), nb=st.integers(1, 9),
       nprow=st.integers(1, 3), npcol=st.integers(1, 3), rsrc=st.integers(0, 2), csrc=st.integers(0, 2))
def test_block_cyclic_round_trip(m, n, mb, nb, nprow, npcol, rsrc, csrc):
    source = (rsrc % nprow, csrc % npcol)
    dist = gd.BlockCyclic((m, n), (mb, nb), (nprow, npcol), source=source)
    matrix = np.random.default_rng(0).standard_normal((m, n))
    parts = [dist.local_part(matrix, r) for r in range(dist.nranks)]
    assert sum(p.size for p in parts) == m * n
    assert all(p.flags.f_contiguous for p in parts)
    assert [p.shape for p in parts] == [dist.local_shape(r) for r in range(dist.nranks)]
    np.testing.assert_array_equal(dist.assemble(parts), matrix)


def test_block_cyclic_layout_is_scalapacks():
    dist = gd.BlockCyclic((6, 4), (2, 1), (2, 2))
    assert dist.coords(1) == (1, 0) and dist.coords(2) == (0, 1)  # column-major grid
    rows, cols = dist.local_indices(1)
    assert rows.tolist() == [2, 3] and cols.tolist() == [0, 2]
    assert [gd.numroc(10, 3, p, 1, 3) for p in range(3)] == [3, 4, 3]


def test_block_cyclic_defaults():
    assert gd.BlockCyclic((100, 60), nranks=4) == gd.BlockCyclic((100, 60), (50, 30), (2, 2))
    assert gd.BlockCyclic((7, 5), grid=(1, 2)).blocks == (7, 3)
    assert [gd.process_grid(p) for p in (1, 2, 3, 4, 8, 12)] == [(1, 1), (1, 2), (1, 3), (2, 2), (2, 4), (3, 4)]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(shape=(4,), grid=(1, 1)), ValueError, "two entries"),
    (dict(shape=(4, 4), blocks=(0, 2), grid=(1, 1)), ValueError, ">= 1"),
    (dict(shape=(4, 4), grid=(2, 2), nranks=3), ValueError, "has 4 processes but nranks=3"),
    (dict(shape=(4, 4), grid=(2, 2), source=(2, 0)), ValueError, "outside"),
    (dict(shape=(4, 4.0), grid=(1, 1)), TypeError, "integers"),
])
def test_bad_block_cyclic(kwargs, error, match):
    with pytest.raises(error, match=match):
        gd.BlockCyclic(**kwargs)


def test_block_cyclic_checks_parts():
    dist = gd.BlockCyclic((4, 4), grid=(1, 2))
    with pytest.raises(ValueError, match="shape"):
        dist.local_part(np.zeros((3, 4)), 0)
    with pytest.raises(ValueError, match="2 processes"):
        dist.assemble([np.zeros((4, 2))])
    with pytest.raises(ValueError, match="rank 2"):
        dist.local_shape(2)


# -- matmul's distribution rules -----------------------------------------------------------------------
def test_default_output_distribution():
    a, b = gd.BlockCyclic((8, 6), (4, 3), (1, 2)), gd.BlockCyclic((6, 10), (3, 5), (1, 2))
    assert _output_distribution(a, b, None, 2) == gd.BlockCyclic((8, 10), (4, 5), (1, 2))


@pytest.mark.parametrize("b, out, nranks, match", [
    (gd.BlockCyclic((5, 10), (3, 5), (1, 2)), None, 2, "inner dimensions"),
    (gd.BlockCyclic((6, 10), (2, 5), (1, 2)), None, 2, r"column blocks \(3\) to equal b_dist's row blocks \(2\)"),
    (gd.BlockCyclic((6, 10), (3, 5), (2, 1)), None, 2, "one grid"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), None, 4, "2 processes but 4 ranks"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), gd.BlockCyclic((8, 10), (2, 5), (1, 2)), 2, "row blocks"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), gd.BlockCyclic((8, 9), (4, 5), (1, 2)), 2, "shape"),
])
def test_output_distribution_rules(b, out, nranks, match):
    a = gd.BlockCyclic((8, 6), (4, 3), (1, 2))
    with pytest.raises(ValueError, match=match):
        _output_distribution(a, b, out, nranks)


# -- initialize ----------------------------------------------------------------------------------------
def test_not_initialized():
    assert not gd.is_initialized()
    with pytest.raises(GpmathError, match="initialize"):
        gd.current()
    gd.finalize()  # idempotent, nothing to release


def test_initialize_rejects_unknown_communicators():
    with pytest.raises(TypeError, match="mpi4py communicator"):
        gd.initialize(object())


def test_initialize_says_torch_groups_are_not_supported_yet():
    group = type("ProcessGroup", (), {"__module__": "torch._C._distributed_c10d"})()
    with pytest.raises(NotImplementedError, match="mpirun"):
        gd.initialize(group)
