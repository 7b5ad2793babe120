"""gpmath.distributed on the CPU: descriptors, partitions and argument checks (no MPI, no GPU).

The GPU runs (one rank in this process, then 2 ranks under ``mpirun``) are in
tests/test_distributed_gpu.py.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gpmath.distributed as gd
from gpmath._bindings.cufftmp import SubFormat
from gpmath._core.dtypes import DTYPES
from gpmath._errors import GpmathError
from gpmath.distributed._fft import _check_kind, _local_report, _out_dtype, _raise_reported
from gpmath.distributed._fft_layout import complex_shape, fft_layout
from gpmath.distributed import _matmul
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
    (gd.BlockCyclic((6, 10), (3, 5), (2, 2)), None, 2, "b_dist's \\(2, 2\\) grid has 4 processes but 2 ranks"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), None, 4, "2 processes but 4 ranks"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), gd.BlockCyclic((8, 10), (2, 5), (1, 2)), 2, "row blocks"),
    (gd.BlockCyclic((6, 10), (3, 5), (1, 2)), gd.BlockCyclic((8, 9), (4, 5), (1, 2)), 2, "shape"),
])
def test_output_distribution_rules(b, out, nranks, match):
    a = gd.BlockCyclic((8, 6), (4, 3), (1, 2))
    with pytest.raises(ValueError, match=match):
        _output_distribution(a, b, out, nranks)


@pytest.mark.parametrize("trans_a, trans_b, a, b, expected", [
    # A^T B, NVIDIA's TN panels: A (k, m) in column panels on (1, 2), the result in row panels on (2, 1)
    ("T", "N", gd.BlockCyclic((6, 8), (6, 4), (1, 2)), gd.BlockCyclic((6, 10), (6, 5), (1, 2)),
     gd.BlockCyclic((8, 10), (4, 5), (2, 1))),
    ("N", "C", gd.BlockCyclic((8, 6), (4, 3), (1, 2)), gd.BlockCyclic((10, 6), (5, 3), (1, 2)),
     gd.BlockCyclic((8, 10), (4, 5), (1, 2))),
    ("C", "T", gd.BlockCyclic((6, 8), (3, 4), (2, 1), source=(1, 0)), gd.BlockCyclic((10, 6), (5, 3), (1, 2)),
     gd.BlockCyclic((8, 10), (4, 5), (1, 2), source=(0, 1))),
])
def test_output_distribution_of_transposed_operands(trans_a, trans_b, a, b, expected):
    assert _output_distribution(a, b, None, 2, trans_a, trans_b) == expected


@pytest.mark.parametrize("trans_a, trans_b, b, match", [
    ("T", "N", gd.BlockCyclic((8, 10), (4, 5), (1, 2)), r"A\^T is \(8, 6\) and B is \(8, 10\): their inner"),
    ("N", "T", gd.BlockCyclic((10, 6), (5, 2), (1, 2)),
     r"a_dist's column blocks \(3\) to equal b_dist's column blocks \(2\)"),
    ("N", "C", gd.BlockCyclic((10, 6), (5, 3), (1, 2)), None),
])
def test_transposed_operands_follow_cublasmps_rules(trans_a, trans_b, b, match):
    a = gd.BlockCyclic((8, 6) if trans_a == "N" else (6, 8), (4, 3) if trans_a == "N" else (3, 4), (1, 2))
    if match is None:
        assert _output_distribution(a, b, None, 2, trans_a, trans_b).shape == (8, 10)
        with pytest.raises(ValueError, match=r"b_dist's row blocks \(5\) to equal out_dist's column blocks \(2\)"):
            _output_distribution(a, b, gd.BlockCyclic((8, 10), (4, 2), (1, 2)), 2, trans_a, trans_b)
    else:
        with pytest.raises(ValueError, match=match):
            _output_distribution(a, b, None, 2, trans_a, trans_b)


def test_operations_are_checked_and_real_conjugates_are_transposes():
    assert _matmul._operation("c", "trans_a", DTYPES["float64"]) == "T"
    assert _matmul._operation("C", "trans_a", DTYPES["complex64"]) == "C"
    assert _matmul._operation("n", "trans_b", DTYPES["float32"]) == "N"
    for bad in ("X", 1, None, "NT"):
        with pytest.raises(ValueError, match=r'trans_b must be "N", "T" or "C"'):
            _matmul._operation(bad, "trans_b", DTYPES["float32"])


class _WorkspacePlan:
    """What Matmul._symmetric_workspace reads of a plan, with the other ranks' outcomes given."""

    def __init__(self, others):
        self.out_dist, self.stream, self.held = None, 7, []
        self.context = type("Context", (), {"size": 1 + len(others),
                                            "comm": type("Comm", (), {"allgather": lambda _, x: [x, *others]})()})()

    def _grid(self, dist):
        return 1234

    def _hold(self, release, *args):
        self.held.append((release, args))


