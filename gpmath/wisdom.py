"""``gpmath.wisdom``: the choices autotuning made, kept for later plans and other processes.

``Matmul.autotune()`` records the cuBLASLt algorithm it picks; a later plan of the same problem
on the same GPU model and library version starts from it, and its ``autotune()`` does not time
again (``autotune(force=True)`` does).  :func:`save` and :func:`load` move the entries through a
JSON file; the environment variable ``GPMATH_WISDOM`` names a file loaded at the first lookup.
See :mod:`gpmath._core.wisdom` for the keys.

Examples
--------
>>> import os, tempfile, gpmath
>>> path = os.path.join(tempfile.mkdtemp(), "wisdom.json")
>>> gpmath.wisdom.save(path) >= 0 and gpmath.wisdom.load(path) >= 0
True
"""

from ._core.wisdom import ENVIRONMENT, clear, entries, load, save

__all__ = ["save", "load", "clear", "entries", "ENVIRONMENT"]
