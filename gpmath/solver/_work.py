"""What a solver plan costs, for automatic placement (:mod:`gpmath._core.placement`).

For a batch of M x N matrices (K = min(M, N), L = max(M, N)) with R right-hand sides, a front
costs ``batch * (cube * K² L + square * K² R)`` flops, 4 times that for complex dtypes: textbook
operation counts, rounded (LU 2/3 n³, Cholesky 1/3 n³, QR 4/3 n³, a triangular solve n² per
right-hand side ...).  They only need to be consistent within a family: each family's rates are
measured on its own calibration problem through the same formulas.  Every operand is copied in;
what comes out is the size of ``a``, of ``b``, one value per row or column, or one per matrix.
``Solve(condition=True)`` adds its estimate's triangular solves as steps
(:attr:`~gpmath._core.placement.Work.steps`): on a GPU each is launch-bound, so they can make the CPU
the faster side for a moderate matrix that the solve alone would send to the GPU.
"""

from __future__ import annotations

import math

from .._core.placement import Work, flop_factor, itemsize
from ._condition import SOLVES

__all__ = ["COSTS", "VALUES_ONLY", "solver_work"]

# front -> (family, cube, square, what comes out: "a", "b", "values" or "scalar")
COSTS: dict[str, tuple[str, float, float, str]] = {
    "Cholesky": ("cholesky", 1 / 3, 0, "a"),
    "CholeskySolve": ("triangular", 0, 2, "b"),
    "LU": ("lu", 2 / 3, 0, "a"),
    "LUSolve": ("triangular", 0, 2, "b"),
    "Solve": ("lu", 2 / 3, 2, "b"),
    "Inv": ("lu", 2, 0, "a"),
    "Det": ("lu", 2 / 3, 0, "scalar"),
    "SolveTriangular": ("triangular", 0, 1, "b"),
    "QR": ("qr", 4 / 3, 0, "a"),
    "Eigh": ("eigh", 9, 0, "a"),
    "Eig": ("eig", 25, 0, "a"),
    "SVD": ("svd", 22, 0, "a"),
    "Lstsq": ("svd", 22, 2, "b"),
    "Pinv": ("svd", 22, 0, "a"),
}
# front -> (option, its value that asks for values only, cube then)
VALUES_ONLY: dict[str, tuple[str, bool, float]] = {
    "Eigh": ("eigvals_only", True, 4 / 3),
    "Eig": ("right", False, 10),
    "SVD": ("compute_uv", False, 4),
}


def solver_work(front: str, shapes: tuple, dtype: str, options: dict) -> Work:
    """The :class:`~gpmath._core.placement.Work` of solver front *front* on operands of *shapes*
    (the matrix first, the right-hand sides last) in *dtype*, with *options*.

    Examples
    --------
    >>> solver_work("Solve", ((100, 100), (100,)), "float64", {}).flops == 2 / 3 * 100**3 + 2 * 100**2
    True
    >>> solver_work("Solve", ((100, 100), (100,)), "float64", {"condition": True}).steps
    (('triangular', 20000, 6),)
    """
    family, cube, square, result = COSTS[front]
    if front in VALUES_ONLY:
        option, value, values_cube = VALUES_ONLY[front]
        if bool(options.get(option, not value)) == value:
            cube, result = values_cube, "values"
    a, b = shapes[0], shapes[-1] if square else None
    m, n = (a[-2] if len(a) > 1 else 1), (a[-1] if a else 1)
    small, large = min(m, n), max(m, n)
    batch = max(math.prod(a[:-2]), math.prod(b[:-2]) if b else 1)
    rhs = 0 if b is None else b[-1] if len(b) > 1 else 1
    flops = batch * (cube * small * small * large + square * small * small * rhs) * flop_factor(dtype)
    out = {"a": batch * m * n, "b": math.prod(b) if b else 0, "values": batch * small, "scalar": batch}[result]
    size = itemsize(dtype)
    # Solve(condition=True) then estimates each matrix's condition: SOLVES solves of one vector, each a
    # pair of triangular solves, batched (a host-bound handful of launches each on a GPU)
    steps = (("triangular", batch * 2 * small * small * flop_factor(dtype), SOLVES),) if (
        front == "Solve" and options.get("condition") and options.get("refine") is None) else ()
    return Work(family, dtype, flops, size * sum(math.prod(s) for s in shapes if s is not None), size * out, steps)
