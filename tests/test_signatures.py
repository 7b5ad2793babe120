"""Every planner shows its real constructor parameters, accepts each of them, and a keyword typo
names the public class; every public function and method is typed."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from gpmath._core.engines import TABLE

_SPD = np.array([[4.0, 1.0], [1.0, 3.0]])
_RHS = np.array([1.0, 2.0])
OPERANDS = {  # valid operands of each front
    "Matmul": (_SPD, _SPD), "FFT": (np.ones(8, complex),), "Cholesky": (_SPD,),
    "CholeskySolve": (np.linalg.cholesky(_SPD).T.copy(), _RHS), "Solve": (_SPD, _RHS), "Eigh": (_SPD,),
    "LU": (_SPD,), "LUSolve": (_SPD, np.array([1, 2], np.int32), _RHS), "Inv": (_SPD,), "Det": (_SPD,),
    "SolveTriangular": (np.triu(_SPD), _RHS), "QR": (_SPD,), "Eig": (_SPD,), "SVD": (_SPD,),
    "Lstsq": (_SPD, _RHS), "Pinv": (_SPD,),
}


def front(name: str) -> type:
    return getattr(importlib.import_module(TABLE[name][0].partition(":")[0].rsplit(".", 1)[0]), name)


def test_every_front_is_covered():
    assert OPERANDS.keys() == TABLE.keys()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_signature_lists_the_real_parameters(name):
    parameters = inspect.signature(front(name)).parameters
    assert not [p for p in parameters.values() if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)], parameters
    assert {"execution", "stream", "device_id"} <= parameters.keys()
    assert "options" not in parameters  # a front without options of its own shows none
    assert not [p.name for p in parameters.values() if p.annotation is p.empty], parameters


PUBLIC = ("gpmath", "gpmath.blas", "gpmath.fft", "gpmath.linalg", "gpmath.solver", "gpmath.distributed")


def _untyped(function) -> list[str]:
    """The parameters of *function* without a type hint (``*args``/``**kwargs`` aside), and
    ``return`` where its return type is missing."""
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name not in ("self", "cls") and p.annotation is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return missing + (["return"] if signature.return_annotation is inspect.Signature.empty else [])


@pytest.mark.parametrize("module", PUBLIC)
def test_every_public_function_and_method_is_typed(module):
    found = {}
    for name in importlib.import_module(module).__all__:
        obj = getattr(importlib.import_module(module), name)
        if inspect.isfunction(obj):
            found[name] = _untyped(obj)
        elif inspect.isclass(obj):
            found.update({f"{name}.{method}": _untyped(function)
                          for method, function in inspect.getmembers(obj, inspect.isfunction) if not method.startswith("_")})
    assert found and not {name: missing for name, missing in found.items() if missing}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_keyword_of_the_signature_is_accepted(name):
    cls = front(name)
    keywords = {p.name: p.default for p in inspect.signature(cls).parameters.values()
                if p.kind is p.KEYWORD_ONLY and p.default is not inspect.Parameter.empty}
    with cls(*OPERANDS[name], **keywords) as plan:
        plan.plan()
        plan.execute()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_a_keyword_typo_names_the_public_class(name):
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument 'lowr'$"):
        front(name)(*OPERANDS[name], lowr=True)
