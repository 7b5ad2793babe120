"""Shared by the examples: save a matplotlib figure when matplotlib is installed.

Figures go to the folder named by ``GPMATH_EXAMPLES_OUT`` (default: the current directory).
"""

import os
import pathlib


def save_figure(name, draw, **subplots):
    """Call ``draw(fig, axes)`` on ``plt.subplots(**subplots)`` and save the figure as ``name``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: {name} was not drawn")
        return
    fig, axes = plt.subplots(**subplots)
    draw(fig, axes)
    fig.tight_layout()
    path = pathlib.Path(os.environ.get("GPMATH_EXAMPLES_OUT", ".")) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"saved {path}")