@pytest.mark.parametrize("wanted, available, symmetric", [(True, True, True), (False, True, False),
                                                         (True, False, False)])
def test_workspace_is_symmetric_only_where_wanted_and_available(monkeypatch, wanted, available, symmetric):
    """Plans take NCCL symmetric memory where cuBLASMp has it; the stateless matmul (and
    ``symmetric_workspace=False``) takes ordinary memory, without the collective registration."""

    class Buffer:
        def __init__(self, nbytes, stream, device_id):
            self.ptr = 0xA000 + nbytes

        def release(self):
            pass

    monkeypatch.setattr(_matmul.mp, "has_symmetric_memory", lambda: available)
    monkeypatch.setattr(_matmul.mp, "malloc", lambda grid, size: 0xBEEF)
    monkeypatch.setattr(_matmul, "DeviceBuffer", Buffer)
    plan = _WorkspacePlan([None])
    plan._symmetric_wanted, plan.device_id = wanted, 0
    plan._symmetric_workspace = lambda nbytes: _matmul.Matmul._symmetric_workspace(plan, nbytes)
    assert _matmul.Matmul._workspace(plan, 16) == (0xBEEF if symmetric else 0xA010)
    assert plan.symmetric_workspace is symmetric


@pytest.mark.parametrize("here_fails, others, outcome", [
    (False, [None], "symmetric"),
    (True, ["CUBLASMP_STATUS_NOT_SUPPORTED"], "ordinary"),
    (False, ["CUBLASMP_STATUS_NOT_SUPPORTED"], r"not on ranks \[1\]"),
    (True, [None, None], r"not on ranks \[0\]"),
])
def test_symmetric_workspace_is_taken_on_every_rank_or_on_none(monkeypatch, here_fails, others, outcome):
    """cublasMpMalloc and cublasMpFree are collective: every rank takes symmetric memory, or every
    rank ordinary memory, or every rank raises."""
    from gpmath._errors import LibraryError

    def malloc(grid, size):
        assert (grid, size) == (1234, 1)
        if here_fails:
            raise LibraryError(7, "CUBLASMP_STATUS_NOT_SUPPORTED", "cublasMpMalloc")
        return 0xBEEF

    monkeypatch.setattr(_matmul.mp, "malloc", malloc)
    plan = _WorkspacePlan(others)
    if outcome in ("symmetric", "ordinary"):
        ptr = _matmul.Matmul._symmetric_workspace(plan, 0)
        assert ptr == (0xBEEF if outcome == "symmetric" else None)
        assert plan.held == ([(_matmul.mp.free, (1234, 0xBEEF)), (_matmul.synchronize, (7,))]
                             if outcome == "symmetric" else [])
    else:
        with pytest.raises(GpmathError, match=outcome):
            _matmul.Matmul._symmetric_workspace(plan, 0)


def test_tensor_parallel_layouts_may_use_different_grids():
    """Row panels of A and of the result on (P, 1), column panels of B on (1, P): three grids,
    the block rules as on one grid (cuBLASMp 0.7 checks them whatever the grids)."""
    a = gd.BlockCyclic((8, 6), (4, 6), (2, 1))
    b = gd.BlockCyclic((6, 10), (6, 5), (1, 2))
    out = gd.BlockCyclic((8, 10), (4, 5), (2, 1))
    assert _output_distribution(a, b, out, 2) == out
    with pytest.raises(ValueError, match="inner"):
        _output_distribution(a, gd.BlockCyclic((7, 10), (6, 5), (1, 2)), out, 2)
    with pytest.raises(ValueError, match=r"b_dist's column blocks \(5\) to equal out_dist's column blocks \(10\)"):
        _output_distribution(a, b, gd.BlockCyclic((8, 10), (4, 10), (2, 1)), 2)


