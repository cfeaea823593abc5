"""LSP over stdio, with the lifecycle a language server owes its editor.

pygls 2's stdio loop trusts every ``Content-Length``: one message that claims more bytes than
it has makes ``read(n)`` swallow the following messages, and the server stays alive but deaf.
It also writes to stdout synchronously on the event loop, so a client that stops reading
freezes the engine. This module keeps pygls' protocol object (it still decodes, dispatches
and answers every message) and replaces only the two ends:

- ``Framing`` (pure) cuts bytes into message bodies and resynchronises on the next
  ``Content-Length`` header when a body is shorter than announced (a raw header line can
  never be inside a JSON body: JSON strings cannot hold a raw CR LF).
- ``QueuedWriter`` hands messages to a thread that writes them, so the loop never blocks on
  the client; ``pending_bytes`` tells the log batcher when the client falls behind.

``serve_stdio`` (and ``serve_tcp``, for one client) ends on ``exit``, when the client closes
its end, and on SIGTERM, SIGINT or SIGHUP, and in every case stops the engine (and so every
process it started) first.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO, Protocol

log = logging.getLogger(__name__)

_HEADER = re.compile(rb"Content-Length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)
_GARBAGE_LIMIT = 1024 * 1024  # without any header in sight, keep at most this much
STOP_TIMEOUT_S = 30.0  # the engine's stop on the way out, at most
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Framing:
    """Bytes in, message bodies out. ``problems`` collects what was skipped, in words."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.problems: list[str] = []

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        bodies: list[bytes] = []
        while True:
            head = _HEADER.search(self._buf)
            if head is None:
                if len(self._buf) > _GARBAGE_LIMIT:
                    self._skip(len(self._buf) - 64, "bytes without a Content-Length header")
                return bodies
            if self._buf[: head.start()].strip():
                self._skip(head.start(), "bytes before a Content-Length header")
                continue
            end = self._buf.find(b"\r\n\r\n", head.end() - 2)
            if end < 0:
                return bodies  # the rest of the header block is still on its way
            length, start = int(head.group(1)), end + 4
            following = _HEADER.search(self._buf, start, start + length)
            if following is not None:  # the body is shorter than announced
                short = bytes(self._buf[start : following.start()]).rstrip(b"\r\n")
                self.problems.append(
                    f"a message announced Content-Length {length} but the next message began "
                    f"after {len(short)} bytes; resynchronised on the next header"
                )
                bodies.append(short)  # handled if it is whole JSON, reported if not
                del self._buf[: following.start()]
                continue
            if len(self._buf) < start + length:
                return bodies
            bodies.append(bytes(self._buf[start : start + length]))
            del self._buf[: start + length]

    def _skip(self, count: int, what: str) -> None:
        self.problems.append(f"skipped {count} {what}")
        del self._buf[:count]


