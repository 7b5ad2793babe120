"""Library location: CUDA 12 and CUDA 13 sonames are both searched (through cuda.pathfinder)."""

import pytest

from gpmath._bindings import _loader
from gpmath._errors import NoGPUError


@pytest.mark.parametrize("name, sonames", [("cublasLt", ("libcublasLt.so.13", "libcublasLt.so.12")),
                                           ("cufft", ("libcufft.so.12", "libcufft.so.11"))])
def test_both_cuda_generations_are_searched(name, sonames):
    try:
        path = _loader._locate(name)
    except NoGPUError as exc:  # no library installed: the error lists every soname tried
        for soname in sonames:
            assert soname in str(exc)
        assert "gpmath[cu12]" in str(exc)
    else:
        assert any(path.endswith(s) for s in sonames), path


def test_unconverted_functions_take_their_declared_ctypes_objects_only():
    """A function called without argument conversion is handed out only for arguments of exactly
    the declared types, and then computes with their current values."""
    import ctypes
    import ctypes.util

    libc = _loader.Library("c", lambda status, name: None)
    libc._cdll = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.declare("labs", ctypes.c_long, [ctypes.c_long])
    arg = ctypes.c_long(-5)
    labs = libc.unconverted("labs", [arg])
    assert labs(arg) == 5
    arg.value = -7
    assert labs(arg) == 7
    for wrong in ([ctypes.c_int(-5)], [-5], [arg, arg]):
        with pytest.raises(TypeError, match=r"labs takes \(c_long\)"):
            libc.unconverted("labs", wrong)
