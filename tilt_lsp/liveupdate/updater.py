"""Applying a live update to a running container: the ``ContainerUpdater`` interface and the
synclet client behind it.

One update is one streamed HTTP request to the synclet (``synclet.protocol``, sent by
``synclet.client``): deletes, a tar
of the synced files, the triggered run steps and the restart mode go in; NDJSON events come
back (step output line by line, the exit codes, then ``done`` or ``failed``). The caller gets
every event as it arrives, so run-step output reaches the log and the problem parsers live.

What a failure means is decided here, once: a run step that failed is the user's (show it, do
not rebuild); anything else (the container is gone, the synclet is unreachable, an archive it
refused) is infrastructure, and the caller falls back to a full rebuild.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from synclet import protocol as sp
from synclet.archive import ArchiveError, build_archive

OnEvent = Callable[[sp.Event], None]
Outcome = Literal["done", "user", "infrastructure"]


@dataclass(frozen=True, slots=True)
class UpdateResult:
    outcome: Outcome
    message: str = ""
    restarted: bool = False
    duration_ms: int = 0


class ContainerUpdater(Protocol):
    """Puts files into a running container, runs steps, restarts it (Tilt's
    ``UpdateContainer``). Implementations: ``SyncletUpdater``; fakes in tests."""

    async def update(
        self, container_id: str, spec: sp.UpdateSpec, archive: bytes, on_event: OnEvent
    ) -> UpdateResult: ...


def expand(syncs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(local, container) pairs of regular files and symlinks, directories walked; and the
    container paths of locals that vanished meanwhile (they become deletes)."""
    files: list[tuple[str, str]] = []
    missing: list[str] = []
    for local, container in syncs:
        if os.path.isdir(local) and not os.path.islink(local):
            for dirpath, _dirs, names in os.walk(local):
                for name in names:
                    full = os.path.join(dirpath, name)
                    rel = os.path.relpath(full, local).replace(os.sep, "/")
                    files.append((full, f"{container.rstrip('/')}/{rel}"))
        elif os.path.lexists(local):
            files.append((local, container))
        else:
            missing.append(container)
    return files, missing


def make_archive(files: list[tuple[str, str]]) -> bytes:
    """The update's tar (names relative to ``/``); ``ArchiveError`` when a file cannot go."""
    return build_archive(files, dest="/") if files else b""


class SyncletUpdater:
    """Live updates through a synclet (a local subprocess or a remote agent)."""

    def __init__(
        self,
        endpoint: Callable[[], Awaitable[tuple[str, str]]],
        timeout_s: float = 600.0,
    ) -> None:
        """``endpoint`` returns (base URL, bearer token), starting the synclet if needed."""
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._session: object | None = None

    async def _client(self) -> object:
        import aiohttp

        if self._session is None or getattr(self._session, "closed", True):
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s, sock_connect=5)
            )
        return self._session

    async def warm(self) -> None:
        """Start the synclet, import the HTTP client and open a connection now, so the first
        save does not pay for them (~0.3 s)."""
        from synclet.client import healthz

        url, _token = await self._endpoint()
        session = await self._client()
        import aiohttp

        assert isinstance(session, aiohttp.ClientSession)
        await healthz(session, url)

    async def close(self) -> None:
        session, self._session = self._session, None
        close = getattr(session, "close", None)
        if close is not None:
            await close()

    async def update(
        self, container_id: str, spec: sp.UpdateSpec, archive: bytes, on_event: OnEvent
    ) -> UpdateResult:
        import aiohttp

        from synclet.client import update_events

        try:
            url, token = await self._endpoint()
        except Exception as err:
            return UpdateResult("infrastructure", f"the synclet could not start: {err}")
        session = await self._client()
        assert isinstance(session, aiohttp.ClientSession)
        restarted = False
        # The synclet's client ends every outcome (refusal, lost connection, cut stream) in
        # exactly one done or failed event.
        async for event in update_events(session, url, token, container_id, spec, archive):
            on_event(event)
            if isinstance(event, sp.Restarted):
                restarted = True
            if isinstance(event, sp.Done):
                return UpdateResult("done", restarted=restarted, duration_ms=event.duration_ms)
            if isinstance(event, sp.Failed):
                outcome: Outcome = "user" if event.kind == "user" else "infrastructure"
                return UpdateResult(outcome, event.message, restarted)
        return UpdateResult("infrastructure", "the synclet's answer ended before done or failed")


__all__ = [
    "ArchiveError",
    "ContainerUpdater",
    "SyncletUpdater",
    "UpdateResult",
    "expand",
    "make_archive",
]
