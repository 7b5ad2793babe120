"""gpmath.graph(): plan executions recorded into one CUDA graph and replayed, checked against NumPy
and SciPy in float64 after each replay with new values copied into the recorded operands; the
rules that refuse a recording (CPU plans, host operands, the legacy default stream, two streams,
two packages, a freed plan) and a recording that fails part-way (in a child process).  Every plan
is built before its recording starts, as the docs say (making a plan while a stream is captured
is not supported)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import gpmath
from gpmath.blas import Matmul
from gpmath.fft import DCT, DST, FFT
from gpmath.solver import Cholesky, Solve
from helpers import random_array, relative_error, to_numpy, to_package, tolerance

PACKAGES = ["torch", "cupy"]
ROOT = pathlib.Path(__file__).resolve().parent.parent
REPLAYS = 3


# -- without a GPU: the rules ----------------------------------------------------------------
def test_an_empty_recording_replays_nothing():
    with gpmath.graph() as g:
        pass
    g.replay()
    assert g.results == () and g.stream is None


def test_a_cpu_plan_is_refused_and_the_recording_discarded():
    plan = FFT(np.ones(8, np.complex64), execution="cpu").plan()
    with pytest.raises(ValueError, match="runs on the CPU"):
        with gpmath.graph() as g:
            g.record(plan)
    with pytest.raises(RuntimeError, match="discarded"):
        g.replay()


def test_only_plans_are_recorded():
    with gpmath.graph() as g:
        with pytest.raises(TypeError, match="plan must be a gpmath plan"):
            g.record(np.fft.fft)


def test_record_outside_the_block_and_a_second_block_raise():
    g = gpmath.graph()
    plan = FFT(np.ones(8, np.complex64), execution="cpu").plan()
    with pytest.raises(RuntimeError, match="inside"):
        g.record(plan)
    with pytest.raises(RuntimeError, match="before its 'with' block|new"):
        g.replay()
    with g:
        pass
    with pytest.raises(RuntimeError, match="records once"):
        with g:
            pass


def test_a_freed_plan_is_refused_and_a_freed_graph_does_not_replay():
    plan = FFT(np.ones(8, np.complex64), execution="cpu").plan()
    plan.free()
    with pytest.raises(gpmath.FreedPlanError):
        with gpmath.graph() as g:
            g.record(plan)
    with gpmath.graph() as g:
        pass
    g.free()
    with pytest.raises(gpmath.FreedPlanError):
        g.replay()


# -- on a GPU ------------------------------------------------------------------------------------
def _side_stream(package: str):
    """A new stream (a CuPy stream is destroyed with its object: the plans built on it keep it)."""
    if package == "torch":
        return pytest.importorskip("torch").cuda.Stream()
    return pytest.importorskip("cupy").cuda.Stream(non_blocking=True)


def _synchronize(package: str) -> None:
    if package == "torch":
        pytest.importorskip("torch").cuda.synchronize()
    else:
        pytest.importorskip("cupy").cuda.Device().synchronize()


def _fill(x, values: np.ndarray, package: str, dtype: str) -> None:
    """Copy *values* into device array *x* in place (the graph reads x's memory)."""
    new = to_package(values, package, dtype)
    if package == "torch":
        x.copy_(new)
    else:
        x[...] = new


def _replayed(package, graph, operands: list, draw, check) -> None:
    """REPLAYS times: new values into *operands* (``draw()`` gives them), replay, ``check(values)``."""
    for _ in range(REPLAYS):
        values = draw()
        for (x, dtype), v in zip(operands, values):
            _fill(x, v, package, dtype)
        _synchronize(package)
        graph.replay()
        _synchronize(package)
        check(values)


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_ten_products_replay_with_new_operands(package, dtype, rng):
    side = _side_stream(package)
    shapes = [(64, 64, 64), (33, 17, 5), (128, 1, 70)] * 3 + [(1, 1, 1)]
    a = [to_package(random_array(rng, (m, k), dtype), package, dtype) for m, k, _ in shapes]
    b = [to_package(random_array(rng, (k, n), dtype), package, dtype) for _, k, n in shapes]
    c = [to_package(np.zeros((m, n)), package, dtype) for m, _, n in shapes]
    plans = [Matmul(a[i], b[i], out=c[i], stream=side).plan() for i in range(len(shapes))]
    with gpmath.graph() as g:
        for plan in plans:
            assert g.record(plan) is not None
    assert len(g.results) == len(shapes)

    def draw():
        return [random_array(rng, (m, k), dtype) for m, k, _ in shapes]

    def check(values):
        for i, (_, k, _) in enumerate(shapes):
            assert relative_error(c[i], values[i] @ to_numpy(b[i])) < tolerance(dtype, k)

    _replayed(package, g, [(x, dtype) for x in a], draw, check)


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_a_chain_of_products_transforms_and_a_dct_replays(package, rng):
    """matmul -> FFT of its result -> DCT of another operand: the results each record returned
    (temporaries of the DCT included) stay valid for every replay."""
    side = _side_stream(package)
    a = to_package(random_array(rng, (32, 48), "complex128"), package, "complex128")
    b = to_package(random_array(rng, (48, 40), "complex128"), package, "complex128")
    c = to_package(np.zeros((32, 40)), package, "complex128")
    x = to_package(random_array(rng, (8, 100), "float64"), package, "float64")
    product = Matmul(a, b, out=c, stream=side).plan()
    transform = FFT(c, axes=(0, 1), stream=side).plan()
    cosine = DCT(x, type=2, norm="ortho", stream=side).plan()
    with gpmath.graph() as g:
        g.record(product)
        spectrum = g.record(transform)
        del spectrum  # the graph keeps it: g.results[1]
        g.record(cosine)
    for _ in range(REPLAYS):
        va, vx = random_array(rng, (32, 48), "complex128"), random_array(rng, (8, 100), "float64")
        _fill(a, va, package, "complex128")
        _fill(x, vx, package, "float64")
        _synchronize(package)
        g.replay()
        _synchronize(package)
        expected = va @ to_numpy(b)
        assert relative_error(c, expected) < 1e-12
        assert relative_error(g.results[1], np.fft.fft2(expected)) < 1e-12
        assert relative_error(g.results[2], scipy.fft.dctn(vx, type=2, norm="ortho")) < 1e-12


def _spectrum(rng, rows: int, n: int) -> np.ndarray:
    """A Hermitian half spectrum (what ``rfft`` gives), the input of a c2r transform."""
    return np.fft.rfft(rng.uniform(-1, 1, (rows, n)), axis=-1)


# name: (operand shapes and dtypes, make the plan from the operands, record's arguments, reference from new values)
KINDS = {
    "r2c": ([((6, 64), "float64")], lambda ops, side: FFT(ops[0], axes=-1, stream=side), {},
            lambda v: np.fft.rfft(v[0], axis=-1)),
    "c2r": ([((6, 33), "complex128")], lambda ops, side: FFT(ops[0], axes=-1, kind="c2r", stream=side), {},
            lambda v: np.fft.irfft(v[0], n=64, axis=-1)),
    "c2c inverse, ortho": ([((5, 40), "complex128")], lambda ops, side: FFT(ops[0], axes=-1, norm="ortho", stream=side),
                           {"direction": "inverse"}, lambda v: scipy.fft.ifft(v[0], norm="ortho", axis=-1)),
    "c2c zero-padded": ([((5, 40), "complex128")], lambda ops, side: FFT(ops[0], axes=-1, s=(48,), stream=side), {},
                        lambda v: np.fft.fft(v[0], n=48, axis=-1)),
    "c2c in place": ([((3, 64), "complex128")], lambda ops, side: FFT(ops[0], axes=-1, inplace=True, stream=side), {},
                     lambda v: np.fft.fft(v[0], axis=-1)),
    "DST-4": ([((4, 50), "float64")], lambda ops, side: DST(ops[0], type=4, axes=-1, stream=side), {},
              lambda v: scipy.fft.dst(v[0], type=4, axis=-1)),
    "matmul, c, bias_relu": ([((24, 16), "float64"), ((16, 12), "float64"), ((24, 12), "float64"), ((12,), "float64")],
                             lambda ops, side: Matmul(ops[0], ops[1], ops[2], beta=0.5, epilog="bias_relu", bias=ops[3],
                                                      stream=side), {},
                             lambda v: np.maximum(v[0] @ v[1] + 0.5 * v[2] + v[3], 0)),
    "batched matmul": ([((4, 16, 8), "complex128"), ((8, 12), "complex128")],
                       lambda ops, side: Matmul(ops[0], ops[1], stream=side), {}, lambda v: v[0] @ v[1]),
}


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_plan_replays(package, kind, rng):
    """One plan of each kind recorded alone; every replay after new values in its operands gives
    NumPy/SciPy's float64 answer on them."""
    shapes, make, arguments, reference = KINDS[kind]

    def draw():
        return [_spectrum(rng, shape[0], 64) if kind == "c2r" else random_array(rng, shape, dtype)
                for shape, dtype in shapes]

    operands = [to_package(v, package, dtype) for v, (_, dtype) in zip(draw(), shapes)]
    plan = make(operands, _side_stream(package)).plan()
    with gpmath.graph() as g:
        g.record(plan, **arguments)

    def check(values):
        assert relative_error(g.results[0], reference(values)) < 1e-12

    _replayed(package, g, [(x, dtype) for x, (_, dtype) in zip(operands, shapes)], draw, check)


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_solver_plans_replay(package, rng):
    side = _side_stream(package)
    n = 24
    spd = lambda: (lambda r: r @ r.T + n * np.eye(n))(random_array(rng, (n, n), "float64"))  # noqa: E731
    a = to_package(spd(), package, "float64")
    b = to_package(random_array(rng, (n, 3), "float64"), package, "float64")
    solve = Solve(a, b, stream=side).plan()
    factor = Cholesky(a, lower=True, stream=side).plan()
    with gpmath.graph() as g:
        g.record(solve)
        g.record(factor)

    def check(values):
        va, vb = values
        assert relative_error(g.results[0], scipy.linalg.solve(va, vb)) < 1e-10
        assert relative_error(g.results[1], scipy.linalg.cholesky(va, lower=True)) < 1e-12

    _replayed(package, g, [(a, "float64"), (b, "float64")], lambda: [spd(), random_array(rng, (n, 3), "float64")],
              check)


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_replay_on_another_stream(package, rng):
    side, other = _side_stream(package), _side_stream(package)
    x = to_package(random_array(rng, (4, 256), "complex64"), package, "complex64")
    plan = FFT(x, axes=-1, stream=side).plan()
    with gpmath.graph() as g:
        y = g.record(plan)
    values = random_array(rng, (4, 256), "complex64")
    _fill(x, values, package, "complex64")
    _synchronize(package)
    g.replay(stream=other)
    other.synchronize()
    assert relative_error(y, np.fft.fft(values)) < tolerance("complex64", 256)


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_plans_that_cannot_be_recorded_are_refused(package, rng):
    side, other = _side_stream(package), _side_stream(package)
    x = to_package(random_array(rng, (64,), "complex64"), package, "complex64")
    on_default = FFT(x, stream=0).plan()
    with pytest.raises(ValueError, match="legacy default stream"):
        with gpmath.graph() as g:
            g.record(on_default)
    plans = FFT(x, stream=side).plan(), FFT(x, stream=other).plan()
    with pytest.raises(ValueError, match="one stream"):
        with gpmath.graph() as g:
            g.record(plans[0])
            g.record(plans[1])
    host = np.ones((64, 64), np.float32)
    staged = Matmul(host, host, execution="cuda").plan()
    with pytest.raises(ValueError, match="host"):
        with gpmath.graph() as g:
            g.record(staged)
    _synchronize(package)


@pytest.mark.gpu
def test_plans_of_two_packages_are_refused(rng):
    torch, cupy = pytest.importorskip("torch"), pytest.importorskip("cupy")
    side = torch.cuda.Stream()
    t = to_package(random_array(rng, (64,), "complex64"), "torch", "complex64")
    c = to_package(random_array(rng, (64,), "complex64"), "cupy", "complex64")
    plans = FFT(t, stream=side).plan(), FFT(c, stream=side.cuda_stream).plan()
    with pytest.raises(ValueError, match="one package"):
        with gpmath.graph() as g:
            g.record(plans[0])
            g.record(plans[1])
    torch.cuda.synchronize()
    cupy.cuda.Device().synchronize()


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_freeing_a_recorded_plan_stops_replays(package, rng):
    side = _side_stream(package)
    x = to_package(random_array(rng, (64,), "complex64"), package, "complex64")
    plan = FFT(x, stream=side).plan()
    with gpmath.graph() as g:
        g.record(plan)
    g.replay()
    plan.free()
    with pytest.raises(gpmath.FreedPlanError, match="freed"):
        g.replay()
    _synchronize(package)


_FAILING = """
import json, sys
import numpy as np
import gpmath
from gpmath.blas import Matmul
from gpmath.solver import Solve
sys.path.insert(0, "tests")
from helpers import to_package, to_numpy
package = sys.argv[1]
if package == "torch":
    import torch
    side = torch.cuda.Stream()
else:
    import cupy
    side = cupy.cuda.Stream(non_blocking=True)
a = to_package(np.eye(8) * 2, package, "float64")
b = to_package(np.ones((8, 1)), package, "float64")
outcome = {}
try:
    with gpmath.graph() as g:
        g.record(Solve(a, b, stream=side).plan(), check=True)   # reads info on the host: not capturable
    outcome["raised"] = None
except Exception as exc:
    outcome["raised"] = type(exc).__name__
    outcome["noted"] = any("could not be recorded" in n for n in getattr(exc, "__notes__", []))
outcome["state"] = repr(g)
c = to_package(np.zeros((8, 1)), package, "float64")
plan = Matmul(a, b, out=c, stream=side).plan()
with gpmath.graph() as h:                                    # the process records again afterwards
    h.record(plan)
h.replay()
side.synchronize()
outcome["after"] = float(np.abs(to_numpy(c) - 2).max())
print(json.dumps(outcome))
"""


@pytest.mark.gpu
@pytest.mark.parametrize("package", PACKAGES)
def test_a_recording_that_fails_is_discarded_and_the_process_records_again(package):
    pytest.importorskip(package)
    done = subprocess.run([sys.executable, "-c", _FAILING, package], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["raised"] is not None and outcome["noted"], outcome
    assert "discarded" in outcome["state"]
    assert outcome["after"] == 0.0


_STREAM_DROPPED = """
import gc, json
import numpy as np, cupy
from gpmath.blas import Matmul
from gpmath.fft import FFT
rng = np.random.default_rng(0)
a = rng.standard_normal((64, 64))
x = a + 1j * rng.standard_normal((64, 64))
plans = []
for _ in range(8):  # each stream object is dropped at once: only its plan refers to it
    plans.append(Matmul(cupy.asarray(a), cupy.asarray(a), stream=cupy.cuda.Stream(non_blocking=True)).plan())
    plans.append(FFT(cupy.asarray(x), axes=-1, stream=cupy.cuda.Stream(non_blocking=True)).plan())
gc.collect()
errors = []
for product, transform in zip(plans[::2], plans[1::2]):
    p, t = product.execute(), transform.execute()
    cupy.cuda.Device().synchronize()
    errors.append(float(np.abs(p.get() - a @ a).max() / np.abs(a @ a).max()))
    errors.append(float(np.abs(t.get() - np.fft.fft(x)).max() / np.abs(np.fft.fft(x)).max()))
for plan in plans:
    plan.free()
gc.collect()
print(json.dumps(max(errors)))
"""


@pytest.mark.gpu
def test_a_plan_keeps_the_cupy_stream_it_was_given_alive():
    """CuPy destroys a stream with its object: plans built on a stream object nobody else holds
    execute and free on it without a crash (the plan keeps the object)."""
    pytest.importorskip("cupy")
    done = subprocess.run([sys.executable, "-c", _STREAM_DROPPED], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) < 1e-12
