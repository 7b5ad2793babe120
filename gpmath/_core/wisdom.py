"""Wisdom: what autotuning chose, kept for later plans and other processes.

A tuned choice (the cuBLASLt algorithm :meth:`gpmath.blas.Matmul.autotune` picks) is recorded
under its *kind* (``"matmul"``), the *machine* it holds for (GPU model, compute capability, the
library and its version: :func:`machine`) and the plan's *key* (everything that decides which
algorithms are valid and how fast they run: types, shapes, layouts, alignments, the workspace
limit).  A later plan with the same three, in this process or in one that loaded the wisdom,
starts from the recorded choice, and its ``autotune()`` does not time the candidates again.

:func:`save` writes every entry to a JSON file and :func:`load` adds a file's entries; the
environment variable ``GPMATH_WISDOM`` names a file that is loaded at the first lookup (not at
import, which reads no file).  Entries recorded on another GPU or with another library version
stay in the store (and in the files it saves) but are never used here: the first plan that could
have used one logs why it did not.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

from . import runtime

__all__ = ["save", "load", "clear", "entries", "machine", "lookup", "holds", "record", "ENVIRONMENT"]

ENVIRONMENT = "GPMATH_WISDOM"
_FORMAT = 1
logger = logging.getLogger("gpmath")
_lock = threading.Lock()
_store: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (kind, key) -> machine -> choice
_machines: dict[tuple[int, str, int], str] = {}
_told: set[tuple[str, str]] = set()  # (kind, key) whose foreign entries were logged
_environment = {"read": False}


def machine(device_id: int, library: str, version: int) -> str:
    """Where a choice holds: GPU *device_id*'s model and compute capability, and *library* at
    *version*, e.g. ``"NVIDIA H200, sm_90, cublasLt 130100"``."""
    named = _machines.get((device_id, library, version))
    if named is None:
        properties = runtime.check(runtime.rt().cudaGetDeviceProperties(device_id), "cudaGetDeviceProperties")
        named = f"{runtime.name_of(properties)}, sm_{properties.major}{properties.minor}, {library} {version}"
        _machines[(device_id, library, version)] = named
    return named


def _text(key: Any) -> str:
    """A key (nested tuples of ints, strings and None) as the text it is stored under."""
    return json.dumps(key, separators=(",", ":"))


def lookup(kind: str, where: str, key: Any) -> dict[str, Any] | None:
    """The choice recorded for a plan of *kind* with *key* on machine *where*, or None."""
    _read_environment()
    text = _text(key)
    with _lock:
        choices = _store.get((kind, text))
        choice = None if choices is None else choices.get(where)
        foreign = [] if choices is None or choice is not None or (kind, text) in _told else sorted(choices)
        if foreign:
            _told.add((kind, text))
    if foreign:
        logger.info("wisdom: %s entries of %s not used on %s (recorded on another GPU or library version)",
                    kind, "; ".join(foreign), where)
    return choice


def holds(kind: str) -> bool:
    """Whether any entry of *kind* is stored (``GPMATH_WISDOM`` read first)."""
    _read_environment()
    with _lock:
        return any(stored == kind for stored, _ in _store)


def record(kind: str, where: str, key: Any, choice: dict[str, Any]) -> None:
    """Record *choice* (a JSON-serialisable dict) for plans of *kind* with *key* on *where*."""
    with _lock:
        _store.setdefault((kind, _text(key)), {})[where] = dict(choice)


def entries() -> list[dict[str, Any]]:
    """Every entry, as :func:`save` writes them: dicts of ``kind``, ``machine``, ``key`` (its
    text) and ``choice``.

    Examples
    --------
    >>> import gpmath
    >>> isinstance(gpmath.wisdom.entries(), list)
    True
    """
    _read_environment()
    with _lock:
        return [{"kind": kind, "machine": where, "key": key, "choice": dict(choice)}
                for (kind, key), choices in sorted(_store.items()) for where, choice in sorted(choices.items())]


def save(path: str | os.PathLike) -> int:
    """Write every entry to the JSON file *path* (replacing it); return how many.

    Examples
    --------
    >>> import os, tempfile, gpmath
    >>> path = os.path.join(tempfile.mkdtemp(), "wisdom.json")
    >>> gpmath.wisdom.save(path) == len(gpmath.wisdom.entries())
    True
    """
    found = entries()
    temporary = f"{os.fspath(path)}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        json.dump({"format": _FORMAT, "entries": found}, file, indent=1)
    os.replace(temporary, path)  # readers never see half a file
    return len(found)


def load(path: str | os.PathLike) -> int:
    """Add the entries of the JSON file *path* (written by :func:`save`); return how many.

    An entry already in the store for the same kind, key and machine is replaced.  Raises
    ``ValueError`` naming *path* when the file is not a wisdom file of this format.

    Examples
    --------
    >>> import os, tempfile, gpmath
    >>> path = os.path.join(tempfile.mkdtemp(), "wisdom.json")
    >>> _ = gpmath.wisdom.save(path)
    >>> gpmath.wisdom.load(path) == len(gpmath.wisdom.entries())
    True
    """
    try:
        with open(path) as file:
            content = json.load(file)
        if content.get("format") != _FORMAT:
            raise ValueError(f"format {content.get('format')!r}, not {_FORMAT}")
        found = [_entry(e) for e in content["entries"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a gpmath wisdom file: {exc}") from None
    with _lock:
        for kind, where, key, choice in found:
            _store.setdefault((kind, key), {})[where] = choice
            _told.discard((kind, key))
    logger.info("wisdom: %d entries loaded from %s", len(found), os.fspath(path))
    return len(found)


def _entry(entry: dict) -> tuple[str, str, str, dict]:
    """``(kind, machine, key, choice)`` of one entry of a file; ``TypeError`` for texts that are
    not strings or a choice that is not a mapping."""
    kind, where, key, choice = entry["kind"], entry["machine"], entry["key"], entry["choice"]
    if not all(isinstance(text, str) for text in (kind, where, key)) or not isinstance(choice, dict):
        raise TypeError(f"an entry's kind, machine and key must be strings and its choice a mapping: {entry!r:.200}")
    return kind, where, key, dict(choice)


def clear() -> None:
    """Forget every entry (files are left as they are; ``GPMATH_WISDOM`` is not read again).

    Examples
    --------
    >>> import gpmath
    >>> gpmath.wisdom.clear()
    >>> gpmath.wisdom.entries()
    []
    """
    with _lock:
        _store.clear()
        _told.clear()
        _environment["read"] = True


def _read_environment() -> None:
    """Load the file ``GPMATH_WISDOM`` names, once (a missing file is logged, not an error: the
    process may be the one that saves it)."""
    if _environment["read"]:
        return
    _environment["read"] = True
    path = os.environ.get(ENVIRONMENT)
    if not path:
        return
    if os.path.exists(path):
        load(path)
    else:
        logger.info("wisdom: %s=%s does not exist yet; nothing loaded", ENVIRONMENT, path)


def _after_fork_in_child() -> None:
    """A forked child gets a fresh lock (the parent's may have been held by another thread)."""
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