# -- initialize ----------------------------------------------------------------------------------------
def test_not_initialized():
    assert not gd.is_initialized()
    with pytest.raises(GpmathError, match="initialize"):
        gd.current()
    gd.finalize()  # idempotent, nothing to release


def test_initialize_rejects_unknown_communicators():
    with pytest.raises(TypeError, match="mpi4py communicator"):
        gd.initialize(object())


class _FakeTorchDistributed:
    """torch.distributed's object collectives for one process of *size* (rank 1), recorded."""

    def __init__(self, initialized=True):
        self.initialized, self.calls = initialized, []

    def is_initialized(self):
        return self.initialized

    def get_rank(self, group):
        return 1

    def get_world_size(self, group):
        return 3

    def get_global_rank(self, group, rank):
        return rank

    def broadcast_object_list(self, box, src, group):
        self.calls.append(("broadcast", src))
        box[0] = b"from root"

    def all_gather_object(self, out, obj, group):
        out[:] = [obj] * len(out)

    def barrier(self, group):
        self.calls.append(("barrier",))


def _torch_group(monkeypatch, fake):
    torch = type(sys)("torch")
    torch.distributed = fake
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch.distributed", fake)
    return type("ProcessGroup", (), {"__module__": "torch._C._distributed_c10d"})()


def test_torch_process_groups_are_adapted(monkeypatch):
    from gpmath.distributed._runtime import _adapter

    fake = _FakeTorchDistributed()
    adapter = _adapter(_torch_group(monkeypatch, fake))
    assert (adapter.rank, adapter.size) == (1, 3)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert adapter.local_rank() == 2
    assert adapter.bcast_bytes(None) == b"from root" and fake.calls == [("broadcast", 0)]
    assert adapter.allgather({"x": 1}) == [{"x": 1}] * 3
    with pytest.raises(GpmathError, match="mpi4py"):
        adapter.handle_address()


def test_torch_process_groups_must_be_initialized(monkeypatch):
    from gpmath.distributed._runtime import _adapter

    with pytest.raises(GpmathError, match="init_process_group"):
        _adapter(_torch_group(monkeypatch, _FakeTorchDistributed(initialized=False)))


# -- the distributed FFT's layouts (what cuFFTMp is told, and the errors every rank raises) --------------
def _slab_layout(kind, shape, axis, nranks, rank=0, s=None):
    """The layout every rank computes for slab input of a global array of *shape*."""
    locals_ = [b.shape for b in gd.Slab(axis).boxes(shape, nranks)]
    return fft_layout(kind, [gd.Slab(axis)] * nranks, locals_, rank, s=s)


def test_c2c_slabs_use_cufftmps_builtin_formats():
    lay = _slab_layout("c2c", (5, 4, 3), 0, 2, rank=1)
    assert lay.shape_in == lay.shape_out == lay.plan_shape == (5, 4, 3)
    assert lay.in_box == gd.Box((3, 0, 0), (5, 4, 3)) and lay.out_box == gd.Box((0, 2, 0), (5, 4, 3))
    assert lay.out_distribution == gd.Slab(1) and lay.distribution is None
    assert (lay.subformat, lay.malloc_format) == (SubFormat.CUFFT_XT_FORMAT_INPLACE, SubFormat.CUFFT_XT_FORMAT_INPLACE)
    back = _slab_layout("c2c", (7, 9), 1, 2)
    assert back.subformat == SubFormat.CUFFT_XT_FORMAT_INPLACE_SHUFFLED and back.out_distribution == gd.Slab(0)
    assert back.in_box.shape == (7, 5) and back.out_box.shape == (4, 9) and back.in_strides == (5, 1)


