"""A raw JSON-RPC client for `tilt-lsp serve` over real pipes: it can do what an editor
should not (break framing, close its pipes, signal the server) and see what happens."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import free_port

MARKER_VAR = "TILT_LSP_TEST_MARKER"


class RawClient:
    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        marker: str,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None,
    ) -> None:
        self.proc = proc
        self.marker = marker
        # stdio by default; a TCP connection when the server was started with --tcp
        self.incoming = connection[0] if connection else proc.stdout
        self.outgoing: Any = connection[1] if connection else proc.stdin
        self.notifications: list[dict[str, Any]] = []
        self.sizes: dict[str, int] = {}  # the largest body seen per notification method
        self.reading = asyncio.Event()  # clear it to stop reading, as a stuck client would
        self.reading.set()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> RawClient:
        marker = uuid.uuid4().hex
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tilt_lsp",
            "serve",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, MARKER_VAR: marker},
        )
        return cls(proc, marker)

    @classmethod
    async def start_tcp(cls) -> RawClient:
        marker = uuid.uuid4().hex
        port = free_port()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tilt_lsp",
            "serve",
            "--tcp",
            f"127.0.0.1:{port}",
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, MARKER_VAR: marker},
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = await asyncio.open_connection("127.0.0.1", port)
                return cls(proc, marker, connection)
            except OSError:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise
                await asyncio.sleep(0.1)

    def send_raw(self, data: bytes) -> None:
        assert self.outgoing is not None
        self.outgoing.write(data)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    async def request(self, method: str, params: Any = None, timeout: float = 20) -> Any:
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self.send({"id": msg_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")

    async def initialize(self, root: Path, options: dict[str, Any] | None = None) -> None:
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options or {},
            },
        )
        self.notify("initialized", {})

    async def resources(self) -> dict[str, dict[str, Any]]:
        data = await self.request("tilt/resources", {})
        return {r["name"]: r for r in data["resources"]}

    async def wait_resources(
        self, cond: Callable[[dict[str, dict[str, Any]]], bool], what: str, timeout: float = 30
    ) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        last: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            last = await self.resources()
            if cond(last):
                return last
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last: {last}")

    async def shutdown_and_exit(self) -> int:
        await self.request("shutdown")
        self.notify("exit")
        return await self.wait_exit()

    async def wait_exit(self, timeout: float = 30) -> int:
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def close(self) -> None:
        """Whatever happened, leave nothing running."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        for pid in marked_processes(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

    async def _read(self) -> None:
        out = self.incoming
        assert out is not None
        while True:
            length = 0
            await self.reading.wait()
            while True:
                line = await out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n"):
                    break
            body = await out.readexactly(length)
            message = json.loads(body)
            if "id" in message and "method" not in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif "id" in message:  # a request from the server: accept it
                self.send({"id": message["id"], "result": None})
            else:
                self.notifications.append(message)
                method = message["method"]
                self.sizes[method] = max(self.sizes.get(method, 0), len(body))


def marked_processes(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment carries ``marker``: every process the
    server started, its grandchildren included, inherits it."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if needle in environ.split(b"\0") and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(int(entry))
    return found


async def none_left(marker: str, timeout: float = 10) -> list[int]:
    """The marked processes still alive after ``timeout`` (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left
