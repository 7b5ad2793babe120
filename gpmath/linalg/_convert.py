"""SciPy's input conventions for :mod:`gpmath.linalg`: array-likes, dtype promotion, ``assume_a``.

SciPy computes in LAPACK's four types and converts what it is given: array-likes (lists, tuples,
scalars) as NumPy reads them, the operands' common dtype as :func:`numpy.result_type` finds it,
then bool and integers to float64 and float16 to float32.  The fronts call :func:`operands`
before they plan, so the planners (which compute in float32, float64, complex64 and complex128
only and refuse anything else) see what SciPy's LAPACK calls would see.  The conversion runs in
the operands' own package and memory space (a torch integer tensor on a GPU becomes a float64
tensor there); an array-like given beside an array becomes an array of that array's package, on
its device.
"""

from __future__ import annotations

import numpy as np

from .._core.finite import require_finite
from .._core.packages import as_array, known_package, package_of

__all__ = ["as_matrix", "compute_dtype", "host_ready", "identity", "operands", "prepared", "referenced", "structure",
           "written_into"]

_NUMPY_NAMES = {"bfloat16": "float32", "complex32": "complex64"}  # dtypes NumPy does not know, as it would read them


def compute_dtype(names: list, integers_to_double: bool = False) -> str:
    """The LAPACK dtype SciPy computes in for operands of dtypes *names* (names, or NumPy dtypes).

    SciPy promotes the common dtype with float32 (so bool, 8- and 16-bit integers and float16
    compute in float32, wider integers in float64); its ``solve`` and (SciPy 1.18) ``lstsq``
    (*integers_to_double*) compute any integer or bool dtype in float64.

    Examples
    --------
    >>> compute_dtype(["int64"]), compute_dtype(["int8"]), compute_dtype(["int8"], integers_to_double=True)
    ('float64', 'float32', 'float64')
    >>> compute_dtype(["float16"]), compute_dtype(["float32", "complex128"]), compute_dtype(["bool", "float32"])
    ('float32', 'complex128', 'float32')
    """
    dtypes = [name if isinstance(name, np.dtype) else np.dtype(_NUMPY_NAMES.get(name, name)) for name in names]
    try:
        common = np.result_type(*dtypes)
    except TypeError:  # NumPy's DTypePromotionError
        raise TypeError(f"the operands' dtypes {', '.join(map(str, dtypes))} have no common type") from None
    if common.kind in "SUVO":  # SciPy's ValueError for strings, bytes, void and objects
        raise ValueError(f"gpmath.linalg computes on numbers, not on arrays of dtype {common}")
    if common.kind not in "biufc":
        raise TypeError(f"gpmath.linalg computes on numbers, not on arrays of dtype {common}")
    floor = np.float64 if integers_to_double and common.kind in "biu" else np.float32
    promoted = np.result_type(common, floor)
    if promoted.kind == "c":
        return "complex64" if promoted.itemsize <= 8 else "complex128"
    return "float32" if promoted.itemsize <= 4 else "float64"


def operands(*, integers_to_double: bool = False, **named) -> tuple:
    """The named operands (None skipped and returned as None) as arrays of one package in their
    common LAPACK dtype (:func:`compute_dtype`); an operand already in it is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = operands(a=[[2, 0], [0, 4]], b=np.ones(2, dtype=np.float32))
    >>> a.dtype, b.dtype
    (dtype('float64'), dtype('float64'))
    >>> operands(a=np.eye(2, dtype=np.int8))[0].dtype
    dtype('float32')
    """
    if _ready(named.values()):
        return tuple(named.values())
    arrays = {name: as_array(x, name) for name, x in named.items() if x is not None}
    lead = next(((x, pkg) for name, (x, pkg) in arrays.items() if x is named[name]), None)
    if lead is not None:
        arrays = {name: _into(lead, x, pkg, x is named[name]) for name, (x, pkg) in arrays.items()}
    names = [x.dtype if isinstance(x.dtype, np.dtype) else pkg.dtype_name(x) for x, pkg in arrays.values()]
    target = compute_dtype(names, integers_to_double) if arrays else None
    converted = {name: x if pkg.dtype_name(x) == target else pkg.astype(x, target) for name, (x, pkg) in arrays.items()}
    return tuple(converted.get(name) for name in named)


_LAPACK = frozenset(("float32", "float64", "complex64", "complex128"))


def _ready(values) -> bool:
    """Whether *values* (None skipped) are arrays of one known package already in one LAPACK
    dtype: the common case, which needs no conversion (checked in a few attribute reads)."""
    seen = None
    for x in values:
        if x is None:
            continue
        pkg = known_package(x)
        if pkg is None:
            return False
        here = (pkg, pkg.dtype_name(x))
        if seen is None:
            seen = here
        elif here != seen:
            return False
    return seen is None or seen[1] in _LAPACK


