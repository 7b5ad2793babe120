"""Which engine runs a plan: one table for every planner, consulted once per plan.

A public planner (``Matmul``, ``FFT``, ``Cholesky`` ...) is a front: constructing it asks
:func:`choose` where the call runs (:func:`~gpmath._core.execution.resolve_execution`'s rules,
then, for host operands a GPU could compute, :mod:`gpmath._core.placement`'s cost model) and
returns an instance of the engine the table names for that place, its CUDA engine or its CPU
engine, each defined beside its front.  Engines are imported by name on first use, so fronts
and engines never import each other in a circle.

The choice travels with the plan (:class:`Choice`): the device that computes, the operands'
package and home, and, for host operands computed on a GPU, their :class:`HostStaging`.
Operands with no elements take the CPU engine wherever they live: there is nothing to compute,
and the libraries reject empty problems.  Each choice is logged (INFO, ``gpmath`` logger) with
its reason, for the CPU engine as for the CUDA one.
"""

from __future__ import annotations

import functools
import importlib
import logging
from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

from .._errors import NoGPUError
from . import runtime
from .execution import AUTOMATIC, Located, host_gpu, logger, resolve_execution
from .packages import Package
from .placement import Verdict, Work, get_placement, place
from .staging import HostStaging

__all__ = ["Choice", "choose", "decide", "build", "any_empty", "surely_on_cpu"]

_SOLVER_CUDA = {
    "Cholesky": "_cuda_cholesky", "CholeskySolve": "_cuda_cholesky", "Solve": "_cuda_solve",
    "Eigh": "_cuda_eigh", "LU": "_cuda_lu", "LUSolve": "_cuda_lu", "Inv": "_cuda_lu", "Det": "_cuda_lu",
    "SolveTriangular": "_cuda_triangular", "QR": "_cuda_qr", "Eig": "_cuda_eig", "SVD": "_cuda_svd",
    "Lstsq": "_cuda_lstsq", "Pinv": "_cuda_pinv",
}
# front name -> (CUDA engine "module:class", CPU engine "module:class", the CUDA library it loads)
TABLE: dict[str, tuple[str, str, str]] = {
    "Matmul": ("gpmath.blas._cuda:CudaMatmul", "gpmath.blas._cpu:CpuMatmul", "cublaslt"),
    "FFT": ("gpmath.fft._cuda:CudaFFT", "gpmath.fft._cpu:CpuFFT", "cufft"),
    **{front: (f"gpmath.solver.{module}:Cuda{front}", f"gpmath.solver._cpu:Cpu{front}", "cusolver")
       for front, module in _SOLVER_CUDA.items()},
}


@dataclass(frozen=True)
class Choice:
    """Where one plan runs.

    Attributes
    ----------
    engine : type
        The engine class.
    device_id : int or None
        The GPU that computes; None for the CPU.
    package : Package
        The operands' package.
    home : int or None
        The operands' device, where results go; None for host memory.
    staging : HostStaging or None
        Host operands computed on a GPU go through it; None otherwise.
    verdict : Verdict or None
        The automatic placement's, where the cost model decided.
    """

    engine: type
    device_id: int | None
    package: Package
    home: int | None
    staging: HostStaging | None
    verdict: Verdict | None = None


def any_empty(*arrays) -> bool:
    """Whether one of *arrays* (None skipped) has no elements."""
    return any(x is not None and 0 in tuple(getattr(x, "shape", ())) for x in arrays)


