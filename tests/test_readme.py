"""The README's Python snippets run as written: the CPU ones everywhere, those marked "GPU only"
on a GPU machine."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
# (text before the block, code) for every ```python block
BLOCKS = [(m.group(1), m.group(2)) for m in re.finditer(r"([^\n]*)\n+```python\n(.*?)```", README, re.S)]


def test_the_readme_has_snippets():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", [i for i, (before, _) in enumerate(BLOCKS) if "GPU only" not in before])
def test_snippet_runs(index):
    _run(BLOCKS[index][1])


@pytest.mark.gpu
@pytest.mark.parametrize("index", [i for i, (before, _) in enumerate(BLOCKS) if "GPU only" in before])
def test_gpu_only_snippet_runs(index):
    pytest.importorskip("torch")
    _run(BLOCKS[index][1])


def _run(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
