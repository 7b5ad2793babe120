"""Automatic placement: whether a call on host operands runs faster on the GPU or on the CPU.

Host operands (NumPy arrays, torch CPU tensors) with ``execution=None`` (or ``"auto"``) go where
a simple model of the call's time is lower, when a GPU is usable::

    GPU time = bytes_in / h2d + bytes_out / d2h + gpu(flops)
    CPU time = cpu(flops)

where ``gpu`` and ``cpu`` are each side's measured time against flops, straight between the sizes
measured (:class:`Side`).

Each front states its problem's size as a :class:`Work` (a family of computation, flops and bytes,
by the simple formulas documented beside each front's estimate).  The sides' times, per
family (:data:`FAMILIES`) and precision (float32, float64), and the link's copy rates are measured
on the machine by :mod:`gpmath._core.calibration` when a family first needs them, and kept on disk.
Operands on a device always stay there; ``execution="cuda"`` and ``"cpu"`` still force.

:func:`set_placement` (or the environment variable ``GPMATH_PLACEMENT``) replaces the model for
every call with ``execution=None``: ``"cuda"`` runs host operands on the GPU whenever one is
usable (gpmath's rule before automatic placement), ``"cpu"`` on the CPU.  The variable is read
when a call first needs the mode, and again after ``set_placement(None)`` (an environment lookup
costs about as much as NumPy's whole product of two 8x8 matrices, and the mode is read by every
call on host operands).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Hashable

from .dtypes import DTYPES

__all__ = ["Work", "Side", "Model", "Verdict", "FAMILIES", "PLACEMENTS", "CLOSE", "set_placement", "get_placement",
           "place", "near", "precision", "itemsize", "flop_factor", "crossover", "stays_on_host", "LARGEST"]

FAMILIES = ("gemm", "fft", "lu", "cholesky", "eigh", "svd", "qr", "eig", "triangular")
PLACEMENTS = ("auto", "cuda", "cpu")
LARGEST = 1 << 15  # the largest size n :func:`crossover` considers
# modelled times within this factor of each other are a close call: the stateless path measures both sides
# (on the H100 the model's corners missed a 384² f32 product's two sides by about a quarter each, session 33)
CLOSE = 1.5
_ENVIRONMENT = "GPMATH_PLACEMENT"
_chosen: str | None = None  # set_placement's mode; None: the environment's (default "auto")
_environment: str | None = None  # GPMATH_PLACEMENT's mode once read (None: not read since set_placement(None))


def set_placement(mode: str | None) -> None:
    """Choose where calls with ``execution=None`` on host operands run, for the whole process.

    Parameters
    ----------
    mode : {"auto", "cuda", "cpu"} or None
        ``"auto"``: where the calibrated cost model says the call is faster (the default);
        ``"cuda"``: on the GPU whenever one is usable; ``"cpu"``: on the CPU.  ``None`` returns
        to the environment variable ``GPMATH_PLACEMENT`` (else ``"auto"``), read again at the next
        call that needs it.  Operands on a
        device stay there whatever the mode, and a call's own ``execution="cuda"`` or ``"cpu"``
        wins over it.

    Examples
    --------
    >>> import numpy as np, gpmath
    >>> gpmath.set_placement("cpu")
    >>> gpmath.get_placement()
    'cpu'
    >>> gpmath.blas.Matmul(np.ones((2, 2)), np.ones((2, 2))).device_id is None  # the CPU engine
    True
    >>> gpmath.set_placement(None)
    """
    global _chosen, _environment
    if mode is not None and mode not in PLACEMENTS:
        raise ValueError(f"mode must be 'auto', 'cuda', 'cpu' or None, not {mode!r}")
    _chosen = mode
    if mode is None:
        _environment = None


def get_placement() -> str:
    """The placement mode in force: :func:`set_placement`'s, else ``GPMATH_PLACEMENT``'s, else ``"auto"``.

    The variable is read at the first call, and again after ``set_placement(None)``.  Raises
    ``ValueError`` naming ``GPMATH_PLACEMENT`` when it holds another value (and reads it again at
    the next call).

    Examples
    --------
    >>> import gpmath
    >>> gpmath.get_placement() in ("auto", "cuda", "cpu")
    True
    """
    global _environment
    if _chosen is not None:
        return _chosen
    if _environment is None:
        given = os.environ.get(_ENVIRONMENT)
        mode = "auto" if given is None else given.strip().lower() or "auto"
        if mode not in PLACEMENTS:
            raise ValueError(f"{_ENVIRONMENT} must be 'auto', 'cuda' or 'cpu', not {given!r}")
        _environment = mode
    return _environment


def stays_on_host(execution: str | None) -> bool:
    """Whether host operands of a call with *execution* may be computed on the CPU without the
    cost model: ``execution="cpu"``, or automatic placement (``None``, ``"auto"``) in a mode other
    than ``"cuda"``.  The shortcuts for small NumPy calls ask it: no GPU wins those.

    Examples
    --------
    >>> stays_on_host("cpu"), stays_on_host("cuda")
    (True, False)
    """
    return execution == "cpu" or (execution in (None, "auto") and get_placement() != "cuda")


@dataclass(frozen=True)
class Work:
    """The size of one plan's problem, as the placement model reads it.

    Attributes
    ----------
    family : str
        One of :data:`FAMILIES`: which calibrated rates apply.
    dtype : str
        The operands' dtype name (float16 and bfloat16 compute at float32's rates; other names,
        such as integers, at float64's).
    flops : float
        Real floating-point operations (a complex multiply-add counts 4 real ones).
    bytes_in, bytes_out : int
        Bytes copied to the device and back when the plan runs on the GPU.
    steps : tuple of (family, flops, count)
        Small dependent steps after the main work, on the operands already there (no copies):
        *count* problems of *flops* each in *family* (the condition estimate's triangular
        solves).  On the GPU each costs its family's whole per-call overhead (a launch-bound
        step), on the CPU only its flops.
    problem : hashable, optional
        The problem as a stateless shortcut describes it, where one can take it (a NumPy product's
        dtype name and ``m, k, n``; a transform's shape, dtype name, axes, lengths and kind): the
        key under which the shortcut asks its kept verdict, which the stateless path's measurement
        of a close call settles (:attr:`Verdict.kept`).
    """

    family: str
    dtype: str
    flops: float
    bytes_in: int
    bytes_out: int
    steps: tuple[tuple[str, float, int], ...] = ()
    problem: Hashable = None

    @property
    def precision(self) -> str:
        """``"float32"`` or ``"float64"``: the precision whose rates apply (:func:`precision`)."""
        return precision(self.dtype)


def precision(dtype: str) -> str:
    """The precision whose rates apply to *dtype*: ``"float64"`` for float64, complex128 and names
    gpmath does not compute in (integers ...), else ``"float32"`` (float16 and bfloat16 compute at
    float32's rates).

    Examples
    --------
    >>> precision("complex64"), precision("float64")
    ('float32', 'float64')
    """
    found = DTYPES.get(dtype)
    return "float64" if found is None or found.real == "float64" else "float32"


def itemsize(dtype: str) -> int:
    """Bytes per element of *dtype* (8 for names gpmath does not compute in, such as integers)."""
    found = DTYPES.get(dtype)
    return 8 if found is None else found.itemsize


def flop_factor(dtype: str) -> int:
    """Real flops per arithmetic operation: 4 for complex dtypes, else 1."""
    found = DTYPES.get(dtype)
    return 4 if found is not None and found.is_complex else 1


@dataclass(frozen=True)
class Side:
    """One side's time per call against its flops: the straight segments between measured
    ``(flops, seconds)`` points (at least two, flops increasing), extended past either end along
    the end segment.  A side's rate grows with a problem's size (more threads and blocks at
    work), so one line through a small and a large point puts the time of the sizes between
    too low; each measured size between them is a corner of the curve.

    Examples
    --------
    >>> side = Side(((0.0, 1e-5), (1e6, 2e-5), (1e9, 2e-3)))
    >>> round(side.seconds(5e5) * 1e6, 1), round(side.overhead * 1e6, 1)
    (15.0, 10.0)
    """

    points: tuple[tuple[float, float], ...]

    @classmethod
    def line(cls, overhead: float, rate: float) -> "Side":
        """The side of one straight line: *overhead* seconds plus flops at *rate* flops per second."""
        return cls(((0.0, overhead), (rate, overhead + 1.0)))

    def seconds(self, flops: float) -> float:
        """Seconds of a call of *flops* on this side."""
        points = self.points
        i = 1
        while i < len(points) - 1 and flops > points[i][0]:
            i += 1
        (f1, t1), (f2, t2) = points[i - 1], points[i]
        return t1 + (flops - f1) * (t2 - t1) / (f2 - f1)

    @property
    def overhead(self) -> float:
        """Seconds of a call of no flops (the first segment's intercept)."""
        return self.seconds(0.0)

    def flops_within(self, seconds: float) -> float:
        """The largest flops whose call takes at most *seconds* on this side (0 where none does), for
        a side whose time rises along every segment (the CPU's: :func:`~gpmath._core.calibration.host_flops`).

        Examples
        --------
        >>> round(Side(((0.0, 1e-5), (1e6, 2e-5), (1e9, 2e-3))).flops_within(1.5e-5))
        500000
        """
        points, last = self.points, len(self.points) - 1
        for i in range(1, last + 1):
            (f1, t1), (f2, t2) = points[i - 1], points[i]
            if seconds <= t2 or i == last:
                return max(f1 + (seconds - t1) * (f2 - f1) / (t2 - t1), 0.0)


@dataclass(frozen=True)
class Model:
    """The calibrated model of one family and precision on one machine.

    Copies below *pipeline_bytes* go straight from pageable memory at the ``*_small`` rates, larger
    ones through pinned buffers at the ``*_large`` rates (as :mod:`gpmath._core.transfer` moves them).
    """

    cpu: Side
    gpu: Side
    h2d_small: float
    h2d_large: float
    d2h_small: float
    d2h_large: float
    pipeline_bytes: int

    def cpu_seconds(self, work: Work) -> float:
        """Modelled seconds of *work* on the CPU engine."""
        return self.cpu.seconds(work.flops)

    def gpu_seconds(self, work: Work) -> float:
        """Modelled seconds of *work* on the CUDA engine, its copies included: the GPU side's
        time (measured less the copies modelled for the problems measured, so that each of them
        gets its measured time whatever the link's model misses) plus the copies modelled for
        *work*, and never less than the side's time of no flops."""
        return max(self.copy_seconds(work.bytes_in, work.bytes_out) + self.gpu.seconds(work.flops), self.gpu.overhead)

    def copy_seconds(self, bytes_in: int, bytes_out: int) -> float:
        """Seconds to copy *bytes_in* to the device and *bytes_out* back."""
        large = self.pipeline_bytes
        return (bytes_in / (self.h2d_large if bytes_in >= large else self.h2d_small)
                + bytes_out / (self.d2h_large if bytes_out >= large else self.d2h_small))


@dataclass(frozen=True)
class Verdict:
    """Where :func:`place` sends a plan, and why (for the INFO log), with the model's seconds on
    each side where the model decided (None for a placement mode) and, for a problem a stateless
    shortcut takes (:attr:`Work.problem`), the key of the shortcut's kept verdict, ``(family,
    precision, device, problem)``: the stateless path's measurement of a close call settles it
    (:func:`~gpmath._core.calibration.settle`), so the shortcut answers the calls after it; and
    *outcome*, the key of that measurement for :func:`place` (the device and the estimate's
    fields but its problem), so that later plans of the same estimate take the side measured.

    Examples
    --------
    >>> Verdict(False, "model", 1e-4, 1.2e-4).close, Verdict(False, "model", 1e-4, 2e-4).close
    (True, False)
    """

    on_gpu: bool
    reason: str
    cpu_seconds: float | None = None
    gpu_seconds: float | None = None
    kept: tuple | None = None
    outcome: tuple | None = None

    @property
    def close(self) -> bool:
        """Whether the model's two times are within :data:`CLOSE` of each other: a call the model
        cannot tell apart from its noise, whose side the stateless path measures
        (:class:`~gpmath._core.stateless.Stateless`)."""
        return self.cpu_seconds is not None and near(self.cpu_seconds, self.gpu_seconds)


def near(cpu: float, gpu: float) -> bool:
    """Whether modelled times *cpu* and *gpu* are within a factor :data:`CLOSE` of each other."""
    return max(cpu, gpu) < CLOSE * min(cpu, gpu)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def place(work: Callable[[], Work], device_id: int) -> Verdict:
    """Whether a plan on host operands runs on GPU *device_id* (which is usable) or on the CPU.

    *work* is called only in the ``"auto"`` mode; its family is calibrated first where it has not
    been on this machine.  A problem whose side the stateless path has measured (a close call:
    :func:`~gpmath._core.calibration.settle`), or one of the same estimate (another layout of its
    operands, other options of the same cost), takes that side without the model.
    """
    mode = get_placement()
    if mode != "auto":
        return Verdict(mode == "cuda", f"placement mode {mode!r}")
    from . import calibration

    estimate = work()
    kept = None if estimate.problem is None else (estimate.family, estimate.precision, device_id, estimate.problem)
    outcome = (device_id, estimate.family, estimate.dtype, estimate.flops, estimate.bytes_in, estimate.bytes_out,
               estimate.steps)
    on_cpu = calibration.measured_side(outcome)
    if on_cpu is not None:
        return Verdict(not on_cpu, f"auto placement, measured faster on the {'CPU' if on_cpu else 'GPU'}",
                       kept=kept, outcome=outcome)
    model = calibration.model(estimate.family, estimate.precision, device_id)
    cpu, gpu = model.cpu_seconds(estimate), model.gpu_seconds(estimate)
    for family, flops, count in estimate.steps:
        step = calibration.model(family, estimate.precision, device_id)
        cpu, gpu = cpu + count * (step.cpu.seconds(flops) - step.cpu.overhead), gpu + count * step.gpu.seconds(flops)
    if cpu < gpu:
        return Verdict(False, f"auto placement, model CPU {_us(cpu)} < GPU {_us(gpu)}", cpu, gpu, kept, outcome)
    return Verdict(True, f"auto placement, model GPU {_us(gpu)} <= CPU {_us(cpu)}", cpu, gpu, kept, outcome)


def crossover(model: Model, work_of: Callable[[int], Work]) -> int | None:
    """The smallest size n (on a grid of quarter powers of two, 2 to :data:`LARGEST`) from which the
    GPU is faster for every larger size of the grid, by *model*, for the problems ``work_of(n)``;
    None where the CPU is faster at :data:`LARGEST`."""
    sizes = sorted({round(2 ** (step / 4)) for step in range(4, 4 * LARGEST.bit_length() - 3)})
    found = None
    for n in sizes:
        work = work_of(n)
        if model.gpu_seconds(work) <= model.cpu_seconds(work):
            found = n if found is None else found
        else:
            found = None
    return found
