"""``tilt-lsp up``: the loop in a terminal. Status, logs and problems as they change; Ctrl-C
stops everything it started."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import Any

from tilt_lsp.commands.common import add_tiltfile_argument, resolve_tiltfile
from tilt_lsp.commands.output import problem_text, status_line
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import Published
from tilt_lsp.engine.status import ResourceStatus


def add_parser(sub: Any) -> None:
    p = sub.add_parser("up", help="run the dev loop in this terminal until Ctrl-C")
    add_tiltfile_argument(p)
    p.add_argument("--no-logs", action="store_true", help="do not print resource logs")
    p.add_argument(
        "tiltfile_args",
        nargs="*",
        metavar="-- ARGS",
        help="the Tiltfile's args, as in `tilt up -- ARGS`: resource names to run, or flags "
        "for config.parse()",
    )
    p.set_defaults(func=run)


class _Terminal:
    def __init__(self, logs: bool) -> None:
        self._logs = logs
        self._last: dict[str, str] = {}

    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        for s in statuses:
            line = status_line(s)
            if self._last.get(s.name) != line:
                self._last[s.name] = line
                print(f"● {line}", flush=True)

    def diagnostics_changed(self, published: Published) -> None:
        for path, items in published.items():
            if not items:
                print(f"✓ {path}: problems cleared", flush=True)
            for resource, _source, p in items:
                print(problem_text(resource, p), flush=True)

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None:
        if self._logs:
            for line in lines:
                print(f"{resource:>12} │ {line}", flush=True)

    def progress(self, resource: str, phase: str, message: str) -> None:
        if phase == "begin":
            print(f"↻ {resource}: updating ({message})", flush=True)

    def message(self, severity: str, text: str) -> None:
        print(f"{severity}: {text}", file=sys.stderr, flush=True)


async def up(tiltfile: str, logs: bool, tiltfile_args: Sequence[str] = ()) -> int:
    engine = Engine(tiltfile, listener=_Terminal(logs), tiltfile_args=tiltfile_args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"tilt-lsp up: {tiltfile} (Ctrl-C to stop)", flush=True)
    try:
        await engine.start(watch=True)
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        await engine.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(up(resolve_tiltfile(args.file), not args.no_logs, args.tiltfile_args))
