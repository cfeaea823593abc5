"""The ``tilt-lsp`` command line: one subcommand module per job, all over the same engine.

Each subcommand module exposes ``add_parser(subparsers)`` which registers itself and sets
``func`` (``args -> exit code``) as the parser default.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tilt_lsp import __version__


def build_parser() -> argparse.ArgumentParser:
    from tilt_lsp.commands import check, diagnose, doctor, resources, serve, synclet, up

    parser = argparse.ArgumentParser(
        prog="tilt-lsp",
        description=(
            "The inner dev loop for containerised apps, inside the editor. Reads a Tiltfile, "
            "keeps resources up to date and puts build and runtime errors on source lines."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tilt-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (serve, up, check, diagnose, resources, doctor, synclet):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
