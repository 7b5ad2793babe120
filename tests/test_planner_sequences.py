"""Random sequences of planner calls against the planner contract, every planner, NumPy and torch.

Hypothesis draws a planner, its operands, and a sequence of ``plan``, ``execute``,
``reset_operands`` (with operands of the planned layout, or of another shape), ``release_operands``,
``reset_operands_unchecked``, ``execute_with``, ``autotune`` and ``free``.  A model of the plan's
state (bound or not, freed or not, the operands bound) says what each call must do: results equal
NumPy/SciPy's on the operands bound at that moment; a call on an unbound plan raises ``ValueError``,
on a freed one ``FreedPlanError``; an operand of another shape ``ValueError``; nothing else ever
escapes (no ``AttributeError``, ``NotImplementedError`` or ``IndexError``).  The CPU engines run
here; the gpu variants run the CUDA engines on torch CUDA tensors.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import scipy.linalg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpmath.blas import Matmul
from gpmath.fft import DCT, DST, FFT
from gpmath.solver import LU, QR, SVD, Cholesky, Det, Eig, Eigh, Inv, Lstsq, Pinv, Solve, SolveTriangular
from gpmath._errors import FreedPlanError, LinAlgError

from helpers import examples, to_numpy

SEQUENCES = settings(max_examples=examples(60), deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


# name: (class, operands of size n, reference of the operands (None: no unique answer), execute's arguments)
PLANNERS = {
    "Matmul": (Matmul, lambda rng, n: (rng.standard_normal((n, 3)), rng.standard_normal((3, 5))),
               lambda a, b: a @ b, {}),
    "FFT": (FFT, lambda rng, n: (rng.standard_normal((3, n)) + 1j * rng.standard_normal((3, n)),),
            scipy.fft.fftn, {}),
    "DCT": (DCT, lambda rng, n: (rng.standard_normal((3, n)),), scipy.fft.dctn, {}),
    "DST": (DST, lambda rng, n: (rng.standard_normal((3, n)),), scipy.fft.dstn, {}),
    "Solve": (Solve, lambda rng, n: (_spd(rng, n), rng.standard_normal((n, 2))), np.linalg.solve, {"check": True}),
    "Inv": (Inv, lambda rng, n: (_spd(rng, n),), np.linalg.inv, {"check": True}),
    "Det": (Det, lambda rng, n: (_spd(rng, n),), np.linalg.det, {"check": True}),
    "SolveTriangular": (SolveTriangular, lambda rng, n: (np.triu(_spd(rng, n)), rng.standard_normal(n)),
                        scipy.linalg.solve_triangular, {"check": True}),
    "Cholesky": (Cholesky, lambda rng, n: (_spd(rng, n),), lambda a: scipy.linalg.cholesky(a), {"check": True}),
    "Eigh": (Eigh, lambda rng, n: (_spd(rng, n),), None, {"check": True}),
    "Eigh(a, b)": (Eigh, lambda rng, n: (_spd(rng, n), _spd(rng, n)), None, {"check": True}),
    "LU": (LU, lambda rng, n: (_spd(rng, n),), None, {"check": True}),
    "QR": (QR, lambda rng, n: (rng.standard_normal((n, 3)),), None, {"check": True}),
    "SVD": (SVD, lambda rng, n: (rng.standard_normal((n, 3)),), None, {"check": True}),
    "Eig": (Eig, lambda rng, n: (_spd(rng, n),), None, {"check": True}),
    "Pinv": (Pinv, lambda rng, n: (rng.standard_normal((n, 3)),), np.linalg.pinv, {"check": True}),
    "Lstsq": (Lstsq, lambda rng, n: (rng.standard_normal((n + 2, n)), rng.standard_normal(n + 2)), None,
              {"check": True}),
}
ACTIONS = ("plan", "execute", "reset", "reset other shape", "release", "reset unchecked", "execute_with", "autotune",
           "free")


def _package(request):
    if request.param == "numpy":
        return lambda x: x, {"execution": "cpu"}
    torch = pytest.importorskip("torch")
    device = "cpu" if request.param == "torch-cpu" else "cuda"
    return (lambda x: torch.from_numpy(np.ascontiguousarray(x)).to(device)), {}


@pytest.fixture(params=["numpy", "torch-cpu", pytest.param("torch", marks=pytest.mark.gpu)])
def package(request):
    """``(convert, constructor options)``: NumPy and torch CPU arrays on the CPU engines, torch CUDA
    tensors on the CUDA engines."""
    return _package(request)


def _check_result(result, reference, operands) -> None:
    if reference is None:
        return
    expected = reference(*operands)
    got = to_numpy(result[0] if isinstance(result, tuple) else result)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9 * max(1.0, float(np.abs(expected).max(initial=0))))


@pytest.mark.parametrize("name", PLANNERS)
@SEQUENCES
@given(data=st.data())
def test_random_sequences_of_planner_calls_keep_the_contract(package, name, data):
    convert, options = package
    cls, make, reference, run = PLANNERS[name]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    n = data.draw(st.integers(2, 6), label="n")
    bound = make(rng, n)
    plan = cls(*map(convert, bound), **options)
    freed, is_bound = False, True
    for action in data.draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=10), label="actions"):
        fresh = make(rng, n)
        try:
            if action == "plan":
                plan.plan()
            elif action == "execute":
                result = plan.execute(**run)
                assert not freed and is_bound, "executed a freed or unbound plan"
                _check_result(result, reference, bound)
            elif action == "reset":
                plan.reset_operands(*map(convert, fresh))
                assert not freed
                bound, is_bound = fresh, True
            elif action == "reset other shape":
                plan.reset_operands(*map(convert, make(rng, n + 1)))
                raise AssertionError("an operand of another shape was accepted")
            elif action == "release":
                plan.release_operands()
                is_bound = False
            elif action == "reset unchecked":
                plan.reset_operands_unchecked(*map(convert, fresh))
                bound, is_bound = fresh, True
            elif action == "execute_with":
                result = plan.execute_with(*map(convert, fresh), **run)
                assert not freed
                _check_result(result, reference, fresh)
                is_bound = False
            elif action == "autotune":
                plan.autotune()
            else:
                plan.free()
                freed = True
        except FreedPlanError:
            assert freed, f"{action}: FreedPlanError from a live plan"
        except ValueError as error:
            assert freed or not is_bound or action == "reset other shape", f"{action}: {error}"
        except LinAlgError as error:  # the operands are well conditioned: never
            raise AssertionError(f"{action}: {error}") from error
