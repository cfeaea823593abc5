"""Evaluate Tiltfiles in a worker process, with a time limit and a memory bound.

starlark-pyo3 holds the GIL for a whole evaluation, so a Tiltfile that loops (or a 5 MB one)
evaluated in a thread would freeze the language server: no request answered, not even
``shutdown``. The worker is a separate Python process, started ahead of time and reused, so
an evaluation costs no interpreter start-up (about 150 ms of imports) and the server's loop
only waits on a pipe. Past the time limit or the memory bound the worker's process group is
killed (the commands of ``local()`` with it) and a fresh worker is started for the next
evaluation.

The result crosses back pickled: the Model is frozen dataclasses, a TiltfileError travels as
its (message, location, kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import resource
import signal
import struct
import sys
import traceback
from collections.abc import Mapping
from typing import Any, BinaryIO

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import Model

TIMEOUT_S = 30.0
MEMORY_MB = 1024
ADDRESS_SPACE_FACTOR = 4  # the worker's hard address-space limit, as a multiple of MEMORY_MB
_POLL_S = 0.1  # how often the worker's memory is looked at while it evaluates
_FRAME = struct.Struct(">I")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class TiltfileWorker:
    """One evaluation at a time (the engine never asks for two at once)."""

    def __init__(self, timeout_s: float = TIMEOUT_S, memory_mb: int = MEMORY_MB) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._proc: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Task[asyncio.subprocess.Process] | None = None
        self._lock = asyncio.Lock()
        self._dying: set[asyncio.Task[int]] = set()  # killed workers, until reaped

    def warm(self) -> None:
        """Start a worker now, so that the next evaluation does not wait for it."""
        if self._proc is None and (self._starting is None or self._starting.done()):
            self._starting = asyncio.get_running_loop().create_task(_spawn(self.memory_mb))

    async def load(self, path: str, env: Mapping[str, str]) -> Model:
        """The Model, or a TiltfileError: the Tiltfile's own, or one saying the evaluation
        took too long, used too much memory or died."""
        async with self._lock:
            try:
                proc = await self._worker()
            except OSError as err:
                raise TiltfileError(
                    f"cannot start the Tiltfile evaluation process: {err}", None, "crash"
                ) from None
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(_frame(pickle.dumps((path, dict(env)))))
            reply = asyncio.ensure_future(_read_frame(proc.stdout))
            try:
                error = await self._watch(proc, reply)
            except BaseException:
                self._kill()
                raise
            if error is not None:
                self._kill()
                self.warm()
                raise error
            kind, value = pickle.loads(reply.result())
        if kind == "ok":
            assert isinstance(value, Model)
            return value
        if kind == "error":
            message, location, error_kind = value
            raise TiltfileError(message, location, error_kind)
        raise TiltfileError(f"internal error while evaluating the Tiltfile:\n{value}")

    async def _watch(
        self, proc: asyncio.subprocess.Process, reply: asyncio.Future[bytes]
    ) -> TiltfileError | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while True:
            left = deadline - loop.time()
            if left <= 0:
                reply.cancel()
                return TiltfileError(
                    f"evaluation took longer than {self.timeout_s:g} s", None, "timeout"
                )
            await asyncio.wait({reply}, timeout=min(_POLL_S, left))
            if reply.done():
                if reply.exception() is None:
                    return None
                for _ in range(100):  # the child watcher records the code a moment later
                    if proc.returncode is not None:
                        break
                    await asyncio.sleep(0.01)
                code = proc.returncode
                how = (
                    "it ended"
                    if code is None
                    else f"killed by signal {-code}"
                    if code < 0
                    else f"exit code {code}"
                )
                return TiltfileError(
                    f"the Tiltfile evaluation process died ({how}); out of memory?",
                    None,
                    "crash",
                )
            if _rss_mb(proc.pid) > self.memory_mb:
                reply.cancel()
                return TiltfileError(
                    f"evaluation used more than {self.memory_mb} MB of memory", None, "memory"
                )

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        self.warm()
        assert self._starting is not None
        self._proc = await asyncio.shield(self._starting)
        return self._proc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            self._reap(proc)

    def _reap(self, proc: asyncio.subprocess.Process) -> None:
        _killpg(proc.pid)
        task = asyncio.get_running_loop().create_task(proc.wait())
        self._dying.add(task)
        task.add_done_callback(self._dying.discard)

    async def close(self) -> None:
        """Kill the worker (and one being started)."""
        starting, self._starting = self._starting, None
        if starting is not None:
            await asyncio.wait({starting})
            started = None if starting.cancelled() or starting.exception() else starting.result()
            if started is not None and started is not self._proc:
                self._reap(started)
        self._kill()
        if self._dying:
            await asyncio.wait(self._dying, timeout=5)


async def _spawn(memory_mb: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # not the working directory first: a workspace's yaml.py must not shadow ours
        "-m",
        "tilt_lsp.tiltfile.worker",
        str(memory_mb * ADDRESS_SPACE_FACTOR),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,  # killpg reaches what local() started
        limit=2**31 - 1,
    )


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _frame(data: bytes) -> bytes:
    return _FRAME.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return await reader.readexactly(size)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


# -- the worker's side --------------------------------------------------------------------


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    from tilt_lsp.tiltfile.loader import load_tiltfile  # imported before the first request

    while True:
        head = requests.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return  # the server went away
        path, env = pickle.loads(requests.read(_FRAME.unpack(head)[0]))
        reply: tuple[str, Any]
        try:
            reply = ("ok", load_tiltfile(path, env))
        except TiltfileError as err:
            reply = ("error", (err.message, err.location, err.kind))
        except BaseException:
            reply = ("crash", traceback.format_exc())
        try:
            data = pickle.dumps(reply)
        except Exception:
            data = pickle.dumps(("crash", traceback.format_exc()))
        replies.write(_frame(data))
        replies.flush()


def main() -> None:
    # A hard backstop under the polled bound: an allocation this large fails at once
    # (the worker dies and the server says so) instead of pushing the machine into swap.
    if len(sys.argv) > 1:
        limit = int(sys.argv[1]) * 2**20
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # The protocol owns the real stdout; anything else printed goes to stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