def _into(lead: tuple, x, pkg, given_as_array: bool) -> tuple:
    """*x* as an array of the lead operand's package on its device (array-likes only)."""
    lead_array, lead_pkg = lead
    if given_as_array or lead_pkg is pkg:
        return x, pkg
    converted = lead_pkg.asarray(x, lead_pkg.device_id(lead_array))
    return converted, known_package(converted) or lead_pkg


_STRUCTURES = {
    None: "auto", "gen": "gen", "general": "gen", "sym": "sym", "symmetric": "sym", "her": "her",
    "hermitian": "her", "pos": "pos", "positive definite": "pos", "diagonal": "diagonal",
    "tridiagonal": "tridiagonal", "banded": "gen", "upper triangular": "upper triangular",
    "lower triangular": "lower triangular",
}


class UnknownStructure(ValueError, KeyError):
    """An ``assume_a`` name SciPy does not know: a ``ValueError``, as ``scipy.linalg.solve`` raises,
    and a ``KeyError``, as ``scipy.linalg.inv`` raises."""

    def __str__(self) -> str:
        return str(self.args[0])


def structure(assume_a: str | None) -> str:
    """SciPy's ``assume_a`` name (short or long, or None) as the route gpmath solves by:
    ``"gen"``, ``"sym"``, ``"her"``, ``"pos"``, ``"diagonal"``, ``"tridiagonal"``, a triangle, or
    for None ``"auto"`` (the general route; on the CPU one matrix's structure is detected first, as
    SciPy detects it; on the GPU that would read the whole matrix once more).

    Tridiagonal matrices (their three diagonals, :func:`referenced`) and banded ones are solved by
    the general LU (the same solution; cuSOLVER has no batched banded solver).

    Examples
    --------
    >>> structure("positive definite"), structure(None), structure("banded")
    ('pos', 'auto', 'gen')
    >>> structure("spd")
    Traceback (most recent call last):
    ...
    gpmath.linalg._convert.UnknownStructure: spd is not a recognized matrix structure
    """
    try:
        return _STRUCTURES[assume_a]
    except (KeyError, TypeError):
        raise UnknownStructure(f"{assume_a} is not a recognized matrix structure") from None


_HOST_READY = frozenset(np.dtype(char) for char in "fdFD")  # LAPACK's dtypes in native byte order


def prepared(check_finite: bool, *, integers_to_double: bool = False, devices_later: bool = False, **named) -> tuple:
    """:func:`operands`, then SciPy's ``check_finite`` test on them (:func:`require_finite`); with
    *devices_later*, device operands are left untested, for the caller's plan (:func:`checked_by_plan`).

    NumPy operands of one LAPACK dtype in native byte order (the common case of a call on the
    CPU) are taken as they are, without the general conversion.
    """
    if host_ready(named.values()):
        if check_finite:
            require_finite(True, **named)
        return tuple(named.values())
    arrays = operands(integers_to_double=integers_to_double, **named)
    if check_finite and not (devices_later and checked_by_plan(True, arrays[0])):
        require_finite(True, **dict(zip(named, arrays)))
    return arrays


def checked_by_plan(check_finite: bool, a) -> bool:
    """Whether a front hands ``check_finite`` to its plan (``Cholesky``, ``Solve``) instead of
    testing the operands itself: for device operands, which the plan's one-warp kernels test at no
    sync of their own; host operands the front tests at once (a scan, no sync), as every front does.

    Examples
    --------
    >>> import numpy as np
    >>> checked_by_plan(True, np.eye(2))
    False
    """
    return bool(check_finite) and known_package(a).device_id(a) is not None


def host_ready(values) -> bool:
    """Whether *values* (None skipped) are NumPy arrays of one dtype of :data:`_HOST_READY`: what
    :func:`prepared` takes as it is.

    Examples
    --------
    >>> import numpy as np
    >>> host_ready([np.eye(2), None]), host_ready([np.eye(2, dtype=int)]), host_ready([np.eye(2), np.eye(2, dtype="f")])
    (True, False, False)
    """
    dtype = None
    for x in values:
        if x is None:
            continue
        if type(x) is not np.ndarray or (dtype is not None and x.dtype != dtype) or x.dtype not in _HOST_READY:
            return False
        dtype = x.dtype
    return dtype is not None


