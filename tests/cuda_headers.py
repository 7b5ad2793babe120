"""Where the tests find NVIDIA's C headers, to check the ctypes prototypes against them.

The headers are not redistributed with gpmath.  They are looked up, in order, in
``$GPMATH_CUDA_INCLUDE``, in ``tests/data/headers`` (a developer's local copy, ignored by git)
and in the installed NVIDIA wheels or toolkit through ``cuda.pathfinder``; the checks skip,
with that reason, where none has them (CI without CUDA packages).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_LIBRARY_OF = {
    "cublasLt.h": "cublas",
    "cublas_api.h": "cublas",
    "cufft.h": "cufft",
    "cufftXt.h": "cufft",
    "cusolverDn.h": "cusolver",
    "cusolver_common.h": "cusolver",
    "library_types.h": "cudart",
    "cublasmp.h": "cublasmp",
    "nccl.h": "nccl",
}


def header_folder(filename: str) -> Path | None:
    """A folder holding *filename*, or None."""
    candidates = [os.environ.get("GPMATH_CUDA_INCLUDE"), Path(__file__).parent / "data" / "headers"]
    try:
        from cuda import pathfinder

        candidates.append(pathfinder.find_nvidia_header_directory(_LIBRARY_OF[filename]))
    except Exception:
        pass
    for folder in candidates:
        if folder and (Path(folder) / filename).is_file():
            return Path(folder)
    return None


def header_path(filename: str) -> Path:
    """The path of header *filename*; skips the calling test where it cannot be found."""
    folder = header_folder(filename)
    if folder is None:
        pytest.skip(f"{filename} not found (set GPMATH_CUDA_INCLUDE or install the NVIDIA CUDA wheels)")
    return folder / filename
