"""Test helpers: random operands in every package and dtype, and tolerances per dtype."""

from __future__ import annotations

import contextlib
import importlib
import os
import types

import numpy as np
import pytest

TOLERANCE = {"float16": 2e-2, "bfloat16": 6e-2, "float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}
REAL_OF = {"complex64": "float32", "complex128": "float64"}


def examples(count: int) -> int:
    """A hypothesis test's example count, capped by ``GPMATH_TEST_MAX_EXAMPLES`` where set (the
    sanitizer runs, ``bench/sanitize.sh``, take every test with a few examples each)."""
    cap = os.environ.get("GPMATH_TEST_MAX_EXAMPLES")
    return min(count, int(cap)) if cap else count


def tolerance(dtype_name: str, k: int = 1) -> float:
    """Relative tolerance (of the max-norm error) for a result of *dtype_name* with contraction length *k*."""
    base = TOLERANCE[dtype_name]
    return base * max(1.0, np.sqrt(k) / 4) if dtype_name in ("float32", "complex64") else base


def random_array(rng, shape, dtype_name: str) -> np.ndarray:
    """Random values in [-1, 1) (complex: both parts), as float64/complex128 NumPy (the reference)."""
    x = rng.uniform(-1, 1, shape)
    if dtype_name.startswith("complex"):
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x


def to_package(x: np.ndarray, package: str, dtype_name: str):
    """*x* converted to *package* ("numpy", "cupy", "torch") and *dtype_name* (device arrays on GPU 0)."""
    if package == "numpy":
        return x.astype(dtype_name)
    if package == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(np.ascontiguousarray(x)).to(device="cuda", dtype=getattr(torch, dtype_name))
    cupy = pytest.importorskip("cupy")
    return cupy.asarray(x.astype(dtype_name))


def to_numpy(x) -> np.ndarray:
    """Any package's array as a float64/complex128 NumPy array."""
    module = type(x).__module__.partition(".")[0]
    if module == "torch":
        x = x.detach()
        x = x.cpu()
        x = x.to(dtype=importlib.import_module("torch").float64) if not x.is_complex() else x.to(importlib.import_module("torch").complex128)
        return x.numpy()
    if module == "cupy":
        x = x.get()
    x = np.asarray(x)
    return x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)


def relative_error(result, reference) -> float:
    """max |result - reference| / max |reference| (1 where the reference is all zero)."""
    result, reference = to_numpy(result), np.asarray(reference)
    scale = np.max(np.abs(reference)) if reference.size else 1.0
    return float(np.max(np.abs(result - reference)) / (scale or 1.0)) if reference.size else 0.0


SCIPY_VERSION = tuple(int(part) for part in importlib.import_module("scipy").__version__.split(".")[:2])