def test_r2c_slabs_become_padded_boxes():
    lay = _slab_layout("r2c", (5, 6, 7), 0, 2)
    assert lay.shape_out == complex_shape((5, 6, 7)) == (5, 6, 4) and lay.plan_shape == (5, 6, 7)
    assert lay.in_strides == (6 * 8, 8, 1) and lay.out_strides == (3 * 4, 4, 1)
    assert lay.distribution == ((0, 0, 0), (3, 6, 7), (0, 0, 0), (5, 3, 4), (48, 8, 1), (12, 4, 1))
    assert lay.subformat == lay.malloc_format == SubFormat.CUFFT_XT_FORMAT_DISTRIBUTED_INPUT
    assert lay.spans() == ((3 - 1) * 48 + 5 * 8 + 6 + 1, 5 * 3 * 4)
    split_last = _slab_layout("r2c", (6, 9), 1, 2)  # rows cut in two: no padding
    assert split_last.in_strides == (5, 1) and split_last.out_box.shape == (3, 5)


def test_c2r_takes_the_complex_box_as_output():
    lay = _slab_layout("c2r", (5, 6, 4), 1, 2, rank=1, s=(5, 6, 7))
    assert lay.shape_out == lay.plan_shape == (5, 6, 7) and lay.out_distribution == gd.Slab(0)
    real, cplx = lay.out_box, lay.in_box
    assert lay.distribution == (real.lower, real.upper, cplx.lower, cplx.upper, (48, 8, 1), (12, 4, 1))
    assert lay.subformat == lay.malloc_format == SubFormat.CUFFT_XT_FORMAT_DISTRIBUTED_OUTPUT
    assert _slab_layout("c2r", (5, 6, 4), 1, 2).shape_out == (5, 6, 6)  # default: 2 * (m - 1)
    with pytest.raises(ValueError, match=r"s=\(5, 6, 9\)"):
        _slab_layout("c2r", (5, 6, 4), 1, 2, s=(5, 6, 9))


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(4, 11), min_size=2, max_size=3), nranks=st.integers(1, 4), axis=st.integers(0, 1),
       kind=st.sampled_from(["c2c", "r2c"]))
def test_slab_round_trip_layouts(shape, nranks, axis, kind):
    shape = tuple(shape)
    out_shape = complex_shape(shape) if kind == "r2c" else shape
    if out_shape[1 - axis] < nranks:
        with pytest.raises(ValueError, match="fewer than"):
            _slab_layout(kind, shape, axis, nranks)
        return
    forward = [_slab_layout(kind, shape, axis, nranks, r) for r in range(nranks)]
    for lay in forward:
        gd.check_tiling(lay.out_boxes, lay.shape_out)
        assert max(lay.spans()) >= lay.in_box.size
    back_kind = "c2r" if kind == "r2c" else "c2c"
    back = fft_layout(back_kind, [forward[0].out_distribution] * nranks, [lay.out_box.shape for lay in forward], 0,
                      s=shape if kind == "r2c" else None)
    assert back.out_boxes == forward[0].in_boxes and back.shape_out == shape


