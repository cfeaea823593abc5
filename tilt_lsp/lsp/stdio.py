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

``serve_stdio`` ends on ``exit``, on stdin EOF, on a closed stdout and on SIGTERM, SIGINT or
SIGHUP, and in every case stops the engine (and so every process it started) first.
"""

from __future__ import annotations

import asyncio
import collections
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


async def serve_stdio(ls: _Server, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve one client until it leaves or we are told to stop; the exit code follows the
    LSP rule (0 after shutdown + exit, 1 for an exit without shutdown)."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[tuple[str, int]] = loop.create_future()

    def finish(why: str, code: int) -> None:
        if not finished.done():
            finished.set_result((why, code))

    writer = QueuedWriter(
        stdout, lambda: loop.call_soon_threadsafe(finish, "the client closed its end", 1)
    )
    ls.protocol.set_writer(writer)
    framing = Framing()

    def handle(body: bytes) -> None:
        try:
            message = json.loads(body, object_hook=ls.protocol.structure_message)
        except ValueError as err:
            _complain(f"dropped a message that is not JSON ({err}): {body[:80]!r}")
            return
        if getattr(message, "method", None) == "exit":
            finish("exit", 0 if ls.protocol._shutdown else 1)
            return
        try:
            ls.protocol.handle_message(message)
        except Exception:
            log.exception("unable to handle a message")

    def received(data: bytes) -> None:
        if not data:
            finish("stdin closed", 0 if ls.protocol._shutdown else 1)
            return
        for body in framing.feed(data):
            handle(body)
        for problem in framing.problems:
            _complain(f"malformed LSP framing: {problem}")
        framing.problems.clear()

    def read() -> None:
        fd = stdin.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            try:
                loop.call_soon_threadsafe(received, data)
            except RuntimeError:  # the loop is closed: we are done
                return
            if not data:
                return

    threading.Thread(target=read, name="lsp-reader", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, finish, f"signal {sig.name}", 0)
    why, code = await finished
    log.info("stopping: %s", why)
    try:
        await asyncio.wait_for(ls.stop_engine(), STOP_TIMEOUT_S)
    except TimeoutError:
        _complain(f"the engine did not stop within {STOP_TIMEOUT_S:g}s; killing what it started")
        ls.kill_now()
    await writer.drain(2.0)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(sig)
    return code


def _complain(text: str) -> None:
    print(f"tilt-lsp: {text}", file=sys.stderr, flush=True)
