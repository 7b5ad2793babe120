"""gpmath's own CUDA kernels: compiled at run time by NVRTC, cached on disk, launched cheaply.

Where no NVIDIA library has a fast routine (a batch of tiny solves, for one), gpmath ships a
small ``.cu`` source next to the engine that uses it.  :class:`Kernel` names a source, its
entry point and its ``-D`` options; :meth:`Kernel.function` compiles it on first use for the
device's architecture (a cubin, or PTX for an architecture newer than NVRTC), keeps the image in
``$GPMATH_CACHE_DIR`` (default ``~/.cache/gpmath/kernels``) for later processes, and loads it
once per device.  :class:`Launch` holds a launch's packed arguments, so that a plan's per-call
cost is one ``cuLaunchKernel``.  Everything goes through ``cuda.bindings`` (NVRTC and the
driver API), imported on first use.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
import threading

import numpy as np

from . import runtime
from .._errors import LibraryError, NoGPUError

__all__ = ["Kernel", "Launch", "compiler_available", "compile_source", "link_ir"]

logger = logging.getLogger("gpmath")
_lock = threading.Lock()


def _nvrtc():
    try:
        from cuda.bindings import nvrtc
    except ImportError as exc:
        raise NoGPUError("the package 'cuda-bindings' (cuda-python) is not installed") from exc
    return nvrtc


@functools.cache
def compiler_available() -> bool:
    """Whether NVRTC can be loaded (never raises)."""
    try:
        runtime.check(_nvrtc().nvrtcVersion(), "nvrtcVersion")
    except Exception as exc:  # the package, or libnvrtc, is missing
        logger.info("NVRTC is not available (%s): gpmath's own kernels are not used", exc)
        return False
    return True


def _target(capability: int) -> tuple[str, bool]:
    """NVRTC's ``--gpu-architecture`` for a device of *capability* (e.g. 90), and whether it is a
    cubin (else PTX of the newest architecture NVRTC knows below it, for the driver to compile)."""
    supported = runtime.check(_nvrtc().nvrtcGetSupportedArchs(), "nvrtcGetSupportedArchs")
    if capability in supported:
        return f"sm_{capability}", True
    older = [arch for arch in supported if arch <= capability]
    if not older:
        raise NoGPUError(f"NVRTC cannot compile for compute capability {capability / 10:.1f}")
    return f"compute_{max(older)}", False


def _cache_dir() -> str:
    return os.environ.get("GPMATH_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "gpmath", "kernels")


def compile_source(source: str, name: str, options: tuple[str, ...], capability: int, lto: bool = False) -> bytes:
    """The cubin (or PTX) of *source* for compute *capability*, from the disk cache or NVRTC;
    with *lto*, its LTO-IR (``-dlto``: device functions for a library to link, as cuFFT's
    callbacks).

    Raises :class:`LibraryError` with NVRTC's log when the source does not compile.
    """
    nvrtc = _nvrtc()
    version = runtime.check(nvrtc.nvrtcVersion(), "nvrtcVersion")
    arch, cubin = _target(capability)
    if lto:  # LTO-IR of the virtual architecture, as NVIDIA's samples build cuFFT callbacks
        arch = "compute_" + arch.split("_")[1]
    flags = (f"--gpu-architecture={arch}", "--std=c++17", *(("-dlto", "--relocatable-device-code=true") if lto else ()),
             *options)
    key = hashlib.sha256(repr((source, flags, version)).encode()).hexdigest()[:32]
    suffix = "ltoir" if lto else "cubin" if cubin else "ptx"
    path = os.path.join(_cache_dir(), f"{name}-{key}.{suffix}")
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        pass
    program = runtime.check(nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], []), "nvrtcCreateProgram")
    try:
        encoded = [flag.encode() for flag in flags]
        status = nvrtc.nvrtcCompileProgram(program, len(encoded), encoded)[0]
        if int(status) != 0:
            size = runtime.check(nvrtc.nvrtcGetProgramLogSize(program), "nvrtcGetProgramLogSize")
            log = b" " * size
            runtime.check(nvrtc.nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog")
            raise LibraryError(int(status), status.name, "nvrtcCompileProgram",
                               f"{name} with {' '.join(flags)}:\n{log.decode(errors='replace').strip()}")
        get_size, get = ((nvrtc.nvrtcGetLTOIRSize, nvrtc.nvrtcGetLTOIR) if lto
                         else (nvrtc.nvrtcGetCUBINSize, nvrtc.nvrtcGetCUBIN) if cubin
                         else (nvrtc.nvrtcGetPTXSize, nvrtc.nvrtcGetPTX))
        image = b" " * runtime.check(get_size(program), get_size.__name__)
        runtime.check(get(program, image), get.__name__)
    finally:
        nvrtc.nvrtcDestroyProgram(program)
    _store(path, image)
    return image


def _store(path: str, image: bytes) -> None:
    """Write *image* to the disk cache atomically; a cache that cannot be written is skipped."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(handle, "wb") as file:
            file.write(image)
        os.replace(temporary, path)
    except OSError as exc:
        logger.debug("gpmath: kernel cache %s not written (%s)", path, exc)


