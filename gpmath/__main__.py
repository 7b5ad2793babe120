"""``python -m gpmath info``: print :func:`gpmath.show_config` (versions, driver, GPUs, libraries)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ._core.config import show_config


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m gpmath", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="where gpmath's work runs and why: versions, driver, GPUs, libraries")
    info.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        if args.json:
            print(json.dumps(show_config(mode="dicts"), indent=2, default=str))
        else:
            show_config()
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error
        sys.stdout = open(os.devnull, "w")
    return 0


if __name__ == "__main__":
    sys.exit(main())
