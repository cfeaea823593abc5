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


class Interrupts:
    """The stop signals of one command run: which came first (for the exit code), and a
    ``remove`` to call once stopped (later signals are then ignored)."""

    def __init__(self) -> None:
        self.first: signal.Signals | None = None
        self.finished = False

    def remove(self) -> None:
        # The handlers stay until the loop closes, doing nothing: a late Ctrl-C must not
        # turn a clean stop into a KeyboardInterrupt traceback.
        self.finished = True

    def exit_code(self) -> int:
        """128 + the first signal's number, as a shell reports a command a signal ended."""
        return 128 + (self.first or signal.SIGINT)


def install(engine: Engine, on_stop: Callable[[], None]) -> Interrupts:
    """Handle SIGINT/SIGTERM/SIGHUP on the running loop: the first calls ``on_stop`` (after
    saying what stopping means), the second cancels the current task (the caller's cleanup)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    state = Interrupts()

    def handle(sig: signal.Signals) -> None:
        if state.finished:
            return  # stopped already: the process is ending
        if state.first is None:
            state.first = sig
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

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, handle, sig)
    return state


def ignore_late_interrupts() -> None:
    """After the loop closed, as the process exits: a Ctrl-C now changes nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
