"""cuBLASLt's descriptors for a matmul plan: the compute and scale types of a dtype, the matmul,
matrix layout and preference descriptors, operand alignments and alpha/beta in the scale type.

Each function that creates a descriptor gives its destructor to *hold* (the plan's
``_hold``, which releases it with the plan).
"""

from __future__ import annotations

import ctypes
from typing import Callable

from .._bindings import cublaslt as lt
from ._layout import LtLayout, LtOperand

__all__ = ["COMPUTE", "alignment", "layout_descs", "matmul_desc", "preference", "scale"]

Hold = Callable[..., None]
COMPUTE = {  # (real dtype, compute mode) -> cublasComputeType_t
    ("float16", None): lt.ComputeType.COMPUTE_32F,
    ("bfloat16", None): lt.ComputeType.COMPUTE_32F,
    ("float32", None): lt.ComputeType.COMPUTE_32F,
    ("float32", "pedantic"): lt.ComputeType.COMPUTE_32F_PEDANTIC,
    ("float32", "tf32"): lt.ComputeType.COMPUTE_32F_FAST_TF32,
    ("float32", "fast_f16"): lt.ComputeType.COMPUTE_32F_FAST_16F,
    ("float32", "fast_bf16"): lt.ComputeType.COMPUTE_32F_FAST_16BF,
    ("float64", None): lt.ComputeType.COMPUTE_64F,
    ("float64", "pedantic"): lt.ComputeType.COMPUTE_64F_PEDANTIC,
}
_EPILOGUE = {None: lt.Epilogue.DEFAULT, "relu": lt.Epilogue.RELU, "gelu": lt.Epilogue.GELU, "bias": lt.Epilogue.BIAS,
             "bias_relu": lt.Epilogue.RELU_BIAS, "bias_gelu": lt.Epilogue.GELU_BIAS}
_CUDA_R_32F, _CUDA_R_64F, _CUDA_C_32F, _CUDA_C_64F = 0, 1, 4, 5
_MIN_ALIGNMENT = (lt.PreferenceAttribute.MIN_ALIGNMENT_A_BYTES, lt.PreferenceAttribute.MIN_ALIGNMENT_B_BYTES,
                  lt.PreferenceAttribute.MIN_ALIGNMENT_C_BYTES, lt.PreferenceAttribute.MIN_ALIGNMENT_D_BYTES)


def alignment(ptr: int, *byte_steps: int) -> int:
    """Largest power of two (at most 256) dividing *ptr* and every step in *byte_steps*.

    Examples
    --------
    >>> alignment(0x1000, 48), alignment(0, 0)
    (16, 256)
    """
    bits = ptr
    for step in byte_steps:
        bits |= abs(step)
    return 256 if bits == 0 else min(256, bits & -bits)


def scale(dtype, value) -> ctypes._SimpleCData | ctypes.Array:
    """The ctypes object holding alpha or beta (*value*) in cuBLASLt's scale type for *dtype*
    (a :class:`~gpmath._core.dtypes.DType`)."""
    real = ctypes.c_double if dtype.real == "float64" else ctypes.c_float
    if dtype.is_complex:
        return (real * 2)(value.real, value.imag) if isinstance(value, complex) else (real * 2)(value, 0.0)
    return real(value)


def matmul_desc(dtype, compute: str | None, epilog: str | None, layout: LtLayout, hold: Hold) -> int:
    """The matmul descriptor of a product of *dtype* in *compute* mode with *epilog*, its
    operations as in *layout*."""
    scale_type = {("float64", False): _CUDA_R_64F, ("float64", True): _CUDA_C_64F,
                  ("float32", True): _CUDA_C_32F}.get((dtype.real, dtype.is_complex), _CUDA_R_32F)
    desc = lt.matmul_desc_create(COMPUTE[(dtype.real, compute)], scale_type)
    hold(lt.matmul_desc_destroy, desc)
    lt.matmul_desc_set_attribute(desc, lt.DescAttribute.TRANSA, ctypes.c_int32(layout.a.op))
    lt.matmul_desc_set_attribute(desc, lt.DescAttribute.TRANSB, ctypes.c_int32(layout.b.op))
    if epilog is not None:
        lt.matmul_desc_set_attribute(desc, lt.DescAttribute.EPILOGUE, ctypes.c_uint32(_EPILOGUE[epilog]))
    return desc


def layout_descs(dtype, layout: LtLayout, hold: Hold) -> tuple[int, int, int, int]:
    """The matrix layout descriptors of cuBLASLt's A, B, C and D in *layout* (C is D's where the
    product has no c)."""

    def one(x: LtOperand) -> int:
        desc = lt.matrix_layout_create(dtype.cuda, x.rows, x.cols, x.ld)
        hold(lt.matrix_layout_destroy, desc)
        if layout.batch_count > 1:
            lt.matrix_layout_set_attribute(desc, lt.LayoutAttribute.BATCH_COUNT, ctypes.c_int32(layout.batch_count))
            lt.matrix_layout_set_attribute(desc, lt.LayoutAttribute.STRIDED_BATCH_OFFSET, ctypes.c_int64(x.batch_stride))
        return desc

    a_desc, b_desc, d_desc = one(layout.a), one(layout.b), one(layout.d)
    return a_desc, b_desc, d_desc if layout.c is None else one(layout.c), d_desc


def preference(max_workspace: int, alignments: tuple[int, int, int, int], hold: Hold) -> int:
    """The preference descriptor: at most *max_workspace* bytes of workspace, and the
    *alignments* (bytes) of A, B, C and D."""
    pref = lt.matmul_preference_create()
    hold(lt.matmul_preference_destroy, pref)
    lt.matmul_preference_set_attribute(pref, lt.PreferenceAttribute.MAX_WORKSPACE_BYTES, ctypes.c_uint64(max_workspace))
    for attribute, value in zip(_MIN_ALIGNMENT, alignments):
        lt.matmul_preference_set_attribute(pref, attribute, ctypes.c_uint32(value))
    return pref
