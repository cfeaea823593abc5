"""Ctrl-C for the commands that run the loop (``up``, ``check``): the first Ctrl-C (or
SIGTERM) stops everything, cancelling the image builds in progress and saying so; a second one
stops waiting for that cleanup."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import BuildStatus


def stopping_message(engine: Engine) -> str:
    """What the first Ctrl-C does, in the user's words."""
    building = [name for name, s in engine.statuses.items() if s.build is BuildStatus.BUILDING]
    if building:
        return f"stopping: cancelling the build of {', '.join(building)}"
    return "stopping…"


def install(engine: Engine, on_stop: Callable[[], None]) -> Callable[[], None]:
    """Handle SIGINT/SIGTERM on the running loop: the first calls ``on_stop`` (after saying
    what stopping means), the second cancels the current task (the caller's cleanup).
    Returns a function to call when stopped: later presses are ignored."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    presses = 0
    finished = False

    def handle() -> None:
        nonlocal presses
        if finished:
            return  # stopped already: the process is ending
        presses += 1
        if presses == 1:
            print(f"{stopping_message(engine)} (Ctrl-C again to stop waiting)", flush=True)
            on_stop()
        else:
            print(
                "stopping now: not waiting for the cleanup; containers tilt-lsp started may "
                "still run (docker ps --filter label=dev.tilt-lsp.managed=true)",
                file=sys.stderr,
                flush=True,
            )
            if main is not None:
                main.cancel()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, handle)

    def remove() -> None:
        # The handlers stay until the loop closes, doing nothing: a late Ctrl-C must not
        # turn a clean stop into a KeyboardInterrupt traceback.
        nonlocal finished
        finished = True

    return remove


def ignore_late_interrupts() -> None:
    """After the loop closed, as the process exits: a Ctrl-C now changes nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
