"""Where a call runs: on which CUDA device, or on the CPU.

Rules (documented in docs/execution.md and tested):

- Operands on a CUDA device run on that device (``execution="cpu"`` copies them to the host).
- Host operands (NumPy, CPU tensors) run on the current CUDA device when a usable GPU and the
  library are present, else on the CPU; ``execution="cpu"`` forces the CPU and
  ``execution="cuda"`` forces the GPU, raising :class:`NoGPUError` saying what is missing.
- All operands must come from one package and one memory space.
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence

from . import runtime
from .errors import NoGPUError
from .packages import Package

__all__ = ["resolve_execution", "check_same_space", "EXECUTIONS"]

logger = logging.getLogger("gpmath")
EXECUTIONS = (None, "cuda", "cpu")


Located = tuple[str, Package, "int | None"]  # (argument name, package, device or None for host)


def _where(device_id: int | None) -> str:
    return "host memory" if device_id is None else f"cuda:{device_id}"


def check_same_space(operands: Sequence[Located]) -> None:
    """Raise ``ValueError`` unless every named operand has the first one's package and device."""
    first_name, first_package, first_device = operands[0]
    for name, package, device_id in operands[1:]:
        if package is not first_package:
            raise ValueError(
                f"{first_name} is a {first_package.name} array but {name} is a {package.name} array; "
                "pass operands of one package"
            )
        if device_id != first_device:
            raise ValueError(
                f"{first_name} is in {_where(first_device)} but {name} is in {_where(device_id)}; "
                "operands must be on the same device"
            )


def resolve_execution(
    execution: str | None, operands: Sequence[Located], library_ready: Callable[[], bool]
) -> int | None:
    """The CUDA device ordinal to run on, or ``None`` for the CPU path.

    Parameters
    ----------
    execution : {None, "cuda", "cpu"}
        The caller's choice.
    operands : sequence of (name, Package, device_id)
        The call's operands (see :func:`~gpmath._core.operand.locate`), checked for one package
        and one memory space.
    library_ready : callable
        Returns whether the CUDA library the call needs can be loaded.
    """
    if execution not in EXECUTIONS:
        raise ValueError(f"execution must be None, 'cuda' or 'cpu', not {execution!r}")
    check_same_space(operands)
    device_id = operands[0][2]
    if execution == "cpu":
        return None
    if device_id is not None:
        return device_id
    if runtime.device_count() == 0:
        if execution == "cuda":
            raise NoGPUError(f"execution='cuda' was requested but no GPU is usable: {runtime.no_gpu_reason()}")
        return None
    if execution is None and not library_ready():
        logger.warning("a GPU is present but its CUDA library could not be loaded; running on the CPU")
        return None
    return runtime.get_device()
