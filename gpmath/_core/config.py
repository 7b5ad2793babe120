"""Where gpmath's work runs and why: versions, driver, GPUs, CUDA libraries, routing, caches.

:func:`show_config` (also ``python -m gpmath info``) gathers what a bug report or a "why is
this on the CPU?" question needs.  Gathering never raises: what cannot be read says why.
Package versions come from the installed distributions' metadata, so torch and CuPy are not
imported.
"""

from __future__ import annotations

import importlib
import json
import platform
import re
import sys
from importlib import metadata
from typing import Any, Literal

from . import runtime

__all__ = ["show_config", "config_info"]

# gpmath's CUDA libraries: binding module, what gpmath uses it for, how its version number reads
_LIBRARIES = (
    ("cublaslt", "matmul", (10000, 100)),
    ("cublas", "solvers (triangular solves, batched LU)", (10000, 100)),
    ("cusolver", "solvers", (1000, 100)),
    ("cufft", "FFT", (1000, 100)),
)
_PACKAGES = ("numpy", "scipy", "cuda-bindings", "cuda-pathfinder", "torch", "cupy-cuda13x", "cupy-cuda12x",
             "mpi4py")


def _dotted(value: int, major: int, minor: int) -> str:
    return f"{value // major}.{value % major // minor}.{value % minor}"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _cuda(value: int) -> str:
    return f"{value // 1000}.{value % 1000 // 10}" if value else "none"


def _packages() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name in ("numpy", "scipy", "cuda-bindings", "cuda-pathfinder"):
                versions[name] = "not installed"
    return versions


def _kernel_module_version() -> str:
    try:
        with open("/proc/driver/nvidia/version") as f:
            found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)", f.read())
    except OSError:
        return "none"
    return found.group(1) if found else "unknown"


def _gpus() -> list[dict[str, Any]] | str:
    count = runtime.device_count()
    if count == 0:
        return runtime.no_gpu_reason()
    gpus = []
    for device_id in range(count):
        try:
            props = runtime.check(runtime.rt().cudaGetDeviceProperties(device_id), "cudaGetDeviceProperties")
        except Exception as exc:  # a device that cannot be queried: say so
            gpus.append({"id": device_id, "error": str(exc)})
            continue
        gpus.append({"id": device_id, "name": runtime.name_of(props),
                     "compute_capability": f"{props.major}.{props.minor}",
                     "memory_gib": round(props.totalGlobalMem / 2**30, 1)})
    return gpus


def _library(module: str, use: str, scale: tuple[int, int]) -> dict[str, str]:
    binding = importlib.import_module(f"gpmath._bindings.{module}")
    entry = {"library": binding.library.name, "used for": use}
    try:
        entry["path"] = binding.library.path
        entry["version"] = _dotted(binding.get_version(), *scale)
    except Exception as exc:  # NoGPUError (not found) or a library error
        entry["missing"] = _one_line(exc)
    return entry


def _nvrtc() -> dict[str, str]:
    from . import kernels

    entry = {"library": "nvrtc", "used for": "gpmath's own kernels (small solves, Jacobi, LU interchanges)"}
    try:
        major, minor = runtime.check(kernels._nvrtc().nvrtcVersion(), "nvrtcVersion")
        entry["version"] = f"{major}.{minor}"
    except Exception as exc:
        entry["missing"] = f"{_one_line(exc)} (the cuBLAS/cuSOLVER routes run instead)"
    return entry


def _placement() -> dict[str, Any]:
    from . import calibration, placement

    try:
        mode = placement.get_placement()
    except ValueError as exc:
        mode = str(exc)
    report: dict[str, Any] = {
        "rule": "execution=None or 'auto': device operands run on their device; host operands, when a GPU is "
                "usable and the library loads, where the placement mode says (auto: the calibrated cost model), "
                "else on the CPU",
        "mode (gpmath.set_placement, $GPMATH_PLACEMENT)": mode}
    if runtime.device_count() == 0:
        report["crossovers"] = "no usable GPU: host operands run on the CPU"
        return report
    try:
        device_id = runtime.get_device()
        report["calibration file"] = calibration.path(device_id)
        report["crossovers (smallest square n the GPU wins from)"] = calibration.crossovers(device_id)
    except Exception as exc:  # a report never raises: it says why
        report["crossovers"] = f"unavailable: {_one_line(exc)}"
    return report