def _pencils(shape, grid):
    """Boxes of a (p0, p1) grid over axes 0 and 1 (rank r at row r // p1, column r % p1)."""
    (p0, p1), boxes = grid, []
    for r in range(p0 * p1):
        a, b = gd.Slab(0).box(shape, r // p1, p0), gd.Slab(1).box(shape, r % p1, p1)
        boxes.append(a.intersect(b))
    return boxes


def test_box_layouts_take_every_ranks_boxes():
    shape = (6, 8, 5)
    boxes = _pencils(shape, (2, 2))
    lay = fft_layout("c2c", boxes, [b.shape for b in boxes], 3)
    assert lay.shape_in == shape and lay.out_boxes == tuple(boxes) and lay.out_distribution == boxes[3]
    assert lay.distribution == (boxes[3].lower, boxes[3].upper, boxes[3].lower, boxes[3].upper, (20, 5, 1), (20, 5, 1))
    outs = [gd.Box((0,) + b.lower[1:], (6,) + b.upper[1:]) for b in _pencils((1, 8, 5), (1, 4))]
    lay = fft_layout("c2c", boxes, [b.shape for b in boxes], 1, outs)
    assert lay.out_box == outs[1] and lay.subformat == SubFormat.CUFFT_XT_FORMAT_DISTRIBUTED_INPUT
    real = fft_layout("r2c", boxes, [b.shape for b in boxes], 0)
    assert real.out_box == gd.Box((0, 0, 0), (3, 4, 3)) and real.in_strides == (24, 6, 1)


@pytest.mark.parametrize("case, error, match", [
    ("1d", ValueError, "2-D or 3-D"), ("4d", ValueError, "2-D or 3-D"), ("slab2", ValueError, "axis 0 or 1"),
    ("mixed", ValueError, "same Slab on every rank"), ("thin", ValueError, "fewer than the 2 ranks"),
    ("wrong-local", ValueError, r"x on rank 0 has shape \(2, 4\), but its part of Slab\(0\) is \(3, 4\)"), ("overlap", ValueError, "do not tile"),
    ("no-out-box", ValueError, "out_box is needed"), ("not-a-box", TypeError, "Slab or Box"),
    ("out-box-axes", ValueError, "out_box on rank 0"), ("empty", ValueError, "empty"),
])
def test_fft_layout_errors_name_the_argument_and_rank(case, error, match):
    halves = [gd.Box((0, 0), (2, 4)), gd.Box((2, 0), (4, 4))]
    cases = {
        "1d": ("c2c", [gd.Slab(0)] * 2, [(3,), (2,)], None),
        "4d": ("c2c", [gd.Slab(0)] * 2, [(2, 2, 2, 2)] * 2, None),
        "slab2": ("c2c", [gd.Slab(2)] * 2, [(4, 4, 2)] * 2, None),
        "mixed": ("c2c", [gd.Slab(0), gd.Slab(1)], [(2, 4)] * 2, None),
        "thin": ("c2c", [gd.Slab(0)] * 2, [(4, 1), (4, 1)], None),
        "wrong-local": ("c2c", [gd.Slab(0)] * 2, [(2, 4), (3, 4)], None),
        "overlap": ("c2c", [gd.Box((0, 0), (3, 4)), gd.Box((2, 0), (4, 4))], [(3, 4), (2, 4)], None),
        "no-out-box": ("r2c", [gd.Box((0, 0), (4, 2)), gd.Box((0, 2), (4, 4))], [(4, 2)] * 2, None),
        "not-a-box": ("c2c", [gd.Box((0, 0), (2, 4)), "rows"], [(2, 4)] * 2, None),
        "out-box-axes": ("c2c", halves, [(2, 4)] * 2, [gd.Box((0,), (2,)), None]),
        "empty": ("c2c", [gd.Box((0, 0), (4, 4)), gd.Box((4, 0), (4, 4))], [(4, 4), (0, 4)], None),
    }
    kind, dists, shapes, outs = cases[case]
    with pytest.raises(error, match=match):
        fft_layout(kind, dists, shapes, 0, outs)


def test_fft_dtype_rules():
    assert _check_kind(None, DTYPES["complex64"]) == "c2c" and _check_kind(None, DTYPES["float64"]) == "r2c"
    assert _out_dtype("r2c", DTYPES["float32"]).name == "complex64"
    assert _out_dtype("c2r", DTYPES["complex128"]).name == "float64"
    with pytest.raises(ValueError, match="x has dtype float32.*rfftn"):
        _check_kind("c2c", DTYPES["float32"])
    with pytest.raises(ValueError, match="x has dtype complex64"):
        _check_kind("r2c", DTYPES["complex64"])
    with pytest.raises(ValueError, match="kind must be"):
        _check_kind("dct", DTYPES["float32"])


def test_fft_plan_errors_reach_every_rank():
    report, found = _local_report(np.zeros((4, 4), np.complex64), gd.Slab(0), None, None, None, None, 0)
    assert report["error"][0] == "ValueError" and "host memory" in report["error"][1]
    with pytest.raises(ValueError, match="host memory"):
        _raise_reported([report], found, 0)
    with pytest.raises(ValueError, match="rank 1: bad"):
        _raise_reported([{"error": None}, {"error": ("ValueError", "bad")}], {}, 0)
    with pytest.raises(GpmathError, match="rank 0: boom"):
        _raise_reported([{"error": ("OutOfMemoryError", "boom")}], {}, 1)


def test_fft_needs_initialize():
    with pytest.raises(GpmathError, match="initialize"):
        gd.fft.fftn(np.zeros((4, 4), np.complex64), gd.Slab(0))
