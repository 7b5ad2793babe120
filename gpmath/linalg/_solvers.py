"""Linear systems and matrix functions with scipy.linalg's signatures.

``solve``, ``solve_triangular``, ``cho_solve``, ``lu_solve``, ``lstsq``, ``pinv``, ``inv``, ``det`` and NumPy-style ``slogdet``,
on NumPy, CuPy or PyTorch arrays with leading batch dimensions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..solver import CholeskySolve, Det, Inv, Lstsq, LUSolve, Pinv, Solve, SolveTriangular
from .._core.finite import require_finite
from .._core.packages import package_of
from .._errors import LinAlgError
from ._dispatch import by_lane, host_lane_for, lane_for, run
from ._condition import estimated, inverse_rcond, triangular_rcond, warn_if_ill_conditioned
from ._convert import checked_by_plan, identity, prepared, referenced, structure, written_into
from ._decompositions import cho_factor

__all__ = ["solve", "solve_triangular", "cho_solve", "lu_solve", "lstsq", "pinv", "inv", "det", "slogdet"]


def _pair(value, name: str, pair: str) -> tuple:
    """*value* unpacked as a 2-tuple, else a ``ValueError`` naming *name* (the error SciPy raises)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        shape = getattr(value, "shape", None)
        given = type(value).__name__ + ("" if shape is None else f" of shape {tuple(shape)}")
        raise ValueError(f"{name} must be the pair {pair}, not a {given}")
    return tuple(value)


