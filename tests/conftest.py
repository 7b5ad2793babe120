"""Shared pytest configuration: the ``gpu`` marker and random inputs."""

from __future__ import annotations

import numpy as np
import pytest

import gpmath
from gpmath._core import runtime


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs an NVIDIA GPU (skipped where there is none)")


def pytest_collection_modifyitems(config, items):
    if runtime.device_count() > 0:
        return
    skip = pytest.mark.skip(reason=f"no GPU: {runtime.no_gpu_reason()}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng()


@pytest.fixture(autouse=True)
def _fresh_cache():
    yield
    gpmath.cache_clear()
