"""Every candidate autotune times computes the right product, on a GPU: the heuristics' results
and, for few output tiles along a long k, the split-K variants autotune adds (each accepted by
cublasLtMatmulAlgoCheck); the one autotune keeps is used by execute."""

from __future__ import annotations

import numpy as np
import pytest

from gpmath.blas import Matmul

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("m, n, k, dtype", [(128, 128, 65536, "float32"), (64, 96, 20000, "float64"),
                                            (3000, 5000, 70, "float32")])
def test_every_candidate_is_right(m, n, k, dtype):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for torch")
    rng = np.random.default_rng(k)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    da, db = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
    tolerance = (3e-3 if dtype == "float32" else 1e-10) * np.abs(expected).max()
    with Matmul(da, db, compute="pedantic" if dtype == "float32" else None) as plan:
        plan.plan()
        planned = len(plan.algorithms)
        timings = plan.autotune(iterations=2)
        split = [r for r in plan.algorithms[planned:] if bytes(r.algo) not in {bytes(x.algo) for x in plan.algorithms[:planned]}]
        if m * n <= 128 * 128 * 2 and k >= 20000:
            assert split, "few tiles along a long k: autotune adds candidates"
        chosen = plan._algorithm_index
        for index in range(len(plan.algorithms)):
            plan._select(index, quiet=True)
            result = plan.execute().cpu().numpy()
            assert np.abs(result - expected).max() <= tolerance, f"candidate {index} of {len(plan.algorithms)}"
        plan._select(chosen, quiet=True)
        assert chosen in timings
