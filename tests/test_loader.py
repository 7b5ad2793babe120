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
