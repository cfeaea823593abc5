"""Signals for the headless commands: SIGTERM, SIGINT and SIGHUP end the command the same
way, through its own ``finally`` (which stops the engine and every process it started)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


async def stop_on_signals(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main``; the first stop signal cancels it (once: a second signal must not
    interrupt the stop it set off). Returns 128 + the signal's number when stopped so."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    got: list[signal.Signals] = []

    def stop(sig: signal.Signals) -> None:
        if not got:
            got.append(sig)
            task.cancel()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    try:
        return await task
    except asyncio.CancelledError:
        if not got:
            raise
        return 128 + got[0]
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
