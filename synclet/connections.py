"""The synclet's connections: a cap, header and idle timeouts, and JSON for malformed HTTP.

aiohttp waits for a request's headers for ever and accepts every connection it is offered,
so a client that opens connections and sends nothing (or a header line every few seconds) can
hold every file descriptor the process may open: ``/healthz`` then starves and each refused
``accept()`` logs a traceback. Here each connection is in one of three phases:

* ``idle``: connected (or between two requests), nothing received yet: closed after
  ``idle_timeout``;
* ``headers``: bytes arrived but not a whole request head: closed ``header_timeout`` after the
  first byte;
* ``request``: headers parsed, the handler runs (body timeouts are the handler's, see
  :mod:`synclet.body`; an update may then run as long as its steps do).

At most ``max_connections`` are open. A new connection over the cap evicts the oldest one not
in a request (so stalled clients cannot keep a health check or an update out); when every
connection is busy in a request, the new one is closed at once.

aiohttp answers malformed HTTP itself, in text and with a logged traceback; here the answer
is ``{"error": ...}`` and the log gets one line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("synclet")

Phase = Literal["idle", "headers", "request"]


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take, and how many connections may be open at once."""

    max_connections: int = 100
    header_timeout: float = 10.0
    idle_timeout: float = 30.0
    body_timeout: float = 30.0


@dataclass
class Registry:
    """The open connections, oldest first."""

    limits: ConnectionLimits
    live: dict[GuardedHandler, None] = field(default_factory=dict)
    evicted: int = 0

    def admit(self, handler: GuardedHandler) -> bool:
        """Make room for ``handler``; False if every connection is busy in a request."""
        if len(self.live) >= self.limits.max_connections:
            victim = next((h for h in self.live if h.phase != "request"), None)
            if victim is None:
                return False
            self.evicted += 1
            victim.drop("evicted: the synclet is at its connection limit")
        self.live[handler] = None
        return True


class GuardedHandler(RequestHandler):
    """aiohttp's per-connection protocol with the phases, timeouts and JSON errors above."""

    def __init__(self, registry: Registry, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.registry = registry
        self.phase: Phase = "idle"
        self._deadline: asyncio.TimerHandle | None = None
        self._transport_: asyncio.Transport | None = None

    # -- phases ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport_ = transport
        if not self.registry.admit(self):
            log.info("refused a connection: every connection is busy with a request")
            transport.abort()
            return
        super().connection_made(transport)
        self._enter_idle()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel()
        self.registry.live.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.phase == "idle" and data:
            # From the first byte on, the header timeout alone: a request that starts just
            # before the idle deadline still gets its full time.
            self.phase = "headers"
            header_deadline = time.monotonic() + self.registry.limits.header_timeout
            self._arm(header_deadline, "sent no complete request head")
        super().data_received(data)

    def request_started(self) -> None:
        self.phase = "request"
        self._cancel()

    def request_finished(self) -> None:
        if self.phase == "request":
            self._enter_idle()

    def _enter_idle(self) -> None:
        self.phase = "idle"
        self._arm(time.monotonic() + self.registry.limits.idle_timeout, "stayed idle")

    def _arm(self, when: float, why: str) -> None:
        self._cancel()
        delay = max(0.0, when - time.monotonic())
        self._deadline = asyncio.get_running_loop().call_later(
            delay, self.drop, f"{why} for {delay:.0f} s"
        )

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def drop(self, why: str) -> None:
        """Close the connection now (it frees its file descriptor at once)."""
        self._cancel()
        self.registry.live.pop(self, None)
        log.info("closed a connection that %s", why)
        if self._transport_ is not None:
            self._transport_.abort()

    # -- malformed HTTP ----------------------------------------------------------------------

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse (or a handler crash): JSON."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)  # logs the traceback
        reason = message or (str(exc) if exc else "") or "bad request"
        reason = reason.splitlines()[0][:300] if reason.strip() else "bad request"
        log.info("refused a malformed request (%s): %s", status, reason)
        response = web.Response(
            status=status,
            text=json.dumps({"error": f"malformed HTTP request: {reason}"}),
            content_type="application/json",
        )
        response.force_close()
        return response


def handler_factory(
    server: web.Server, registry: Registry, loop: asyncio.AbstractEventLoop
) -> Callable[[], GuardedHandler]:
    """The protocol factory for ``loop.create_server`` (in place of aiohttp's own)."""
    idle = registry.limits.idle_timeout

    def make() -> GuardedHandler:
        return GuardedHandler(registry, server, loop=loop, access_log=None, keepalive_timeout=idle)

    return make


def connection_of(request: web.Request) -> GuardedHandler | None:
    protocol = request.protocol
    return protocol if isinstance(protocol, GuardedHandler) else None


def quiet_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """One line for the event loop's own resource errors (``accept()`` out of descriptors)
    instead of a traceback each time; anything else goes to the default handler."""
    exc = context.get("exception")
    if isinstance(exc, OSError) and "socket" in context:
        log.warning("%s: %s", context.get("message", "socket error"), exc.strerror or exc)
        return
    loop.default_exception_handler(context)