def _one_flag(lower) -> bool:
    """:func:`cho_factor`'s *lower* as one bool: SciPy's ``cho_factor`` gives an array of one flag a
    matrix for a batch (and SciPy 1.18 a 0-d array for one matrix); their flags must agree (one
    orientation a call), else a ``ValueError`` naming ``c_and_lower``."""
    if type(lower) is bool:
        return lower
    try:
        flags = np.asarray(lower)
    except (TypeError, RuntimeError):  # (a flag in device memory: one value, read as such)
        return bool(lower)
    first = bool(flags.flat[0]) if flags.size else False
    if flags.size > 1 and bool((flags != first).any()):
        raise ValueError("c_and_lower's lower flags differ between matrices: gpmath.linalg.cho_solve takes "
                         "factors of one orientation a call (solve the lower and the upper ones apart)")
    return first


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: str | None = None, transposed: bool = False, *,
          refine: str | None = None, precision: str | None = None, full_output: bool = False, execution: str | None = None,
          stream: Any = None, device_id: int | None = None) -> Any:
    """Solve ``a x = b`` for square ``a``.

    Parameters
    ----------
    a : array, (..., N, N)
    b : array, (N,) or (..., N, K)
        A 1-D ``b`` is one vector; otherwise its batch dimensions broadcast with ``a``'s.
    lower : bool, default False
        With ``assume_a`` ``"pos"``, ``"sym"`` or ``"her"``, read the lower triangle of ``a``
        (else the upper).
    overwrite_a : bool, default False
        Accepted for SciPy's signature; ``a`` is never written.
    overwrite_b : bool, default False
        As in SciPy 1.18: write the solution over ``b`` and return ``b``, where ``b`` is a NumPy
        array (1-D, or one matrix for one matrix ``a``), writable, F-contiguous and already in
        the result's dtype (else ``b`` is left as it is; never an array of another package).
    check_finite : bool, default True
        As in :func:`gpmath.linalg.cholesky`.
    assume_a : str, optional
        SciPy's names: ``"pos"``/``"positive definite"``: Cholesky; ``"upper triangular"``,
        ``"lower triangular"``: a triangular solve; ``"diagonal"``: a triangular solve of the
        diagonal (nothing else is read); ``None``, ``"gen"``/``"general"``,
        ``"sym"``/``"symmetric"``, ``"her"``/``"hermitian"``, ``"tridiagonal"``, ``"banded"``: LU
        with partial pivoting (for ``"sym"``/``"her"`` of the triangle *lower* names, mirrored:
        the GPU has no batched symmetric-indefinite solver; for ``"tridiagonal"`` of the three
        diagonals alone, as SciPy's ``?gtsv``).  ``None``: on the CPU, one matrix's structure is
        detected first, as SciPy detects it (triangular: ``?trtrs``; symmetric or Hermitian:
        Bunch-Kaufman); on the GPU and for batches, LU (detection would read the matrix again).
    transposed : bool, default False
        Solve ``aᵀ x = b`` (real ``a`` only, as in SciPy).
    refine : {None, "mixed"}
        ``"mixed"``: factor in the lower *precision* and refine to ``a``'s precision with
        cuSOLVER's iterative-refinement solver until ``max|b - a x| <= eps ‖a‖∞ max|x|`` (the
        residual of a direct solve; one more iteration than cuSOLVER's default test, whose
        residual was 150-1270x torch's at n = 32768), falling back to a full-precision solve if it
        does not converge.  Reading ``‖a‖∞`` syncs the stream once.  On the CPU: an f32 LU
        refined in f64 to the same test.
    precision : {None, "f32", "tf32", "f16", "bf16"}
        Inner precision of ``refine="mixed"`` on the GPU.  None: of ``"f32"``, ``"tf32"`` and
        ``"bf16"``, the one measured fastest on such a GPU (:func:`gpmath.solver.calibrate`), else
        ``"tf32"`` (on an H100, 1.30x ``torch.linalg.solve`` at n = 16384 and 1.78x at 32768;
        ``"f32"`` is no faster than a float64 solve where float64 has tensor cores).  ``"f16"`` is
        faster still (1.37x, 2.05x) where every entry of ``a`` is within float16's range (65504).
    full_output : bool, default False
        Also return a :class:`gpmath.solver.Refinement` (iterations, fallback) of the mixed solve.
    execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    x : array, shaped like ``b`` (with the broadcast batch)
    refinement : Refinement
        Only with ``full_output=True`` (None for a triangular or diagonal ``assume_a``).

    Raises
    ------
    LinAlgError
        When a matrix is singular (naming it and the zero pivot) or, for ``"pos"``, not
        positive definite.

    Warns
    -----
    scipy.linalg.LinAlgWarning
        As SciPy 1.18, for host arrays (NumPy, torch CPU): when a matrix's estimated reciprocal
        condition number is below the machine epsilon of its dtype (see docs/linalg.md; device
        arrays are not estimated, as in torch and CuPy).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> linalg.solve(a, np.array([9.0, 8.0])).round(6).tolist()
    [2.0, 3.0]
    >>> x, info = linalg.solve(a, np.array([9.0, 8.0]), refine="mixed", full_output=True)
    >>> x.round(6).tolist(), info.fell_back
    ([2.0, 3.0], False)
    """
    lane = None if refine is not None or full_output or overwrite_b else lane_for(
        ("solve", assume_a, lower, transposed, precision, check_finite), execution, stream, device_id, a, b)
    x = by_lane(lane, a, b)
    if x is not None:  # device arrays: this thread's last such call's plan, at once
        return x
    given_a, given_b = a, b
    a, b = prepared(check_finite, integers_to_double=True, devices_later=True, a=a, b=b)
    route = structure(assume_a)
    one_element = math.prod(a.shape) == 1 and len(a.shape) <= 2
    on_device = checked_by_plan(check_finite, a)  # device operands, not tested yet
    planned_check = on_device and route in _PLAN_TESTED and not one_element
    if on_device and not planned_check:
        require_finite(True, a=a, b=b)
    if one_element:
        x = _divided(a, b)
        return (x, None) if full_output else x
    a = referenced(a, route, lower)
    if route in ("upper triangular", "lower triangular", "diagonal"):
        where = {"lower": route == "lower triangular", "check_finite": False, "execution": execution, "stream": stream,
                 "device_id": device_id}
        x = solve_triangular(a, b, trans=int(transposed), **where)
        rcond = triangular_rcond(a, route, lambda v, trans: solve_triangular(a, v, trans, **where)) \
            if a.shape[-1] and estimated(a) else None
        refinement = None
    else:
        options = {"assume_a": "gen" if route == "tridiagonal" else route, "lower": lower, "transposed": transposed,
                   "refine": refine, "precision": precision, "condition": estimated(a), "check_finite": planned_check}
        x, plan = run(Solve, (a, b), options, execution, stream, with_plan=True, device_id=device_id,
                      lane=lane if a is given_a and b is given_b else None)
        refinement, rcond = plan.refinement, plan.rcond()
    warn_if_ill_conditioned(rcond, tuple(x.shape[:len(x.shape) - len(b.shape[-2:])]), package_of(a, "a").dtype_name(a))
    if overwrite_b:
        x = written_into(given_b, x, fortran=True)
    return (x, refinement) if full_output else x


_PLAN_TESTED = ("gen", "pos", "auto")  # solve's routes whose plan gets a and b unchanged (and may test them)


