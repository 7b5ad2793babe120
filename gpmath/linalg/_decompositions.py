"""Matrix decompositions with scipy.linalg's signatures: Cholesky, LU, QR, eig, eigh, SVD.

Every function takes NumPy, CuPy or PyTorch arrays with leading batch dimensions, returns results
in the same package and memory space, and raises :class:`gpmath.LinAlgError` naming the matrix
and its pivot or minor on a numerical failure.  ``execution`` and ``stream`` are as in
:func:`gpmath.matmul`.
"""

from __future__ import annotations

import functools
from typing import Any

from .._core.packages import package_of
from ..solver import LU, QR, SVD, Cholesky, Eig
from ..solver._ops import transpose
from ..solver._problem import matrix, square
from ._dispatch import by_lane, host_lane_for, lane_for, run
from ._convert import as_matrix, checked_by_plan, prepared, written_into
from . import _eigh
from ._host import matrixwise
from ._lu import rectangular_lu_factor

__all__ = ["cholesky", "cho_factor", "lu_factor", "qr", "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals"]


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True, *,
             execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Cholesky factor of Hermitian positive-definite matrices.

    Parameters
    ----------
    a : array, (..., N, N)
        Only the triangle named by *lower* is read.
    lower : bool, default False
        Return lower ``L`` with ``a = L Lᴴ``; else upper ``U`` with ``a = Uᴴ U``.
    overwrite_a : bool, default False
        As in SciPy: write the factor (the other triangle zeroed) over *a* and return *a*, where
        *a* is one matrix, writable, C- or F-contiguous and already in the result's dtype (else
        *a* is left as it is).  :func:`qr`'s ``overwrite_a`` and the ``overwrite_b`` of
        :func:`~gpmath.linalg.solve` and :func:`~gpmath.linalg.lstsq` write as SciPy 1.18 does
        too (into NumPy arrays); the other functions' ``overwrite_a`` and ``overwrite_b`` are
        accepted for SciPy's signatures and never write into their operands.
    check_finite : bool, default True
        Raise ``ValueError`` when an operand holds an inf or a NaN, as SciPy does (for device
        arrays the check reads one bool: a sync of the current stream); ``False`` skips it.
    execution : {None, "auto", "cuda", "cpu"}
        Where to run: by default (or ``"auto"``) where *a* is, and for host arrays where the
        calibrated cost model says it is faster when a GPU is usable.
    stream : stream, optional
        CUDA stream (torch/CuPy stream or integer handle) on *a*'s device; default: the
        package's current one.
    device_id : int, optional
        The GPU for host arrays (default: the current device); a device array runs on its own
        device, and another ``device_id`` raises ``ValueError``.

    Returns
    -------
    array, (..., N, N)
        The triangular factor; the other triangle is zero.  A scalar (or a vector of one element)
        is read as a 1 x 1 matrix, as SciPy reads it.

    Raises
    ------
    LinAlgError
        When a matrix is not positive definite (naming it and the failing leading minor).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]])).tolist()
    [[2.0, 1.0], [0.0, 2.0]]
    """
    tag = ("cholesky", lower, check_finite)
    lane = None if overwrite_a else (lane_for(tag, execution, stream, device_id, a)
                                     or host_lane_for(tag, execution, stream, device_id, a))
    c = by_lane(lane, a, check_finite=check_finite)
    if c is not None:  # this thread's last such call's plan, at once
        return c
    (matrix,) = prepared(check_finite, devices_later=True, a=a)
    matrix = as_matrix(matrix)
    c = run(Cholesky, (matrix,), {"lower": lower, "check_finite": checked_by_plan(check_finite, matrix)}, execution,
            stream, device_id=device_id, lane=lane if matrix is a else None)
    return written_into(a, c) if overwrite_a else c


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True, *,
               execution: str | None = None, stream: Any = None, device_id: int | None = None) -> tuple[Any, bool]:
    """Cholesky factorisation for :func:`cho_solve`: ``(c, lower)``.

    Parameters
    ----------
    a : array, (..., N, N)
        Hermitian positive definite; only the triangle named by *lower* is read.
    lower : bool, default False
        Which factor to compute.
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`cholesky`.

    Returns
    -------
    c : array, (..., N, N)
        The factor (the other triangle is zero, unlike SciPy's, which leaves it arbitrary).
    lower : bool
        The flag, for :func:`cho_solve`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> linalg.cho_solve(linalg.cho_factor(a), np.array([6.0, 7.0])).tolist()
    [1.0, 1.0]
    """
    c = cholesky(a, lower, overwrite_a, check_finite, execution=execution, stream=stream, device_id=device_id)
    return c, bool(lower)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, execution: str | None = None,
              stream: Any = None, device_id: int | None = None) -> Any:
    """LU factorisation with partial pivoting, ``a = P L U``, for :func:`lu_solve`.

    Parameters
    ----------
    a : array, (..., M, N)
        Square matrices factor through the :class:`~gpmath.solver.LU` planner (cuSOLVER's
        ``getrf`` on the GPU); rectangular ones (for which :func:`lu_solve` has no use) through
        SciPy on the host, the results going to *a*'s package and device.
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`cholesky`.

    Returns
    -------
    lu : array, (..., M, N)
        ``U`` in the upper triangle, ``L`` (unit diagonal, not stored) below it.
    piv : int32 array, (..., min(M, N))
        0-based pivots: row ``i`` was interchanged with row ``piv[i]``.

    Raises
    ------
    LinAlgError
        When a square matrix is exactly singular (naming it and the zero pivot).  SciPy only
        warns (``LinAlgWarning``), as gpmath does for a rectangular one.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> lu, piv = linalg.lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> lu.round(4).tolist(), piv.tolist()
    ([[3.0, 4.0], [0.3333, 0.6667]], [1, 1])
    """
    a, = prepared(check_finite, a=a)
    if len(a.shape) >= 2 and a.shape[-1] != a.shape[-2]:
        return rectangular_lu_factor(a)
    return run(LU, (a,), {}, execution, stream, device_id=device_id)


def qr(a: Any, overwrite_a: bool = False, lwork: int | None = None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True, *, execution: str | None = None, stream: Any = None,
       device_id: int | None = None) -> Any:
    """QR factorisation ``a = Q R``.

    Parameters
    ----------
    a : array, (..., M, N)
    mode : {"full", "economic", "r", "raw"}
        ``"full"``: Q ``(..., M, M)``, R ``(..., M, N)``; ``"economic"`` with K = min(M, N):
        Q ``(..., M, K)``, R ``(..., K, N)``; ``"r"``: only R ``(..., M, N)``, as a 1-tuple;
        ``"raw"``: LAPACK's ``((h, tau), R)``, R ``(..., K, N)``.
    overwrite_a : bool, default False
        As in SciPy 1.18: write R (``"full"``, ``"r"``), Q (``"economic"``) or h (``"raw"``)
        over *a* and return it as *a* (Q of a wide *a*: its leading columns), where *a* is one
        matrix, a NumPy array, writable, F-contiguous and already in the result's dtype (else
        *a* is left as it is; never an array of another package).
    lwork
        Accepted for SciPy's signature; gpmath sizes its own workspace.
    pivoting : bool, default False
        Column pivoting (LAPACK's ``geqp3``): the results gain ``P``, int32 ``(..., N)``, with
        ``a[..., :, P] = Q R``.
    check_finite, execution, stream, device_id
        As in :func:`cholesky`.  ``pivoting=True`` and ``mode="raw"`` (which cuSOLVER has no
        routine for) compute through SciPy on the host, matrix by matrix, and return the results
        in *a*'s package and on its device.

    Returns
    -------
    (Q, R), (R,), ((h, tau), R); with ``pivoting``: (Q, R, P), (R, P), ((h, tau), R, P)
        Each h F-ordered (LAPACK's layout), as SciPy returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[3.0, 1.0], [4.0, 2.0]])
    >>> q, r = linalg.qr(a)
    >>> bool(np.allclose(q @ r, a)), bool(np.allclose(q.T @ q, np.eye(2)))
    (True, True)
    """
    given_a = a
    a, = prepared(check_finite, a=a)
    if lwork is not None and lwork != -1 and len(a.shape) >= 2 and lwork < max(1, a.shape[-1]):
        raise ValueError(f"lwork={lwork} is too small: LAPACK's geqrf needs at least max(1, N) = {max(1, a.shape[-1])} "
                         "(gpmath sizes its own workspace: leave lwork as None)")
    if pivoting or mode == "raw":
        if mode not in ("full", "economic", "r", "raw"):
            raise ValueError(f"mode must be one of 'full', 'r', 'economic', 'raw', not {mode!r}")
        matrix("a", tuple(a.shape))  # the planners' ValueError for a 0-D or 1-D a
        result = matrixwise(functools.partial(_scipy_qr, mode=mode, pivoting=pivoting), a)
    else:
        result = run(QR, (a,), {"mode": mode}, execution, stream, device_id=device_id)
    parts = list(result)
    if mode == "raw":  # ((h, tau), R[, P]): h F-ordered, and the array SciPy computes in a
        h, tau = parts[0]
        pkg = package_of(h, "h")
        h = pkg.swap(transpose(pkg, h))
        parts[0] = (written_into(given_a, h, fortran=True) if overwrite_a else h), tau
    elif overwrite_a:  # R of (Q, R[, P]) and of (R[, P]); Q of economic (Q, R[, P])
        index = 1 if mode == "full" else 0
        parts[index] = written_into(given_a, parts[index], fortran=True)
    return tuple(parts)


def _scipy_qr(matrix, mode: str, pivoting: bool) -> tuple:
    """SciPy's ``qr`` of one matrix, always as a tuple (``mode="r"`` without pivoting is ``(R,)``)."""
    import scipy.linalg

    result = scipy.linalg.qr(matrix, mode=mode, pivoting=pivoting, check_finite=False)
    return result if isinstance(result, tuple) else (result,)


def eig(a: Any, b: Any = None, left: bool = False, right: bool = True, overwrite_a: bool = False,
        overwrite_b: bool = False, check_finite: bool = True, homogeneous_eigvals: bool = False, *,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Eigenvalues and right eigenvectors of general square matrices.

    Parameters
    ----------
    a : array, (..., N, N)
        Real or complex, not assumed symmetric (for Hermitian matrices, :func:`eigh` is faster).
    b : array, (..., N, N), optional
        Solve the generalized problem ``a v = w b v``.
    left : bool, default False
        Also return the left eigenvectors (``vlᴴ a = w vlᴴ``).
    right : bool, default True
        Return the right eigenvectors too.
    overwrite_a, overwrite_b : bool, default False
        Accepted for SciPy's signature; gpmath never writes into its operands.
    homogeneous_eigvals : bool, default False
        Return the eigenvalues as SciPy's ``(alpha, beta)`` pairs, ``w = alpha / beta``.
    check_finite, execution, stream, device_id
        As in :func:`cholesky`.  With *b*, *left* or *homogeneous_eigvals* (which cuSOLVER's
        ``geev`` does not offer) the matrices go through SciPy on the host, one by one, and the
        results are SciPy's (real where SciPy's are), in *a*'s package and on its device.

    Returns
    -------
    w : array, (..., N)
        The eigenvalues, complex (in no particular order; a real matrix's conjugate pairs come
        consecutively, positive imaginary part first).
    v : array, (..., N, N)
        Unit eigenvectors in the columns (unless ``right=False``): real where *a* is real and every
        eigenvalue of the batch is real, as SciPy's (reading that waits for a device's result),
        else complex, each with its largest component real.

    Raises
    ------
    LinAlgError
        When the QR iteration does not converge for a matrix (naming it).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[2.0, 1.0], [0.0, 3.0]])
    >>> w, v = linalg.eig(a)
    >>> w.real.round(6).tolist(), v.dtype  # every eigenvalue real: real eigenvectors, as SciPy's
    ([2.0, 3.0], dtype('float64'))
    >>> bool(np.allclose(a @ v, v * w))
    True
    """
    a, b = prepared(check_finite, a=a, b=b)
    if b is not None or left or homogeneous_eigvals:
        square("a", tuple(a.shape))
        if b is not None and tuple(b.shape[-2:]) != tuple(a.shape[-2:]):
            raise ValueError(f"b must have a's matrix shape {tuple(a.shape[-2:])}, but has shape {tuple(b.shape)}")
        options = {"left": left, "right": right, "homogeneous_eigvals": homogeneous_eigvals}
        return matrixwise(functools.partial(_scipy_eig, **options), a, b)
    result, plan = run(Eig, (a,), {"right": right}, execution, stream, with_plan=True, device_id=device_id)
    pkg = plan.caller_package  # (the package the results are in: a's)
    if not right or pkg.is_complex(a):
        return result
    w, v = result
    with pkg.on_stream(plan.stream, plan.device_id):  # (the results' stream, for device operands)
        return (w, pkg.real_copy(v)) if pkg.imag_is_zero(w) else result


def _scipy_eig(a, b, **options):
    """SciPy's ``eig`` of one matrix (pair); a lone array as it is, several as a tuple."""
    import scipy.linalg

    return scipy.linalg.eig(a, b, check_finite=False, **options)


