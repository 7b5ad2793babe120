"""Sphinx configuration of gpmath's documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` (``tests/test_docs.py`` does,
with warnings as errors).  The user guide is the Markdown of ``docs/`` (MyST), the API reference is
generated from the docstrings (autosummary, numpydoc), and the gallery shows ``examples/``.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the checkout's gpmath, where it is not installed
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _gallery

import gpmath  # noqa: E402

project = "gpmath"
author = "The gpmath developers"
copyright = "2026, the gpmath developers"
release = version = gpmath.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False  # a module page lists its __all__
templates_path = ["_templates"]
autodoc_typehints = "signature"
numpydoc_show_class_members = False  # the class pages list their methods through autosummary
numpydoc_xref_param_type = False
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# A name exported by several modules is described once, on the page of the first module below
# that exports it; the others list it and link there (``:no-index:`` in the templates).
_MODULES = ["gpmath", "gpmath.blas", "gpmath.fft", "gpmath.solver", "gpmath.linalg", "gpmath.distributed",
            "gpmath.distributed.fft"]


def _reexported() -> set[str]:
    import importlib

    seen, again = set(), set()
    for name in _MODULES:
        module = importlib.import_module(name)
        for item in module.__all__:
            key = id(getattr(module, item))
            if key in seen:
                again.add(f"{name}.{item}")
            seen.add(key)
    return again


def _submodules() -> set[str]:
    """Names in a module's ``__all__`` that are modules (they have their own pages)."""
    import importlib
    import types

    return {item for name in _MODULES for item in importlib.import_module(name).__all__
            if isinstance(getattr(importlib.import_module(name), item), types.ModuleType)}


autosummary_context = {"reexported": _reexported(), "submodules": _submodules()}

html_theme = "alabaster"
html_title = f"gpmath {release}"
html_theme_options = {"description": "NVIDIA's math libraries from NumPy, CuPy and PyTorch", "fixed_sidebar": True}


def setup(app):
    from _gallery import write

    write()  # the gallery's pages exist before Sphinx reads the sources
