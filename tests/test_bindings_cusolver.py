"""Check the cuSOLVER and cuBLAS ctypes prototypes against the C headers.

A wrong prototype corrupts memory silently, so every declared function is looked up in the header
text (copied into ``tests/data/headers`` from the CUDA 13 wheels) and its argument count and the
kind of each argument (pointer, 32-bit int/enum, int64, size_t, double, signed char) compared with
the ctypes declaration.  The transcribed status enum is compared with the header's enum too.
"""

from __future__ import annotations

import ctypes
import enum
import re
from pathlib import Path

import pytest

from cuda_headers import header_path
from gpmath._bindings import cublas, cublaslt, cusolver


# C types that are pointers in disguise (opaque handle typedefs) or 32-bit enums.
_HANDLES = {
    "cusolverDnHandle_t", "cusolverDnParams_t", "syevjInfo_t", "gesvdjInfo_t", "cusolverDnIRSParams_t",
    "cusolverDnIRSInfos_t", "cudaStream_t", "cublasHandle_t",
    "cublasLtHandle_t", "cublasLtMatmulDesc_t", "cublasLtMatrixLayout_t", "cublasLtMatmulPreference_t",
}
_INT32 = {
    "int", "cusolver_int_t", "cudaDataType", "cudaDataType_t", "cublasFillMode_t", "cublasOperation_t",
    "cublasSideMode_t", "cublasDiagType_t", "cusolverEigMode_t", "cusolverPrecType_t", "cusolverIRSRefinement_t",
    "cusolverStatus_t", "cublasStatus_t", "libraryPropertyType",
    "cublasComputeType_t", "cublasLtMatmulDescAttributes_t", "cublasLtMatrixLayoutAttribute_t",
    "cublasLtMatmulPreferenceAttributes_t", "cublasLtMatmulAlgoCapAttributes_t", "cublasLtMatmulAlgoConfigAttributes_t",
}
_SCALARS = {"int64_t": "i64", "size_t": "size", "uint64_t": "size", "double": "f64", "signed char": "i8"}


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def _header_text(*names: str) -> str:
    return "\n".join(_strip_comments(header_path(name).read_text()) for name in names)


def _c_kind(declaration: str) -> str:
    """The kind of one C parameter or return type ("const float * A" -> "ptr")."""
    if "*" in declaration or "[" in declaration:
        return "ptr"
    words = declaration.replace("const ", "").split()
    ctype = " ".join(words[:-1]) if len(words) > 1 and words[-1] not in _INT32 | _HANDLES else " ".join(words)
    if ctype in _HANDLES:
        return "ptr"
    if ctype in _INT32:
        return "i32"
    return _SCALARS[ctype]


def _ctypes_kind(ctype) -> str:
    if ctype in (ctypes.c_void_p, ctypes.c_char_p) or issubclass(ctype, ctypes._Pointer):
        return "ptr"
    return {
        ctypes.c_int: "i32", ctypes.c_int64: "i64", ctypes.c_size_t: "size",
        ctypes.c_double: "f64", ctypes.c_byte: "i8",
    }[ctype]


def _prototype(text: str, func: str) -> tuple[str, list[str]]:
    """(return kind, parameter kinds) of *func* as the header declares it."""
    matches = list(re.finditer(r"\b" + re.escape(func) + r"\s*\(([^;{]*?)\)\s*;", text))
    assert len(matches) == 1, f"{func}: found {len(matches)} declarations in the header"
    before = re.split(r"[;}]|\n\s*#[^\n]*", text[max(0, matches[0].start() - 200) : matches[0].start()])[-1]
    kinds = [_c_kind(" ".join(p.split())) for p in matches[0].group(1).split(",") if p.strip() not in ("", "void")]
    returns = "ptr" if "*" in before else ("size" if "size_t" in before.split() else "i32")
    return returns, kinds


LIBRARIES = [
    pytest.param(cusolver.library, ("cusolver_common.h", "cusolverDn.h"), id="cusolver"),
    pytest.param(cublas.library, ("cublas_api.h",), id="cublas"),
    pytest.param(cublaslt.library, ("cublasLt.h",), id="cublasLt"),
]


@pytest.mark.parametrize("library, headers", LIBRARIES)
def test_prototypes_match_header(library, headers):
    text = _header_text(*headers)
    mismatches = []
    for func in library.declared():
        restype, argtypes = library._protos[func]
        ret, expected = _prototype(text, func)
        declared = [_ctypes_kind(t) for t in argtypes]
        if declared != expected or _ctypes_kind(restype) != ret:
            mismatches.append(f"{func}: header {ret} {expected}, declared {_ctypes_kind(restype)} {declared}")
    assert not mismatches, "\n".join(mismatches)


