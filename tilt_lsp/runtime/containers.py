"""Watching containers from threads: Docker events (start, die, restart, oom) and the log
stream of each container, with every result handed back to the loop.

The docker SDK is blocking, so each stream runs in its own daemon thread with its own
connection, and stops when its stream is closed. A log stream ends when the container dies,
even with a restart policy: the owner re-attaches on every ``start`` event (``since`` the
start, so the previous run's lines are not replayed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ContainerEvent:
    action: str  # start | die | restart | oom | destroy | kill | stop
    container_id: str
    exit_code: int | None
    time: float  # seconds since the epoch, with the engine's nanoseconds


class _Stream:
    """One blocking stream in a daemon thread; ``close`` ends it."""

    def __init__(self, name: str, run: Callable[[_Stream], None]) -> None:
        self.closed = False
        self.stream: Any = None
        self._thread = threading.Thread(target=self._main, args=(run,), name=name, daemon=True)
        self._thread.start()

    def _main(self, run: Callable[[_Stream], None]) -> None:
        with contextlib.suppress(Exception):
            run(self)

    def close(self) -> None:
        self.closed = True
        stream = self.stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()


class EventWatcher:
    """Container events matching ``labels`` (e.g. a compose project and service)."""

    ACTIONS = frozenset({"start", "die", "restart", "oom", "destroy"})

    def __init__(
        self,
        new_api: Callable[[], Any],
        labels: Mapping[str, str],
        on_event: Callable[[ContainerEvent], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._new_api = new_api
        self._filters = {
            "type": ["container"],
            "label": [f"{k}={v}" for k, v in labels.items()],
        }
        self._on_event = on_event
        self._loop = loop
        self.ready = threading.Event()
        self._stream = _Stream("docker-events", self._run)

    def _run(self, me: _Stream) -> None:
        api = self._new_api()
        try:
            me.stream = api.events(decode=True, filters=self._filters)
            self.ready.set()
            for raw in me.stream:
                if me.closed:
                    break
                action = str(raw.get("Action") or raw.get("status") or "").split(":")[0]
                if action not in self.ACTIONS:
                    continue
                attrs = (raw.get("Actor") or {}).get("Attributes") or {}
                code = attrs.get("exitCode")
                event = ContainerEvent(
                    action=action,
                    container_id=str(raw.get("id") or (raw.get("Actor") or {}).get("ID") or ""),
                    exit_code=int(code) if code is not None and str(code).isdigit() else None,
                    time=int(raw.get("timeNano") or 0) / 1e9 or float(raw.get("time") or 0),
                )
                self._loop.call_soon_threadsafe(self._on_event, event)
        finally:
            self.ready.set()
            with contextlib.suppress(Exception):
                api.close()

    def close(self) -> None:
        self._stream.close()


class LogFollower:
    """The log lines of one container run, from ``since`` until the container stops."""

    def __init__(
        self,
        new_api: Callable[[], Any],
        container_id: str,
        since: float | None,
        on_line: Callable[[str, str], None],
        loop: asyncio.AbstractEventLoop,
        on_end: Callable[[str], None] | None = None,
    ) -> None:
        self.container_id = container_id
        self._new_api = new_api
        self._since = since
        self._on_line = on_line
        self._on_end = on_end
        self._loop = loop
        self._stream = _Stream(f"logs-{container_id[:12]}", self._run)

    def _run(self, me: _Stream) -> None:
        api = self._new_api()
        cid = self.container_id
        partial = b""
        try:
            kwargs: dict[str, Any] = {"stream": True, "follow": True, "timestamps": False}
            if self._since is not None:
                kwargs["since"] = self._since
            me.stream = api.logs(cid, **kwargs)
            for chunk in me.stream:
                if me.closed:
                    return
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for line in lines:
                    text = line.decode("utf-8", "replace").rstrip("\r")
                    self._loop.call_soon_threadsafe(self._on_line, cid, text)
            if partial and not me.closed:
                text = partial.decode("utf-8", "replace")
                self._loop.call_soon_threadsafe(self._on_line, cid, text)
        finally:
            with contextlib.suppress(Exception):
                api.close()
            if self._on_end is not None and not me.closed:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    self._loop.call_soon_threadsafe(self._on_end, cid)

    def close(self) -> None:
        self._stream.close()
