"""Warnings that point at the caller's line: the first frame outside gpmath, however many of
gpmath's own frames (fronts, bridges, helpers) lie between."""

from __future__ import annotations

import sys

__all__ = ["caller_stacklevel"]


def caller_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn`, called by the function that calls this one,
    that names the first frame outside gpmath.

    Examples
    --------
    >>> caller_stacklevel() >= 2
    True
    """
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("gpmath."):
        frame, level = frame.f_back, level + 1
    return level
