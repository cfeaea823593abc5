"""``tilt-lsp up``: the loop in a terminal. Status, logs and problems as they change; Ctrl-C
stops everything it started."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

from tilt_lsp.commands import interrupt
from tilt_lsp.commands.common import add_tiltfile_argument, resolve_tiltfile
from tilt_lsp.commands.output import problem_text, status_line
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import Published
from tilt_lsp.engine.status import ResourceStatus


def add_parser(sub: Any) -> None:
    p = sub.add_parser("up", help="run the dev loop in this terminal until Ctrl-C")
    add_tiltfile_argument(p)
    p.add_argument("--no-logs", action="store_true", help="do not print resource logs")
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


async def up(tiltfile: str, logs: bool) -> int:
    engine = Engine(tiltfile, listener=_Terminal(logs))
    stop = asyncio.Event()
    start: asyncio.Task[None] | None = None

    def on_stop() -> None:
        stop.set()
        if start is not None:
            start.cancel()  # still loading the Tiltfile

    interrupts = interrupt.install(engine, on_stop)
    print(f"tilt-lsp up: {tiltfile} (Ctrl-C to stop)", flush=True)
    try:
        start = asyncio.ensure_future(engine.start(watch=True))
        with contextlib.suppress(asyncio.CancelledError):
            await start
        await stop.wait()
        await engine.stop()  # a second Ctrl-C cancels this wait
    except asyncio.CancelledError:
        return interrupts.exit_code()
    finally:
        interrupts.remove()
    print("stopped", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(up(resolve_tiltfile(args.file), not args.no_logs))
    except KeyboardInterrupt:  # a Ctrl-C after the cleanup, as the loop closed
        return 130
    finally:
        interrupt.ignore_late_interrupts()