def as_matrix(x):
    """*x* with a leading axis of one added until it has two: a scalar as ``(1, 1)``, a vector as
    one row, as ``numpy.atleast_2d`` reads them (SciPy's ``cholesky`` and ``cho_factor`` do).

    Examples
    --------
    >>> import numpy as np
    >>> as_matrix(np.float64(4.0)).shape, as_matrix(np.ones(3)).shape, as_matrix(np.ones((2, 2))).shape
    ((1, 1), (1, 3), (2, 2))
    """
    pkg = package_of(x, "a")
    while len(x.shape) < 2:
        x = pkg.expand_dims(x, 0)
    return x


def written_into(operand, result, *, fortran: bool = False):
    """SciPy's ``overwrite_a``/``overwrite_b``: *result* written over the leading block of
    *operand* (all of it, or its leading rows or columns) and that block returned (*operand*
    itself where the shapes agree), where SciPy (1.18) computes in place; else *result*.

    SciPy computes in place in an operand of one matrix or vector (not a batch), already in the
    result's dtype, writable and C- or F-contiguous (a Hermitian operand's layout does not
    matter), or, with *fortran*, F-contiguous: LAPACK's layout, which a NumPy array alone can
    be handed in (other packages' arrays are then left alone); the operand must hold *result*
    (as many dimensions, none shorter).

    Examples
    --------
    >>> import numpy as np
    >>> a, c = np.eye(2), np.full((2, 2), 3.0)
    >>> written_into(a, c) is a, a.tolist()
    (True, [[3.0, 3.0], [3.0, 3.0]])
    >>> written_into(np.eye(2, dtype=np.int64), c) is c  # SciPy computes int64 in a float64 copy
    True
    >>> b = np.zeros((3, 1))
    >>> written_into(b, np.ones((2, 1)), fortran=True).base is b, b.ravel().tolist()
    (True, [1.0, 1.0, 0.0])
    """
    pkg, result_pkg = known_package(operand), known_package(result)
    if pkg is None or pkg is not result_pkg or len(operand.shape) > 2 or len(operand.shape) != len(result.shape):
        return result
    if fortran and not (pkg.host_only and operand.flags.f_contiguous):  # a NumPy array in LAPACK's layout
        return result
    if pkg.dtype_name(operand) != pkg.dtype_name(result) or any(r > o for r, o in zip(result.shape, operand.shape)):
        return result
    if pkg.device_id(operand) != pkg.device_id(result) or not pkg.overwritable(operand):
        return result
    block = operand if tuple(operand.shape) == tuple(result.shape) else operand[tuple(map(slice, result.shape))]
    pkg.copy_into(block, result)
    return block


def identity(a):
    """The ``(N, N)`` identity in the dtype, package and device of *a* ``(..., N, N)``.

    >>> import numpy as np
    >>> identity(np.ones((2, 3, 3), np.float32)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    pkg = known_package(a)
    n = a.shape[-1]
    upper = pkg.upper_copy(pkg.zeros((n, n), a) + 1)
    return upper * pkg.swap(upper)


def referenced(a, route: str, lower: bool):
    """The matrix SciPy's *route* reads of *a*, so that what it never reads cannot change a
    result: for ``"diagonal"`` the diagonal alone; for ``"tridiagonal"`` the three diagonals
    (``?gtsv``'s), zeros elsewhere; for ``"sym"`` and ``"her"`` the triangle *lower* names,
    mirrored (conjugated for ``"her"``, whose diagonal is taken as real, as LAPACK's ``hetrf``
    takes it); *a* itself for every other route.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 2.0], [np.nan, 4.0]])
    >>> referenced(a, "sym", lower=False).tolist(), referenced(a, "diagonal", lower=False).tolist()
    ([[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 4.0]])
    >>> referenced(np.full((3, 3), 5.0), "tridiagonal", lower=False).tolist()
    [[5.0, 5.0, 0.0], [5.0, 5.0, 5.0], [0.0, 5.0, 5.0]]
    """
    if route not in ("diagonal", "tridiagonal", "sym", "her"):
        return a
    pkg = known_package(a)
    index = pkg.arange_like(0, a.shape[-1], pkg.diagonal(a).real)  # (on a's device, in a's real dtype: exact)
    offset = index[None, :] - index[:, None]  # j - i at (i, j)
    if route == "diagonal":
        return pkg.where(offset == 0, a, 0)
    if route == "tridiagonal":
        return pkg.where(abs(offset) <= 1, a, 0)
    triangle = pkg.swap(pkg.upper_copy(pkg.swap(a))) if lower else pkg.upper_copy(a)
    mirrored = triangle + pkg.swap(triangle, conjugate=route == "her")  # (the diagonal twice)
    if route == "her" and pkg.is_complex(a):
        triangle = (triangle + pkg.conj(triangle)) / 2  # its diagonal as real, as hetrf reads it
    return pkg.where(offset == 0, triangle, mirrored)
