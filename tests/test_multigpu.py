"""Several GPUs in one process: every call runs on its operands' device (or ``device_id=``).

Tests parametrised over the device run on device 0 under the ``gpu`` marker and on device 1
under ``multigpu`` (skipped, with the reason, on fewer than two GPUs).  Results are compared
with NumPy/SciPy in float64.  The argument checks at the end need no GPU.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import gpmath
from gpmath import fft, linalg
from gpmath.blas import Matmul
from gpmath.fft import FFT
from gpmath.solver import Cholesky

from helpers import relative_error, to_numpy

DEVICES = [pytest.param(0, marks=pytest.mark.gpu, id="cuda0"), pytest.param(1, marks=pytest.mark.multigpu, id="cuda1")]
PACKAGES = ["numpy", "torch", "cupy"]
multigpu = pytest.mark.multigpu


def on_device(x: np.ndarray, package: str, device: int):
    """*x* as a *package* array on *device* (NumPy stays on the host)."""
    if package == "numpy":
        return x
    if package == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(np.ascontiguousarray(x)).to(f"cuda:{device}")
    cupy = pytest.importorskip("cupy")
    with cupy.cuda.Device(device):
        return cupy.asarray(x)


def device_of(x) -> int | None:
    module = type(x).__module__.partition(".")[0]
    if module == "torch":
        return x.device.index
    if module == "cupy":
        return x.device.id
    return None


def kwargs_for(package: str, device: int) -> dict:
    """``device_id=`` for host arrays; device arrays need none (they carry their device)."""
    return {"device_id": device} if package == "numpy" else {}


def spd(rng, n: int) -> np.ndarray:
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def check_result(result, reference, package: str, device: int, tol: float = 1e-11):
    assert device_of(result) == (None if package == "numpy" else device)
    assert relative_error(result, reference) < tol


# -- each capability on each device ---------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("package", PACKAGES)
def test_matmul_on_device(rng, device, package):
    a, b = rng.standard_normal((70, 40)), rng.standard_normal((40, 30))
    args = on_device(a, package, device), on_device(b, package, device)
    check_result(gpmath.matmul(*args, **kwargs_for(package, device)), a @ b, package, device)
    with Matmul(*args, **kwargs_for(package, device)) as plan:
        assert plan.device_id == device
        check_result(plan.plan().execute(), a @ b, package, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("package", PACKAGES)
def test_fft_on_device(rng, device, package):
    x = rng.standard_normal((16, 24)) + 1j * rng.standard_normal((16, 24))
    r = rng.standard_normal((12, 20))
    kw = kwargs_for(package, device)
    check_result(fft.fftn(on_device(x, package, device), **kw), scipy.fft.fftn(x), package, device)
    check_result(fft.irfft(on_device(scipy.fft.rfft(r), package, device), n=20, **kw), r, package, device)
    with FFT(on_device(x, package, device), axes=-1, **kw) as plan:
        assert plan.device_id == device
        check_result(plan.plan().execute(), scipy.fft.fft(x), package, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("package", PACKAGES)
def test_linalg_on_device(rng, device, package):
    a, b = spd(rng, 32), rng.standard_normal((32, 3))
    kw = kwargs_for(package, device)
    arrays = on_device(a, package, device), on_device(b, package, device)
    check_result(linalg.cholesky(arrays[0], **kw), scipy.linalg.cholesky(a), package, device)
    check_result(linalg.solve(*arrays, **kw), np.linalg.solve(a, b), package, device, tol=1e-9)
    u = np.triu(a)  # gpmath's zero-diagonal kernel, compiled and loaded per device
    check_result(linalg.solve_triangular(on_device(u, package, device), arrays[1], **kw),
                 scipy.linalg.solve_triangular(u, b), package, device, tol=1e-9)
    w = linalg.eigvals(arrays[0], **kw)  # geev; a is symmetric: real eigenvalues
    assert device_of(w) == (None if package == "numpy" else device)
    assert relative_error(np.sort(to_numpy(w).real), np.linalg.eigvalsh(a)) < 1e-9
    with Cholesky(arrays[0], lower=True, **kw) as plan:
        assert plan.device_id == device
        check_result(plan.plan().execute(check=True), np.linalg.cholesky(a), package, device)


# -- concurrency ------------------------------------------------------------------------------------
def _in_threads(work, count: int = 2) -> list:
    """Run ``work(i)`` in *count* fresh threads started together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def body(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            results[i] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


@multigpu
@pytest.mark.parametrize("package", PACKAGES)
def test_functions_concurrently_from_two_threads(package):
    """Each thread runs matmul, FFT and a solve on its own device, with fresh handles and plans."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((256, 256)), rng.standard_normal((256, 64))
    x = rng.standard_normal((64, 64)) + 1j * rng.standard_normal((64, 64))
    s, r = spd(rng, 64), rng.standard_normal((64, 5))

    def work(device):
        kw = kwargs_for(package, device)
        da, db, dx, ds, dr = (on_device(v, package, device) for v in (a, b, x, s, r))
        for _ in range(10):
            results = (gpmath.matmul(da, db, **kw), fft.fft2(dx, **kw), linalg.solve(ds, dr, **kw))
        return [to_numpy(r) for r in results] + [device_of(r) for r in results]

    for device, out in enumerate(_in_threads(work)):
        assert out[3:] == [None if package == "numpy" else device] * 3
        assert relative_error(out[0], a @ b) < 1e-11
        assert relative_error(out[1], scipy.fft.fft2(x)) < 1e-11
        assert relative_error(out[2], np.linalg.solve(s, r)) < 1e-9


@multigpu
@pytest.mark.parametrize("package", ["numpy", "torch"])
def test_plans_on_two_devices_execute_concurrently(package):
    """Plans built in the main thread (device 0 current) run at once from two fresh threads."""
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((512, 512)), rng.standard_normal((512, 512))
    x = rng.standard_normal((8, 128, 128)) + 1j * rng.standard_normal((8, 128, 128))
    s = spd(rng, 48)
    plans = []
    for device in (0, 1):
        kw = kwargs_for(package, device)
        plans.append((Matmul(on_device(a, package, device), on_device(b, package, device), **kw).plan(),
                      FFT(on_device(x, package, device), axes=(-2, -1), **kw).plan(),
                      Cholesky(on_device(s, package, device), **kw).plan()))

    def work(device):
        mm, f, ch = plans[device]
        for _ in range(20):
            results = (mm.execute(), f.execute(), ch.execute(check=True))
        return [to_numpy(r) for r in results]

    try:
        for out in _in_threads(work):
            assert relative_error(out[0], a @ b) < 1e-11
            assert relative_error(out[1], scipy.fft.fft2(x)) < 1e-11
            assert relative_error(out[2], scipy.linalg.cholesky(s)) < 1e-11
    finally:
        for group in plans:
            for plan in group:
                plan.free()


# -- operands on two devices ----------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch")


def _each_raises(calls, error, match: str) -> None:
    for call in calls:
        with pytest.raises(error, match=match):
            call()


@multigpu
def test_operands_on_two_devices_raise():
    torch = _torch()
    a, b = torch.ones(4, 4, device="cuda:0", dtype=torch.float64), torch.ones(4, 4, device="cuda:1", dtype=torch.float64)
    _each_raises((lambda: gpmath.matmul(a, b), lambda: Matmul(a, b), lambda: linalg.solve(a, b)), ValueError, r"cuda:0.*cuda:1")


@multigpu
def test_device_id_other_than_the_operands_raises():
    torch = _torch()
    x = torch.ones(8, 8, device="cuda:1", dtype=torch.complex128)
    _each_raises((lambda: fft.fft(x, device_id=0), lambda: FFT(x, device_id=0), lambda: gpmath.matmul(x, x, device_id=0),
                  lambda: linalg.inv(x, device_id=0)), ValueError, r"cuda:1.*cuda:0")


@multigpu
def test_stream_of_another_device_raises():
    torch = _torch()
    x = torch.ones(8, 8, device="cuda:0", dtype=torch.float64)
    other = torch.cuda.Stream(device=1)
    _each_raises((lambda: gpmath.matmul(x, x, stream=other), lambda: fft.fft(x, stream=other),
                  lambda: linalg.cholesky(x + 8 * torch.eye(8, device="cuda:0", dtype=torch.float64), stream=other),
                  lambda: gpmath.matmul(np.ones((4, 4)), np.ones((4, 4)), device_id=0, stream=other)),
                 ValueError, r"cuda:1.*cuda:0")
    with Matmul(x, x) as plan:
        plan.plan()
        with pytest.raises(ValueError, match=r"cuda:1.*cuda:0"):
            plan.execute(stream=other)
        side = torch.cuda.Stream(device=0)
        result = plan.execute(stream=side)
        side.synchronize()  # the result is produced on *side*; read it after that stream's work
        assert relative_error(result, np.full((8, 8), 8.0)) == 0


# -- argument checks (no GPU needed) --------------------------------------------------------------
@pytest.mark.parametrize("bad, error", [("0", TypeError), (1.0, TypeError), (True, TypeError), (-1, ValueError)])
def test_bad_device_id(bad, error):
    a = np.ones((3, 3))
    _each_raises((lambda: gpmath.matmul(a, a, device_id=bad), lambda: fft.fft(a, device_id=bad),
                  lambda: linalg.inv(a + np.eye(3), device_id=bad), lambda: FFT(a, device_id=bad)), error, "device_id")


def test_device_id_with_cpu_execution_raises():
    a = np.eye(3)
    with pytest.raises(ValueError, match="device_id=0.*execution='cpu'"):
        gpmath.matmul(a, a, device_id=0, execution="cpu")
    with pytest.raises(ValueError, match="device_id=0.*execution='cpu'"):
        linalg.cholesky(a, device_id=0, execution="cpu")


def test_device_id_beyond_the_visible_devices_raises():
    count = gpmath.device_count()
    if count == 0:
        pytest.skip("without a GPU device_id only picks the GPU when one is used")
    with pytest.raises(ValueError, match=f"device_id={count} is not a visible CUDA device"):
        gpmath.matmul(np.eye(2), np.eye(2), device_id=count)


def test_device_switches_happen_only_where_several_devices_are_visible(monkeypatch):
    """The core's one switch rule (allocations, copies, exports, releases): the logic on the CPU."""
    import contextlib

    from gpmath._core import runtime

    entered = []

    class Recorder:
        def __init__(self, device_id):
            self.device_id = device_id

        def __enter__(self):
            entered.append(self.device_id)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(runtime, "on_device", Recorder)
    monkeypatch.setattr(runtime, "stream_device", lambda stream: {0: None, 7: 1}[stream])
    for count, expected in ((1, []), (2, [0, 1])):
        entered.clear()
        monkeypatch.setattr(runtime, "device_count", lambda: count)
        for context in (runtime.on_device_if_several(None), runtime.on_device_if_several(0),
                        runtime.on_device_of_stream(0), runtime.on_device_of_stream(7)):
            with context:
                pass
        assert entered == expected
    assert isinstance(runtime.on_device_if_several(None), contextlib.nullcontext)