class Kernel:
    """The entry point *function* of the CUDA source file *path*, compiled with ``-D`` *defines*.

    Parameters
    ----------
    path : str
        The ``.cu`` file (read once).
    function : str
        Its ``extern "C"`` kernel.
    defines : dict
        Macro values, passed as ``-DNAME=value``.
    """

    def __init__(self, path: str, function: str, defines: dict[str, int | str]):
        self.path = path
        self.function_name = function
        self.options = _defines(defines)
        self._functions: dict[int, object] = {}

    def function(self, device_id: int):
        """The loaded ``CUfunction`` on *device_id* (compiled and loaded on first use; the device
        must be current)."""
        found = self._functions.get(device_id)
        if found is not None:
            return found
        with _lock:
            if device_id not in self._functions:
                self._functions[device_id] = self._load(device_id)
        return self._functions[device_id]

    def _load(self, device_id: int):
        from cuda.bindings import driver

        image = compile_source(_read(self.path), os.path.basename(self.path), self.options, _capability(device_id))
        module = runtime.check(driver.cuModuleLoadData(image), "cuModuleLoadData")  # lives as long as the process
        return runtime.check(driver.cuModuleGetFunction(module, self.function_name.encode()), "cuModuleGetFunction")


def _allow_shared(function, size: int) -> None:
    """Let *function*'s launches take *size* bytes of dynamic shared memory (beyond 48 KiB with its
    static shared memory, it must be asked for; the device's limit then applies).  The limit is
    only raised: a launch kept with more shared memory (a plan of another size) keeps working."""
    from cuda.bindings import driver

    attribute = driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    with _lock:
        if runtime.check(driver.cuFuncGetAttribute(attribute, function), "cuFuncGetAttribute") < size:
            runtime.check(driver.cuFuncSetAttribute(function, attribute, size), "cuFuncSetAttribute")


_INCLUDE = re.compile(r'^#include "([^"]+)"$', re.MULTILINE)


def _defines(defines: dict) -> tuple[str, ...]:
    """NVRTC's ``-DNAME=value`` options of *defines*, in a fixed order (the disk cache's key)."""
    return tuple(f"-D{name}={value}" for name, value in sorted(defines.items()))


def _capability(device_id: int) -> int:
    """The compute capability of *device_id* as one number (90 for 9.0)."""
    rt = runtime.rt()
    attribute = rt.cudaDeviceAttr
    major = runtime.check(rt.cudaDeviceGetAttribute(attribute.cudaDevAttrComputeCapabilityMajor, device_id),
                          "cudaDeviceGetAttribute")
    minor = runtime.check(rt.cudaDeviceGetAttribute(attribute.cudaDevAttrComputeCapabilityMinor, device_id),
                          "cudaDeviceGetAttribute")
    return 10 * major + minor


def link_ir(path: str, defines: dict, device_id: int) -> bytes:
    """The LTO-IR of the CUDA source file *path* compiled with ``-D`` *defines* for *device_id*
    (NVRTC's ``-dlto``; kept in the disk cache as kernels are): device functions for a library
    to link into its own kernels, as cuFFT's callbacks.

    Raises :class:`LibraryError` with NVRTC's log when the source does not compile.
    """
    return compile_source(_read(path), os.path.basename(path), _defines(defines), _capability(device_id), lto=True)


@functools.cache
def _read(path: str) -> str:
    """The source of *path*, its ``#include "file"`` lines replaced by the files (beside it), so
    that the disk cache's key covers them and NVRTC needs no include path."""
    with open(path, encoding="utf-8") as file:
        source = file.read()
    folder = os.path.dirname(path)
    return _INCLUDE.sub(lambda match: _read(os.path.join(folder, match.group(1))), source)


class Launch:
    """One kernel launch, its arguments packed once: :meth:`set` changes one, calling launches.

    Every kernel parameter must be 8 bytes wide (a pointer, ``long long`` or ``double``);
    *count* is their number; *shared*, the bytes of dynamic shared memory; *held*, what parameters
    set once point into (device arrays), kept alive as long as the launch.
    """

    __slots__ = ("function", "grid", "block", "shared", "held", "_values", "_pointers", "_params", "_launch")

    def __init__(self, function, count: int, grid: int, block: int, shared: int = 0, held: tuple = ()):
        from cuda.bindings import driver

        self.function, self.grid, self.block, self.shared, self.held = function, grid, block, shared, held
        if shared:
            _allow_shared(function, shared)
        self._values = np.zeros(count, dtype=np.int64)
        base = self._values.ctypes.data
        self._pointers = np.arange(base, base + 8 * count, 8, dtype=np.uint64)  # void* kernelParams[]
        self._params = int(self._pointers.ctypes.data)
        self._launch = driver.cuLaunchKernel

    def set(self, index: int, value: int) -> None:
        """Set parameter *index* to the integer (or address) *value*."""
        self._values[index] = value if value < 2**63 else value - 2**64

    def __call__(self, stream: int) -> None:
        """Launch on *stream*."""
        err = self._launch(self.function, self.grid, 1, 1, self.block, 1, 1, self.shared, stream, self._params, 0)[0]
        if err != 0:
            runtime.check((err,), "cuLaunchKernel")