def _divided(a, b):
    """SciPy's solve of a one-element ``a`` (a scalar, ``(1,)`` or ``(1, 1)``): ``b / a``
    elementwise, whatever ``b``'s length (``b`` at least 1-D); ``LinAlgError`` for ``a == 0``."""
    pkg = package_of(a, "a")  # (b's too: the operands were made one package)
    if pkg.to_numpy(a).item() == 0:
        raise LinAlgError("A singular matrix detected: a is the scalar 0")
    return (pkg.expand_dims(b, 0) if len(b.shape) == 0 else b) / a.reshape(())


def solve_triangular(a: Any, b: Any, trans: int | str = 0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True, *, execution: str | None = None,
                     stream: Any = None, device_id: int | None = None) -> Any:
    """Solve ``a x = b`` (or ``aᵀ x = b``, ``aᴴ x = b``) for triangular ``a``.

    Parameters
    ----------
    a : array, (..., N, N)
        Only the triangle named by *lower* is read (and not its diagonal, with *unit_diagonal*).
    b : array, (N,) or (..., N, K)
        A 1-D ``b`` is one vector; otherwise its batch dimensions broadcast with ``a``'s.
    trans : {0, 1, 2, "N", "T", "C"}, default 0
        Solve ``a x = b`` (0, "N"), ``aᵀ x = b`` (1, "T") or ``aᴴ x = b`` (2, "C").
    lower : bool, default False
        Read the lower triangle of ``a`` (else the upper).
    unit_diagonal : bool, default False
        Take ``a``'s diagonal entries as ones.
    overwrite_b, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    x : array, shaped like ``b`` (with the broadcast batch)

    Raises
    ------
    LinAlgError
        When a diagonal entry is exactly zero (naming the matrix and the entry), as SciPy does.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
    >>> linalg.solve_triangular(a, np.array([2.0, 9.0]), lower=True).tolist()
    [1.0, 2.0]
    >>> linalg.solve_triangular(a, np.array([4.0, 8.0]), trans="T", lower=True).tolist()
    [1.0, 2.0]
    """
    a, b = prepared(check_finite, a=a, b=b)
    options = {"trans": trans, "lower": lower, "unit_diagonal": unit_diagonal}
    return run(SolveTriangular, (a, b), options, execution, stream, device_id=device_id)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True, *,
              execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Solve ``a x = b`` given :func:`cho_factor`'s ``(c, lower)``.

    Parameters
    ----------
    c_and_lower : (array, bool)
        The Cholesky factor ``(..., N, N)`` and whether it is lower (SciPy's ``cho_factor``'s
        array of one flag a matrix is taken where its flags agree).
    b : array, (N,) or (..., N, K)
    overwrite_b, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> linalg.cho_solve(linalg.cho_factor(a, lower=True), np.array([6.0, 7.0])).tolist()
    [1.0, 1.0]
    """
    c, lower = _pair(c_and_lower, "c_and_lower", "(c, lower) that cho_factor returns")
    c, b = prepared(check_finite, c=c, b=b)
    return run(CholeskySolve, (c, b), {"lower": _one_flag(lower)}, execution, stream, device_id=device_id)


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: int = 0, overwrite_b: bool = False, check_finite: bool = True,
             *, execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Solve ``a x = b`` (*trans* 0), ``aᵀ x = b`` (1) or ``aᴴ x = b`` (2) from :func:`lu_factor`.

    Parameters
    ----------
    lu_and_piv : (array, int array)
        :func:`lu_factor`'s result.
    b : array, (N,) or (..., N, K)
    trans : {0, 1, 2}
    check_finite : bool, default True
        Raise ``ValueError`` when *b* holds an inf or a NaN (as SciPy, *b* alone: *lu* and
        *piv* come from :func:`lu_factor`, which checked *a*).
    overwrite_b, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> linalg.lu_solve(linalg.lu_factor(a), np.array([5.0, 11.0])).round(6).tolist()
    [1.0, 2.0]
    """
    lu, piv = _pair(lu_and_piv, "lu_and_piv", "(lu, piv) that lu_factor returns")
    lu, b = prepared(False, lu=lu, b=b)
    require_finite(check_finite, b=b)  # b alone, as SciPy (lu and piv come from lu_factor, which checked a)
    return run(LUSolve, (lu, piv, b), {"trans": trans}, execution, stream, device_id=device_id)


