"""``gpmath.distributed.fft``: distributed 2-D and 3-D FFTs across MPI ranks (NVIDIA cuFFTMp).

:class:`FFT` is the reusable, collective plan (``plan`` / ``execute`` / ``reset_operands`` /
``free``); :func:`fftn`, :func:`ifftn`, :func:`rfftn` and :func:`irfftn` plan, execute once and
free.  Each rank passes its local part (CuPy or CUDA torch) and the distribution:
``Slab(0)``/``Slab(1)`` or its :class:`~gpmath.distributed.Box`.  See docs/distributed.md.

Examples
--------
Under ``mpirun -n 2 python script.py``::

    import gpmath.distributed as gd

    ctx = gd.initialize()
    y = gd.fft.fftn(x, gd.Slab(0))      # x: this rank's rows; y: this rank's Slab(1) columns
    gd.finalize()
"""

from ._fft import FFT, fftn, ifftn, irfftn, rfftn

__all__ = ["FFT", "fftn", "ifftn", "rfftn", "irfftn"]
