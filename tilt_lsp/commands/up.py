"""``tilt-lsp up``: the loop in a terminal. Status, logs and problems as they change; Ctrl-C
stops everything it started."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from tilt_lsp.commands import tui
from tilt_lsp.commands.common import add_tiltfile_argument, resolve_tiltfile
from tilt_lsp.engine.engine import Engine


def add_parser(sub: Any) -> None:
    p = sub.add_parser("up", help="run the dev loop in this terminal until Ctrl-C")
    add_tiltfile_argument(p)
    p.add_argument("--no-logs", action="store_true", help="do not print resource logs")
    p.add_argument("--plain", action="store_true", help="plain lines, even on a terminal")
    p.set_defaults(func=run)


async def up(tiltfile: str, logs: bool, plain: bool = False) -> int:
    screen = tui.display(logs, plain)
    engine = Engine(tiltfile, listener=screen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"tilt-lsp up: {tiltfile} (Ctrl-C to stop)", flush=True)
    screen.start()
    try:
        await engine.start(watch=True)
        await stop.wait()
    finally:
        screen.stop()
        print("stopping…", flush=True)
        await engine.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(up(resolve_tiltfile(args.file), not args.no_logs, args.plain))
