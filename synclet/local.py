"""Start a synclet on this machine, the way tilt-lsp does for a local Docker engine.

It lives with the agent because it is the agent's own launcher: it knows the command line,
the token file convention and the readiness line. tilt-lsp imports it; it needs only the
standard library (the child process imports aiohttp and docker, not the caller).

Each launch gets a fresh random token in a 0600 file that only the child reads, port 0 (the
child prints the port it got), and the process is stopped (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import NamedTuple

_READY = re.compile(r"^synclet listening on (https?://\S+)$")


class SyncletStartError(RuntimeError):
    """The synclet exited or stayed silent instead of printing its readiness line."""


class LocalSynclet(NamedTuple):
    """A running local synclet: its process, base URL and bearer token."""

    process: asyncio.subprocess.Process
    url: str
    token: str


async def _stop(process: asyncio.subprocess.Process, grace: float) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def start_local_synclet(
    *,
    python: str | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 15.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[LocalSynclet]:
    """``async with start_local_synclet() as (process, url, token): ...``

    The child's stderr is inherited (its warnings reach tilt-lsp's log); its stdout after the
    readiness line is drained so it can never block on a full pipe.
    """
    tmpdir = tempfile.mkdtemp(prefix="synclet-")
    token = secrets.token_urlsafe(32)
    token_file = os.path.join(tmpdir, "token")
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    process = await asyncio.create_subprocess_exec(
        python or sys.executable,
        "-m",
        "synclet",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        token_file,
        *extra_args,
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=env,
    )
    drain: asyncio.Task[None] | None = None
    try:
        assert process.stdout is not None
        try:
            url = await asyncio.wait_for(_wait_ready(process, process.stdout), ready_timeout)
        except TimeoutError:
            raise SyncletStartError(
                f"the synclet did not report ready within {ready_timeout:g} s"
            ) from None
        drain = asyncio.create_task(_drain(process.stdout))
        yield LocalSynclet(process=process, url=url, token=token)
    finally:
        await _stop(process, grace=5.0)
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        shutil.rmtree(tmpdir, ignore_errors=True)


async def _wait_ready(process: asyncio.subprocess.Process, stdout: asyncio.StreamReader) -> str:
    while True:
        line = await stdout.readline()
        if not line:
            code = await process.wait()
            raise SyncletStartError(f"the synclet exited with code {code} before it was ready")
        match = _READY.match(line.decode("utf-8", "replace").strip())
        if match:
            return match.group(1)


async def _drain(stdout: asyncio.StreamReader) -> None:
    while await stdout.read(65536):
        pass