def lstsq(a: Any, b: Any, cond: float | None = None, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, lapack_driver: str | None = None, *, execution: str | None = None,
          stream: Any = None, device_id: int | None = None) -> Any:
    """Least-squares solution of ``a x = b``, minimising ``‖b - a x‖₂``.

    Parameters
    ----------
    a : array, (..., M, N)
    b : array, (M,) or (..., M, K)
    cond : float, optional
        Singular values (``"gelsy"``: diagonal entries of R) below ``cond`` times the largest
        count as zero; default: machine epsilon of ``a``.
    overwrite_a : bool, default False
        Accepted for SciPy's signature; ``a`` is never written.
    overwrite_b : bool, default False
        As in SciPy 1.18: write ``x`` over the leading N rows of ``b`` and return it as that
        view of ``b``, where M >= N, ``a`` is one matrix and ``b`` a NumPy array (1-D or one
        matrix), writable, F-contiguous and already in the result's dtype (else ``b`` is left
        as it is; never an array of another package).
    lapack_driver : {None, "gelsd", "gelss", "gelsy"}
        ``None``, ``"gelsd"`` or ``"gelss"``: through the SVD, any rank (the same minimum-norm
        solution; gpmath runs one SVD route for both).  ``"gelsy"``: through a QR
        factorisation, much faster on the GPU (geqrf, ormqr, trsm; see bench/RESULTS.md),
        returns ``s = None``; the GPU's QR is unpivoted, and a batch holding a rank-deficient
        matrix is solved again through the SVD there (the minimum-norm solutions and ranks of
        the pivoted ``gelsy`` that the CPU runs).
    check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    x : array, (..., N) or (..., N, K)
    residues : array
        As SciPy 1.18 gives them (real, in ``a``'s precision): for ``"gelsd"``/``"gelss"`` and
        M > N, the squared norms of the columns of ``b - a x``, ``(..., K)``, or ``(...)`` for
        a 1-D ``b``, NaN for a matrix of rank below N; for ``"gelsy"`` and for M <= N an empty
        ``(..., 0)``; for N = 0 the squared column norms of ``b``.
    rank : int or int array (...,)
        Effective ranks.
    s : array, (..., min(M, N)), or None
        Singular values of ``a`` (None for ``"gelsy"``).

    Raises
    ------
    ValueError
        For a ``lapack_driver`` SciPy does not know, before anything else is checked.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> x, residues, rank, s = linalg.lstsq(a, np.array([1.0, 2.0, 3.0]))
    >>> x.round(6).tolist(), rank, round(float(residues), 9)
    ([1.0, 2.0], 2, 0.0)
    >>> linalg.lstsq(np.ones((3, 2)), np.array([1.0, 2.0, 3.0]))[1]  # rank 1 < N
    array(nan)
    """
    driver = _LSTSQ_DRIVERS.get(lapack_driver) if isinstance(lapack_driver, (str, type(None))) else None
    if driver is None:
        raise ValueError(f'LAPACK driver "{lapack_driver}" is not found: lapack_driver must be one of None, '
                         "'gelsd', 'gelss', 'gelsy'")
    given_b = b
    a, b = prepared(check_finite, integers_to_double=True, a=a, b=b)
    x, residues, rank, s = run(Lstsq, (a, b), {"cond": cond, "lapack_driver": driver}, execution, stream,
                               device_id=device_id)
    if overwrite_b:
        x = written_into(given_b, x, fortran=True)
    return x, residues, rank, s


_LSTSQ_DRIVERS = {None: "gelsd", "gelsd": "gelsd", "gelss": "gelsd", "gelsy": "gelsy"}  # the SVD drivers: one route


