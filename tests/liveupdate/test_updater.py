"""The synclet client: events streamed to the caller, and what each ending means."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from synclet import protocol as sp
from tilt_lsp.liveupdate.updater import SyncletUpdater, expand, make_archive

TOKEN = "secret-token"
SPEC = sp.UpdateSpec(deletes=(), changed=("/app/a.py",), run_steps=(), restart="none")


SEEN = web.AppKey("seen", list)


def synclet_app(events: list[sp.Event], status: int = 200, cut: bool = False) -> web.Application:
    seen: list[tuple[sp.UpdateSpec, bytes]] = []

    async def update(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorised"}, status=401)
        body = await request.read()
        line, _, archive = body.partition(b"\n")
        seen.append((sp.UpdateSpec.from_json(line), archive))
        if status != 200:
            return web.json_response({"error": "refused: bad archive"}, status=status)
        resp = web.StreamResponse(headers={"Content-Type": sp.EVENTS_CONTENT_TYPE})
        await resp.prepare(request)
        for event in events:
            await resp.write(event.encode())
            await asyncio.sleep(0)
        if not cut:
            await resp.write_eof()
        return resp

    app = web.Application()
    app[SEEN] = seen
    app.router.add_post(sp.UPDATE_PATH_TEMPLATE, update)
    return app


async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def run(events: list[sp.Event], **kw: object) -> tuple[object, list[sp.Event], web.Application]:
    app = synclet_app(events, **kw)  # type: ignore[arg-type]
    got: list[sp.Event] = []
    async for url in serve(app):

        async def endpoint(url: str = url) -> tuple[str, str]:
            return url, TOKEN

        updater = SyncletUpdater(endpoint)
        try:
            result = await updater.update("abc123", SPEC, b"", got.append)
        finally:
            await updater.close()
    return result, got, app


async def test_done_streams_every_event_and_reports_the_restart() -> None:
    events: list[sp.Event] = [
        sp.Started(), sp.Extracted(files=1, bytes=10, method="tar"),
        sp.Restarted(mode="process"), sp.Done(duration_ms=42),
    ]
    result, got, app = await run(events)
    assert got == events
    assert result.outcome == "done" and result.restarted and result.duration_ms == 42  # type: ignore[attr-defined]
    assert app[SEEN][0][0] == SPEC


async def test_a_failed_run_step_is_the_users_error() -> None:
    events: list[sp.Event] = [
        sp.Started(), sp.StepStarted(index=0, command=("make",)),
        sp.Output(index=0, line="main.c:3:1: error: expected ';'"),
        sp.StepExited(index=0, exit_code=2), sp.Failed(kind="user", message="run step 0 exited with code 2"),
    ]
    result, got, _ = await run(events)
    assert result.outcome == "user" and "code 2" in result.message  # type: ignore[attr-defined]
    assert sp.Output(index=0, line="main.c:3:1: error: expected ';'") in got


@pytest.mark.parametrize(
    "events,kw",
    [
        ([sp.Started(), sp.Failed(kind="infrastructure", message="container gone")], {}),
        ([sp.Started()], {"cut": True}),  # the stream ended without done or failed
        ([], {"status": 400}),  # refused
    ],
)
async def test_anything_else_is_infrastructure(events: list[sp.Event], kw: dict[str, object]) -> None:
    result, _, _ = await run(events, **kw)
    assert result.outcome == "infrastructure"  # type: ignore[attr-defined]


async def test_an_unreachable_synclet_is_infrastructure() -> None:
    async def endpoint() -> tuple[str, str]:
        return "http://127.0.0.1:9", TOKEN

    updater = SyncletUpdater(endpoint)
    result = await updater.update("abc", SPEC, b"", lambda e: None)
    await updater.close()
    assert result.outcome == "infrastructure" and "lost the synclet" in result.message


def test_expand_walks_directories_and_reports_vanished_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("a")
    (tmp_path / "pkg" / "b.py").write_text("b")
    files, missing = expand([(str(tmp_path / "pkg"), "/app/pkg"), (str(tmp_path / "gone.py"), "/app/gone.py")])
    assert sorted(c for _, c in files) == ["/app/pkg/a.py", "/app/pkg/b.py"]
    assert missing == ["/app/gone.py"]
    assert make_archive(files)
