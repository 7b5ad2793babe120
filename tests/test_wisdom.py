"""gpmath.wisdom's store and files, without a GPU: entries kept per kind, key and machine, saved
and loaded as JSON, read from GPMATH_WISDOM at the first lookup, foreign entries never used."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

import gpmath
from gpmath._core import wisdom


@pytest.fixture(autouse=True)
def empty(monkeypatch):
    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_told", set())
    monkeypatch.setattr(wisdom, "_environment", {"read": True})


KEY = ("float32", None, None, 1, [[0, 64, 64, 64, 0], [0, 64, 64, 64, 0], None, [0, 64, 64, 64, 0]], [256] * 4, 1 << 25)


def test_a_choice_is_found_under_its_kind_key_and_machine_only():
    wisdom.record("matmul", "GPU A, sm_90, cublasLt 1", KEY, {"algo": "00", "ms": 1.5})
    assert wisdom.lookup("matmul", "GPU A, sm_90, cublasLt 1", KEY) == {"algo": "00", "ms": 1.5}
    assert wisdom.lookup("matmul", "GPU A, sm_90, cublasLt 2", KEY) is None
    assert wisdom.lookup("fft", "GPU A, sm_90, cublasLt 1", KEY) is None
    assert wisdom.lookup("matmul", "GPU A, sm_90, cublasLt 1", KEY[:-1] + (1 << 20,)) is None
    assert wisdom.lookup("matmul", "GPU A, sm_90, cublasLt 1", list(KEY)) is not None  # a key is its JSON text


def test_save_and_load_round_trip_every_machine(tmp_path):
    wisdom.record("matmul", "GPU A", KEY, {"algo": "01", "ms": 1.0})
    wisdom.record("matmul", "GPU B", KEY, {"algo": "02", "ms": 2.0})
    path = tmp_path / "w.json"
    assert gpmath.wisdom.save(path) == 2
    saved = json.loads(path.read_text())
    assert saved["format"] == 1 and [e["machine"] for e in saved["entries"]] == ["GPU A", "GPU B"]
    gpmath.wisdom.clear()
    assert gpmath.wisdom.entries() == []
    assert gpmath.wisdom.load(path) == 2
    assert wisdom.lookup("matmul", "GPU B", KEY) == {"algo": "02", "ms": 2.0}
    wisdom.record("matmul", "GPU B", KEY, {"algo": "03", "ms": 0.5})
    gpmath.wisdom.load(path)  # the file's entry replaces the store's
    assert wisdom.lookup("matmul", "GPU B", KEY)["algo"] == "02"


@pytest.mark.parametrize("content", ["not json", json.dumps({"format": 2, "entries": []}), json.dumps([1, 2]),
                                     json.dumps({"format": 1, "entries": [{"kind": "matmul"}]}),
                                     json.dumps({"format": 1, "entries": [{"kind": "matmul", "machine": "m",
                                                                          "key": ["k", ["x"]], "choice": {}}]}),
                                     json.dumps({"format": 1, "entries": [{"kind": "solver", "machine": 3,
                                                                          "key": "FACTOR", "choice": {}}]}),
                                     json.dumps({"format": 1, "entries": [{"kind": "solver", "machine": "m",
                                                                          "key": "FACTOR", "choice": [[1, 2]]}]})])
def test_a_file_that_is_not_wisdom_is_refused_by_name(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="bad.json.* is not a gpmath wisdom file"):
        gpmath.wisdom.load(path)
    assert gpmath.wisdom.entries() == []


def test_the_environment_names_a_file_read_at_the_first_lookup(tmp_path, monkeypatch, caplog):
    wisdom.record("matmul", "GPU A", KEY, {"algo": "01", "ms": 1.0})
    path = tmp_path / "w.json"
    gpmath.wisdom.save(path)
    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_environment", {"read": False})
    monkeypatch.setenv("GPMATH_WISDOM", str(path))
    assert wisdom.lookup("matmul", "GPU A", KEY) == {"algo": "01", "ms": 1.0}
    monkeypatch.setattr(wisdom, "_store", {})
    monkeypatch.setattr(wisdom, "_environment", {"read": False})
    monkeypatch.setenv("GPMATH_WISDOM", str(tmp_path / "missing.json"))
    with caplog.at_level(logging.INFO, logger="gpmath"):
        assert wisdom.lookup("matmul", "GPU A", KEY) is None
    assert "missing.json does not exist yet" in caplog.text


def test_foreign_entries_are_logged_once_per_problem(caplog):
    wisdom.record("matmul", "GPU B, sm_80, cublasLt 1", KEY, {"algo": "01", "ms": 1.0})
    with caplog.at_level(logging.INFO, logger="gpmath"):
        for _ in range(3):
            assert wisdom.lookup("matmul", "GPU A, sm_90, cublasLt 1", KEY) is None
    lines = [r.getMessage() for r in caplog.records if "not used on" in r.getMessage()]
    assert lines == ["wisdom: matmul entries of GPU B, sm_80, cublasLt 1 not used on GPU A, sm_90, cublasLt 1 "
                     "(recorded on another GPU or library version)"]


def test_importing_gpmath_reads_no_wisdom(tmp_path):
    path = tmp_path / "w.json"
    path.write_text("not json")  # reading it would raise
    env = dict(os.environ, GPMATH_WISDOM=str(path))
    done = subprocess.run([sys.executable, "-c", "import gpmath, gpmath.wisdom"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_report_lists_solver_entries_whatever_a_file_put_in_them(tmp_path):
    """show_config never raises: a loaded solver entry without rows, or with a key that is not
    JSON text, is listed as it is."""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"format": 1, "entries": [
        {"kind": "solver", "machine": "GPU A", "key": "not json", "choice": {"ms": 1}},
        {"kind": "solver", "machine": "GPU B", "key": '"FACTOR"', "choice": {"rows": [[1, None, "looped"]]}}]}))
    assert gpmath.wisdom.load(path) == 2
    listed = gpmath.show_config(mode="dicts")["routing"]["solver crossovers calibrated (gpmath.solver.calibrate, "
                                                         "used on such GPUs)"]
    assert listed == {"GPU A: not json": "no rows", "GPU B: FACTOR": [[1, None, "looped"]]}
