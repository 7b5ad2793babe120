"""The NCCL, cuBLASMp, cuFFTMp and NVSHMEM bindings against the header text: prototypes, enums, structs.

A wrong ctypes prototype corrupts memory silently, so each declared function is compared,
argument by argument, with its prototype parsed from ``nccl.h`` / ``cublasmp.h`` (found as
``tests/cuda_headers.py`` finds NVIDIA's headers; the checks skip, saying so, where there are
none).  Set ``GPMATH_CUBLASMP_INCLUDE`` to a folder with another release's ``cublasmp.h`` (the
bindings must match both 0.7 and 0.10) to check it too.  cuFFTMp's headers (``cufftMp.h``,
``cufftXt.h``, ``cufft.h``, ``cudalibxt.h`` of the ``nvidia-cufftmp-cu13`` wheel) are looked up in
``$GPMATH_CUFFTMP_INCLUDE`` or ``tests/data/headers/cufftmp``, NVSHMEM's include tree (of the
``nvidia-nvshmem-cu13`` wheel) in ``$GPMATH_NVSHMEM_INCLUDE`` or ``tests/data/headers/nvshmem``
(both git-ignored local copies).
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import pytest

from cuda_headers import header_folder
from gpmath._bindings import cublasmp, cufftmp, nccl, nvshmem

_SCALARS = {
    "int": "i32", "int64_t": "i64", "uint32_t": "u32", "size_t": "u64", "void": "void", "char": "i8",
    "ncclResult_t": "i32", "cublasMpStatus_t": "i32", "cublasMpGridLayout_t": "i32", "cudaDataType_t": "i32",
    "cublasComputeType_t": "i32", "cublasMpMatmulDescriptorAttribute_t": "i32", "ncclUniqueId": "struct128",
    "ncclComm_t": "ptr(void)", "cudaStream_t": "ptr(void)", "cublasMpHandle_t": "ptr(void)", "cublasMpGrid_t": "ptr(void)",
    "cublasMpMatrixDescriptor_t": "ptr(void)", "cublasMpMatmulDescriptor_t": "ptr(void)",
    "long long int": "i64", "unsigned int": "u32", "cufftResult": "i32", "cufftHandle": "i32", "cufftType": "i32",
    "cufftMpCommType": "i32", "cufftXtSubFormat": "i32", "cudaLibXtDesc": "void",
    "nvshmemx_uniqueid_t": "struct128", "nvshmemx_init_attr_t": "struct144",
}
_TYPE_WORDS = {"long", "unsigned", "int"}
_HEADERS = Path(__file__).parent / "data" / "headers"


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
    if len(words) > 1 and words[-1] not in _SCALARS and words[-1] not in _TYPE_WORDS:
        words = words[:-1]  # the parameter's name
    kind = _SCALARS[" ".join(words)]
    for _ in range(stars):
        kind = f"ptr({kind})"
    return kind


def _ctypes_kind(t) -> str:
    if t is None:
        return "void"
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


def _check_library(library, *headers: Path, optional: frozenset = frozenset()) -> None:
    """Compare every declared prototype with the headers; those in *optional* only where declared."""
    text = "\n".join(header.read_text() for header in headers)  # the first declaration wins
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"\b(CUFFTAPI|NVSHMEMI_HOSTDEVICE_PREFIX)\b", " ", text)
    for name in library.declared():
        if name in optional and not re.search(rf"\b{name}\s*\(", text):
            continue
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
    _check_library(cublasmp.library, header, optional=cublasmp.SINCE_0_8 | cublasmp.UNTIL_0_7)
    text = header.read_text()
    minor = int(re.search(r"#define CUBLASMP_VER_MINOR (\d+)", text).group(1))
    for names, present in ((cublasmp.SINCE_0_8, minor >= 8), (cublasmp.UNTIL_0_7, minor < 8)):
        declared = {name for name in names if re.search(rf"\b{name}\s*\(", text)}
        assert declared == (names if present else set()), f"cuBLASMp 0.{minor}"
    prefixes = {cublasmp.GridLayout: "CUBLASMP_GRID_LAYOUT_",
                cublasmp.MatmulAttribute: "CUBLASMP_MATMUL_DESCRIPTOR_ATTRIBUTE_"}
    for enum in (cublasmp.Status, cublasmp.GridLayout, cublasmp.MatmulAttribute):
        for member in enum:
            prefix = prefixes.get(enum, "")
            assert re.search(rf"\b{prefix}{member.name}\s*=\s*{member.value}\b", text), member


def test_kind_parser_reads_pointers_and_names():
    assert _kind("const void* alpha") == "ptr(void)"
    assert _kind("cublasMpGrid_t* grid") == "ptr(ptr(void))"
    assert _kind("int64_t") == "i64"
    assert _kind("ncclUniqueId commId") == "struct128"
    assert _ctypes_kind(ctypes.POINTER(nccl.UniqueId)) == "ptr(struct128)"


def _local_folder(env: str, name: str, marker: str) -> Path:
    for folder in (os.environ.get(env), _HEADERS / name):
        if folder and (Path(folder) / marker).is_file():
            return Path(folder)
    pytest.skip(f"{marker} not found (set {env} or copy the wheel's headers into tests/data/headers/{name})")


def test_cufftmp_prototypes_enums_and_descriptors_match_the_headers():
    folder = _local_folder("GPMATH_CUFFTMP_INCLUDE", "cufftmp", "cufftMp.h")
    headers = [folder / h for h in ("cufft.h", "cufftXt.h", "cufftMp.h")]
    _check_library(cufftmp.library, *headers)
    text = "\n".join(h.read_text() for h in headers)
    for enum in (cufftmp.Type, cufftmp.SubFormat, cufftmp.CommType):
        for member in enum:
            value = re.search(rf"\b{member.name}\s*=\s*(0x[0-9a-fA-F]+|\d+)", text).group(1)
            assert int(value, 0) == member.value, member
    assert re.search(r"#define CUFFT_FORWARD\s+-1", text) and re.search(r"#define CUFFT_INVERSE\s+1\b", text)
    xt = (folder / "cudalibxt.h").read_text()
    assert re.search(r"#define MAX_CUDA_DESCRIPTOR_GPUS (\d+)", xt).group(1) == str(cufftmp.MAX_CUDA_DESCRIPTOR_GPUS)
    for struct, cls in (("cudaXtDesc_t", cufftmp.CudaXtDesc), ("cudaLibXtDesc_t", cufftmp.CudaLibXtDesc)):
        body = re.search(rf"struct {struct}\s*{{(.*?)}};", xt, flags=re.S).group(1)
        names = re.findall(r"(\w+)\s*(?:\[\w+\])?\s*;", re.sub(r"//[^\n]*", "", body))
        assert names == [name for name, _ in cls._fields_], struct
    assert ctypes.sizeof(cufftmp.CudaXtDesc) == 8 + 64 * (4 + 8 + 8) + 8
    assert cufftmp.CudaLibXtDesc.subFormat.offset == 20 and ctypes.sizeof(cufftmp.CudaLibXtDesc) == 32


def test_nvshmem_prototypes_enums_and_structs_match_the_headers():
    folder = _local_folder("GPMATH_NVSHMEM_INCLUDE", "nvshmem", "nvshmemx.h")
    host = sorted((folder / "host").glob("*.h"))
    _check_library(nvshmem.library, *host)
    text = "\n".join(p.read_text() for p in sorted(folder.rglob("*.h")))
    for name, size in re.findall(r"static_assert\(sizeof\((nvshmemx_\w+)\) == (\d+)", text):
        cls = {"nvshmemx_uniqueid_v1": nvshmem.UniqueId, "nvshmemx_uniqueid_args_v1": nvshmem.UniqueIdArgs,
               "nvshmemx_init_args_v1": nvshmem.InitArgs, "nvshmemx_init_attr_v1": nvshmem.InitAttr}.get(name)
        if cls is not None:
            assert ctypes.sizeof(cls) == int(size), name
    for member in nvshmem.InitFlag:
        assert re.search(rf"\b{member.name} = {'1' if member.value == 1 else f'1 << {member.value.bit_length() - 1}'},",
                         text), member
    assert re.search(r"NVSHMEM_STATUS_NOT_INITIALIZED = 0,\s*NVSHMEM_STATUS_IS_BOOTSTRAPPED,\s*"
                     r"NVSHMEM_STATUS_IS_INITIALIZED,", text)
    assert re.search(r"NVSHMEMX_SUCCESS = 0,\s*NVSHMEMX_ERROR_INVALID_VALUE,\s*NVSHMEMX_ERROR_OUT_OF_MEMORY,", text)
    assert re.search(r"#define UNIQUEID_PADDING (\d+)", text).group(1) == str(nvshmem.UNIQUEID_PADDING)
    assert re.search(r"#define INIT_ARGS_PADDING (\d+)", text).group(1) == str(nvshmem.INIT_ARGS_PADDING)


def test_nvshmem_attribute_initializer_matches_the_macros():
    """``NVSHMEMX_INIT_ATTR_INITIALIZER``: versions ``(1 << 16) + sizeof``, rank and size -1."""
    attr = nvshmem.InitAttr.initialized()
    assert (attr.version, attr.args.version, attr.args.uid_args.version) == ((1 << 16) + 144, (1 << 16) + 128,
                                                                             (1 << 16) + 24)
    assert (attr.args.uid_args.myrank, attr.args.uid_args.nranks, attr.mpi_comm) == (-1, -1, None)
    assert [ctypes.sizeof(c) for c in (nvshmem.UniqueId, nvshmem.UniqueIdArgs, nvshmem.InitArgs, nvshmem.InitAttr)] == [
        128, 24, 128, 144]


def test_kind_parser_reads_multiword_types():
    assert _kind("const long long int* lower_input") == "ptr(i64)"
    assert _kind("unsigned int flags") == "u32"
    assert _kind("cudaLibXtDesc ** descriptor") == "ptr(ptr(void))"
    assert _kind("cudaStream_t") == "ptr(void)"


@pytest.mark.parametrize("message, raised", [
    ("libcublasmp.so.0: undefined symbol: ncclPutSignal", "GpmathError"),
    ("libcublas.so.13: cannot open shared object file", "OSError"),
])
def test_cublasmp_on_an_older_nccl_says_what_to_install(monkeypatch, message, raised):
    from gpmath._bindings import _loader
    from gpmath._errors import GpmathError

    def load(self):
        raise OSError(message)

    monkeypatch.setattr(_loader.Library, "_load", load)
    monkeypatch.setattr(nccl, "get_version", lambda: 22809)
    fresh = cublasmp._CublasMp("cublasmp", cublasmp.library._check, sonames=("libcublasmp.so.0",))
    with pytest.raises(GpmathError if raised == "GpmathError" else OSError) as info:
        fresh.cdll
    if raised == "GpmathError":
        assert "NCCL 22809" in str(info.value) and "NCCL 2.29" in str(info.value) and "ncclPutSignal" in str(info.value)
    else:
        assert not isinstance(info.value, GpmathError)
