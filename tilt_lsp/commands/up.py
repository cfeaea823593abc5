"""``tilt-lsp up``: the loop in a terminal. Status, logs and problems as they change; Ctrl-C
stops everything it started."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from tilt_lsp.commands import interrupt, tui
from tilt_lsp.commands.common import add_tiltfile_argument, resolve_tiltfile
from tilt_lsp.engine.engine import Engine


def add_parser(sub: Any) -> None:
    p = sub.add_parser("up", help="run the dev loop in this terminal until Ctrl-C")
    add_tiltfile_argument(p)
    p.add_argument("--no-logs", action="store_true", help="do not print resource logs")
    p.add_argument("--plain", action="store_true", help="plain lines, even on a terminal")
    p.add_argument(
        "tiltfile_args",
        nargs="*",
        metavar="-- ARGS",
        help="the Tiltfile's args, as in `tilt up -- ARGS`: resource names to run, or flags "
        "for config.parse()",
    )
    p.set_defaults(func=run)


async def up(
    tiltfile: str, logs: bool, plain: bool = False, tiltfile_args: Sequence[str] = ()
) -> int:
    screen = tui.display(logs, plain)
    engine = Engine(tiltfile, listener=screen, tiltfile_args=tiltfile_args)
    stop = asyncio.Event()
    start: asyncio.Task[None] | None = None

    def on_stop() -> None:
        stop.set()
        if start is not None:
            start.cancel()  # still loading the Tiltfile

    interrupts = interrupt.install(engine, on_stop)
    print(f"tilt-lsp up: {tiltfile} (Ctrl-C to stop)", flush=True)
    screen.start()
    try:
        start = asyncio.ensure_future(engine.start(watch=True))
        with contextlib.suppress(asyncio.CancelledError):
            await start
        await stop.wait()
        await engine.stop()  # a second Ctrl-C cancels this wait
    except asyncio.CancelledError:
        return interrupts.exit_code()
    finally:
        screen.stop()
        interrupts.remove()
    print("stopped", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(
            up(resolve_tiltfile(args.file), not args.no_logs, args.plain, args.tiltfile_args)
        )
    except KeyboardInterrupt:  # a Ctrl-C after the cleanup, as the loop closed
        return 130
    finally:
        interrupt.ignore_late_interrupts()
