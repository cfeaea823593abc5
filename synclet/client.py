"""The client side of the protocol, for tilt-lsp's SyncletUpdater.

It turns every outcome into the same shape the server promises: a stream of events ending in
exactly one ``done`` or ``failed``. A ``4xx`` refusal becomes ``failed {refused}``; a synclet
that cannot be reached, or a stream cut before its final event, becomes
``failed {infrastructure}`` (the engine falls back to a full rebuild). So the engine has one
code path, whatever went wrong and where.

Uses aiohttp, which tilt-lsp already depends on; the caller owns the ``ClientSession`` (one
per synclet, so connections are reused between saves).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from synclet.protocol import (
    EVENTS_CONTENT_TYPE,
    HEALTHZ_PATH,
    UPDATE_CONTENT_TYPE,
    Event,
    Failed,
    FailureKind,
    ProtocolError,
    UpdateSpec,
    encode_request,
    event_from_json,
    is_final,
    update_path,
)


async def update_events(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    container_id: str,
    spec: UpdateSpec,
    archive: bytes,
) -> AsyncIterator[Event]:
    """Send one update and yield its events as they arrive; the last is ``done`` or ``failed``."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": UPDATE_CONTENT_TYPE}
    target = url.rstrip("/") + update_path(container_id)
    try:
        async with session.post(target, data=encode_request(spec, archive), headers=headers) as r:
            if r.status != 200:
                # 4xx: the synclet refused the request; anything else: the synclet is broken.
                kind: FailureKind = "refused" if 400 <= r.status < 500 else "infrastructure"
                yield Failed(kind=kind, message=await _refusal(r))
                return
            if not r.headers.get("Content-Type", "").startswith(EVENTS_CONTENT_TYPE):
                yield Failed(
                    kind="infrastructure",
                    message=f"{url} answered with {r.headers.get('Content-Type')!r}, not a synclet event stream",
                )
                return
            async for line in r.content:
                if not line.strip():
                    continue
                try:
                    event = event_from_json(line)
                except ProtocolError as exc:
                    yield Failed(
                        kind="infrastructure", message=f"bad event from the synclet: {exc}"
                    )
                    return
                yield event
                if is_final(event):
                    return
    except (aiohttp.ClientError, OSError) as exc:
        yield Failed(
            kind="infrastructure", message=f"lost the synclet at {url}: {exc or type(exc).__name__}"
        )
        return
    yield Failed(
        kind="infrastructure",
        message=f"the synclet at {url} ended the stream before the update finished",
    )


async def _refusal(response: aiohttp.ClientResponse) -> str:
    text = await response.text(errors="replace")
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        error = text.strip()[:500] or response.reason or "no reason given"
    verb = "refused" if 400 <= response.status < 500 else "failed"
    return f"synclet {verb} the update ({response.status}): {error}"


async def healthz(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """The synclet's ``/v1/healthz`` answer; raises ``aiohttp.ClientError`` when unreachable."""
    async with session.get(url.rstrip("/") + HEALTHZ_PATH) as r:
        r.raise_for_status()
        body: dict[str, Any] = await r.json()
        return body
