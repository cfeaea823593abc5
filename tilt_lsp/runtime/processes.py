"""Local processes with their output read line by line, each in its own process group so
that stopping one never leaves an orphan behind (a shell's children included)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

LineSink = Callable[[str], None]
READ_LIMIT = 1024 * 1024  # a single line longer than this is cut into pieces, not lost
STOP_GRACE_S = 3.0


@dataclass
class ProcessHandle:
    pid: int
    done: asyncio.Task[int]  # the exit code, once the process ended and its output is read


class ProcessRunner(Protocol):
    async def start(
        self, argv: Sequence[str], cwd: str, env: Mapping[str, str], on_line: LineSink
    ) -> ProcessHandle: ...

    async def stop(self, handle: ProcessHandle) -> None: ...

    async def stop_all(self) -> None: ...


class LocalProcesses:
    """The real ProcessRunner."""

    def __init__(self, grace_s: float = STOP_GRACE_S) -> None:
        self._grace = grace_s
        self._running: dict[int, ProcessHandle] = {}

    async def start(
        self, argv: Sequence[str], cwd: str, env: Mapping[str, str], on_line: LineSink
    ) -> ProcessHandle:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches the children
            limit=READ_LIMIT,
        )
        handle = ProcessHandle(
            proc.pid, asyncio.get_running_loop().create_task(_pump(proc, on_line))
        )
        self._running[proc.pid] = handle
        handle.done.add_done_callback(lambda _t: self._running.pop(proc.pid, None))
        return handle

    async def stop(self, handle: ProcessHandle) -> None:
        if handle.done.done():
            _killpg(handle.pid, signal.SIGKILL)  # the leader is gone; its children may not be
            return
        _killpg(handle.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(handle.done), self._grace)
        except TimeoutError:
            _killpg(handle.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await handle.done
        _killpg(handle.pid, signal.SIGKILL)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(h) for h in list(self._running.values())))


def _killpg(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def _pump(proc: asyncio.subprocess.Process, on_line: LineSink) -> int:
    assert proc.stdout is not None
    reader = proc.stdout
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # over READ_LIMIT: take what is buffered as one piece
            raw = await reader.read(READ_LIMIT)
        if not raw:
            break
        on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    return await proc.wait()
