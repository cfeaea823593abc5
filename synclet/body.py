"""Read an update's body: the spec line in memory, the archive spooled to a temporary file.

An update may carry hundreds of megabytes; holding it (and its re-written copy) in memory
would let two large updates exhaust a small pod. So only the spec line (at most ``max_spec``
bytes) and small archives (at most :data:`IN_MEMORY`) stay in memory; a larger archive goes
to an anonymous temporary file in chunks, written from a thread (no blocking disk I/O on the
event loop), and the re-written archive (:mod:`synclet.rewrite`) goes to another.

A client that stops sending is cut off: each read waits at most ``body_timeout`` seconds, and
the whole body must arrive within ``body_deadline``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from typing import BinaryIO

from aiohttp import web

_FLUSH = 1 << 20


class BodyRefused(Exception):
    """The body is too large, too slow or malformed: ``status`` and a message for ``error``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


IN_MEMORY = 1 << 20
"""Bodies up to this size stay in memory (a typical save is a few KiB: no file to create)."""


def spool_file() -> BinaryIO:
    """A temporary file: in memory up to :data:`IN_MEMORY` bytes, then an anonymous file on
    disk (gone when closed, or when the process dies)."""
    return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY, prefix="synclet-")  # type: ignore[return-value]


async def _read(request: web.Request, timeout: float, deadline: float) -> bytes:
    left = deadline - time.monotonic()
    try:
        async with asyncio.timeout(min(timeout, max(left, 0.0))):
            return await request.content.readany()
    except ConnectionError:
        raise BodyRefused(400, "the client closed the connection before the body ended") from None
    except TimeoutError:
        if left <= timeout:
            raise BodyRefused(408, "the request body did not arrive in time") from None
        raise BodyRefused(
            408, f"the client sent nothing for {timeout:g} s in the middle of the request body"
        ) from None


async def read_update_body(
    request: web.Request,
    *,
    max_body: int,
    max_spec: int,
    body_timeout: float,
    body_deadline: float = 600.0,
) -> tuple[bytes, BinaryIO]:
    """The spec line and a file holding the rest of the body (positioned at its start).

    The caller closes the file. Raises :class:`BodyRefused`.
    """
    if request.content_length is not None and request.content_length > max_body:
        raise BodyRefused(
            413,
            f"request body of {request.content_length} bytes exceeds the limit of {max_body} bytes",
        )
    deadline = time.monotonic() + body_deadline
    head = bytearray()
    newline = -1
    while newline < 0:
        chunk = await _read(request, body_timeout, deadline)
        if not chunk:
            raise BodyRefused(
                400, "body must start with the update spec as one line of JSON ending in a newline"
            )
        found = chunk.find(b"\n")
        if found >= 0:
            newline = len(head) + found
        head += chunk
        if (newline < 0 and len(head) > max_spec) or newline > max_spec:
            raise BodyRefused(413, f"update spec line exceeds the limit of {max_spec} bytes")
    spec_line = bytes(head[:newline])
    pending = bytearray(head[newline + 1 :])
    del head
    total = newline + 1 + len(pending)
    out = spool_file()
    try:
        while True:
            if len(pending) >= _FLUSH:
                await asyncio.to_thread(out.write, pending)
                pending = bytearray()
            chunk = await _read(request, body_timeout, deadline)
            if not chunk:
                break
            total += len(chunk)
            if total > max_body:
                raise BodyRefused(413, f"request body exceeds the limit of {max_body} bytes")
            pending += chunk
        if pending:
            await asyncio.to_thread(out.write, pending)
        await asyncio.to_thread(out.flush)
        out.seek(0)
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        raise
    return spec_line, out
