"""The forms scipy.linalg offers that cuSOLVER has no routine for, computed through SciPy on the
host matrix by matrix (``qr`` with pivoting or ``mode="raw"``; ``eig`` with ``b``, ``left`` or
``homogeneous_eigvals``), against SciPy: the same values, dtypes and shapes, batched and empty, in
the operand's package and device (torch CUDA and CuPy in the gpu variants)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from gpmath import linalg

from test_linalg_convert import DEVICE, HOST, in_package, to_numpy
from test_linalg_lu import check, values


QR_FORMS = [{"pivoting": True}, {"mode": "economic", "pivoting": True}, {"mode": "r", "pivoting": True},
            {"mode": "raw"}, {"mode": "raw", "pivoting": True}]


def _flat(result) -> list:
    return [x for item in result for x in (_flat(item) if isinstance(item, tuple) else [item])]


def _listed(result) -> list:
    """A function's arrays in order: its nested tuple flattened, or the lone array in a list."""
    return _flat(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4), (0, 3), (0, 2, 3)], ids=str)
@pytest.mark.parametrize("form", QR_FORMS, ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()))
def test_qr_pivoting_and_raw_match_scipy(package, device, dtype, shape, form):
    """(qr's other modes are tested in test_linalg.py; these compute through SciPy on the host)"""
    a = values(shape, dtype)
    got = linalg.qr(in_package(a, package, device), **form)
    per_matrix = [_flat(sl.qr(a[index], **form)) for index in np.ndindex(*shape[:-2])]
    template = _flat(sl.qr(np.eye(*shape[-2:], dtype=dtype), **form))
    expected = [np.stack([m[i] for m in per_matrix]).reshape(shape[:-2] + t.shape) if per_matrix
                else np.zeros(shape[:-2] + t.shape, t.dtype) for i, t in enumerate(template)]
    check(_flat(got), expected, dtype, package, device)
    assert isinstance(got, tuple) and len(got) == len(sl.qr(np.eye(2), **form))


EIG_FORMS = [{"b": True}, {"b": True, "left": True}, {"left": True}, {"left": True, "right": False},
             {"homogeneous_eigvals": True}, {"b": True, "homogeneous_eigvals": True, "right": False}]


@pytest.mark.parametrize("package, device", HOST + DEVICE)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (0, 2, 2)], ids=str)
@pytest.mark.parametrize("form", EIG_FORMS, ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()))
def test_eig_forms_through_scipy_match_scipy(package, device, dtype, shape, form):
    """(the standard problem's right eigenvectors are tested in test_linalg.py and test_linalg_gpu.py)"""
    a, b = values(shape, dtype), values(shape[-2:], dtype) + 3 * np.eye(shape[-1], dtype=dtype)
    options = {k: v for k, v in form.items() if k != "b"}
    other = in_package(b, package, device) if form.get("b") else None
    got = linalg.eig(in_package(a, package, device), other, **options)
    per_matrix = [_listed(sl.eig(a[index], b if form.get("b") else None, **options)) for index in np.ndindex(*shape[:-2])]
    got = _listed(got)
    if not per_matrix:
        assert all(to_numpy(g).shape[0] == 0 for g in got)
        return
    expected = [np.stack([m[i] for m in per_matrix]).reshape(shape[:-2] + m0.shape) for i, m0 in enumerate(per_matrix[0])]
    check(got, expected, dtype, package, device)