class QueuedWriter:
    """pygls' writer interface, served by a thread: ``write`` never blocks the loop."""

    def __init__(self, out: BinaryIO, on_lost: Callable[[], object]) -> None:
        self._fd = out.fileno()
        self._on_lost = on_lost
        self._queue: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._pending = 0
        self.lost = False
        self._thread = threading.Thread(target=self._run, name="lsp-writer", daemon=True)
        self._thread.start()

    @property
    def pending_bytes(self) -> int:
        """Written by the server, not yet taken by the client."""
        return self._pending

    def write(self, data: bytes) -> None:
        if self.lost:
            return
        with self._cond:
            self._queue.append(data)
            self._pending += len(data)
            self._cond.notify()

    def close(self) -> None:
        """pygls calls this on ``exit``; ``serve_stdio`` handles exit itself."""

    async def drain(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending and not self.lost and loop.time() < deadline:
            await asyncio.sleep(0.01)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                data = self._queue.popleft()
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError:
                self.lost = True
                self._on_lost()
                return
            finally:
                with self._cond:
                    self._pending -= len(data)


class _Server(Protocol):
    """What serve_stdio needs of the language server."""

    @property
    def protocol(self) -> Any: ...

    def stop_engine(self) -> Awaitable[None]: ...

    def kill_now(self) -> None: ...


class _Session:
    """One client: bytes in through ``received``, until ``finished`` says why it ended."""

    def __init__(self, ls: _Server) -> None:
        self.ls = ls
        self.finished: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
        self._framing = Framing()

    def finish(self, why: str, code: int) -> None:
        if not self.finished.done():
            self.finished.set_result((why, code))

    def received(self, data: bytes) -> None:
        if not data:
            self.finish("the client closed its end", 0 if self.ls.protocol._shutdown else 1)
            return
        for body in self._framing.feed(data):
            self._handle(body)
        for problem in self._framing.problems:
            _complain(f"malformed LSP framing: {problem}")
        self._framing.problems.clear()

    def _handle(self, body: bytes) -> None:
        protocol = self.ls.protocol
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
        except ValueError as err:
            _complain(f"dropped a message that is not JSON ({err}): {body[:80]!r}")
            return
        if getattr(message, "method", None) == "exit":
            self.finish("exit", 0 if protocol._shutdown else 1)
            return
        try:
            protocol.handle_message(message)
        except Exception:
            log.exception("unable to handle a message")

    async def run(self, drain: Callable[[float], Awaitable[None]]) -> int:
        """Until the client leaves or a signal comes; then stop the engine, flush, and
        return the exit code."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.finish, f"signal {sig.name}", 0)
        try:
            why, code = await self.finished
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            # A second signal during the stop must not cut it short.
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, lambda: None)
        log.info("stopping: %s", why)
        try:
            await asyncio.wait_for(self.ls.stop_engine(), STOP_TIMEOUT_S)
        except TimeoutError:
            _complain(
                f"the engine did not stop within {STOP_TIMEOUT_S:g}s; killing what it started"
            )
            self.ls.kill_now()
        await drain(2.0)
        return code


async def serve_stdio(ls: _Server, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve one client over stdio until it leaves or we are told to stop; the exit code
    follows the LSP rule (0 after shutdown + exit, 1 for an exit without shutdown)."""
    loop = asyncio.get_running_loop()
    session = _Session(ls)
    writer = QueuedWriter(
        stdout,
        lambda: loop.call_soon_threadsafe(session.finish, "the client closed its end", 1),
    )
    ls.protocol.set_writer(writer)

    def read() -> None:
        fd = stdin.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            try:
                loop.call_soon_threadsafe(session.received, data)
            except RuntimeError:  # the loop is closed: we are done
                return
            if not data:
                return

    threading.Thread(target=read, name="lsp-reader", daemon=True).start()
    return await session.run(writer.drain)


async def serve_tcp(ls: _Server, host: str, port: int) -> int:
    """Listen on HOST:PORT for one client; serve it as ``serve_stdio`` would."""
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
        asyncio.get_running_loop().create_future()
    )

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connected.done():
            writer.close()  # one client at a time
        else:
            connected.set_result((reader, writer))

    server = await asyncio.start_server(accept, host, port)
    log.info("listening on %s:%s", host, port)
    session = _Session(ls)
    waiting = asyncio.ensure_future(connected)
    either: list[asyncio.Future[Any]] = [waiting, session.finished]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    server.close()
    if not waiting.done():  # a signal before any client came
        waiting.cancel()
        return await session.run(_no_drain)
    reader, writer = waiting.result()
    ls.protocol.set_writer(writer)

    async def pump() -> None:
        while True:
            try:
                data = await reader.read(65536)
            except OSError:
                data = b""
            session.received(data)
            if not data:
                return

    pumping = asyncio.ensure_future(pump())

    async def drain(timeout: float) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), timeout)
        writer.close()

    code = await session.run(drain)
    pumping.cancel()
    return code


async def _no_drain(timeout: float) -> None:
    pass


def _complain(text: str) -> None:
    print(f"tilt-lsp: {text}", file=sys.stderr, flush=True)
