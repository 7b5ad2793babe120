"""The fused DCT/DST path (``gpmath/fft/_r2r_fused.py`` and ``kernels/r2r.cu``) against scipy.fft.

On the CPU: a NumPy model of each kernel (the same index math, sample by sample, vectorised over
rows), run from the recipes gpmath makes, matches SciPy for every type, family, direction, norm,
``orthogonalize`` and length, so the algorithms and the factors are checked without a GPU; the
kernels compile where NVRTC loads.  On a GPU (``gpu``): the kernels themselves, for CuPy and
torch, float32 and float64, both axes, empty batches, the plans' repeated ``execute``, and the
route a 4096 x 4096 transform takes (a silent fallback to the composed steps fails).  Type 4 of a
power-of-two N/2 runs as one kernel (``r2r_whole4``, modelled pass by pass like the others); types
4 and 1 otherwise run as one cuFFT transform with gpmath's callbacks where cuFFT takes them
(:mod:`gpmath.fft._r2r_callback`): the kernels' tests switch both off (``GPMATH_FFT_CALLBACKS=0``
and no one kernel), the ``route`` fixture takes each route, and the callbacks are required where
cuFFT is 12 or newer.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.fft

import gpmath.fft as gfft
from gpmath._bindings import cufft
from gpmath._core import kernels
from gpmath.fft import DCT, DST, _r2r, _r2r_callback, _r2r_fused, _r2r_planner
from gpmath.fft._r2r import describe_r2r
from helpers import relative_error, to_numpy
from test_fft_r2r import convert

gpu = pytest.mark.gpu
NAMES = ["dct", "idct", "dst", "idst"]
NORMS = [None, "backward", "ortho", "forward"]
LENGTHS = [1, 2, 3, 4, 5, 8, 17, 64]


# -- the NumPy model of the kernels --------------------------------------------------------------
def _weights(n: int, factors) -> np.ndarray:
    """``weight(i, n, scale, first, last)`` for i < n: *first* at 0, *last* at n - 1, else *scale*."""
    scale, first, last = factors
    w = np.full(n, scale)
    w[n - 1] = last
    w[0] = first
    return w


def _turn(numerator, denominator):
    return np.sin(np.pi * numerator / denominator), np.cos(np.pi * numerator / denominator)


def _load(x, j, reversed_, factors):
    """Internal input samples *j* (an index array) of every row."""
    n = x.shape[-1]
    return x[:, n - 1 - j if reversed_ else j] * _weights(n, (1.0, *factors[1:]))[j]


def _store(y, k, values, r, type: int) -> None:
    """Internal output samples *k*, weighted, reversed (DST-II, DST-IV) or signed (DST-III)."""
    n = y.shape[-1]
    values = values * _weights(n, r.post_factors)[k]
    if r.sine and type == 3:
        values = values * np.where(k % 2, -1.0, 1.0)
    y[:, n - 1 - k if r.sine and type != 3 else k] = values


def _pre2(x, r):
    n = x.shape[-1]
    m = np.arange(n)
    odd = m >= (n + 1) // 2
    v = x[:, np.where(odd, 2 * (n - 1 - m) + 1, 2 * m)]
    return np.where(odd, -v, v) if r.sine else v


def _post2(spectrum, y, r):
    n = y.shape[-1]
    k = np.arange(n // 2 + 1)
    s, c = _turn(k, 2 * n)
    re, im = spectrum.real, spectrum.imag
    _store(y, k, 2 * (re * c + im * s), r, 2)
    pair = (k > 0) & (2 * k < n)
    _store(y, n - k[pair], (-2 * (im * c - re * s))[:, pair], r, 2)


def _pre3(x, r):
    n = x.shape[-1]
    k = np.arange(n // 2 + 1)
    a = _load(x, k, r.sine, r.pre_factors)
    b = np.where(k > 0, _load(x, np.where(k > 0, n - k, 0), r.sine, r.pre_factors), 0.0)
    s, c = _turn(k, 2 * n)
    return (a * c + b * s) + 1j * (a * s - b * c)


def _post3(v, y, r):
    n = y.shape[-1]
    k = np.arange(n)
    _store(y, k, v[:, np.where(k % 2, n - 1 - k // 2, k // 2)], r, 3)


def _pre4(x, r):
    n = x.shape[-1]
    m = np.arange(n // 2)
    a, b = x[:, 2 * m], x[:, n - 1 - 2 * m] * (-1.0 if r.sine else 1.0)
    s, c = _turn(m, n)
    return (a * c + b * s) + 1j * (b * c - a * s)


def _post4(spectrum, y, r):
    n = y.shape[-1]
    k = np.arange(n // 2)
    s, c = _turn(4 * k + 1, 4 * n)
    re, im = spectrum.real, spectrum.imag
    _store(y, 2 * k, 2 * (re * c + im * s), r, 4)
    _store(y, n - 1 - 2 * k, -2 * (im * c - re * s), r, 4)


def _pre_dct1(x, r):
    n = x.shape[-1]
    m = np.arange(2 * (n - 1))
    return _load(x, np.where(m < n, m, 2 * (n - 1) - m), False, r.pre_factors)


def _post_dct1(spectrum, y, r):
    _store(y, np.arange(y.shape[-1]), spectrum.real, r, 1)


def _pre_dst1(x, r):
    n = x.shape[-1]
    m = np.arange(2 * (n + 1))
    j = np.where(m <= n, m - 1, 2 * n + 1 - m)
    value = np.where((j >= 0) & (j < n), _load(x, np.clip(j, 0, n - 1), False, r.pre_factors), 0.0)
    return np.where(m > n, -value, value)


def _post_dst1(spectrum, y, r):
    n = y.shape[-1]
    _store(y, np.arange(n), -spectrum.imag[:, 1:n + 1], r, 1)


_FFT = {"r2c": lambda v, n: scipy.fft.rfft(v, n), "c2r": lambda v, n: scipy.fft.irfft(v, n, norm="forward"),
        "c2c": lambda v, n: scipy.fft.fft(v, n)}


def model(x: np.ndarray, r) -> np.ndarray:
    """The fused transform *r* of the rows of *x* as the kernels compute it: pre, FFT, post (the
    FFT in *x*'s precision, the kernels' arithmetic in float64)."""
    buffer = globals()[f"_{r.pre}"](x, r)
    assert buffer.shape[-1] == r.width and np.iscomplexobj(buffer) == r.complex_input
    buffer = buffer.astype(np.result_type(x.dtype, np.complex64) if r.complex_input else x.dtype)
    y = np.full(x.shape, np.nan)
    globals()[f"_{r.post}"](_FFT[r.fft](buffer, r.fft_n), y, r)
    return y


def _stockham_passes(length: int) -> list[tuple[int, int]]:
    """``(radix, span)`` of each pass of ``r2r_whole4``'s FFT of *length* points (a power of two):
    radix 8 while it fits, then 4 or 2."""
    passes, span = [], 1
    while span < length:
        radix = 8 if span * 8 <= length else length // span
        passes.append((radix, span))
        span *= radix
    return passes


def _whole4(x: np.ndarray, r) -> np.ndarray:
    """``r2r_whole4`` on the rows of *x*, as the kernel computes it (its index math, pass by pass,
    in float64): pairs in, the pre-twiddle as the first pass reads, Stockham passes, pairs out."""
    rows, n = x.shape
    half = n // 2
    j = np.arange(half)
    pre, post = _r2r._host_twiddle("dct4-pre", n), _r2r._host_twiddle("dct4-post", n)
    roots = _r2r._host_twiddle("dct4-roots", n)
    points = np.zeros((rows, half), complex)
    points.real[:, j] = x[:, 2 * j]
    points.imag[:, half - 1 - j] = -x[:, 2 * j + 1] if r.sine else x[:, 2 * j + 1]
    for number, (radix, span) in enumerate(_stockham_passes(half)):
        b = np.arange(half // radix)
        k = b & (span - 1)
        read = [b + t * (half // radix) for t in range(radix)]
        u = np.stack([points[:, i] * (pre[i] if number == 0 else 1) * roots[t * k * (half // (span * radix))]
                      for t, i in enumerate(read)])
        u = np.fft.fft(u, axis=0)  # the radix-point DFT of each butterfly
        points = np.empty_like(points)
        for t in range(radix):
            points[:, (b - k) * radix + k + t * span] = u[t]
    c = points * post
    weights = _weights(n, r.post_factors)
    q = np.arange(half)
    y = np.empty(x.shape)
    if r.sine:
        y[:, 2 * q], y[:, 2 * q + 1] = -c.imag * weights[n - 1 - 2 * q], c.real[:, ::-1] * weights[n - 2 - 2 * q]
    else:
        y[:, 2 * q], y[:, 2 * q + 1] = c.real * weights[2 * q], -c.imag[:, ::-1] * weights[2 * q + 1]
    return y


def _recipe(name: str, type: int, n: int, norm, orthogonalize):
    p = describe_r2r((n,), "float64", name.lstrip("i"), type, norm=norm, orthogonalize=orthogonalize)
    return _r2r.fused_recipe(p, n, name.startswith("i"))


def _cases(name: str, type: int, lengths):
    """(n, norm, orthogonalize) of every valid case (DCT-I needs 2 points)."""
    for n, norm, orthogonalize in itertools.product(lengths, NORMS, [None, True, False]):
        if not (name.endswith("dct") and type == 1 and n == 1):
            yield n, norm, orthogonalize


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_model_of_the_kernels_matches_scipy(rng, name, type):
    for n, norm, orthogonalize in _cases(name, type, LENGTHS + [4096]):
        r = _recipe(name, type, n, norm, orthogonalize)
        if r is None:
            assert type == 4 and n % 2, "only odd-length types 4 take the composed steps"
            continue
        x = rng.uniform(-1, 1, (2 if n == 4096 else 5, n))
        reference = getattr(scipy.fft, name)(x, type=type, norm=norm, orthogonalize=orthogonalize)
        assert relative_error(model(x, r), reference) < 1e-13, (n, norm, orthogonalize)


@pytest.mark.parametrize("name", NAMES)
def test_model_of_the_one_type_4_kernel_matches_scipy(rng, name):
    """``r2r_whole4``'s passes (radix 8, then 4 or 2) for every power-of-two FFT length it takes."""
    for n, norm, orthogonalize in _cases(name, 4, [2 * 2**e for e in range(4, 13)]):
        x = rng.uniform(-1, 1, (3, n))
        reference = getattr(scipy.fft, name)(x, type=4, norm=norm, orthogonalize=orthogonalize)
        assert relative_error(_whole4(x, _recipe(name, 4, n, norm, orthogonalize)), reference) < 1e-13, (n, norm)


