"""``tilt-lsp check``: one shot. Load, build and start every auto-init resource, wait until
each is ready, finished, crashed or failed, print the problems, stop everything, and exit 1
if an error remains (or the wait timed out) — for CI and for a quick look without an editor."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from tilt_lsp.commands import interrupt
from tilt_lsp.commands.common import add_tiltfile_argument, resolve_tiltfile
from tilt_lsp.commands.output import format_problem, status_line
from tilt_lsp.diagnostics.model import Severity
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import NullListener
from tilt_lsp.engine.status import ResourceStatus

SETTLE_S = 1.5  # a service that is "ready" may still crash a moment later


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="build and start everything once, print the problems, stop, exit 1 on errors",
    )
    add_tiltfile_argument(p)
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="give up waiting after S seconds (default 120)",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json: one object per line",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="do not print progress to stderr")
    p.set_defaults(func=run)


class _Progress(NullListener):
    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._last: dict[str, str] = {}

    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        if self._quiet:
            return
        for s in statuses:
            line = status_line(s)
            if self._last.get(s.name) != line:
                self._last[s.name] = line
                print(f"  {line}", file=sys.stderr)


async def check(tiltfile: str, timeout: float, fmt: str, quiet: bool) -> int:
    engine = Engine(tiltfile, listener=_Progress(quiet))

    async def run_once() -> bool:
        await engine.start()
        settled = await engine.wait_settled(timeout)
        if settled:
            await asyncio.sleep(SETTLE_S)
            settled = await engine.wait_settled(max(timeout - SETTLE_S, 1.0))
        return settled

    body = asyncio.ensure_future(run_once())

    def cancel() -> None:
        body.cancel()

    interrupts = interrupt.install(engine, cancel)
    try:
        try:
            settled = await body
        except asyncio.CancelledError:
            if not body.cancelled():
                raise  # a second Ctrl-C
            await engine.stop()  # a second Ctrl-C cancels this wait
            return interrupts.exit_code()
        statuses = list(engine.statuses.values())
        problems = engine.problems.all()
        blocked = [s.name for s in statuses if engine.blocked(s.name)]
        # Taken now: stopping changes every status.
        waiting = [
            s.name
            for s in statuses
            if not s.settled and s.name not in blocked and (s.resource.auto_init or s.update_count)
        ]
        ok = sum(1 for s in statuses if s.settled and not s.failed)
        await engine.stop()
    except asyncio.CancelledError:
        return interrupts.exit_code()
    finally:
        interrupts.remove()
    for resource, _source, p in problems:
        print(format_problem(resource, p, fmt))
    if not settled:
        print(
            f"tilt-lsp: timed out after {timeout:g}s waiting for: {', '.join(waiting) or 'the Tiltfile'}",
            file=sys.stderr,
        )
    for name in blocked:
        print(f"tilt-lsp: {name} did not start: a resource it depends on failed", file=sys.stderr)
    errors = sum(1 for _, _, p in problems if p.severity is Severity.ERROR)
    if not quiet:
        print(f"tilt-lsp: {len(statuses)} resources, {ok} ok, {errors} error(s)", file=sys.stderr)
    return 1 if errors or not settled else 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(
            check(resolve_tiltfile(args.file), args.timeout, args.format, args.quiet)
        )
    except KeyboardInterrupt:  # a Ctrl-C after the cleanup, as the loop closed
        return 130
    finally:
        interrupt.ignore_late_interrupts()
