"""bench/sanitize_plugin.py: the tests it records (those starting a child process or launching one of
gpmath's kernels) and the tests it selects and leaves out, in a pytest run of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[1] / "bench"

CASES = '''
import subprocess
from gpmath._core import kernels


def test_quiet():
    assert 1 + 1 == 2


def test_child():
    subprocess.run(["true"], check=True)


def test_launch(monkeypatch):
    class Fake:  # a Launch whose driver call does nothing
        _launch = staticmethod(lambda *args: (0,))
        function, grid, block, shared, _params = None, 1, 1, 0, 0
    kernels.Launch.__call__(Fake(), 0)
'''


def _run(folder: Path, **env) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "sanitize_plugin", "cases.py"]
    paths = os.pathsep.join([str(BENCH), str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(command, cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": paths, **env})


def test_records_the_tests_that_launch_kernels_or_start_children(tmp_path):
    (tmp_path / "cases.py").write_text(CASES)
    done = _run(tmp_path, SANITIZE_RECORD=str(tmp_path / "rec"))
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = {line for path in tmp_path.glob("rec.*") for line in path.read_text().split()}
    assert recorded == {"cases.py::test_child", "cases.py::test_launch"}


def test_selects_and_leaves_out_by_node_id(tmp_path):
    (tmp_path / "cases.py").write_text(CASES)
    (tmp_path / "only").write_text("cases.py::test_quiet\ncases.py::test_child\n")
    (tmp_path / "done").write_text("cases.py::test_child\n")
    done = _run(tmp_path, SANITIZE_SELECT=str(tmp_path / "only"), SANITIZE_DESELECT=str(tmp_path / "done"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 deselected" in done.stdout