def eigvals(a: Any, b: Any = None, overwrite_a: bool = False, check_finite: bool = True,
            homogeneous_eigvals: bool = False, *, execution: str | None = None, stream: Any = None,
            device_id: int | None = None) -> Any:
    """Eigenvalues of general square matrices, complex: :func:`eig` with ``right=False``.

    Parameters
    ----------
    a : array, (..., N, N)
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> sorted(linalg.eigvals(np.array([[0.0, -2.0], [2.0, 0.0]])).imag.round(6).tolist())
    [-2.0, 2.0]
    """
    return eig(a, b, right=False, check_finite=check_finite, homogeneous_eigvals=homogeneous_eigvals,
               execution=execution, stream=stream, device_id=device_id)


def eigh(a: Any, b: Any = None, *, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, type: int = 1, check_finite: bool = True,
         subset_by_index: tuple[int, int] | None = None, subset_by_value: tuple[float, float] | None = None,
         driver: str | None = None, execution: str | None = None, stream: Any = None,
         device_id: int | None = None) -> Any:
    """Eigenvalues and eigenvectors of Hermitian (real symmetric) matrices.

    Parameters
    ----------
    a : array, (..., N, N)
        Only the triangle named by *lower* is read.
    b : array, (..., N, N), optional
        Hermitian positive definite: solve the generalized problem of *type* (only the triangle
        named by *lower* is read).  It is reduced to a standard one through the Cholesky factor
        ``b = L Lᴴ``, as LAPACK's ``sygvd``/``hegvd`` do, by gpmath's planners (batched, on the
        GPU where the operands are); eigenvectors are normalized as LAPACK's: ``vᴴ b v = I``
        (types 1, 2), ``vᴴ b⁻¹ v = I`` (type 3).
    type : {1, 2, 3}, default 1
        ``a v = w b v``, ``a b v = w v`` or ``b a v = w v``.
    subset_by_index : (int, int), optional
        Only the eigenpairs of these ascending positions (inclusive).
    subset_by_value : (float, float), optional
        Only the eigenpairs whose eigenvalues lie in ``(low, high]`` (the same count in every
        matrix of a batch).  Subsets are taken from the whole spectrum.
    lower : bool, default True
        Read the lower triangle (else the upper).
    eigvals_only : bool, default False
        Return only the eigenvalues.
    overwrite_a, overwrite_b : bool, default False
        Accepted for SciPy's signature; gpmath never writes into its operands.
    driver : {None, "syevd", "syevj", "syevjBatched", "syevBatched", "ev", "evd", "evr", "evx", "gv", "gvd", "gvx"}
        GPU routine: divide and conquer (``"syevd"``, LAPACK-grade, one matrix at a time),
        Jacobi (``"syevj"``/``"syevjBatched"``, the whole batch in one launch, accurate to
        about machine epsilon times ``‖a‖``) or ``"syevBatched"`` (tridiagonal reduction of the
        whole batch in one call, LAPACK-grade; cuSOLVER 11.7+).  ``None`` chooses by the
        measured (N, batch) crossover (see docs/linalg.md), which for small real matrices is
        gpmath's own Jacobi kernel (the same accuracy as ``"syevj"``).  The CPU always uses
        LAPACK's ``evd``; SciPy's LAPACK driver names choose as ``None`` does (and are checked
        against *b* and the subsets as SciPy checks them).
    check_finite, execution, stream, device_id
        As in :func:`cholesky`.

    Returns
    -------
    w : array, (..., N)
        Eigenvalues, ascending (real).
    v : array, (..., N, N)
        Unit eigenvectors in the columns (unless *eigvals_only*).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> w, v = linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> w.round(6).tolist()
    [1.0, 3.0]
    """
    a, b = prepared(check_finite, a=a, b=b)
    _eigh.check_options(a, b, type, subset_by_index, subset_by_value, driver)
    square("a", tuple(a.shape))
    options = None if driver in _LAPACK_EIGH else driver
    where = {"execution": execution, "stream": stream, "device_id": device_id}
    if b is None:
        w, v = _eigh.standard(a, lower, eigvals_only, options, where)
    else:
        w, v = _eigh.generalized(a, b, lower, type, eigvals_only, options, _eigh.Steps(where))
    if subset_by_index is not None or subset_by_value is not None:
        w, v = _eigh.subset(w, v, a.shape[-1], subset_by_index, subset_by_value)
    return w if eigvals_only else (w, v)


