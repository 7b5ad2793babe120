"""gpmath's core: operands, packages, dtypes, devices, streams, memory, handles, plans, errors.

The capabilities (``gpmath.blas``, ``gpmath.fft``, ``gpmath.solver``) build on these modules;
CONTRACT.md beside this file describes how.
"""