def _routing() -> dict[str, Any]:
    from ..solver import _crossover

    tables = {name: [{"min batch": b, "max n": "any" if n is None else n, "route": r}
                     for b, n, r in getattr(_crossover, name)]
              for name in _crossover.__all__ if isinstance(getattr(_crossover, name), _crossover.Table)}
    from . import wisdom

    calibrated = {f"{entry['machine']}: {_key_text(entry['key'])}": entry["choice"].get("rows", "no rows")
                  for entry in wisdom.entries() if entry["kind"] == "solver"}
    return {"placement": _placement(), "solver crossovers (first matching row wins)": tables,
            "solver crossovers calibrated (gpmath.solver.calibrate, used on such GPUs)": calibrated or "none"}


def _key_text(key: str) -> str:
    """A wisdom entry's key (JSON text, as written; a file may hold any text) for the report."""
    try:
        return str(json.loads(key))
    except ValueError:
        return key


def _caches() -> dict[str, Any]:
    from . import kernels
    from .cache import cache_info

    return {"kernel cache directory ($GPMATH_CACHE_DIR)": kernels._cache_dir(),
            "plan caches": [{"cache": name, **info._asdict()} for name, info in cache_info().items()]}


def config_info() -> dict[str, Any]:
    """Everything :func:`show_config` prints, as nested dicts (see there)."""
    from .. import __version__

    driver = runtime.driver_version()
    return {
        "gpmath": {"version": __version__, "python": sys.version.split()[0], "platform": platform.platform()},
        "packages": _packages(),
        "cuda": {"NVIDIA driver": _kernel_module_version(), "driver supports CUDA": _cuda(driver),
                 "CUDA runtime": _cuda(runtime.runtime_version()),
                 "GPU hardware present": runtime.gpu_hardware_present()},
        "gpus": _gpus(),
        "libraries": [_library(*entry) for entry in _LIBRARIES] + [_nvrtc()],
        "routing": _routing(),
        "caches": _caches(),
    }


def _lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines += [f"{indent}{key}:"] + _lines(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {item}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict):
                lines.append(indent + ", ".join(f"{k}: {v}" for k, v in item.items()))
            else:
                lines.append(f"{indent}{item}")
        return lines
    return [f"{indent}{value}"]


def show_config(mode: Literal["stdout", "dicts"] = "stdout") -> dict[str, Any] | None:
    """Print (or return) gpmath's configuration: where work runs, and why.

    Lists the versions of gpmath, Python, NumPy, SciPy, cuda-bindings and the array packages
    installed; the NVIDIA driver and the CUDA version it supports beside the CUDA runtime's;
    each visible GPU (or why none is usable); each CUDA library gpmath loads, with its path and
    version (or why it cannot be loaded); how a call picks the GPU or the CPU (the placement
    mode, and for each family of the placement model the smallest square size n from which host
    operands run on the GPU, in float32 and float64, or "not calibrated yet") and the solver
    routing crossovers; the kernel cache directory and the plan caches.

    Parameters
    ----------
    mode : {"stdout", "dicts"}
        ``"stdout"`` prints a report; ``"dicts"`` returns it as nested dicts instead.

    Returns
    -------
    dict or None
        The report when ``mode="dicts"``.

    Examples
    --------
    >>> import gpmath
    >>> report = gpmath.show_config(mode="dicts")
    >>> sorted(report)
    ['caches', 'cuda', 'gpmath', 'gpus', 'libraries', 'packages', 'routing']
    >>> report["gpmath"]["version"] == gpmath.__version__
    True
    """
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"mode must be 'stdout' or 'dicts', not {mode!r}")
    report = config_info()
    if mode == "dicts":
        return report
    print("\n".join(_lines(report, "")))
    return None