def test_one_kernel_serves_powers_of_two_on_aligned_rows():
    r4, r2, layout = _recipe("dct", 4, 64, None, None), _recipe("dct", 2, 64, None, None), _r2r_fused.whole4_layout
    assert layout(r4, 64, "float32", 256) == (64, 64 * 2 * 33 * 4)  # 64 rows of 32 points a block, 256 threads
    assert layout(r4, 8192, "float32", 0) == (1, 2 * (4096 + 128) * 4)
    assert layout(r4, 4096, "float64", 0) == (1, 2 * (2048 + 128) * 8) and layout(r4, 32, "float64", 0)[0] == 128
    assert layout(r4, 8192, "float64", 0) is None  # 68 KiB of shared memory
    assert layout(r4, 16384, "float32", 0) is None and layout(r4, 16, "float32", 0) is None
    assert layout(r4, 96, "float32", 0) is None  # an FFT of 48 points
    assert layout(r4, 64, "float64", 8) is None and layout(r2, 64, "float32", 0) is None
    ends = _r2r_fused.Recipe(**{**r4.__dict__, "post_factors": (1.0, 0.5, 1.0)})  # the kernel has one factor
    assert layout(ends, 64, "float32", 0) is None
    for name, norm, orthogonalize in itertools.product(NAMES, NORMS, [None, True, False]):  # type 4's have one
        assert layout(_recipe(name, 4, 64, norm, orthogonalize), 64, "float32", 0) is not None


