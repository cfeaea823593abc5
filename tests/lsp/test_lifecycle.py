"""The server's lifecycle through real pipes: however it ends, nothing it started is left
running — shells, their children and processes that ignore SIGTERM included."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.lsp.rawclient import RawClient, marked_processes, none_left

# Every shape of process that once outlived the server: a shell with background children,
# a plain argv, a `cmd` still running, and a group that ignores SIGTERM.
TILTFILE = """
local_resource('shell', serve_cmd='sleep 300 & sleep 301 & wait')
local_resource('argv', serve_cmd=['sleep', '302'])
local_resource('stubborn', serve_cmd="trap '' TERM; sleep 303 & sleep 304 & wait")
local_resource('slow-build', cmd='sleep 305')
"""
RUNNING = ("shell", "argv", "stubborn")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RawClient]:
    (tmp_path / "Tiltfile").write_text(TILTFILE)
    client = await RawClient.start()
    try:
        await client.initialize(tmp_path, {"watch": False})
        yield client
    finally:
        await client.close()


async def all_started(client: RawClient) -> None:
    await client.wait_resources(
        lambda rs: (
            all(rs.get(n, {}).get("runtimeStatus") == "ready" for n in RUNNING)
            and rs.get("slow-build", {}).get("buildStatus") == "building"
        ),
        "every service ready and the slow build running",
    )
    # sh, 2 sleeps; sleep; sh, 2 sleeps; sh -c sleep (or sleep when sh execs it)
    assert len(marked_processes(client.marker)) >= 8


async def test_shutdown_and_exit_leave_no_process(server: RawClient) -> None:
    await all_started(server)
    assert await server.shutdown_and_exit() == 0
    assert await none_left(server.marker) == []


async def test_exit_without_shutdown_still_stops_everything(server: RawClient) -> None:
    await all_started(server)
    server.notify("exit")
    assert await server.wait_exit() == 1  # the LSP rule: exit without shutdown is an error
    assert await none_left(server.marker) == []


async def test_client_closing_its_pipes_leaves_no_process(server: RawClient) -> None:
    await all_started(server)
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    await server.wait_exit()
    assert await none_left(server.marker) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_a_signal_to_the_server_leaves_no_process(
    server: RawClient, sig: signal.Signals
) -> None:
    await all_started(server)
    server.proc.send_signal(sig)
    await server.wait_exit()
    assert await none_left(server.marker) == []


async def test_a_tcp_client_that_disconnects_leaves_no_process(tmp_path: Path) -> None:
    (tmp_path / "Tiltfile").write_text(TILTFILE)
    client = await RawClient.start_tcp()
    try:
        await client.initialize(tmp_path, {"watch": False})
        await all_started(client)
        client.outgoing.close()  # the editor went away
        assert await client.wait_exit() == 1  # no shutdown came first
        assert await none_left(client.marker) == []
    finally:
        await client.close()


async def test_a_killed_service_is_crashed_within_a_second_even_if_a_child_holds_its_pipe(
    server: RawClient,
) -> None:
    await all_started(server)
    pid = (await server.resources())["shell"]["pid"]
    children = [p for p in marked_processes(server.marker) if os.getpgid(p) == pid and p != pid]
    assert children, "the shell's background sleeps hold its stdout"
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    crashed = await server.wait_resources(
        lambda rs: rs["shell"]["runtimeStatus"] == "crashed", "shell crashed", timeout=5
    )
    assert time.monotonic() - killed < 1.0
    assert crashed["shell"]["lastError"] == "serve_cmd killed by SIGKILL"
    # …and the children that held the pipe went with it.
    assert await none_left_in_group(pid) == []


async def none_left_in_group(pgid: int, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == pgid and fields[0] != "Z":
                    left.append(int(entry))
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.1)


async def test_a_message_longer_than_its_body_does_not_make_the_server_deaf(
    server: RawClient,
) -> None:
    await server.resources()
    body = b'{"jsonrpc": "2.0", "id": 999, "method": "tilt/resources", "params": {}}'
    server.send_raw(b"Content-Length: %d\r\n\r\n" % (len(body) + 500) + body)
    # The next, well-formed request is answered: the server resynchronised on its header.
    assert "resources" in await server.request("tilt/resources", {}, timeout=5)
    assert await server.shutdown_and_exit() == 0
