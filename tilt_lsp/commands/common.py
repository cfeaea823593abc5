"""Helpers shared by subcommands: finding the Tiltfile and printing located messages."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from tilt_lsp.tiltfile.model import Location

TILTFILE_NAMES = ("Tiltfile",)


def add_tiltfile_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file", "-f", metavar="TILTFILE", help="the Tiltfile (default: ./Tiltfile or a parent's)"
    )


def find_tiltfile(start: str | None = None) -> str | None:
    """The Tiltfile in ``start`` (default: cwd) or the nearest parent directory."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        for name in TILTFILE_NAMES:
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def resolve_tiltfile(arg: str | None) -> str:
    """The Tiltfile the user meant, or a SystemExit(2) with a message that says what to do."""
    if arg:
        path = os.path.abspath(arg)
        if os.path.isdir(path):
            path = os.path.join(path, "Tiltfile")
        if not os.path.isfile(path):
            print(f"tilt-lsp: no Tiltfile at {path}", file=sys.stderr)
            raise SystemExit(2)
        return path
    found = find_tiltfile()
    if found is None:
        print(
            "tilt-lsp: no Tiltfile in this directory or its parents; "
            "pass --file PATH or cd into your project",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return found


def located(loc: Location | None, severity: str, message: str, out: TextIO = sys.stderr) -> None:
    where = f"{loc.path}:{loc.line}:{loc.column}: " if loc else ""
    print(f"{where}{severity}: {message}", file=out)