def test_model_can_fail():
    """The model is no tautology: a wrong factor or sign shows."""
    r = _recipe("dst", 2, 8, "ortho", True)
    x = np.random.default_rng(3).uniform(-1, 1, (2, 8))
    reference = scipy.fft.dst(x, type=2, norm="ortho")
    assert relative_error(model(x, r), reference) < 1e-13
    wrong = _r2r_fused.Recipe(**{**r.__dict__, "post_factors": (r.post_factors[0],) * 3})
    assert relative_error(model(x, wrong), reference) > 1e-3
    assert relative_error(model(x, _r2r_fused.Recipe(**{**r.__dict__, "sine": False})), reference) > 1e-3


@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_model_with_a_float32_fft_keeps_its_accuracy(rng, type):
    """No algorithm amplifies the FFT's rounding: with the FFT in float32, every transform of 4096
    points is within about 2e-7 of SciPy's (DCT-I/DST-I through running sums were at 2e-6 to 4e-6)."""
    x = rng.uniform(-1, 1, (4, 4096)).astype(np.float32)
    for name, norm in itertools.product(NAMES, NORMS):
        r = _recipe(name, type, 4096, norm, None)
        reference = getattr(scipy.fft, name)(x.astype(np.float64), type=type, norm=norm)
        assert relative_error(model(x, r), reference) < 1e-6, (name, norm)


def test_recipes_ffts():
    assert (_recipe("dct", 1, 4096, None, None).fft_n, _recipe("dst", 1, 4096, None, None).fft_n) == (8190, 8194)
    assert _recipe("idst", 1, 64, None, None).width == 130 and _recipe("idct", 1, 2, "ortho", True).fft == "r2c"
    assert _recipe("idct", 4, 4096, None, None).fft == "c2c" and _recipe("dct", 4, 4096, None, None).fft_n == 2048
    assert _recipe("idct", 2, 64, None, None).fft == "c2r" and _recipe("idst", 3, 64, None, None).fft == "r2c"