def pinv(a: Any, *, atol: float | None = None, rtol: float | None = None, return_rank: bool = False,
         check_finite: bool = True, execution: str | None = None, stream: Any = None,
         device_id: int | None = None) -> Any:
    """The Moore-Penrose pseudo-inverse, through the SVD (as :func:`scipy.linalg.pinv`).

    Parameters
    ----------
    a : array, (..., M, N)
    atol, rtol : float, optional
        Singular values at most ``atol + rtol * max(s)`` count as zero; defaults 0 and
        ``max(M, N) * eps`` of the dtype, as SciPy's.
    return_rank : bool, default False
        Also return the effective rank (an int, or an array for a batch).
    check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    b : array, (..., N, M)
    rank : int or array
        Only with ``return_rank=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> bool(np.allclose(linalg.pinv(a) @ a, np.eye(2)))
    True
    >>> linalg.pinv(np.array([[1.0, 1.0], [1.0, 1.0]]), return_rank=True)[1]
    1
    """
    a, = prepared(check_finite, a=a)
    b, rank = run(Pinv, (a,), {"atol": atol, "rtol": rtol}, execution, stream, device_id=device_id)
    return (b, rank) if return_rank else b


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, assume_a: str | None = None,
        lower: bool = False, execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Inverse of square matrices.

    Parameters
    ----------
    a : array, (..., N, N)
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.
    assume_a : str, optional
        SciPy's structures: ``None``/``"gen"``/``"general"``: LU (no structure detection);
        ``"upper triangular"``, ``"lower triangular"``, ``"diagonal"``: a triangular solve of the
        identity (reading only that part); ``"pos"``: Cholesky; ``"sym"``, ``"her"``: LU of the
        triangle *lower* names, mirrored.
    lower : bool, default False
        With ``"pos"``, ``"sym"`` or ``"her"``: read the lower triangle (else the upper).

    Raises
    ------
    LinAlgError
        When a matrix is singular (naming it and the zero pivot) or, for ``"pos"``, not
        positive definite.

    Warns
    -----
    scipy.linalg.LinAlgWarning
        As :func:`solve` warns, from the exact reciprocal condition number of the inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    >>> linalg.inv(np.array([[4.0, 2.0], [0.0, 1.0]]), assume_a="upper triangular").tolist()
    [[0.25, -0.5], [0.0, 1.0]]
    """
    a, = prepared(check_finite, a=a)
    route = structure(assume_a)
    a = a if route == "pos" else referenced(a, route, lower)
    inverse = _inverse(a, route, lower, {"execution": execution, "stream": stream, "device_id": device_id})
    if a.shape[-1] and estimated(a):
        rcond = inverse_rcond(a, route, lower, inverse)
        warn_if_ill_conditioned(rcond, tuple(a.shape[:-2]), package_of(a, "a").dtype_name(a))
    return inverse


def _inverse(a, route: str, lower: bool, where: dict):
    """The inverse of the matrices *route* reads of *a* (:func:`referenced` already, but for ``"pos"``)."""
    if route in ("upper triangular", "lower triangular", "diagonal") and a.shape[-1]:
        return solve_triangular(a, identity(a), lower=route == "lower triangular", check_finite=False, **where)
    if route == "pos" and a.shape[-1]:
        return cho_solve(cho_factor(a, lower, check_finite=False, **where), identity(a), check_finite=False, **where)
    return run(Inv, (a,), {}, where["execution"], where["stream"], device_id=where["device_id"])


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, execution: str | None = None,
        stream: Any = None, device_id: int | None = None) -> Any:
    """Determinant of square matrices (0 for a singular one, which does not raise), in float64 or
    complex128 as :func:`scipy.linalg.det` returns it (the :class:`~gpmath.linalg.Det` planner
    keeps the input's precision).

    Parameters
    ----------
    a : array, (..., N, N)
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> round(float(linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 9)
    -2.0
    """
    lane = host_lane_for(("det", check_finite), execution, stream, device_id, a)
    d = by_lane(lane, a, check_finite=check_finite)
    if d is None:  # (else this thread's last such call's plan, at once)
        given = a
        a, = prepared(check_finite, a=a)
        d = run(Det, (a,), {"log": False}, execution, stream, device_id=device_id, lane=lane if a is given else None)
    return _scalar(_in_double(d))


_DOUBLE = {"float16": "float64", "bfloat16": "float64", "float32": "float64", "complex64": "complex128"}


def _scalar(d):
    """*d*, a NumPy scalar where it is a 0-d NumPy array: one matrix's determinant is a scalar for
    NumPy callers, as SciPy's and NumPy's, wherever it was computed (a GPU's comes back 0-d)."""
    return d[()] if type(d) is np.ndarray and not d.ndim else d


def _in_double(d):
    """*d* in float64 or complex128, whatever the input's precision, as :func:`scipy.linalg.det` gives it."""
    pkg = package_of(d, "det")
    target = _DOUBLE.get(pkg.dtype_name(d))
    return d if target is None else pkg.astype(d, target)


def slogdet(a: Any, *, check_finite: bool = True, execution: str | None = None, stream: Any = None,
        device_id: int | None = None) -> Any:
    """Sign and natural log of the absolute determinant, as :func:`numpy.linalg.slogdet`.

    Parameters
    ----------
    a : array, (..., N, N)
    check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Returns
    -------
    sign : array, (...)
        ±1 (a unit-modulus complex number for complex ``a``), 0 for a singular matrix.
    logabsdet : array, (...)
        ``log|det a|`` (real), ``-inf`` for a singular matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> sign, logabsdet = linalg.slogdet(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> float(sign), round(float(logabsdet), 6)
    (-1.0, 0.693147)
    """
    a, = prepared(check_finite, a=a)
    return tuple(_scalar(d) for d in run(Det, (a,), {"log": True}, execution, stream, device_id=device_id))
