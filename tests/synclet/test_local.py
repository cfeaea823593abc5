"""The launcher tilt-lsp uses: a fresh token in a private file, port 0, stopped on exit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import aiohttp
import pytest

from synclet.local import SyncletStartError, start_local_synclet
from synclet.protocol import HEALTHZ_PATH, UpdateSpec
from tests.synclet.helpers import Synclet, post_update


async def test_start_local_synclet_serves_and_stops() -> None:
    async with start_local_synclet() as (process, url, token):
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert len(token) >= 32
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert token.encode() not in cmdline  # never on the command line
        token_file = cmdline[cmdline.index(b"--token-file") + 1].decode()
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        async with aiohttp.ClientSession() as s, s.get(url + HEALTHZ_PATH) as r:
            assert r.status == 200
        reply = await post_update(
            Synclet(url, token), "x", UpdateSpec((), (), (), "none"), token="not-" + token
        )
        assert reply.status == 401
    assert process.returncode is not None
    assert not os.path.exists(token_file)


async def test_a_second_launch_gets_its_own_port_and_token() -> None:
    async with start_local_synclet() as a, start_local_synclet() as b:
        assert a.url != b.url and a.token != b.token


async def test_a_synclet_that_cannot_start_is_reported() -> None:
    with pytest.raises(SyncletStartError, match="exited with code 2 before it was ready"):
        async with start_local_synclet(extra_args=["--max-body", "not-a-number"]):
            pass


async def test_errors_inside_the_block_are_not_mistaken_for_start_failures() -> None:
    with pytest.raises(TimeoutError, match="the caller's own timeout"):
        async with start_local_synclet() as running:
            process = running.process
            raise TimeoutError("the caller's own timeout")
    assert process.returncode is not None
