"""Where a call runs: on which CUDA device, or on the CPU.

Rules (documented in docs/execution.md and tested):

- Operands on a CUDA device run on that device (``execution="cpu"`` copies them to the host).
- Host operands (NumPy, CPU tensors) can run on the current CUDA device (or on ``device_id``) when
  a usable GPU and the library are present, else run on the CPU; with ``execution=None`` (or
  ``"auto"``) :func:`gpmath._core.placement.place` then decides between the two (in
  :func:`gpmath._core.engines.choose`).  ``execution="cpu"`` forces the CPU and
  ``execution="cuda"`` the GPU, raising :class:`NoGPUError` saying what is missing.
  Where a GPU is present but unusable (a driver older than the CUDA runtime, a library missing),
  the first such call logs one WARNING on the ``gpmath`` logger saying why work runs on the CPU.
- ``device_id`` names the GPU for host operands; for device operands it must be their device.
- All operands must come from one package and one memory space.
"""

from __future__ import annotations

import logging
import numbers
from typing import Callable, Sequence

from . import runtime
from .._errors import NoGPUError
from .packages import Package

__all__ = ["resolve_execution", "host_gpu", "check_same_space", "check_device_id", "EXECUTIONS", "AUTOMATIC"]

logger = logging.getLogger("gpmath")
EXECUTIONS = (None, "auto", "cuda", "cpu")
AUTOMATIC = (None, "auto")  # the executions that leave host operands to automatic placement
_warned: set[str] = set()  # what the CPU fallback has been explained for (once per process each)


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


def check_device_id(device_id) -> int | None:
    """*device_id* as an int (or None), raising ``TypeError``/``ValueError`` for anything else."""
    if device_id is None:
        return None
    if isinstance(device_id, bool) or not isinstance(device_id, numbers.Integral):
        raise TypeError(f"device_id must be a CUDA device ordinal (int) or None, not {type(device_id).__name__}")
    device_id = int(device_id)
    count = runtime.device_count()
    if device_id < 0 or (count and device_id >= count):
        raise ValueError(f"device_id={device_id} is not a visible CUDA device (this process sees {count})")
    return device_id


def resolve_execution(
    execution: str | None, operands: Sequence[Located], library_missing: Callable[[], str | None],
    device_id: int | None = None,
) -> int | None:
    """The CUDA device ordinal that can run the call, or ``None`` for the CPU path.

    Parameters
    ----------
    execution : {None, "auto", "cuda", "cpu"}
        The caller's choice (``"auto"`` means None).
    operands : sequence of (name, Package, device_id)
        The call's operands (see :func:`~gpmath._core.operand.locate`), checked for one package
        and one memory space.
    library_missing : callable
        Returns None when the CUDA library the call needs loads, else why it does not.
    device_id : int, optional
        The GPU for host operands (default: the current device); for device operands it must
        be theirs (else ``ValueError`` naming both).  Without a usable GPU it is ignored unless
        ``execution="cuda"``.
    """
    if execution not in EXECUTIONS:
        raise ValueError(f"execution must be None, 'auto', 'cuda' or 'cpu', not {execution!r}")
    check_same_space(operands)
    requested = check_device_id(device_id)
    name, _, home = operands[0]
    if requested is not None and home is not None and requested != home:
        raise ValueError(f"{name} is on cuda:{home} but device_id={requested} asks for cuda:{requested}; "
                         "pass operands on that device, or leave device_id unset")
    if execution == "cpu":
        if requested is not None:
            raise ValueError(f"device_id={requested} selects a GPU but execution='cpu'; pass one or the other")
        return None
    if home is not None:
        return home
    return host_gpu(execution, library_missing, requested)


def host_gpu(execution: str | None, library_missing: Callable[[], str | None],
             requested: int | None = None) -> int | None:
    """The GPU that can compute host operands with *execution* (``"cuda"`` or automatic; not
    placed yet): *requested* (a checked ``device_id``) or the current device, or None for the CPU
    where no GPU or no library is usable (logged once per reason, as a WARNING, where a GPU is
    present); ``execution="cuda"`` without a usable GPU raises :class:`NoGPUError`.

    Examples
    --------
    >>> from gpmath._core import runtime
    >>> host_gpu(None, lambda: None) == (runtime.current_device() if runtime.device_count() else None)
    True
    """
    if runtime.device_count() == 0:
        if execution == "cuda":
            raise NoGPUError(f"execution='cuda' was requested but no GPU is usable: {runtime.no_gpu_reason()}")
        _warn_once("driver", lambda: f"a GPU is present but unusable: {runtime.no_gpu_reason()}; running on the CPU"
                   if runtime.gpu_hardware_present() else None)  # (a file-system read: once)
        return None
    if execution in AUTOMATIC:
        missing = library_missing()
        if missing is not None:
            _warn_once(missing, lambda: f"a GPU is present but {missing}; running on the CPU")
            return None
    return runtime.current_device() if requested is None else requested


def _warn_once(topic: str, message: Callable[[], str | None]) -> None:
    """Log *message()* the first time *topic* comes up (None: nothing to say, and nothing later)."""
    if topic not in _warned:
        _warned.add(topic)
        text = message()
        if text is not None:
            logger.warning(text)
