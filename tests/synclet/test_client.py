"""The client tilt-lsp uses: every outcome is one event stream ending in done or failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synclet.archive import build_archive
from synclet.client import healthz, update_events
from synclet.protocol import Done, Event, Failed, RunStep, UpdateSpec
from tests.support import free_port
from tests.synclet.helpers import Synclet, run_container

SPEC = UpdateSpec((), ("/app/a.py",), (RunStep(("cat", "/app/a.py")),), "none")


async def _collect(url: str, token: str, container_id: str, archive: bytes = b"") -> list[Event]:
    async with aiohttp.ClientSession() as session:
        return [e async for e in update_events(session, url, token, container_id, SPEC, archive)]


async def test_refusal_is_a_failed_refused_event(synclet: Synclet) -> None:
    events = await _collect(synclet.url, "wrong", "c")
    assert events == [
        Failed(
            kind="refused",
            message="synclet refused the update (401): missing or wrong bearer token",
        )
    ]


async def test_unreachable_synclet_is_an_infrastructure_failure() -> None:
    port = free_port()  # nothing listens there
    events = await _collect(f"http://127.0.0.1:{port}", "t", "c")
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert (
        events[0].kind == "infrastructure"
        and f"lost the synclet at http://127.0.0.1:{port}" in events[0].message
    )


async def test_healthz(synclet: Synclet) -> None:
    async with aiohttp.ClientSession() as session:
        assert (await healthz(session, synclet.url))["ok"] is True


@pytest.mark.docker
async def test_update_streams_to_done(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    container = run_container(docker_client, docker_resources, base_image)
    local = tmp_path / "a.py"
    local.write_text("print('hi')\n")
    events = await _collect(
        synclet.url, synclet.token, container.id, build_archive([(str(local), "/app/a.py")])
    )
    assert [e.EVENT for e in events] == [
        "started", "extracted", "step_started", "output", "step_exited", "done",
    ]  # fmt: skip
    assert isinstance(events[-1], Done)


async def test_a_stream_cut_before_its_end_is_an_infrastructure_failure() -> None:
    from aiohttp import web

    async def truncated(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        await response.write(b'{"event":"started"}\n')
        return response  # ends without done/failed, as a synclet that crashed would

    app = web.Application()
    app.router.add_post("/v1/containers/{id}/update", truncated)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        events = await _collect(f"http://127.0.0.1:{port}", "t", "c")
    finally:
        await runner.cleanup()
    assert [e.EVENT for e in events] == ["started", "failed"]
    assert isinstance(events[-1], Failed) and events[-1].kind == "infrastructure"
    assert "ended the stream before the update finished" in events[-1].message