@pytest.mark.skipif(not kernels.compiler_available(), reason="NVRTC (libnvrtc) cannot be loaded here")
@pytest.mark.parametrize("real", [4, 8])
def test_kernels_compile(real, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source(kernels._read(_r2r_fused.KERNEL_PATH), "r2r.cu", (f"-DGPM_REAL={real}",), 90)
    assert image.startswith(b"\x7fELF")
    for half in _r2r_fused.WHOLE4:  # the one type-4 kernel, compiled for one length
        image = kernels.compile_source(kernels._read(_r2r_fused.KERNEL_PATH), "r2r.cu",
                                       kernels._defines({"GPM_REAL": real, "GPM_HALF": half}), 90)
        assert image.startswith(b"\x7fELF")


@pytest.mark.skipif(not kernels.compiler_available(), reason="NVRTC (libnvrtc) cannot be loaded here")
@pytest.mark.parametrize("real", [4, 8])
@pytest.mark.parametrize("name, type, n", [("dct", 4, 16), ("dst", 4, 4096), ("dct", 1, 9), ("dst", 1, 7)])
def test_callbacks_compile_to_lto_ir(real, name, type, n, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    r = _recipe(name, type, n, "ortho", True)
    for side, factors in ((1, r.pre_factors), (2, r.post_factors))[:2 if type == 4 else 1]:  # type 1: a load callback
        defines = {"GPM_REAL": real, "GPM_TYPE": type, "GPM_N": n, "GPM_SINE": int(name == "dst"), "GPM_CALLBACK": side,
                   "GPM_SCALE": repr(factors[0]), "GPM_FIRST": repr(factors[1]), "GPM_LAST": repr(factors[2])}
        ir = kernels.compile_source(kernels._read(_r2r_fused.KERNEL_PATH), "r2r.cu", kernels._defines(defines), 90,
                                    lto=True)
        assert ir[:4] == b"\xedCN\x7f"  # NVVM's LTO-IR, not a cubin
        assert list(tmp_path.glob("r2r.cu-*.ltoir"))


@pytest.mark.parametrize("name, type, n, real",
                         [("dct", 4, 16, "float32"), ("dst", 4, 64, "float64"), ("dct", 1, 9, "float32")])
def test_type_4_callbacks_get_the_twiddle_tables_as_caller_info(monkeypatch, name, type, n, real):
    """The tables' plumbing, without a GPU: a type-4 callback plan passes the addresses of the FFTs'
    ``dct4-pre`` and ``dct4-post`` vectors (made for its length and precision) to the load and store
    callbacks as cuFFT's caller info and keeps the vectors; a type-1 plan passes none (cuFFT's calls
    recorded; the callbacks compiled to LTO-IR where NVRTC loads)."""
    given = []
    ir = (lambda source, defines, device_id: kernels.compile_source(
        kernels._read(source), "r2r.cu", kernels._defines(defines), 90, lto=True)) if kernels.compiler_available() \
        else (lambda source, defines, device_id: b"ir")
    monkeypatch.setattr(_r2r_callback, "link_ir", ir)
    monkeypatch.setattr(cufft, "create", lambda: 7)
    monkeypatch.setattr(cufft, "xt_exec_function", lambda: None)
    record = lambda plan, symbol, ir, kind, info=0: given.append((symbol, info))  # noqa: E731
    monkeypatch.setattr(cufft, "xt_set_jit_callback", record)
    monkeypatch.setattr(cufft, "xt_make_plan_many", lambda *args: 0)
    monkeypatch.setattr(cufft, "set_stream", lambda plan, stream: None)
    monkeypatch.setattr(_r2r_callback.runtime, "call_on_device", lambda device_id, query, fn, *args: fn(*args))
    tables = {}

    class FFTs:  # what plan_for asks of the FFTs
        device_id, pkg = 0, SimpleNamespace(ptr=lambda table: table["address"])

        def stream(self):
            return 5

        def twiddle(self, vector, length, precision):
            return tables.setdefault(vector, {"address": 4096 * (len(tables) + 1), "of": (length, precision)})

        def owned(self, key, make):
            return make()

    plan = _r2r_callback.plan_for(FFTs(), _r2r_fused.KERNEL_PATH, _recipe(name, type, n, "ortho", None), n, real, 3)
    if type == 4:
        pre, post = tables["dct4-pre"], tables["dct4-post"]
        assert pre["of"] == post["of"] == (n, real)
        assert given == [(b"gpm_r2r_load", pre["address"]), (b"gpm_r2r_store", post["address"])]
        assert plan._tables == (pre, post)
    else:
        assert given == [(b"gpm_r2r_load", 0)] and not tables and plan._tables == ()


def test_callbacks_serve_types_4_and_1_on_aligned_rows(monkeypatch):
    monkeypatch.setattr(_r2r_callback, "_linkable", lambda: True)
    monkeypatch.delenv(_r2r_callback.ENVIRONMENT, raising=False)
    four, one, two = _recipe("dct", 4, 8, None, None), _recipe("dst", 1, 8, None, None), _recipe("dct", 2, 8, None, None)
    assert _r2r_callback.serves(four, 0, 256, "float64") and _r2r_callback.serves(one, 0, 16, "float64")
    assert not _r2r_callback.serves(two, 0, 256, "float64")
    assert not _r2r_callback.serves(_recipe("dct", 4, 2, None, None), 0, 256, "float64")  # a 1-point FFT: the kernels
    assert not _r2r_callback.serves(four, 0, 8, "float64")  # rows start where a complex128 may: on 16 bytes
    assert not _r2r_callback.serves(one, 0, 8, "float64")
    assert _r2r_callback.serves(four, 0, 8, "float32") and not _r2r_callback.serves(four, 0, 4, "float32")
    monkeypatch.setenv(_r2r_callback.ENVIRONMENT, "0")
    assert not _r2r_callback.serves(four, 0, 256, "float64")


# -- the fused path on the CPU, the model standing in for the kernels ----------------------------
_ROWS = {  # kernel -> its source's and destination's row: (length, complex) for a transform of n
    "pre2": lambda n: ((n, False), (n, False)), "post2": lambda n: ((n // 2 + 1, True), (n, False)),
    "pre3": lambda n: ((n, False), (n // 2 + 1, True)), "post3": lambda n: ((n, False), (n, False)),
    "pre4": lambda n: ((n, False), (n // 2, True)), "post4": lambda n: ((n // 2, True), (n, False)),
    "pre_dct1": lambda n: ((n, False), (2 * (n - 1), False)), "post_dct1": lambda n: ((n, True), (n, False)),
    "pre_dst1": lambda n: ((n, False), (2 * (n + 1), False)), "post_dst1": lambda n: ((n + 2, True), (n, False)),
}


def _memory(address: int, rows: int, row, dtype) -> np.ndarray:
    """The *rows* x *row* array at *address* (a pointer a launch was given)."""
    length, complex_ = row
    dtype = np.dtype(dtype) if not complex_ else np.result_type(dtype, np.complex64)
    raw = (ctypes.c_char * (rows * length * dtype.itemsize)).from_address(address)
    return np.frombuffer(raw, dtype).reshape(rows, length)


class _EmulatedLaunch:
    """:class:`~gpmath._core.kernels.Launch` running the model of its kernel on host memory."""

    launched: list = []

    def __init__(self, function, count, grid, block, shared=0, held=()):
        (self.name, self.real), self.values, self.grid, self.block = function, [0] * count, grid, block

    def set(self, index, value):
        self.values[index] = value

    def __call__(self, stream):
        src, dst, rows, n, sine, *bits = self.values[:8]
        factors = tuple(float(np.int64(b).view(np.float64)) for b in bits)
        r = SimpleNamespace(sine=bool(sine), pre_factors=factors, post_factors=factors)
        if self.name == "whole4":  # its twiddle tables are the host vectors it was given
            per_block = max(1, 4096 // n)
            assert self.grid == -(-rows // per_block) and self.block == per_block * n // 16 and len(self.values) == 11
            for address, vector in zip(self.values[8:], ("dct4-pre", "dct4-post", "dct4-roots")):
                table = _memory(address, 1, (n // 2, True), self.real)[0]
                np.testing.assert_allclose(table, _r2r._host_twiddle(vector, n), rtol=1e-6)
            source, target = (_memory(a, rows, (n, False), self.real) for a in (src, dst))
            target[...] = _whole4(source.astype(np.float64), r)
            self.launched.append(self.name)
            return
        assert self.grid == rows and self.block % 32 == 0
        source, target = (_memory(a, rows, row, self.real) for a, row in zip((src, dst), _ROWS[self.name](n)))
        wide = source.astype(np.complex128 if source.dtype.kind == "c" else np.float64)
        if self.name.startswith("pre"):
            target[...] = globals()[f"_{self.name}"](wide, r)
        else:
            y = np.full((rows, n), np.nan)
            globals()[f"_{self.name}"](wide, y, r)
            target[...] = y
        self.launched.append(self.name)


@pytest.fixture
def emulated(monkeypatch):
    """gpmath's fused path for NumPy operands, its kernels' launches run by the model."""
    monkeypatch.setattr(_r2r_fused, "usable", lambda f: True)
    monkeypatch.setattr(_r2r_planner, "_on_cpu", lambda *args: False)  # not scipy.fft's own DCT
    monkeypatch.setattr(_r2r_callback, "serves", lambda *args: False)
    monkeypatch.setattr(_r2r_fused, "Launch", _EmulatedLaunch)
    monkeypatch.setattr(_r2r_fused, "_kernel", lambda name, real: SimpleNamespace(function=lambda d: (name, real)))
    monkeypatch.setattr(_r2r_fused, "_whole4_kernel",
                        lambda real, half: SimpleNamespace(function=lambda d: ("whole4", real)))
    monkeypatch.setattr(_r2r_fused, "runtime", SimpleNamespace(call_on_device=lambda d, q, fn, *args: fn(*args)))
    monkeypatch.setattr(_r2r.FFTs, "stream", lambda self: 0)
    _EmulatedLaunch.launched = []
    return _EmulatedLaunch.launched


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_fused_path_with_emulated_kernels(rng, emulated, name, type):
    for (n, norm, orthogonalize), (shape, axis) in itertools.product(
            _cases(name, type, [1, 2, 5, 8, 17, 32]), [((3, None), -1), ((None, 2, 3), 0), ((0, None), -1)]):
        x = rng.uniform(-1, 1, tuple(n if d is None else d for d in shape))
        for dtype in ("float32", "float64"):
            result = getattr(gfft, name)(x.astype(dtype), type=type, axis=axis, norm=norm, orthogonalize=orthogonalize)
            reference = getattr(scipy.fft, name)(x, type=type, axis=axis, norm=norm, orthogonalize=orthogonalize)
            assert result.dtype == dtype and result.shape == reference.shape
            assert relative_error(result, reference) < (1e-5 if dtype == "float32" else 1e-13)
    assert emulated and (type == 4 or len(emulated) % 2 == 0)
    assert ("whole4" in emulated) == (type == 4)  # 32 points: the one kernel, an FFT of 16 in shared memory


def test_stateless_transforms_keep_their_launches_for_their_thread(rng, emulated, monkeypatch):
    """A launch is made once per kernel, shape and thread (its parameters set before each launch),
    and the kept ones are bounded."""
    monkeypatch.setattr(_r2r, "_launches", threading.local())
    made = []
    make = _EmulatedLaunch.__init__
    monkeypatch.setattr(_EmulatedLaunch, "__init__", lambda self, function, *args, **options: (
        made.append(function[0]), make(self, function, *args, **options))[1])
    x, x2 = rng.uniform(-1, 1, (3, 32)), rng.uniform(-1, 1, (3, 32))
    for data in (x, x2, x):
        for type in (4, 2):
            assert relative_error(gfft.dct(data, type=type), scipy.fft.dct(data, type=type)) < 1e-13
    assert sorted(made) == ["post2", "pre2", "whole4"]
    done = []
    thread = threading.Thread(target=lambda: done.append(gfft.dct(x, type=4)))
    thread.start()
    thread.join()
    assert relative_error(done[0], scipy.fft.dct(x, type=4)) < 1e-13 and made.count("whole4") == 2
    monkeypatch.setattr(_r2r, "_LAUNCHES", 2)
    for rows in (1, 2, 3, 4):  # (a launch is kept per row count)
        gfft.dct(x[:rows], type=4)
    assert len(_r2r._launches.kept) == 2


def test_kept_launches_tell_transforms_of_one_shape_apart(rng, emulated, monkeypatch):
    """A kept launch's factors, direction and tables are set once, so transforms of one shape that
    differ in them (DCT and DST, each norm and orthogonalize, both precisions) each keep their own."""
    monkeypatch.setattr(_r2r, "_launches", threading.local())
    x = rng.uniform(-1, 1, (3, 32))
    for _, name, type, norm, orthogonalize, dtype in itertools.product(
            range(2), NAMES, (2, 4), ("backward", "ortho", "forward"), (False, True), ("float32", "float64")):
        result = getattr(gfft, name)(x.astype(dtype), type=type, norm=norm, orthogonalize=orthogonalize)
        reference = getattr(scipy.fft, name)(x, type=type, norm=norm, orthogonalize=orthogonalize)
        assert relative_error(result, reference) < (1e-5 if dtype == "float32" else 1e-13), (name, type, norm)


@pytest.mark.parametrize("planner", [DCT, DST])
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_plans_with_emulated_kernels_keep_their_work_arrays(rng, emulated, planner, type):
    x, x2 = rng.uniform(-1, 1, (4, 6, 8)), rng.uniform(-1, 1, (4, 6, 8))
    name = planner.family + "n"
    with planner(x, type=type, axes=(0, 2), norm="ortho") as plan:
        plan.plan()
        kept = dict(plan._ffts.kept_items)
        assert {key[0] for key in kept} >= {"r2r-buffer", "r2r-launch"}
        for data, prefix in itertools.product([x2, x], ["", "i"]):
            plan.reset_operands(data)
            reference = getattr(scipy.fft, prefix + name)(data, type=type, axes=(0, 2), norm="ortho")
            assert relative_error(plan.execute("inverse" if prefix else None), reference) < 1e-13
        assert all(plan._ffts.kept_items[key] is value for key, value in kept.items())
        assert len(emulated) == 2 * 2 * 5


# -- the kernels on a GPU ------------------------------------------------------------------------
GPU_PACKAGES = [pytest.param("cupy", marks=gpu), pytest.param("torch", marks=gpu)]
TOL = {"float32": 2e-6, "float64": 1e-13}


def _check(result, reference, dtype: str) -> None:
    assert tuple(result.shape) == reference.shape
    assert relative_error(result, reference) < TOL[dtype]


@pytest.fixture
def kernels_only(monkeypatch):
    """Types 4 and 1 through the fused kernels, not cuFFT callbacks nor the one type-4 kernel."""
    monkeypatch.setenv(_r2r_callback.ENVIRONMENT, "0")
    monkeypatch.setattr(_r2r_fused, "WHOLE4", (1, 0))


@pytest.fixture(params=["kernels", "callbacks", "whole"])
def route(request, monkeypatch):
    """The route of types 4 and 1: the fused kernels, cuFFT callbacks (required with cuFFT 12), or
    the default: the one type-4 kernel where it serves, callbacks otherwise."""
    if request.param != "whole":
        monkeypatch.setattr(_r2r_fused, "WHOLE4", (1, 0))
    if request.param == "kernels":
        monkeypatch.setenv(_r2r_callback.ENVIRONMENT, "0")
    else:
        monkeypatch.delenv(_r2r_callback.ENVIRONMENT, raising=False)
        if cufft.get_version() < cufft.JIT_CALLBACK_VERSION:
            pytest.skip(f"cuFFT {cufft.get_version()} takes no LTO callbacks by name")
        assert _r2r_callback._linkable(), "cuFFT 12 without nvJitLink"
        monkeypatch.setattr(_r2r_callback, "_refused", set())
    return request.param


_CALLBACK_ROUTE = {4: "as cuFFT callbacks", 1: "as a cuFFT load callback"}  # the debug lines of each route, by type
_WHOLE_ROUTE = "in one kernel"


def _whole(route: str, type: int, n: int, dtype: str) -> bool:
    """Whether the one type-4 kernel computes this transform on aligned rows in *route*."""
    return route == "whole" and type == 4 and n // 2 in (16, 32, 64, 128, 256, 512, 1024, 2048) + (
        (4096,) if dtype == "float32" else ())


def _declined(family: str, type: int, n: int, messages: list[str]) -> bool:
    """Whether cuFFT declined the callback plan of this transform (it does for some lengths: DST-I
    of 4096 points, an FFT of 8194 = 2*17*241); a refusal logged must be cuFFT's "not supported"
    (the fused kernels then run it: the route assertions check that)."""
    pre, fft_n = (f"pre_{family}1", 2 * (n + 1) if family == "dst" else 2 * (n - 1)) if type == 1 else ("pre4", n // 2)
    refusals = [m for m in messages if "no cuFFT callback plan" in m]
    assert all("(CUFFT_NOT_SUPPORTED in cufftXtMakePlanMany)" in m for m in refusals), refusals
    return any(key[1:3] == (pre, fft_n) for key in _r2r_callback._refused)


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("type", [1, 2, 3, 4])
@pytest.mark.parametrize("n", LENGTHS + [4096])
def test_kernels_match_scipy(rng, kernels_only, package, dtype, name, type, n):
    if name.endswith("dct") and type == 1 and n == 1:
        pytest.skip("DCT-I needs 2 points")
    for norm, orthogonalize in itertools.product(NORMS, [None, True, False]):
        for shape, axis in [((3, n), -1), ((n, 2, 3), 0), ((2, 3, n), -1), ((n,), 0)]:
            x = rng.uniform(-1, 1, shape)
            result = getattr(gfft, name)(convert(x, package, dtype), type=type, axis=axis, norm=norm,
                                         orthogonalize=orthogonalize)
            reference = getattr(scipy.fft, name)(x, type=type, axis=axis, norm=norm, orthogonalize=orthogonalize)
            _check(result, reference, dtype)


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_one_type_4_kernel_matches_scipy(rng, package, dtype, name, caplog):
    """``r2r_whole4`` at every FFT length it takes (16 to 4096 points, 2048 in float64), each norm
    and ``orthogonalize``, along either axis and over a thousand rows; the route taken checked."""
    for e in range(5, 14):
        n = 2**e
        for (norm, orthogonalize), (shape, axis) in itertools.product(
                itertools.product(NORMS, [None, True, False]), [((3, n), -1), ((n, 2), 0)]):
            x = rng.uniform(-1, 1, shape)
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="gpmath"):
                result = getattr(gfft, name)(convert(x, package, dtype), type=4, axis=axis, norm=norm,
                                             orthogonalize=orthogonalize)
            reference = getattr(scipy.fft, name)(x, type=4, axis=axis, norm=norm, orthogonalize=orthogonalize)
            _check(result, reference, dtype)
            assert any(_WHOLE_ROUTE in m for m in caplog.messages) == _whole("whole", 4, n, dtype), (n, caplog.messages)
    x = rng.uniform(-1, 1, (1000, 256))
    _check(getattr(gfft, name)(convert(x, package, dtype), type=4), getattr(scipy.fft, name)(x, type=4), dtype)


_CALLBACK_CASES = [  # (n, norm, orthogonalize, shape, axis): every length, norm and layout once (a plan each)
    (1, None, None, (3, 1), -1), (2, "ortho", None, (2, 5, 2), -1), (3, "forward", False, (3, 2, 4), 0),
    (4, "backward", True, (4,), 0), (6, "ortho", False, (3, 6), -1), (8, None, True, (1000, 8), -1),
    (17, "ortho", True, (2, 17), -1), (64, "forward", None, (64, 3), 0), (130, "ortho", None, (7, 130), -1),
    (4096, None, None, (5, 4096), -1), (4096, "ortho", True, (2, 4096), -1), (32, "forward", True, (9, 32), -1),
    (8192, "backward", False, (3, 8192), -1), (96, None, None, (4, 96), -1),
]


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("type", [1, 4])
def test_callbacks_match_scipy(rng, route, package, dtype, name, type, caplog):
    """Types 4 and 1 through cuFFT callbacks (each case its own plan: its length, factors and rows
    are compiled in) or the kernels, against SciPy; the route taken is the one expected."""
    for n, norm, orthogonalize, shape, axis in _CALLBACK_CASES:
        if name.endswith("dct") and type == 1 and n == 1:
            continue  # DCT-I needs 2 points
        x = rng.uniform(-1, 1, shape)
        xp = convert(x, package, dtype)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="gpmath"):
            result = getattr(gfft, name)(xp, type=type, axis=axis, norm=norm, orthogonalize=orthogonalize)
        reference = getattr(scipy.fft, name)(x, type=type, axis=axis, norm=norm, orthogonalize=orthogonalize)
        _check(result, reference, dtype)
        np.testing.assert_array_equal(to_numpy(xp), x.astype(dtype))  # cuFFT read the rows, never wrote them
        family = "dst" if "dst" in name else "dct"
        whole = _whole(route, type, n, dtype)
        expected = route != "kernels" and not whole and (type == 1 or (n % 2 == 0 and n >= 4)) and not (
            _declined(family, type, n, caplog.messages))
        called = any(_CALLBACK_ROUTE[type] in m for m in caplog.messages)
        assert called == expected, (n, caplog.messages)
        assert any(_WHOLE_ROUTE in m for m in caplog.messages) == whole, (n, caplog.messages)


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("type", [1, 4])
def test_callbacks_read_rows_at_any_offset(rng, route, package, type):
    """Rows that start one element into an allocation (not where cuFFT may read a complex element:
    the kernels take them) and rows of a sliced batch."""
    x = rng.uniform(-1, 1, 3 * 64 + 1)
    for dtype, name in itertools.product(["float32", "float64"], NAMES):
        xp = convert(x, package, dtype)
        for view, ref in ((xp[1:].reshape(3, 64), x[1:].reshape(3, 64)), (xp[:192].reshape(3, 64)[1:], x[:192].reshape(3, 64)[1:])):
            _check(getattr(gfft, name)(view, type=type), getattr(scipy.fft, name)(ref, type=type), dtype)


@pytest.mark.parametrize("package", GPU_PACKAGES)
def test_callback_plans_are_cached_and_freed(rng, route, package):
    from gpmath import cache_info
    from gpmath._core.cache import named_cache

    x = convert(rng.uniform(-1, 1, (5, 32)), package, "float64")
    gfft.dct(x, type=4)
    before = cache_info()["fft"].hits
    for _ in range(3):
        gfft.dct(x, type=4)
    owned = [key for (_, key) in named_cache("fft")._plans if key[0] == "r2r-callback" and key[4:] == (32, "float64", 5)]
    assert len(owned) == (route == "callbacks")  # (the one kernel takes 32 points where it serves)
    assert cache_info()["fft"].hits - before >= 3 * (route == "callbacks")
    with DCT(x, type=4, axes=-1) as plan:
        plan.execute()
        kept = [v for k, v in plan._ffts.kept_items.items() if k[0] == "r2r-callback"]
        assert len(kept) == (route == "callbacks")
        assert any(k[:2] == ("r2r-launch", "whole4") for k in plan._ffts.kept_items) == (route == "whole")
    assert all(plan.freed for plan in kept)
    limits = named_cache("fft").maxsize
    try:  # a cache that keeps nothing: the kernels (a callback plan would be linked every call)
        named_cache("fft").set_limits(maxsize=0)
        assert relative_error(gfft.dct(x, type=4), scipy.fft.dct(to_numpy(x), type=4)) < TOL["float64"]
    finally:
        named_cache("fft").set_limits(maxsize=limits)


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("shape, axis", [((0, 6), -1), ((6, 0, 2), 0), ((2, 0, 5), -1)])
def test_kernels_take_empty_batches(package, shape, axis):
    x = np.zeros(shape)
    for name, type in itertools.product(NAMES, [1, 2, 3, 4]):
        result = getattr(gfft, name)(convert(x, package, "float32"), type=type, axis=axis)
        assert tuple(result.shape) == shape


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("planner", [DCT, DST])
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_plans_repeat_without_new_work_arrays(rng, route, package, planner, type):
    name = planner.family + "n"
    x, x2 = rng.uniform(-1, 1, (4, 6, 64)), rng.uniform(-1, 1, (4, 6, 64))
    with planner(convert(x, package, "float64"), type=type, axes=(0, 2), norm="ortho") as plan:
        plan.plan()
        callbacks = route != "kernels" and type in (1, 4)  # (type 4 along axis 0, of 4 points, in "whole")
        expected = "r2r-callback" if callbacks else "r2r-buffer"
        assert any(key[0] == expected for key in plan._ffts.kept_items), f"the plan took the {expected} path"
        whole = any(key[:2] == ("r2r-launch", "whole4") for key in plan._ffts.kept_items)
        assert whole == (route == "whole" and type == 4), "64 points along the last axis: the one kernel"

        def run_all():
            for data, prefix in itertools.product([x2, x], ["", "i"]):
                plan.reset_operands(convert(data, package, "float64"))
                reference = getattr(scipy.fft, prefix + name)(data, type=type, axes=(0, 2), norm="ortho")
                _check(plan.execute("inverse" if prefix else None), reference, "float64")

        run_all()
        kept = dict(plan._ffts.kept_items)
        run_all()
        assert plan._ffts.kept_items.keys() == kept.keys()
        assert all(plan._ffts.kept_items[key] is value for key, value in kept.items())


@pytest.mark.parametrize("package", GPU_PACKAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_4096_square_takes_its_route(rng, route, package, dtype, caplog):
    x = rng.standard_normal((4096, 4096))
    xp = convert(x, package, dtype)
    for planner, type in itertools.product([DCT, DST], [1, 2, 3, 4]):
        family = planner.family
        for run in (lambda: getattr(gfft, family)(xp, type=type), lambda: planner(xp, type=type, axes=-1).execute()):
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="gpmath"):
                result = run()
            whole = _whole(route, type, 4096, dtype)
            callbacks = route != "kernels" and not whole and type in (1, 4) and not _declined(
                family, type, 4096, caplog.messages)
            line = _WHOLE_ROUTE if whole else _CALLBACK_ROUTE[type] if callbacks else "dct/dst: fused"
            routes = [m for m in caplog.messages if line in m]
            expected = f"pre_{family}1" if type == 1 else f"pre{type}"
            assert len(routes) == 1 and expected in routes[0], caplog.messages
            reference = getattr(scipy.fft, family)(x[:8], type=type)
            assert relative_error(to_numpy(result[:8]), reference) < TOL[dtype]
