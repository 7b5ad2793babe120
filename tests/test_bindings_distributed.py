"""The NCCL and cuBLASMp bindings against the header text: every declared prototype, the enums.

A wrong ctypes prototype corrupts memory silently, so each declared function is compared,
argument by argument, with its prototype parsed from ``nccl.h`` / ``cublasmp.h`` (found as
``tests/cuda_headers.py`` finds NVIDIA's headers; the checks skip, saying so, where there are
none).  Set ``GPMATH_CUBLASMP_INCLUDE`` to a folder with another release's ``cublasmp.h`` (the
bindings must match both 0.7 and 0.10) to check it too.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import pytest

from cuda_headers import header_folder
from gpmath._bindings import cublasmp, nccl

_SCALARS = {
    "int": "i32", "int64_t": "i64", "uint32_t": "u32", "size_t": "u64", "void": "void", "char": "i8",
    "ncclResult_t": "i32", "cublasMpStatus_t": "i32", "cublasMpGridLayout_t": "i32", "cudaDataType_t": "i32",
    "cublasComputeType_t": "i32", "ncclUniqueId": "struct128",
    "ncclComm_t": "ptr(void)", "cudaStream_t": "ptr(void)", "cublasMpHandle_t": "ptr(void)", "cublasMpGrid_t": "ptr(void)",
    "cublasMpMatrixDescriptor_t": "ptr(void)", "cublasMpMatmulDescriptor_t": "ptr(void)",
}


def _folders(header: str, env: str) -> list:
    found = [f for f in (header_folder(header), os.environ.get(env)) if f and (Path(f) / header).is_file()]
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{header} not found (set GPMATH_CUDA_INCLUDE or "
                                                                  "install the NVIDIA wheels)"))]
    return [Path(f) / header for f in found]


def _kind(decl: str) -> str:
    """Canonical kind of a C type or parameter declaration such as ``const void* alpha``."""
    decl = re.sub(r"\bconst\b", " ", decl)
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    if len(words) > 1:
        words = words[:-1] if words[-1] not in _SCALARS else words
    kind = _SCALARS[" ".join(words[-1:])]
    for _ in range(stars):
        kind = f"ptr({kind})"
    return kind


def _ctypes_kind(t) -> str:
    if t in (ctypes.c_void_p, ctypes.c_char_p):
        return "ptr(void)" if t is ctypes.c_void_p else "ptr(i8)"
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        return f"struct{ctypes.sizeof(t)}"
    if hasattr(t, "_type_") and isinstance(t._type_, type):  # POINTER(T)
        return f"ptr({_ctypes_kind(t._type_)})"
    return f"{'i' if t(-1).value < 0 else 'u'}{8 * ctypes.sizeof(t)}"


def _prototype(text: str, name: str) -> tuple[str, list[str]]:
    match = re.search(rf"([\w\s\*]+?)\s*\b{name}\s*\(([^)]*)\)\s*;", text)
    assert match, f"{name} is not declared in the header"
    params = [p.strip() for p in match.group(2).split(",") if p.strip() not in ("", "void")]
    return match.group(1).split()[-1] if "*" not in match.group(1) else match.group(1).strip(), params


def _check_library(library, header: Path) -> None:
    text = re.sub(r"/\*.*?\*/", " ", header.read_text(), flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    for name in library.declared():
        restype, argtypes = library._protos[name]
        c_restype, c_params = _prototype(text, name)
        assert _ctypes_kind(restype) == _kind(c_restype), name
        assert [_ctypes_kind(a) for a in argtypes] == [_kind(p) for p in c_params], name


@pytest.mark.parametrize("header", _folders("nccl.h", "GPMATH_NCCL_INCLUDE"), ids=str)
def test_nccl_prototypes_match_the_header(header):
    _check_library(nccl.library, header)
    text = header.read_text()
    assert re.search(r"#define NCCL_UNIQUE_ID_BYTES (\d+)", text).group(1) == str(nccl.UNIQUE_ID_BYTES)
    for member in nccl.Result:
        assert re.search(rf"\b{member.name}\s*=\s*{member.value}\b", text), member


@pytest.mark.parametrize("header", _folders("cublasmp.h", "GPMATH_CUBLASMP_INCLUDE"), ids=str)
def test_cublasmp_prototypes_match_the_header(header):
    _check_library(cublasmp.library, header)
    text = header.read_text()
    for enum in (cublasmp.Status, cublasmp.GridLayout):
        for member in enum:
            prefix = "CUBLASMP_GRID_LAYOUT_" if enum is cublasmp.GridLayout else ""
            assert re.search(rf"\b{prefix}{member.name}\s*=\s*{member.value}\b", text), member


def test_kind_parser_reads_pointers_and_names():
    assert _kind("const void* alpha") == "ptr(void)"
    assert _kind("cublasMpGrid_t* grid") == "ptr(ptr(void))"
    assert _kind("int64_t") == "i64"
    assert _kind("ncclUniqueId commId") == "struct128"
    assert _ctypes_kind(ctypes.POINTER(nccl.UniqueId)) == "ptr(struct128)"
