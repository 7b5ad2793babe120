"""Solve batched linear systems and decompose matrices with gpmath.linalg (runs on CPU or GPU)."""

import numpy as np

from gpmath import linalg
from gpmath.solver import Cholesky

rng = np.random.default_rng(0)
x = rng.standard_normal((8, 16, 16))
a = x @ x.transpose(0, 2, 1) / 16 + np.eye(16)  # 8 symmetric positive-definite matrices
b = rng.standard_normal((8, 16, 2))

sol = linalg.solve(a, b, assume_a="pos")
print("max residual, pos solve:", float(np.abs(a @ sol - b).max()))

sol, info = linalg.solve(a, b, refine="mixed", full_output=True)
print("mixed precision:", info)

w, v = linalg.eigh(a)
print("smallest eigenvalue of each matrix:", w[:, 0].round(3))

with Cholesky(a, lower=True) as plan:  # a reusable plan: factor many batches of the same shape
    for scale in (1.0, 2.0):
        plan.reset_operands(scale * a)
        low = plan.execute(check=True)
        print("scale", scale, "reconstruction error:", float(np.abs(low @ low.transpose(0, 2, 1) - scale * a).max()))

try:
    linalg.cholesky(np.diag([1.0, -1.0, 1.0]))
except linalg.LinAlgError as exc:
    print("LinAlgError:", exc)
