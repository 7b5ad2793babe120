"""Lazy, thread-safe loading of NVIDIA shared libraries and ctypes prototype declaration.

Libraries are located with ``cuda.pathfinder``, which knows the sonames of CUDA 12 and CUDA 13
(``libcublasLt.so.12`` / ``.so.13``, ``libcufft.so.11`` / ``.so.12`` ...) and searches the NVIDIA
wheels, a conda environment and the system loader, in that order.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Callable, Sequence

from .._errors import NoGPUError

__all__ = ["Library", "status_checker", "c_int_p", "c_size_t_p", "c_void_p_p"]

c_int_p = ctypes.POINTER(ctypes.c_int)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_void_p_p = ctypes.POINTER(ctypes.c_void_p)


def _locate(name: str) -> str:
    """Return the absolute path of NVIDIA library *name* (e.g. ``"cublasLt"``)."""
    try:
        from cuda import pathfinder
    except ImportError as exc:  # cuda-python is a core dependency, but say so clearly
        raise NoGPUError(
            f"cannot load lib{name}: the package 'cuda-pathfinder' (part of cuda-python) is not installed"
        ) from exc
    try:
        return pathfinder.load_nvidia_dynamic_lib(name).abs_path
    except Exception as exc:  # DynamicLibNotFoundError and friends
        raise NoGPUError(
            f"cannot load lib{name}: {exc}. Install gpmath[cu12] or gpmath[cu13], or a CUDA toolkit."
        ) from exc


class Library:
    """A shared library loaded on first use, with typed function prototypes.

    Parameters
    ----------
    name : str
        The ``cuda.pathfinder`` short name, e.g. ``"cublasLt"``.
    check : callable
        ``check(status, func_name)`` raising for a failure status; applied by :meth:`checked`.
    sonames : sequence of str, optional
        Sonames tried with the system loader (``LD_LIBRARY_PATH``...) where ``cuda.pathfinder``
        does not know or cannot find *name*.
    requires : sequence of Library, optional
        Libraries loaded first, so that the system loader reuses them for this one's
        dependencies (for libraries outside the NVIDIA wheels' layout).
    """

    def __init__(self, name: str, check: Callable[[int, str], None], sonames: Sequence[str] = (),
                 requires: Sequence["Library"] = ()):
        self.name = name
        self._check = check
        self._sonames = tuple(sonames)
        self._requires = tuple(requires)
        self._lock = threading.Lock()
        self._cdll: ctypes.CDLL | None = None
        self._protos: dict[str, tuple] = {}
        self._checked: dict[str, Callable] = {}

    @property
    def cdll(self) -> ctypes.CDLL:
        cdll = self._cdll
        if cdll is None:
            with self._lock:
                if self._cdll is None:
                    for dependency in self._requires:
                        dependency.cdll
                    self._cdll = self._load()
                cdll = self._cdll
        return cdll

    @property
    def path(self) -> str:
        """The file the library was loaded from (loads it)."""
        return self.cdll._name

    def _load(self) -> ctypes.CDLL:
        try:
            return ctypes.CDLL(_locate(self.name))
        except NoGPUError as exc:
            for soname in self._sonames:
                try:
                    return ctypes.CDLL(soname)
                except OSError:
                    continue
            raise exc

    def declare(self, func: str, restype, argtypes: Sequence) -> None:
        """Record the prototype of C function *func*; it is resolved on first use."""
        self._protos[func] = (restype, list(argtypes))

    def declared(self) -> list[str]:
        """Names of every function declared on this library."""
        return list(self._protos)

    def function(self, func: str):
        """The ctypes function object for *func*, with its declared prototype applied."""
        fn = getattr(self.cdll, func)
        restype, argtypes = self._protos[func]
        if fn.argtypes is None:
            fn.restype = restype
            fn.argtypes = argtypes
        return fn

    def unconverted(self, func: str, args: Sequence):
        """*func* without ctypes's argument conversion, for calls with *args*: ctypes objects, each
        of its declared type (checked here, once), passed as they are; their values may change
        between calls.  Saves the conversion of each argument (about 35 ns an argument)."""
        self.check_arguments(func, args)
        fn = self.cdll[func]  # a function object of its own, with no argtypes
        fn.restype = self._protos[func][0]
        return fn

    def check_arguments(self, func: str, args: Sequence) -> None:
        """Raise TypeError unless *args* are ctypes objects of exactly *func*'s declared types."""
        argtypes = self._protos[func][1]
        if len(args) != len(argtypes) or any(type(arg) is not kind for arg, kind in zip(args, argtypes)):
            raise TypeError(f"{func} takes ({', '.join(t.__name__ for t in argtypes)}), not "
                            f"({', '.join(type(arg).__name__ for arg in args)})")

    def checked(self, func: str):
        """A Python callable that calls *func* and raises on a failure status (made once per name)."""
        call = self._checked.get(func)
        if call is not None:
            return call
        fn = self.function(func)
        check = self._check

        def call(*args):
            status = fn(*args)
            if status:
                check(status, func)

        call.__name__ = func
        call.__doc__ = f"Call ``{func}`` and raise on a failure status."
        self._checked[func] = call
        return call


def status_checker(
    library_label: str,
    name_of: Callable[[int], str],
    out_of_memory: frozenset[int] = frozenset(),
) -> Callable[[int, str], None]:
    """Build ``check(status, func)`` raising :class:`LibraryError` for a non-zero status.

    *name_of* maps a status code to its enumerator name (the library's own status-name
    function, or an ``IntEnum`` transcribed from the header); codes in *out_of_memory* raise
    :class:`OutOfMemoryError`.
    """
    from .._errors import LibraryError, OutOfMemoryError

    def check(status: int, func: str) -> None:
        if status == 0:
            return
        try:
            name = name_of(status)
        except Exception:  # an unknown code must still produce a readable error
            name = f"{library_label} status {status}"
        cls = OutOfMemoryError if status in out_of_memory else LibraryError
        raise cls(status, name, func)

    return check