_LAPACK_EIGH = frozenset({"ev", "evd", "evr", "evx", "gv", "gvd", "gvx"})  # SciPy's drivers: gpmath chooses its own


def eigvalsh(a: Any, b: Any = None, *, lower: bool = True, overwrite_a: bool = False, overwrite_b: bool = False,
             type: int = 1, check_finite: bool = True, subset_by_index: tuple[int, int] | None = None,
             subset_by_value: tuple[float, float] | None = None, driver: str | None = None,
             execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Eigenvalues of Hermitian matrices, ascending: :func:`eigh` with ``eigvals_only=True``.

    Parameters
    ----------
    a : array, (..., N, N)
    overwrite_a, overwrite_b, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> linalg.eigvalsh(np.diag([3.0, 1.0, 2.0])).tolist()
    [1.0, 2.0, 3.0]
    """
    return eigh(a, b, lower=lower, eigvals_only=True, type=type, check_finite=check_finite,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value, driver=driver,
                execution=execution, stream=stream, device_id=device_id)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd", *, driver: str | None = None,
        execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Singular value decomposition ``a = U diag(s) Vh``.

    Parameters
    ----------
    a : array, (..., M, N)
    full_matrices : bool, default True
        U ``(..., M, M)`` and Vh ``(..., N, N)``; else ``(..., M, K)`` and ``(..., K, N)``.
    compute_uv : bool, default True
        Else return only ``s``.
    overwrite_a : bool, default False
        Accepted for SciPy's signature; gpmath never writes into its operands.
    lapack_driver : {"gesdd", "gesvd"}
        SciPy's choice of LAPACK routine, checked and otherwise not used: gpmath chooses by
        *driver*.
    driver : {None, "gesvd", "gesvdj", "gesvdp"}
        GPU routine: ``"gesvd"`` (QR iteration, LAPACK-grade relative accuracy) or ``"gesvdj"``
        (Jacobi; the batch in one launch when M, N <= 32; singular values accurate to about
        machine epsilon times ``‖a‖``, so tiny ones lose relative accuracy); ``"gesvdp"``
        (polar decomposition) is fast but inaccurate (see docs/linalg.md), never chosen for you.
        ``None`` chooses by the measured crossover: gpmath's own Jacobi kernel for small real
        square matrices (the accuracy of ``"gesvdj"``), Jacobi for batches, ``"gesvd"`` for one
        larger matrix.  The CPU always uses LAPACK's ``gesdd``.
    check_finite, execution, stream, device_id
        As in :func:`cholesky`.

    Returns
    -------
    U : array
    s : array, (..., K)
        Singular values, descending (real).
    Vh : array

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> a = np.array([[3.0, 0.0], [4.0, 5.0]])
    >>> u, s, vh = linalg.svd(a)
    >>> bool(np.allclose(u @ np.diag(s) @ vh, a))
    True
    """
    if not isinstance(lapack_driver, str):
        raise TypeError(f"lapack_driver must be a string, not {type(lapack_driver).__name__}")
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f'lapack_driver must be "gesdd" or "gesvd", not "{lapack_driver}"')
    a, = prepared(check_finite, a=a)
    options = {"full_matrices": full_matrices, "compute_uv": compute_uv, "driver": driver}
    return run(SVD, (a,), options, execution, stream, device_id=device_id)


def svdvals(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, driver: str | None = None,
            execution: str | None = None, stream: Any = None, device_id: int | None = None) -> Any:
    """Singular values, descending: :func:`svd` with ``compute_uv=False``.

    Parameters
    ----------
    a : array, (..., M, N)
    overwrite_a, check_finite, execution, stream, device_id
        As in :func:`gpmath.linalg.cholesky`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath import linalg
    >>> linalg.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    return svd(a, False, False, driver=driver,
               check_finite=check_finite, execution=execution, stream=stream, device_id=device_id)
