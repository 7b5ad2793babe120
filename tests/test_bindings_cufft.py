"""The cuFFT bindings against the header text: prototypes, enums, status mapping.

A wrong ctypes prototype corrupts memory silently, so every declared function is compared,
argument by argument, with its prototype parsed from ``cufft.h``/``cufftXt.h``, found as
``tests/cuda_headers.py`` finds NVIDIA's headers (the checks skip, saying so, where there are
none); set ``GPMATH_CUFFT_INCLUDE`` to an include folder to check another toolkit's headers too.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import pytest

from cuda_headers import header_folder, header_path
from gpmath._bindings import cufft
from gpmath._core.dtypes import DTYPES
from gpmath._errors import LibraryError, OutOfMemoryError

_FOLDERS = [f for f in (header_folder("cufft.h"),) if f is not None]
if os.environ.get("GPMATH_CUFFT_INCLUDE"):
    _FOLDERS.append(Path(os.environ["GPMATH_CUFFT_INCLUDE"]))

# C type names (after dropping const and pointer stars) -> canonical scalar kinds.
_C_SCALARS = {
    "int": "i32",
    "long long int": "i64",
    "long long": "i64",
    "size_t": "u64",
    "void": "void",
    "cufftHandle": "i32",  # typedef int cufftHandle
    "cufftResult": "i32",  # enums are int-sized on every ABI CUDA supports
    "cufftType": "i32",
    "cudaDataType": "i32",
    "libraryPropertyType": "i32",
    "cudaStream_t": "ptr(void)",  # pointer to an opaque struct
    "cufftXtCallbackType": "i32",
    "char": "i8",
}


def _header_text(folder: Path) -> str:
    text = "\n".join((folder / name).read_text() for name in ("cufft.h", "cufftXt.h"))
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _c_type(decl: str) -> str:
    """Canonical kind of one C parameter declaration such as ``long long int *n``."""
    decl = re.sub(r"\bconst\b", " ", decl)
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    if stars == 0 and len(words) > 1:
        words = words[:-1]  # drop the parameter name
    elif stars and not re.search(r"\*\s*$", decl):
        words = words[:-1]
    kind = _C_SCALARS[" ".join(words)]
    for _ in range(stars):
        kind = f"ptr({kind})"
    return kind


def _header_prototypes(folder: Path) -> dict[str, tuple[str, list[str]]]:
    """``{name: (return type, [parameter declarations])}`` of every CUFFTAPI function."""
    protos = {}
    pattern = r"(\w+)\s+CUFFTAPI\s+(\w+)\s*\(([^)]*)\)\s*;"
    for restype, name, params in re.findall(pattern, _header_text(folder)):
        protos[name] = (restype, [p.strip() for p in params.split(",") if p.strip() not in ("", "void")])
    return protos


def _ctypes_kind(t) -> str:
    if t is ctypes.c_void_p:
        return "ptr(void)"
    if t is ctypes.c_char_p:
        return "ptr(i8)"
    if hasattr(t, "_type_") and isinstance(t._type_, type):  # POINTER(T)
        return f"ptr({_ctypes_kind(t._type_)})"
    signed = t(-1).value < 0
    return f"{'i' if signed else 'u'}{8 * ctypes.sizeof(t)}"


def _folders():
    present = [f for f in _FOLDERS if (f / "cufft.h").is_file()]
    return present or [pytest.param(None, marks=pytest.mark.skip(reason="cufft.h not found (set GPMATH_CUDA_INCLUDE or install the NVIDIA CUDA wheels)"))]


@pytest.fixture(params=_folders(), ids=str)
def header(request) -> Path:
    return request.param


def test_every_declared_prototype_matches_the_header(header):
    protos = _header_prototypes(header)
    for name in cufft.library.declared():
        assert name in protos, f"{name} is not declared in {header}"
        restype, argtypes = cufft.library._protos[name]
        c_restype, c_args = protos[name]
        assert _ctypes_kind(restype) == _C_SCALARS[c_restype], name
        assert [_ctypes_kind(a) for a in argtypes] == [_c_type(a) for a in c_args], name


def test_header_parser_reads_the_64_bit_plan_prototype(header):
    args = [_c_type(a) for a in _header_prototypes(header)["cufftXtMakePlanMany"][1]]
    assert len(args) == 14
    assert args[2] == "ptr(i64)" and args[4] == "i64" and args[12] == "ptr(u64)"


def test_result_enum_matches_the_header(header):
    body = re.search(r"enum\s+cufftResult_t\s*\{(.*?)\}", _header_text(header), re.S).group(1)
    values = {name: int(value, 0) for name, value in re.findall(r"(\w+)\s*=\s*(\w+)", body)}
    assert values == {member.name: member.value for member in cufft.Result}


def test_callback_type_enum_matches_the_header(header):
    body = re.search(r"enum\s+cufftXtCallbackType_t\s*\{(.*?)\}", _header_text(header), re.S).group(1)
    values = {name: int(value, 0) for name, value in re.findall(r"(\w+)\s*=\s*(\w+)", body)}
    values.pop("CUFFT_CB_UNDEFINED")
    assert values == {member.name: member.value for member in cufft.CallbackType}


def test_direction_constants_match_the_header(header):
    text = _header_text(header)
    assert int(re.search(r"#define\s+CUFFT_FORWARD\s+(-?\d+)", text).group(1)) == cufft.FORWARD
    assert int(re.search(r"#define\s+CUFFT_INVERSE\s+(-?\d+)", text).group(1)) == cufft.INVERSE


def test_cuda_data_type_codes_match_library_types():
    text = header_path("library_types.h").read_text()  # beside cufft.h in CUDA 13, not in CUDA 12 wheels
    codes = {name: int(value) for name, value in re.findall(r"\b(CUDA_[RC]_\w+)\s*=\s*(\d+)", text)}
    expected = {"float32": "CUDA_R_32F", "float64": "CUDA_R_64F", "complex64": "CUDA_C_32F", "complex128": "CUDA_C_64F"}
    for name, enumerator in expected.items():
        assert DTYPES[name].cuda == codes[enumerator], name


def test_alloc_failure_raises_out_of_memory():
    with pytest.raises(OutOfMemoryError) as info:
        cufft.check(int(cufft.Result.CUFFT_ALLOC_FAILED), "cufftXtMakePlanMany")
    assert info.value.status_name == "CUFFT_ALLOC_FAILED"
    assert info.value.func == "cufftXtMakePlanMany"


def test_other_failures_raise_library_error_with_the_enum_name():
    with pytest.raises(LibraryError) as info:
        cufft.check(int(cufft.Result.CUFFT_INVALID_SIZE), "cufftXtMakePlanMany")
    assert not isinstance(info.value, MemoryError)
    assert "CUFFT_INVALID_SIZE in cufftXtMakePlanMany" in str(info.value)


def test_unknown_status_still_gives_a_readable_error():
    with pytest.raises(LibraryError, match="cuFFT status 63"):
        cufft.check(63, "cufftXtExec")


@pytest.mark.gpu
def test_every_declared_symbol_resolves_in_the_loaded_library():
    for name in cufft.library.declared():
        assert cufft.library.function(name) is not None
    assert cufft.get_version() >= 11000