def _load(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@functools.cache
def _library_missing(name: str) -> str | None:
    """None where library *name* loads, else why not (asked once: a library loaded stays, and one
    that cannot load is not looked for again)."""
    try:
        importlib.import_module(f"gpmath._bindings.{name}").library.cdll
    except NoGPUError as exc:
        return str(exc)
    return None


def choose(front: str, execution: str | None, located: Sequence[Located], device_id: int | None = None,
           empty: bool = False, work: Callable[[], Work] | None = None) -> Choice:
    """The :class:`Choice` for planner *front* on operands *located* (see
    :func:`~gpmath._core.operand.locate`), with the caller's *execution* and *device_id*; *empty*
    says an operand has no elements.

    Host operands that could run on a GPU with ``execution`` None or ``"auto"`` are placed by
    :func:`~gpmath._core.placement.place`, which calls *work* (the problem's size) only when it
    uses the cost model; without *work* (an engine class constructed directly) they take the GPU.
    """
    cuda, cpu, _ = TABLE[front]
    where, verdict = decide(front, execution, located, device_id, empty, work)
    _, package, home = located[0]
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s: %s", front, _reason(execution, package, home, where, empty, verdict))
    if where is None or empty:
        return Choice(_load(cpu), None, package, home, None, verdict)
    return Choice(_load(cuda), where, package, home, HostStaging(package) if home is None else None, verdict)


def decide(front: str, execution: str | None, located: Sequence[Located], device_id: int | None = None,
           empty: bool = False, work: Callable[[], Work] | None = None) -> tuple[int | None, Verdict | None]:
    """Where :func:`choose` would run planner *front* (same arguments), without logging it: the
    GPU that computes (None: the CPU) and the placement verdict, where the cost model decided.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath._core.operand import locate
    >>> decide("FFT", "cpu", [locate(np.ones(4), "x")])
    (None, None)
    """
    where = resolve_execution(execution, located, lambda: _library_missing(TABLE[front][2]), device_id)
    verdict = None
    if work is not None and where is not None and located[0][2] is None and not empty and execution in AUTOMATIC:
        verdict = place(work, where)
        where = where if verdict.on_gpu else None
    return where, verdict


def on_cpu(front: str, execution: str | None, x, name: str, device_id: int | None, work: Callable[[], Work]) -> bool:
    """Whether planner *front* would compute host array *x* (argument *name*) on the CPU: its
    execution rules and, in automatic placement, the cost model of ``work()``; decided without
    building the plan (for fronts that take SciPy's own routine on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> on_cpu("LU", "cpu", np.eye(2), "a", None, None)
    True
    """
    from .operand import locate  # (operand imports the packages: not at this module's import)

    where, _ = decide(front, execution, [locate(x, name)], device_id, any_empty(x), work)
    return where is None


_calibration = None  # gpmath._core.calibration once a GPU was usable (NumPy timings and the file: not at import)


def _import_calibration():
    """The calibration module, imported at the first call that needs it (an import statement per
    call cost the NumPy shortcuts 0.3 µs)."""
    global _calibration
    from . import calibration

    _calibration = calibration
    return calibration


def surely_on_cpu(front: str, family: str, precision: str, flops: float | None, execution: str | None,
                  work: Callable[[], Work] | None = None, problem: Hashable = None) -> bool:
    """Whether :func:`choose` gives planner *front* its CPU engine for host operands (no stream,
    no ``device_id``) of a problem of *flops* (None: ``work().flops``, asked only where the model
    is consulted) in *family* and *precision* (``"float32"``,
    ``"float64"``) with *execution*, told without building the plan: ``execution="cpu"``, the
    placement mode ``"cpu"``, no usable GPU (logged once, as :func:`choose` logs it), or automatic
    placement where the model puts the problem on the CPU: at once where the model's whole CPU time
    is below the GPU's overhead alone (:func:`~gpmath._core.calibration.host_flops`), else by
    ``work()``, the front's estimate, as :func:`~gpmath._core.placement.place` decides (for a
    problem without dependent steps; without *work*: False there), a verdict kept per *problem*
    (all that ``work()`` depends on; :func:`~gpmath._core.calibration.cpu_verdict`).  The model is
    calibrated first where needed.

    The stateless shortcuts for NumPy calls larger than those
    :func:`~gpmath._core.placement.stays_on_host` passes ask it: they give the CPU engine's
    answer without building its plan.

    Examples
    --------
    >>> surely_on_cpu("Matmul", "gemm", "float64", 1e15, "cpu"), surely_on_cpu("Matmul", "gemm", "float64", 1.0, "cuda")
    (True, False)
    """
    if execution == "cpu":
        return True
    mode = None if execution not in AUTOMATIC else get_placement()
    if mode != "auto":
        return mode == "cpu"
    where = host_gpu(execution, lambda: _library_missing(TABLE[front][2]))
    if where is None:
        return True
    return (_calibration or _import_calibration()).cpu_verdict(family, precision, where, flops, work, problem)


def _reason(execution, package: Package, home: int | None, where: int | None, empty: bool,
            verdict: Verdict | None) -> str:
    """Why :func:`choose` picked its engine, in words."""
    operands = f"{package.name} operands in " + ("host memory" if home is None else f"cuda:{home}")
    if empty:
        return f"CPU engine: an operand has no elements ({operands})"
    if where is not None:
        placed = "" if verdict is None else f"{verdict.reason}; "
        copied = ", copied to the device and back" if home is None else ""
        return f"CUDA engine on cuda:{where} ({placed}{operands}{copied})"
    if verdict is not None:
        return f"CPU engine: {verdict.reason} ({operands})"
    if execution == "cpu":
        return f"CPU engine: execution='cpu' ({operands})"
    why = "no usable GPU" if runtime.device_count() == 0 else "the CUDA library cannot be loaded"
    return f"CPU engine: {why} ({operands})"


def build(choice: Choice, *args, **kwargs):
    """A plan of *choice*'s engine constructed from *args*/*kwargs*, without choosing again."""
    plan = object.__new__(choice.engine)
    plan._choice = choice
    plan.__init__(*args, **kwargs)
    return plan
