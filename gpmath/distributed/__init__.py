"""Distributed computation over MPI: matrices and arrays split across ranks.

One process per GPU, launched with ``mpirun -n N python script.py`` (see docs/distributed.md).
:func:`initialize` binds each rank to a GPU and creates the NCCL communicator the libraries
use; :func:`finalize` releases it.  The distribution of an array is described by a small object:
:class:`BlockCyclic` (ScaLAPACK's 2-D block-cyclic layout, what cuBLASMp reads), :class:`Slab`
and :class:`Box`; these, :func:`process_grid`, :func:`numroc` and :func:`check_tiling` are pure
Python and work without MPI or a GPU.

:func:`matmul` / :class:`Matmul` compute a distributed matrix product through cuBLASMp;
:mod:`gpmath.distributed.fft` (``fftn``, ``ifftn``, ``rfftn``, ``irfftn``, ``FFT``) distributed
2-D and 3-D FFTs of slabs or boxes through cuFFTMp.

Examples
--------
>>> from gpmath.distributed import BlockCyclic, Slab
>>> BlockCyclic((1000, 1000), nranks=4)
BlockCyclic(shape=(1000, 1000), blocks=(500, 500), grid=(2, 2), source=(0, 0))
>>> Slab(0).box((64, 64, 64), rank=1, nranks=2)
Box(lower=(32, 0, 0), upper=(64, 64, 64))
"""

from . import fft
from ._block_cyclic import BlockCyclic
from ._descriptors import Box, Slab, check_tiling, numroc, process_grid
from ._fft import FFT
from ._matmul import Matmul, matmul
from ._runtime import Context, current, finalize, initialize, is_initialized

__all__ = [
    "initialize", "finalize", "is_initialized", "current", "Context",
    "BlockCyclic", "Slab", "Box", "check_tiling", "process_grid", "numroc",
    "Matmul", "matmul", "fft", "FFT",
]
