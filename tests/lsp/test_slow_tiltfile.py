"""A Tiltfile that never finishes evaluating cannot freeze the server: it answers requests
meanwhile, the evaluation is stopped at the time limit with a diagnostic on the Tiltfile,
and the last good version keeps running."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.rawclient import RawClient, none_left

GOOD = "local_resource('svc', serve_cmd='sleep 300')\n"
ENDLESS = GOOD + "for i in range(100000000):\n    for j in range(100000000):\n        pass\n"
TIMEOUT_S = 3


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RawClient]:
    (tmp_path / "Tiltfile").write_text(GOOD)
    client = await RawClient.start()
    try:
        await client.initialize(tmp_path, {"watch": False, "tiltfileTimeout": TIMEOUT_S})
        yield client
    finally:
        await client.close()


def tiltfile_diagnostics(client: RawClient, tiltfile: Path) -> list[dict[str, Any]]:
    published = [
        n["params"]["diagnostics"]
        for n in client.notifications
        if n["method"] == "textDocument/publishDiagnostics"
        and n["params"]["uri"] == tiltfile.as_uri()
    ]
    return published[-1] if published else []


async def test_an_endless_tiltfile_gets_a_diagnostic_and_requests_are_answered_meanwhile(
    server: RawClient, tmp_path: Path
) -> None:
    ready = await server.wait_resources(
        lambda rs: rs.get("svc", {}).get("runtimeStatus") == "ready", "svc ready"
    )
    pid = ready["svc"]["pid"]
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text(ENDLESS)
    server.notify("textDocument/didSave", {"textDocument": {"uri": tiltfile.as_uri()}})
    saved = time.monotonic()

    round_trips = []
    while not tiltfile_diagnostics(server, tiltfile):
        assert time.monotonic() - saved < TIMEOUT_S + 10, "no diagnostic for the endless Tiltfile"
        t0 = time.monotonic()
        await server.request("tilt/resources", {})
        round_trips.append(time.monotonic() - t0)
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - saved

    (diagnostic,) = tiltfile_diagnostics(server, tiltfile)
    assert diagnostic["message"] == (
        f"evaluation took longer than {TIMEOUT_S} s; the last good version keeps running"
    )
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 5
    assert len(round_trips) >= 10  # the server was asked all along…
    assert max(round_trips) < 0.1, round_trips  # …and answered each within 100 ms
    assert (await server.resources())["svc"]["pid"] == pid  # the last good version runs on

    # Fixed: the diagnostic clears, nothing restarts.
    tiltfile.write_text(GOOD)
    server.notify("textDocument/didSave", {"textDocument": {"uri": tiltfile.as_uri()}})
    deadline = time.monotonic() + 15
    while tiltfile_diagnostics(server, tiltfile) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert tiltfile_diagnostics(server, tiltfile) == []
    assert (await server.resources())["svc"]["pid"] == pid


async def test_shutdown_is_answered_while_a_tiltfile_evaluates(
    server: RawClient, tmp_path: Path
) -> None:
    await server.wait_resources(lambda rs: "svc" in rs, "svc loaded")
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text(ENDLESS)
    server.notify("textDocument/didSave", {"textDocument": {"uri": tiltfile.as_uri()}})
    await asyncio.sleep(1.0)  # the evaluation is under way
    t0 = time.monotonic()
    assert await server.shutdown_and_exit() == 0
    assert time.monotonic() - t0 < TIMEOUT_S  # not after the evaluation's time limit
    assert await none_left(server.marker) == []  # the worker included
