"""gpmath's own CUDA kernels: NVRTC compiles every variant, the disk cache serves later calls,
a compile error names the file and carries NVRTC's log.  Runs on the CPU where NVRTC loads (the
kernels' results are checked on a GPU in test_linalg_gpu.py)."""

from __future__ import annotations

import pytest

from gpmath._core import kernels
from gpmath._errors import LibraryError
from gpmath.solver import _cuda_condition, _cuda_jacobi, _cuda_permute, _workspace
from gpmath.solver._cuda_small import CHOLESKY_KERNEL_PATH, KERNEL_PATH, _batch_stride

needs_nvrtc = pytest.mark.skipif(not kernels.compiler_available(), reason="NVRTC (libnvrtc) cannot be loaded here")


@needs_nvrtc
@pytest.mark.parametrize("n", [1, 2, 17, 32])
@pytest.mark.parametrize("value_type", [0, 1, 2, 3])
@pytest.mark.parametrize("path", [KERNEL_PATH, CHOLESKY_KERNEL_PATH])
def test_small_solve_and_cholesky_kernels_compile_for_every_type(n, value_type, path, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source(kernels._read(path), "small.cu", (f"-DGPM_N={n}", f"-DGPM_TYPE={value_type}"), 90)
    assert image.startswith(b"\x7fELF")  # a cubin for sm_90
    assert len(list(tmp_path.iterdir())) == 1


def test_sources_carry_their_included_files(tmp_path):
    """``#include "file"`` lines are replaced by the file beside the source (so the cache key
    covers it), nested includes too; other includes stay for NVRTC."""
    (tmp_path / "inner.cuh").write_text("#define INNER 1\n")
    (tmp_path / "outer.cuh").write_text('#include "inner.cuh"\n#define OUTER 2\n')
    (tmp_path / "kernel.cu").write_text('#include <cuda_fp16.h>\n#include "outer.cuh"\nint x;\n')
    assert kernels._read(str(tmp_path / "kernel.cu")) == "#include <cuda_fp16.h>\n#define INNER 1\n\n#define OUTER 2\n\nint x;\n"
    assert '#include "' not in kernels._read(KERNEL_PATH) and "#define WARPS" in kernels._read(CHOLESKY_KERNEL_PATH)


def test_jacobi_kernel_block_is_whole_warps_of_row_pairs_of_power_of_two_lanes():
    assert [_cuda_jacobi.threads(n) for n in (1, 2, 3, 5, 8, 9, 16, 17, 31, 32, 33, 48, 64)] == [
        32, 32, 32, 32, 32, 96, 128, 288, 512, 512, 544, 768, 1024]


def test_jacobi_kernel_shared_memory_holds_two_buffers_of_padded_rows():
    # M rows of L lanes times the columns of a lane (M = n rounded up to even)
    assert [_cuda_jacobi.shared_bytes(n, 8) for n in (1, 5, 32, 33, 64)] == [
        2 * 2 * 2 * 8, 2 * 6 * 8 * 8, 2 * 32 * 32 * 8, 2 * 34 * 64 * 8, 2 * 64 * 64 * 8]


@needs_nvrtc
@pytest.mark.parametrize("n", [1, 2, 7, 32, 33, 64])
@pytest.mark.parametrize("value_type", [0, 1])
@pytest.mark.parametrize("svd", [0, 1])
def test_jacobi_kernel_compiles_for_every_variant(n, value_type, svd, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source(kernels._read(_cuda_jacobi.KERNEL_PATH), "small_jacobi.cu",
                                   (f"-DGPM_N={n}", f"-DGPM_TYPE={value_type}", f"-DGPM_SVD={svd}"), 90)
    assert image.startswith(b"\x7fELF")


@needs_nvrtc
@pytest.mark.parametrize("itemsize", [4, 8, 16])
def test_lu_permute_kernel_compiles_for_every_element_size(itemsize, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source(kernels._read(_cuda_permute.KERNEL_PATH), "lu_permute.cu",
                                   (f"-DGPM_BYTES={itemsize}",), 90)
    assert image.startswith(b"\x7fELF")


@needs_nvrtc
@pytest.mark.parametrize("real, complex_", [(4, 0), (8, 0), (4, 1), (8, 1)])
@pytest.mark.parametrize("path", [_cuda_condition.KERNEL_PATH, _workspace.SWAP_PATH])
def test_real_and_complex_kernels_compile_for_every_type(real, complex_, path, tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source(kernels._read(path), path.rsplit("/", 1)[1],
                                   (f"-DGPM_REAL={real}", f"-DGPM_COMPLEX={complex_}"), 90)
    assert image.startswith(b"\x7fELF")


@needs_nvrtc
def test_the_disk_cache_serves_a_second_compile(tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    source = 'extern "C" __global__ void twice(double* x) { x[threadIdx.x] *= 2; }'
    first = kernels.compile_source(source, "twice.cu", (), 80)
    monkeypatch.setattr(kernels._nvrtc(), "nvrtcCreateProgram", None, raising=False)  # NVRTC would now fail
    assert kernels.compile_source(source, "twice.cu", (), 80) == first


@needs_nvrtc
def test_an_architecture_newer_than_nvrtc_gets_ptx(tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    image = kernels.compile_source('extern "C" __global__ void k() {}', "k.cu", (), 999)
    assert b".target" in image  # PTX text, for the driver to compile


@needs_nvrtc
def test_a_compile_error_names_the_file_and_shows_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("GPMATH_CACHE_DIR", str(tmp_path))
    with pytest.raises(LibraryError, match=r"nvrtcCompileProgram.*small_lu_solve\.cu(.|\n)*GPM_N"):
        kernels.compile_source(kernels._read(KERNEL_PATH), "small_lu_solve.cu", ("-DGPM_TYPE=1",), 90)


@pytest.mark.parametrize("batch, shape, strides, expected", [
    ((4, 5), (4, 5), (50, 10), 10),  # C order
    ((4, 5), (), (), 0),  # one matrix for the batch
    ((4, 5), (5,), (10,), None),  # broadcast over the leading axis: no one stride
    ((4, 5), (4, 1), (10, 10), None),
    ((1, 5), (1, 5), (7, 3), 3),  # extents of 1 are skipped
    ((4, 5), (4, 5), (10, 40), None),  # swapped batch axes
    ((3,), (3,), (-16,), -16),  # negative strides
])
def test_batch_stride(batch, shape, strides, expected):
    assert _batch_stride(batch, shape, strides) == expected


def test_launch_packs_every_parameter_behind_one_pointer_array(monkeypatch):
    """``kernelParams`` is an array of pointers, each to its 8-byte value (negative strides and
    addresses above 2**63 included); the launch passes it, the grid and the stream unchanged, and
    lets the function take its dynamic shared memory."""
    import ctypes

    driver = pytest.importorskip("cuda.bindings.driver")
    calls, attributes = [], []
    monkeypatch.setattr(driver, "cuLaunchKernel", lambda *args: calls.append(args) or (0,))
    monkeypatch.setattr(driver, "cuFuncGetAttribute", lambda *args: (0, 64))  # below the launch's 128
    monkeypatch.setattr(driver, "cuFuncSetAttribute", lambda *args: attributes.append(args) or (0,))
    launch = kernels.Launch("function", 3, grid=7, block=64, shared=128)
    assert attributes == [("function", driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 128)]
    values = (-16, 2**64 - 4096, 12345)
    for index, value in enumerate(values):
        launch.set(index, value)
    launch(99)
    (function, gx, gy, gz, bx, by, bz, shared, stream, params, extra), = calls
    assert (function, gx, gy, gz, bx, by, bz, shared, stream, extra) == ("function", 7, 1, 1, 64, 1, 1, 128, 99, 0)
    pointers = (ctypes.c_uint64 * 3).from_address(params)
    assert [ctypes.c_int64.from_address(p).value for p in pointers] == [-16, -4096, 12345]
    assert ctypes.c_uint64.from_address(pointers[1]).value == 2**64 - 4096


def test_shared_memory_limits_are_only_raised(monkeypatch):
    """A launch of less dynamic shared memory than a function already allows leaves its limit (a
    launch kept with more keeps working); one of more raises it."""
    driver = pytest.importorskip("cuda.bindings.driver")
    limits = {"function": 48 * 1024}
    attribute = driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES

    def get(which, function):
        assert which == attribute
        return 0, limits[function]

    def set_(function, which, size):
        assert which == attribute
        limits[function] = size
        return (0,)

    monkeypatch.setattr(driver, "cuFuncGetAttribute", get)
    monkeypatch.setattr(driver, "cuFuncSetAttribute", set_)
    for size, expected in ((96, 48 * 1024), (48 * 1024, 48 * 1024), (64 * 1024, 64 * 1024), (1024, 64 * 1024)):
        kernels.Launch("function", 1, grid=1, block=32, shared=size)
        assert limits["function"] == expected


def test_a_failed_launch_raises(monkeypatch):
    driver = pytest.importorskip("cuda.bindings.driver")

    monkeypatch.setattr(driver, "cuLaunchKernel", lambda *args: (driver.CUresult.CUDA_ERROR_INVALID_VALUE,))
    with pytest.raises(LibraryError, match="CUDA_ERROR_INVALID_VALUE in cuLaunchKernel"):
        kernels.Launch("function", 1, grid=1, block=32)(0)
