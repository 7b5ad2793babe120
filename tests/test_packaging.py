"""The install extras pin one consistent CUDA stack each (pyproject.toml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")
PROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _names(requirements) -> dict[str, str]:
    """``{name: version specifier}`` of requirement strings."""
    found = {}
    for requirement in requirements:
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
        found[name.lower()] = spec
    return found


@pytest.mark.parametrize("extra", ["cu12", "distributed-cu12"])
def test_cuda12_extras_take_cuda12_wheels_and_bindings(extra):
    names = _names(EXTRAS[extra])
    assert names["cuda-bindings"] == ">=12.6,<13"
    nvidia = [n for n in names if n.startswith("nvidia-")]
    assert nvidia and all(n.endswith("-cu12") for n in nvidia), nvidia


@pytest.mark.parametrize("extra", ["cu13", "distributed"])
def test_cuda13_extras_take_cuda13_wheels_and_bindings(extra):
    names = _names(EXTRAS[extra])
    assert names["cuda-bindings"] == ">=13,<14"
    assert not [n for n in names if n.endswith(("-cu11", "-cu12"))]


def test_the_base_requirements_leave_the_cuda_major_to_the_extras():
    names = _names(PROJECT["dependencies"])
    assert "cuda-python" not in names  # the metapackage would pull cuda-bindings 13 into a cu12 install
    assert "<" not in names["cuda-bindings"] and "cuda-pathfinder" in names