def _header_enum(text: str, typedef: str) -> dict[str, int]:
    body = re.search(r"typedef\s+enum\s*\{([^}]*)\}\s*" + typedef + r"\s*;", text).group(1)
    pairs = (item.split("=") for item in body.split(",") if "=" in item)
    return {name.strip(): int(value.strip(), 0) for name, value in pairs}  # (decimal or 0x...)


@pytest.mark.parametrize(
    "members, typedef, prefix",
    [
        (cusolver.Status, "cusolverStatus_t", ""),
        (cusolver.EigMode, "cusolverEigMode_t", "CUSOLVER_EIG_MODE_"),
        (cusolver.PrecType, "cusolverPrecType_t", "CUSOLVER_"),
        (cusolver.IRSRefinement, "cusolverIRSRefinement_t", "CUSOLVER_IRS_REFINE_"),
    ],
)
def test_cusolver_enums_match_header(members: type[enum.IntEnum], typedef: str, prefix: str):
    header = _header_enum(_header_text("cusolver_common.h"), typedef)
    for member in members:
        assert header[prefix + member.name] == member.value, member


@pytest.mark.parametrize(
    "members, header, typedef, prefix",
    [
        (cublas.FillMode, "cublas_api.h", "cublasFillMode_t", "CUBLAS_FILL_MODE_"),
        (cublas.SideMode, "cublas_api.h", "cublasSideMode_t", "CUBLAS_SIDE_"),
        (cublas.DiagType, "cublas_api.h", "cublasDiagType_t", "CUBLAS_DIAG_"),
        (cublas.Operation, "cublas_api.h", "cublasOperation_t", "CUBLAS_OP_"),
        (cublaslt.AlgoConfig, "cublasLt.h", "cublasLtMatmulAlgoConfigAttributes_t", "CUBLASLT_ALGO_CONFIG_"),
        (cublaslt.AlgoCap, "cublasLt.h", "cublasLtMatmulAlgoCapAttributes_t", "CUBLASLT_ALGO_CAP_"),
        (cublaslt.ReductionScheme, "cublasLt.h", "cublasLtReductionScheme_t", "CUBLASLT_REDUCTION_SCHEME_"),
    ],
)
def test_cublas_enums_match_header(members: type[enum.IntEnum], header: str, typedef: str, prefix: str):
    values = _header_enum(_header_text(header), typedef)
    for member in members:
        assert values[prefix + member.name] == member.value, member


def test_status_names_come_from_the_enum():
    from gpmath._errors import LibraryError, OutOfMemoryError

    with pytest.raises(OutOfMemoryError, match="CUSOLVER_STATUS_ALLOC_FAILED in cusolverDnXpotrf"):
        cusolver.check(2, "cusolverDnXpotrf")
    with pytest.raises(LibraryError, match="cuSOLVER status 99 in cusolverDnXgetrf"):
        cusolver.check(99, "cusolverDnXgetrf")


@pytest.mark.gpu
@pytest.mark.parametrize("library", [cusolver.library, cublas.library, cublaslt.library], ids=["cusolver", "cublas", "cublasLt"])
def test_every_declared_symbol_resolves(library):
    for func in library.declared():
        assert library.function(func) is not None, func


def test_cublas_status_constants_match_header():
    header = _header_enum(_header_text("cublas_api.h"), "cublasStatus_t")
    assert header["CUBLAS_STATUS_ALLOC_FAILED"] == cublaslt.STATUS_ALLOC_FAILED
    assert header["CUBLAS_STATUS_NOT_SUPPORTED"] == cublaslt.STATUS_NOT_SUPPORTED
    assert header["CUBLAS_STATUS_INVALID_VALUE"] == cublaslt.STATUS_INVALID_VALUE


def test_no_status_is_written_by_hand():
    """Library errors take status codes and names from the bindings (each library's status
    function or transcribed enum), never a literal (a hand-kept name was wrong: 3 is not NOT_SUPPORTED)."""
    package = Path(cublaslt.__file__).parents[1]
    literal = re.compile(r"(LibraryError|OutOfMemoryError)\(\s*(\d|[^)]*[\"'][A-Z]{2,}_[A-Z_]+[\"'])")
    written = [f"{path.relative_to(package)}:{number}" for path in package.rglob("*.py")
               for number, line in enumerate(path.read_text().splitlines(), 1) if literal.search(line)]
    assert not written, written
