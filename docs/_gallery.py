"""The example gallery's pages, written from ``examples/*.py`` when the docs build starts.

Each example gets ``gallery/<name>.md``: its docstring (reStructuredText) as the text, the figure
it saves where one was made, and its source.  With ``GPMATH_DOCS_EXAMPLES=run`` the build runs every
example first (on the GPU where one is usable, else the CPU) so that the pages show their figures;
otherwise pages show figures left in ``gallery/`` by an earlier such build.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
GALLERY = HERE / "gallery"


def examples() -> list[pathlib.Path]:
    """The example scripts (helpers, named ``_*.py``, excluded)."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def _run(script: pathlib.Path) -> None:
    """Run *script* with its figures going to the gallery; one that cannot run here (an MPI example
    without mpirun, a missing package) is reported and its page shows no figure
    (``tests/test_examples.py`` is where the examples' results are checked)."""
    env = dict(os.environ, GPMATH_EXAMPLES_OUT=str(GALLERY), PYTHONPATH=str(HERE.parent))
    done = subprocess.run([sys.executable, str(script)], cwd=GALLERY, env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"gallery: {script.name} did not run here ({last}); its page has no figure", file=sys.stderr)


def page(script: pathlib.Path) -> str:
    """The Markdown (MyST) of *script*'s gallery page."""
    doc = ast.get_docstring(ast.parse(script.read_text())) or script.stem
    title, _, body = doc.partition("\n")
    figure = GALLERY / f"{script.stem}.png"
    parts = [f"# {title.strip().rstrip('.')}", "", f"`examples/{script.name}`", ""]
    if body.strip():
        parts += ["```{eval-rst}", body.strip(), "```", ""]
    if figure.exists():
        parts += [f"```{{image}} {figure.name}", f":alt: the figure {script.name} saves", "```", ""]
    parts += [f"```{{literalinclude}} ../../examples/{script.name}", ":language: python", "```", ""]
    return "\n".join(parts)


def write(app=None) -> None:
    """Write every gallery page (a Sphinx ``builder-inited`` handler)."""
    GALLERY.mkdir(exist_ok=True)
    run = os.environ.get("GPMATH_DOCS_EXAMPLES") == "run"
    for script in examples():
        if run:
            _run(script)
        target = GALLERY / f"{script.stem}.md"
        text = page(script)
        if not target.exists() or target.read_text() != text:  # unchanged pages keep Sphinx's cache
            target.write_text(text)
