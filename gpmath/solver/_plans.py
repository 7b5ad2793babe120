"""The solver planners (fronts): options, validation and the CPU result of each factorisation.

Every class here is a planner with the gpmath contract: constructor → ``plan()`` →
``execute()`` → ``reset_operands()`` → ``free()``, and a context manager.  Constructing one
returns its CPU or CUDA engine (see :mod:`._base`); every constructor takes keyword-only
``execution``, ``stream`` and ``device_id`` as :func:`gpmath.linalg.cholesky` does.  ``execute(check=False)`` leaves cuSOLVER's
``info`` on the device; ``execute(check=True)`` or :meth:`info` reads it (a sync on the plan's
stream only) and ``check=True`` raises :class:`~gpmath._errors.LinAlgError` naming the
matrix and its pivot or minor.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .._core.dtypes import DTYPES
from .._core.staging import deliver
from . import _problem as P
from ._base import SolverPlan
from ._crossover import IRS_PRECISIONS

__all__ = [
    "Cholesky", "CholeskySolve", "LU", "LUSolve", "Solve", "SolveTriangular", "QR", "Eig", "Eigh", "SVD", "Lstsq", "Pinv",
    "Inv", "Det", "EIGH_DRIVERS", "SVD_DRIVERS", "IRS_PRECISIONS", "LSTSQ_DRIVERS",
]

EIGH_DRIVERS = (None, "syevd", "syevj", "syevjBatched", "syevBatched")
SVD_DRIVERS = (None, "gesvd", "gesvdj", "gesvdp")
LSTSQ_DRIVERS = ("gelsd", "gelsy")
_ASSUME = ("gen", "sym", "her", "pos", "auto")
_QR_MODES = ("full", "economic", "r")


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")


class Cholesky(SolverPlan):
    """Plan the Cholesky factorisation of a batch of Hermitian positive-definite matrices.

    Parameters
    ----------
    a : array, (..., N, N)
        NumPy, CuPy or PyTorch array; only the triangle named by *lower* is read.
    lower : bool, default False
        Return lower ``L`` (``a = L Lᴴ``) instead of upper ``U`` (``a = Uᴴ U``).
    execution : {None, "auto", "cuda", "cpu"}
        Where to run (see docs/execution.md).
    stream : stream, optional
        CUDA stream; by default the package's current stream.
    check_finite : bool, default False
        Test every element of the operands for infs and NaNs on each execution, as SciPy's
        ``check_finite`` does: ``ValueError`` (SciPy's message, naming the operand).  On the CPU
        and on GPU routes that test before they run (one reduction and one read, a sync of the
        plan's stream), :meth:`execute` raises it; gpmath's one-warp kernels (order 32 and below)
        test the elements they read, at no sync of their own, and report it in ``info``
        (:data:`~gpmath.solver._cuda.NONFINITE` for the first operand, one less for the second),
        which ``execute(check=True)`` reads and raises.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Cholesky
    >>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> with Cholesky(a, lower=True) as plan:
    ...     l = plan.plan().execute(check=True)
    >>> bool(np.allclose(l @ l.T, a))
    True
    """

    def _configure(self, lower: bool = False, check_finite: bool = False) -> None:
        self.lower, self.check_finite = bool(lower), bool(check_finite)

    def _describe(self, ops):
        return P.describe_square(ops["a"])


class CholeskySolve(SolverPlan):
    """Plan ``A x = b`` from a Cholesky factor *c* of A (as :func:`gpmath.linalg.cho_solve`).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import CholeskySolve
    >>> c = np.array([[2.0, 1.0], [0.0, 1.0]])  # upper factor of [[4, 2], [2, 2]]
    >>> x = CholeskySolve(c, np.array([6.0, 4.0])).execute()
    >>> bool(np.allclose(np.array([[4.0, 2.0], [2.0, 2.0]]) @ x, [6.0, 4.0]))
    True
    """

    operand_names = ("c", "b")

    def _configure(self, lower: bool = False) -> None:
        self.lower = bool(lower)

    def _describe(self, ops):
        return P.describe_system(ops["c"], ops["b"], a_name="c")


class LU(SolverPlan):
    """Plan the LU factorisation with partial pivoting, ``a = P L U``, of a batch of square matrices.

    :meth:`execute` returns ``(lu, piv)`` as :func:`scipy.linalg.lu_factor` does: ``L`` (unit
    diagonal) and ``U`` packed in ``lu``; ``piv`` 0-based int32 row interchanges.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import LU
    >>> lu, piv = LU(np.array([[1.0, 2.0], [3.0, 4.0]])).execute()
    >>> piv.tolist()
    [1, 1]
    """

    def _describe(self, ops):
        return P.describe_square(ops["a"])


class LUSolve(SolverPlan):
    """Plan ``A x = b`` (or ``Aᵀ``, ``Aᴴ``: *trans* 0, 1, 2) from :class:`LU`'s ``(lu, piv)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import LU, LUSolve
    >>> a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])
    >>> lu, piv = LU(a).execute()
    >>> bool(np.allclose(a @ LUSolve(lu, piv, b).execute(), b))
    True
    """

    operand_names = ("lu", "piv", "b")
    _index_names = ("piv",)

    def _configure(self, trans: int = 0) -> None:
        _choice("trans", trans, (0, 1, 2))
        self.trans = trans

    def _describe(self, ops):
        problem = P.describe_system(ops["lu"], ops["b"], a_name="lu")
        expected = tuple(ops["lu"].shape[:-1])
        if tuple(ops["piv"].shape) != expected:
            raise ValueError(f"piv must have shape {expected} to match lu {tuple(ops['lu'].shape)}, not {tuple(ops['piv'].shape)}")
        return problem


class Solve(SolverPlan):
    """Plan ``A x = b`` for a batch of square matrices.

    Parameters
    ----------
    a : array, (..., N, N)
    b : array, (N,) or (..., N, K)
    assume_a : {"gen", "sym", "her", "pos", "auto"}
        ``"pos"`` factors by Cholesky (reading the *lower* or upper triangle); the others by LU
        (cuSOLVER has no batched symmetric-indefinite solver, so "sym"/"her" need the full matrix).
        ``"auto"`` (what ``linalg.solve``'s ``assume_a=None`` plans): ``"gen"``, but on the CPU one
        matrix is first looked at as SciPy's ``solve`` looks at it (triangular, symmetric or
        Hermitian: their own LAPACK routines and condition estimates).
    lower : bool
        The triangle read when ``assume_a="pos"``.
    transposed : bool
        Solve ``Aᵀ x = b``.
    refine : {None, "mixed"}
        ``"mixed"``: LU in a lower *precision*, refined until ``max|b - a x| <= eps ‖a‖∞ max|x|``
        in the input's precision (cuSOLVER IRS; on the CPU an f32 LU refined in f64).
        :attr:`refinement` then reports what happened.
    precision : {None, "f32", "tf32", "f16", "bf16"}
        The inner precision of ``refine="mixed"`` on the GPU.  None: the one measured fastest on
        such a GPU (:func:`gpmath.solver.calibrate`), else gpmath's table (``"tf32"``, measured on
        an H100).  :attr:`inner_precision` says which one the plan runs.
    condition : bool, default False
        Also estimate each matrix's reciprocal condition number in the 1-norm, as LAPACK's
        ``?gecon``/``?pocon`` do, from the factors the solve made (:meth:`rcond`); six more
        solves of one right-hand side, ``O(N²)`` a matrix.  Not with ``refine="mixed"``, whose
        factors are not kept.
    check_finite : bool, default False
        As in :class:`Cholesky`, for ``a`` and ``b`` (``NONFINITE - 1`` in ``info`` names ``b``).

    Attributes
    ----------
    inner_precision : str or None
        The precision a mixed-precision plan factors in: *precision*, or the one chosen for the GPU
        once the plan is planned; ``"f32"`` on the CPU, whose LU is float32 whatever is asked; None
        without ``refine="mixed"``.
    refinement : Refinement or None
        What the last mixed-precision execution's refinement did.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Solve
    >>> a = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> with Solve(a, np.array([9.0, 8.0]), refine="mixed") as plan:
    ...     x = plan.execute(check=True)
    ...     info = plan.refinement
    >>> x.round(6).tolist(), info.fell_back
    ([2.0, 3.0], False)
    >>> with Solve(np.diag([1.0, 1e-20]), np.ones(2), condition=True) as plan:
    ...     x = plan.execute(check=True)
    ...     plan.rcond()
    1e-20
    """

    operand_names = ("a", "b")

    def _configure(self, assume_a: str = "gen", lower: bool = False, transposed: bool = False,
                   refine: str | None = None, precision: str | None = None, condition: bool = False,
                   check_finite: bool = False) -> None:
        _choice("assume_a", assume_a, _ASSUME)
        _choice("refine", refine, (None, "mixed"))
        _choice("precision", precision, (None, *IRS_PRECISIONS))
        if refine == "mixed" and (assume_a not in ("gen", "auto") or transposed):
            raise ValueError('refine="mixed" solves a general A x = b: use assume_a="gen" and transposed=False')
        self.assume_a, self.lower, self.transposed = assume_a, bool(lower), bool(transposed)
        self.refine, self.precision = refine, precision
        self.inner_precision: str | None = None  # (the engines set it: see the class notes)
        self.condition = bool(condition) and refine is None
        self.check_finite = bool(check_finite)
        self.refinement: P.Refinement | None = None

    def rcond(self) -> Any:
        """The reciprocal condition numbers ``1 / (‖A‖₁ ‖A⁻¹‖₁)`` the last execution estimated
        (``condition=True``), of the matrix ``a`` (not ``aᵀ`` with *transposed*), read from the
        triangle named by *lower* for ``assume_a="pos"``; reading them on the GPU syncs the plan's
        stream only, as :meth:`info` does.

        Returns
        -------
        float, array or None
            A Python float for one matrix; for a batch, an array of the broadcast batch's shape
            (``a``'s real dtype) in the operands' package and on their device; None without an
            estimate (``condition=False``, ``refine="mixed"``, or before an execution).
        """
        values = self._rcond_values() if self.condition else None
        if values is None or self.problem.batch_shape:
            return values if values is None else deliver(self.caller_package, values, self._home)
        return float(values.reshape(-1)[0]) if values.size else 1.0

    def _describe(self, ops):
        problem = P.describe_system(ops["a"], ops["b"])
        if self.transposed and problem.dtype.is_complex:
            raise NotImplementedError("transposed=True with complex a: scipy.linalg.solve can currently not solve "
                                      "a^T x = b or a^H x = b for complex matrices, and gpmath follows it")
        return problem


class SolveTriangular(SolverPlan):
    """Plan ``op(A) x = b`` for a batch of triangular matrices (as :func:`scipy.linalg.solve_triangular`).

    Parameters
    ----------
    a : array, (..., N, N)
        NumPy, CuPy or PyTorch array; only the triangle named by *lower* is read (and not its
        diagonal, with *unit_diagonal*).
    b : array, (N,) or (..., N, K)
        Right-hand sides; batch dimensions broadcast with *a*'s.
    trans : {0, 1, 2, "N", "T", "C"}, default 0
        Solve ``A x = b`` (0, "N"), ``Aᵀ x = b`` (1, "T") or ``Aᴴ x = b`` (2, "C").
    lower : bool, default False
        Read the lower triangle instead of the upper one.
    unit_diagonal : bool, default False
        Take the diagonal entries as ones.
    execution, stream, device_id
        As :class:`Cholesky`.

    Notes
    -----
    ``execute(check=True)`` raises :class:`~gpmath.LinAlgError` naming the matrix and its first
    diagonal entry that is exactly zero, as LAPACK's ``trtrs`` reports it (without the check, such
    a matrix gives infinities or NaNs, as torch's and CuPy's solvers do).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import SolveTriangular
    >>> a = np.array([[2.0, 1.0], [0.0, 4.0]])
    >>> with SolveTriangular(a, np.array([4.0, 8.0])) as plan:
    ...     plan.plan().execute(check=True).tolist()
    [1.0, 2.0]
    """

    operand_names = ("a", "b")
    _TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}

    def _configure(self, trans: int | str = 0, lower: bool = False, unit_diagonal: bool = False) -> None:
        if isinstance(trans, bool) or trans not in self._TRANS:
            raise ValueError(f"trans must be one of 0, 1, 2, 'N', 'T', 'C', not {trans!r}")
        self.trans = self._TRANS[trans]
        self.lower = bool(lower)
        self.unit_diagonal = bool(unit_diagonal)

    def _describe(self, ops):
        return P.describe_system(ops["a"], ops["b"])


class QR(SolverPlan):
    """Plan the QR factorisation ``a = Q R`` of a batch of matrices.

    *mode* is ``"full"`` (Q ``(..., M, M)``, R ``(..., M, N)``), ``"economic"`` (K = min(M, N):
    Q ``(..., M, K)``, R ``(..., K, N)``) or ``"r"`` (``(R,)`` with R ``(..., M, N)``).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import QR
    >>> a = np.random.default_rng(0).standard_normal((5, 3))
    >>> q, r = QR(a, mode="economic").execute()
    >>> q.shape, r.shape, bool(np.allclose(q @ r, a))
    ((5, 3), (3, 3), True)
    """

    def _configure(self, mode: str = "full") -> None:
        _choice("mode", mode, _QR_MODES)
        self.mode = mode

    def _describe(self, ops):
        return P.describe_matrix(ops["a"])


class Eigh(SolverPlan):
    """Plan the eigendecomposition ``a = V diag(w) Vᴴ`` of a batch of Hermitian matrices.

    Parameters
    ----------
    lower : bool, default True
        Read the lower (or upper) triangle.
    eigvals_only : bool
        Return ``w`` only.
    driver : {None, "syevd", "syevj", "syevjBatched", "syevBatched"}
        GPU routine: ``"syevd"`` (divide and conquer, one matrix at a time), Jacobi
        (``"syevj"``/``"syevjBatched"``, all matrices in one launch; converges to about the input's
        precision), or ``"syevBatched"`` (cuSOLVER 11.7+: tridiagonal reduction for all matrices in
        one call, as accurate as ``syevd``); ``None`` picks by the measured crossover in
        :mod:`gpmath.solver._crossover` (for small real matrices: gpmath's own Jacobi kernel, as
        accurate as ``"syevj"``).  The CPU uses LAPACK's ``evd``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Eigh
    >>> w, v = Eigh(np.array([[2.0, 1.0], [1.0, 2.0]])).execute()
    >>> w.round(6).tolist()
    [1.0, 3.0]

    With *b*, the generalized problem ``a v = w b v`` (a
    :class:`~gpmath.linalg._eigh.GeneralizedEigh` plan; ``type=2``, ``3``: ``a b v = w v``,
    ``b a v = w v``):

    >>> w, v = Eigh(np.array([[2.0, 1.0], [1.0, 2.0]]), np.diag([2.0, 2.0])).execute()
    >>> w.round(6).tolist()
    [0.5, 1.5]
    """

    def __new__(cls, a, b=None, /, *, type: int = 1, **options):
        if b is not None:
            from ..linalg._eigh import GeneralizedEigh  # (the reduction composes gpmath.linalg's planners)

            return GeneralizedEigh(a, b, type=type, **options)
        P.check_eigh_type(type)
        return super().__new__(cls, a, **options)

    def __init__(self, a, b=None, /, *, type: int = 1, **options):
        super().__init__(a, **options)

    @classmethod
    def _constructor_signature(cls) -> inspect.Signature:
        """``(a, b=None, /, *, lower, eigvals_only, driver, type, execution, stream, device_id)``."""
        parameters = list(super()._constructor_signature().parameters.values())
        b = inspect.Parameter("b", inspect.Parameter.POSITIONAL_ONLY, default=None, annotation="Any")
        type_ = inspect.Parameter("type", inspect.Parameter.KEYWORD_ONLY, default=1, annotation="int")
        return inspect.Signature([parameters[0], b, *parameters[1:4], type_, *parameters[4:]])

    def _configure(self, lower: bool = True, eigvals_only: bool = False, driver: str | None = None) -> None:
        _choice("driver", driver, EIGH_DRIVERS)
        self.lower, self.eigvals_only, self.driver = bool(lower), bool(eigvals_only), driver

    def _describe(self, ops):
        return P.describe_square(ops["a"])


class Eig(SolverPlan):
    """Plan the eigendecomposition ``a V = V diag(w)`` of a batch of general square matrices.

    Parameters
    ----------
    a : array, (..., N, N)
        Real or complex; not symmetric or Hermitian (for those, :class:`Eigh` is faster and exact
        in its symmetry).
    right : bool, default True
        Also return the right eigenvectors, unit-norm columns with their largest component real
        (LAPACK's ``geev`` normalisation); else ``w`` only.

    Notes
    -----
    ``w`` and ``V`` are complex for every input, real matrices included (their complex conjugate
    pairs of eigenvalues come consecutively, the one with positive imaginary part first;
    :func:`gpmath.linalg.eig` returns a real ``V`` where SciPy does).  Left
    eigenvectors are not offered: cuSOLVER's ``geev`` does not compute them.  The GPU engine runs
    ``cusolverDnXgeev`` one matrix at a time from order 129 on (the ``EIG`` crossover row); below,
    where cuSOLVER's QR iteration takes milliseconds a matrix, it copies the matrices to the host,
    runs LAPACK's ``geev`` there and copies the results back (the attribute ``routine`` says which:
    ``"geev"`` or ``"host geev"``).  ``execute(check=True)`` raises :class:`~gpmath.LinAlgError`
    naming the matrix whose QR iteration did not converge.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Eig
    >>> a = np.array([[0.0, -1.0], [1.0, 0.0]])  # a rotation: eigenvalues ±i
    >>> w, v = Eig(a).execute(check=True)
    >>> sorted(w.imag.round(6).tolist())
    [-1.0, 1.0]
    >>> bool(np.allclose(a @ v, v * w))
    True
    """

    def _configure(self, right: bool = True) -> None:
        self.right = bool(right)

    def _describe(self, ops):
        return P.describe_square(ops["a"])


class SVD(SolverPlan):
    """Plan the singular value decomposition ``a = U diag(s) Vh`` of a batch of matrices.

    Parameters
    ----------
    full_matrices : bool, default True
        U ``(..., M, M)`` and Vh ``(..., N, N)``; else ``(..., M, K)`` and ``(..., K, N)``.
    compute_uv : bool, default True
        Else return ``s`` only.
    driver : {None, "gesvd", "gesvdj"}
        GPU routine: ``"gesvd"`` (QR iteration, LAPACK-grade accuracy) or ``"gesvdj"`` (Jacobi:
        batched in one launch for M, N <= 32, much faster for many small matrices, accurate to
        its tolerance, ~machine epsilon times ``‖a‖``, so tiny singular values carry absolute,
        not relative, accuracy).  ``None`` picks by the measured crossover (for small real
        square matrices: gpmath's own Jacobi kernel, as accurate as ``"gesvdj"``).  The CPU uses
        LAPACK's ``gesdd``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import SVD
    >>> SVD(np.diag([1.0, 3.0, 2.0]), compute_uv=False).execute().tolist()
    [3.0, 2.0, 1.0]
    """

    def _configure(self, full_matrices: bool = True, compute_uv: bool = True, driver: str | None = None) -> None:
        _choice("driver", driver, SVD_DRIVERS)
        self.full_matrices, self.compute_uv, self.driver = bool(full_matrices), bool(compute_uv), driver

    def _describe(self, ops):
        return P.describe_matrix(ops["a"])


class Lstsq(SolverPlan):
    """Plan the least-squares solution of ``a x = b`` (as :func:`gpmath.linalg.lstsq`).

    *lapack_driver* ``"gelsd"`` goes through the SVD (any rank; returns ``s``); ``"gelsy"``
    through a QR factorisation (``s`` is None; on the GPU without pivoting, a batch holding a
    rank-deficient matrix solved again through the SVD).
    ``execute()`` returns ``(x, residues, rank, s)`` with SciPy 1.18's residues: for
    ``"gelsd"`` and M > N the squared column norms of ``b - a x`` (NaN for a matrix of rank
    below N), for ``"gelsy"`` and M <= N an empty ``(..., 0)``, for N = 0 those of ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Lstsq
    >>> a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> x, residues, rank, s = Lstsq(a, np.array([1.0, 2.0, 3.0])).execute()
    >>> x.round(6).tolist(), rank
    ([1.0, 2.0], 2)
    """

    operand_names = ("a", "b")

    def _configure(self, cond: float | None = None, lapack_driver: str = "gelsd") -> None:
        _choice("lapack_driver", lapack_driver, LSTSQ_DRIVERS)
        self.cond = None if cond is None else float(cond)
        self.lapack_driver = lapack_driver

    def _describe(self, ops):
        return P.describe_system(ops["a"], ops["b"], square_a=False)


class Pinv(SolverPlan):
    """Plan the Moore-Penrose pseudo-inverse of a batch of matrices (as :func:`scipy.linalg.pinv`).

    Through the thin SVD ``a = U diag(s) Vh``: singular values at most ``atol + rtol * max(s)``
    count as zero.  :meth:`execute` returns ``(b, rank)``, *b* of shape ``(..., N, M)``.

    Parameters
    ----------
    atol : float, optional
        Absolute threshold (default 0).
    rtol : float, optional
        Relative threshold (default ``max(M, N) * eps`` of the dtype, as SciPy's).

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Pinv
    >>> a = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])  # rank 1
    >>> b, rank = Pinv(a).execute(check=True)
    >>> rank, bool(np.allclose(a @ b @ a, a))
    (1, True)
    """

    def _configure(self, atol: float | None = None, rtol: float | None = None) -> None:
        for name, value in (("atol", atol), ("rtol", rtol)):
            if value is not None and not float(value) >= 0:
                raise ValueError(f"{name} must be a non-negative number, not {value!r}")
        self.atol, self.rtol = atol, rtol

    def _describe(self, ops):
        problem = P.describe_matrix(ops["a"])
        eps = float(np.finfo(DTYPES[problem.dtype.real].numpy).eps)
        self.cutoff = (0.0 if self.atol is None else float(self.atol),
                       max(problem.m, problem.n) * eps if self.rtol is None else float(self.rtol))
        return problem


class Inv(SolverPlan):
    """Plan the inverse of a batch of square matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Inv
    >>> Inv(np.array([[2.0, 0.0], [0.0, 4.0]])).execute().tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """

    def _describe(self, ops):
        return P.describe_square(ops["a"])


class Det(SolverPlan):
    """Plan the determinant (``log=False``) or ``(sign, logabsdet)`` (``log=True``) of square matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from gpmath.solver import Det
    >>> round(float(Det(np.array([[1.0, 2.0], [3.0, 4.0]])).execute()), 9)
    -2.0
    """

    def _configure(self, log: bool = False) -> None:
        self.log = bool(log)

    def _describe(self, ops):
        return P.describe_square(ops["a"])

