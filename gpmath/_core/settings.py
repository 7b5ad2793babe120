"""gpmath's numeric environment variables, read and checked in one place.

A variable that is set must hold what it names; otherwise gpmath raises ``ValueError`` naming
the variable and what it holds (an unset or empty variable leaves the default).
"""

from __future__ import annotations

import os

__all__ = ["integer"]


def integer(name: str, default: int, least: int = 0) -> int:
    """The integer the environment variable *name* holds, at least *least*; *default* when it is
    unset or empty.

    Examples
    --------
    >>> import os
    >>> integer("GPMATH_EXAMPLE_UNSET", 7)
    7
    >>> os.environ["GPMATH_EXAMPLE"] = "lots"
    >>> integer("GPMATH_EXAMPLE", 7)
    Traceback (most recent call last):
    ...
    ValueError: GPMATH_EXAMPLE must be an integer of at least 0, not 'lots'
    >>> del os.environ["GPMATH_EXAMPLE"]
    """
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        raise ValueError(f"{name} must be an integer of at least {least}, not {text!r}")
    return value
