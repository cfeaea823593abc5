"""Local processes with their output read line by line, each in its own process group so
that stopping one never leaves an orphan behind (a shell's children included).

Three promises, each learnt the hard way:

- **Tracked until reaped.** A process stays in the runner's table until its main process is
  reaped and its group was signalled; no caller's cancellation can drop it (``done`` is a
  future the runner owns; callers await it through ``wait``, which shields it).
- **Exit is the process's, not the pipe's.** asyncio's ``Process.wait()`` only returns once
  every pipe is closed, and a grandchild (``sh -c 'server & …'``) may hold stdout for ever.
  The exit is watched on a pidfd; once the main process is gone the rest of its group is
  stopped, so a killed service is reported at once and leaves nothing behind.
- **The loop keeps breathing.** Output is read in chunks and handed over in batches of
  lines, with a yield between chunks, so a service printing 200 MB cannot starve requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

LineSink = Callable[[list[str]], None]  # a batch of lines, in order
READ_LIMIT = 1024 * 1024  # a single line longer than this is cut into pieces, not lost
CHUNK = 64 * 1024  # read at most this much before handing lines over and yielding
STOP_GRACE_S = 3.0  # SIGTERM, then SIGKILL after this long
DRAIN_S = 0.3  # after the main process exits, output still in the pipe is read this long
POLL_S = 0.1  # exit polling when no pidfd is available


@dataclass
class ProcessHandle:
    pid: int  # also the process group id
    done: asyncio.Future[int]  # the exit code once the process ended and its output is read

    async def wait(self) -> int:
        """The exit code. Cancelling the caller never cancels the runner's bookkeeping."""
        return await asyncio.shield(self.done)


class ProcessRunner(Protocol):
    async def start(
        self, argv: Sequence[str], cwd: str, env: Mapping[str, str], on_lines: LineSink
    ) -> ProcessHandle: ...

    async def stop(self, handle: ProcessHandle) -> None: ...

    async def stop_all(self) -> None: ...

    def kill_all(self) -> None: ...


class LocalProcesses:
    """The real ProcessRunner."""

    def __init__(self, grace_s: float = STOP_GRACE_S) -> None:
        self._grace = grace_s
        self._running: dict[int, ProcessHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> list[int]:
        """Process groups not yet reaped and stopped."""
        return list(self._running)

    async def start(
        self, argv: Sequence[str], cwd: str, env: Mapping[str, str], on_lines: LineSink
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
        loop = asyncio.get_running_loop()
        handle = ProcessHandle(proc.pid, loop.create_future())
        self._running[proc.pid] = handle
        task = loop.create_task(self._follow(proc, handle, on_lines), name=f"process:{proc.pid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return handle

    async def _follow(
        self, proc: asyncio.subprocess.Process, handle: ProcessHandle, on_lines: LineSink
    ) -> None:
        """Read output until the main process exited (plus a short drain), then stop what
        is left of its group and report the exit code."""
        pump = asyncio.get_running_loop().create_task(_pump(proc, on_lines))
        try:
            code = await _exited(proc)
            await asyncio.wait({pump}, timeout=DRAIN_S)
            if not handle.done.done():
                handle.done.set_result(code)  # news now, even if a child holds the pipe
            if not pump.done():  # the group goes with its leader
                await self._stop_group(proc.pid, pump)
            _killpg(proc.pid, signal.SIGKILL)  # children that closed their output too
        except BaseException as err:  # the loop is going away: leave nothing behind
            _killpg(proc.pid, signal.SIGKILL)
            if not handle.done.done():
                if isinstance(err, asyncio.CancelledError):
                    handle.done.cancel()
                else:
                    handle.done.set_exception(err)
            raise
        finally:
            pump.cancel()
            self._running.pop(proc.pid, None)

    async def _stop_group(self, pgid: int, ended: asyncio.Future[Any]) -> None:
        _killpg(pgid, signal.SIGTERM)
        # asyncio.wait, not wait_for: 3.11's wait_for can swallow a cancellation that
        # races with the inner future's completion, and a stop must stay cancellable.
        await asyncio.wait({ended}, timeout=self._grace)
        _killpg(pgid, signal.SIGKILL)

    async def stop(self, handle: ProcessHandle) -> None:
        """SIGTERM to the group, SIGKILL after the grace period; returns once reaped."""
        if not handle.done.done():
            await self._stop_group(handle.pid, handle.done)
        _killpg(handle.pid, signal.SIGKILL)  # the leader is gone; its children may not be
        with contextlib.suppress(Exception):
            await handle.wait()

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(h) for h in list(self._running.values())))

    def kill_all(self) -> None:
        """SIGKILL every group still tracked, without waiting (the way out of a stuck stop)."""
        for pgid in list(self._running):
            _killpg(pgid, signal.SIGKILL)


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _exited(proc: asyncio.subprocess.Process) -> int:
    """The main process's exit code, whoever holds its pipes. The pidfd says when it ended;
    asyncio's child watcher reaps it and records the code a moment later."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (OSError, AttributeError):
        pidfd = -1
    if pidfd >= 0:
        gone: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not gone.done():
                gone.set_result(None)

        loop.add_reader(pidfd, readable)
        try:
            while proc.returncode is None and not gone.done():
                await asyncio.wait({gone}, timeout=POLL_S)  # the watcher may beat the pidfd
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
    while proc.returncode is None:
        await asyncio.sleep(0.01 if pidfd >= 0 else POLL_S)
    return proc.returncode


async def _pump(proc: asyncio.subprocess.Process, on_lines: LineSink) -> None:
    """Hand over complete lines in batches; a line longer than READ_LIMIT is cut."""
    assert proc.stdout is not None
    reader = proc.stdout
    partial = b""
    while True:
        chunk = await reader.read(CHUNK)
        if not chunk:
            break
        data = partial + chunk
        *complete, partial = data.split(b"\n")
        if len(partial) > READ_LIMIT:
            complete.append(partial)
            partial = b""
        if complete:
            on_lines([_text(raw) for raw in complete])
        await asyncio.sleep(0)  # let requests and other resources in between chunks
    if partial:
        on_lines([_text(partial)])


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")