def lstsq_residues(a: np.ndarray, b: np.ndarray, lapack_driver: str = "gelsd") -> np.ndarray:
    """The residues SciPy 1.18's ``lstsq(a, b, lapack_driver=...)`` returns, the oracle of gpmath's.

    From SciPy 1.18 on, SciPy's own (their real part: SciPy 1.18 gives complex operands complex
    residues); before, its rules, from the residues of SciPy's matrix-by-matrix calls where they
    agree (M > N and full rank): ``b - a x``'s squared column norms, NaN for a matrix of rank
    below N, an empty ``(..., 0)`` for ``"gelsy"`` and for M <= N, b's squared column norms for
    N = 0; a 1-D *b* drops the K axis of residues there are.
    """
    import scipy.linalg

    if SCIPY_VERSION >= (1, 18):
        return np.real(scipy.linalg.lstsq(a, b, lapack_driver=lapack_driver)[1])
    m, n = a.shape[-2:]
    bm = b[..., None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    if n and (lapack_driver == "gelsy" or m <= n):
        return np.empty(batch + (0,))
    a, bm = np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(bm, batch + bm.shape[-2:])
    residues = np.full(batch + bm.shape[-1:], np.nan)
    for index in np.ndindex(batch):
        _, found, rank, _ = scipy.linalg.lstsq(a[index], bm[index], lapack_driver=lapack_driver)
        if rank == n:
            residues[index] = found
    return residues[..., 0] if b.ndim == 1 and residues.size else residues


def one_device_runtime():
    """A stand-in for ``gpmath._core.runtime`` in emulated engine tests: one device, current, and
    a thread already bound to it, with an H100's or H200's 132 multiprocessors."""
    return types.SimpleNamespace(on_device=lambda device_id: contextlib.nullcontext(), device_count=lambda: 1,
                                 bind_thread=lambda device_id: None, capturing=lambda stream: False,
                                 call_on_device=lambda device_id, query, fn, *args: fn(*args),
                                 sm_count=lambda device_id: 132)


class FakeBuffer:
    """A 'device' buffer in host memory for emulated engine tests, filled with garbage as
    cudaMallocAsync's may be (a read before a write shows)."""

    def __init__(self, nbytes, stream, device_id):
        self.nbytes, self.stream, self.device_id = nbytes, stream, device_id
        self._data = np.full(max(nbytes, 1), 0x5A, np.uint8)
        self.ptr = self._data.ctypes.data if nbytes else 0

    def release(self):
        self.ptr = 0


def emulated_device(monkeypatch, engine) -> None:
    """Run a CUDA engine module's (*engine*'s) memory, copies, streams and device choice (those of
    them it imports) on the host, for its emulated tests: device memory is host memory
    (:class:`FakeBuffer`), every call picks device 0 unless ``execution="cpu"``."""
    import ctypes

    from gpmath._core import engines, transfer

    copy = lambda dst, src, nbytes, stream: ctypes.memmove(dst, src, nbytes)

    def upload(dst, src, nbytes, stream, parts=(), after=None):  # part by part, each told once it is copied
        start = 0
        for index, size in enumerate(parts or [nbytes]):
            ctypes.memmove(dst + start, src + start, size)
            start += size
            if after is not None:
                after(index)

    emulated = {"DeviceBuffer": FakeBuffer, "to_device": upload, "to_host": copy, "own_stream": lambda device_id: 7,
                "resolve_stream": lambda stream, pkg, device_id: 0 if stream is None else int(stream),
                "runtime": one_device_runtime()}
    for name in emulated.keys() & vars(engine).keys():  # (the ones the module uses)
        monkeypatch.setattr(engine, name, emulated[name])
    monkeypatch.setattr(transfer, "to_device", upload)  # (the block pipeline's, transfer.through_blocks)
    monkeypatch.setattr(engines, "resolve_execution",
                        lambda execution, located, ready, device_id=None: None if execution == "cpu" else 0)


def emulated_block_pipeline(monkeypatch, engine) -> list[tuple[int, int]]:
    """For an emulated engine module (*engine*, after :func:`emulated_device`): slots of 1 KiB,
    every host result pinned, the pipeline's copies back at once, its upload and download
    streams 8 and 9; returns the list the stream orderings ``(waiting, producer)`` go to."""
    import ctypes

    from gpmath._core import transfer

    monkeypatch.setattr(engine, "SLOT_BYTES", 1024)
    monkeypatch.setattr(engine, "is_pinned", lambda ptr: True)
    monkeypatch.setattr(transfer, "enqueue_to_pinned", lambda dst, src, nbytes, stream: ctypes.memmove(dst, src, nbytes))
    monkeypatch.setattr(transfer, "synchronize", lambda stream: None)
    monkeypatch.setattr(engine, "side_stream", lambda device_id, purpose: {"upload": 8, "download": 9}[purpose])
    ordered: list[tuple[int, int]] = []
    monkeypatch.setattr(transfer, "order_after", lambda waiting, producer: ordered.append((waiting, producer)))
    return ordered


def posing_as_device(monkeypatch, engine, planner) -> None:
    """NumPy arrays pose as arrays on device 0 for *engine* and its front *planner* (the direct
    path, no staging)."""
    from gpmath._core.operand import as_operand as real_as_operand
    from gpmath._core.packages import NUMPY

    def as_operand(x, argument, stream=None):
        op = real_as_operand(x, argument, stream)
        op.device_id = 0
        return op

    monkeypatch.setattr(engine, "as_operand", as_operand)
    monkeypatch.setattr(planner, "locate", lambda x, name: (name, NUMPY, 0))


def lanes_on_numpy(monkeypatch) -> list:
    """For emulated engine tests of the stateless lanes: NumPy arrays count as arrays on device 0
    (its current stream 0) and NumPy's type as known; returns a list that gets an entry for every
    call that builds a full plan key (``stateless._key``: a call that took no lane)."""
    import gpmath
    from gpmath._core import stateless
    from gpmath._core.packages import NUMPY, package_of
    from gpmath.fft import _functions

    monkeypatch.setattr(NUMPY, "device_id", lambda x: 0)
    monkeypatch.setattr(NUMPY, "current_stream", lambda device_id: 0)
    monkeypatch.setattr(_functions, "_HOST_LANES", {})  # (the host lanes earlier tests' NumPy arrays kept)
    keys: list = []
    monkeypatch.setattr(stateless, "_key", lambda *args, key=stateless._key: keys.append(1) or key(*args))
    gpmath.cache_clear()
    package_of(np.ones(1), "x")  # (as after any call: a lane from the first call on)
    return keys


@contextlib.contextmanager
def routed(table_name: str, choice: str, device_id: int = 0):
    """Within the block, plans of *device_id* take *choice* from the solver crossover table
    *table_name* at every size and batch (no stateless plan kept from before or kept after)."""
    import gpmath
    from gpmath.solver import _crossover

    gpmath.cache_clear()
    try:
        with _crossover.overriding(getattr(_crossover, table_name), device_id, [(1, None, choice)]):
            yield
    finally:
        gpmath.cache_clear()
