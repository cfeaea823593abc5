"""Benchmark: one small live update through the synclet vs the Docker SDK directly.

The synclet adds an HTTP round trip, validation of the archive, and ``tar -x`` via exec
instead of Docker's archive API. This measures what that costs against the physical floor:
``put_archive`` (+ ``restart``) called straight through the SDK on the same container.

Each pair runs interleaved on one container from the offline base image (a Python web
server under an init, so ``docker restart`` is not a 10 s SIGTERM timeout). Medians over
``--runs`` runs (default 15, at least 9).

Usage: python bench/bench_synclet.py [--runs N] [--image TAG]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import docker

from synclet.apply import exec_with_stdin
from synclet.archive import build_archive
from synclet.local import start_local_synclet
from synclet.protocol import (
    UPDATE_CONTENT_TYPE,
    Done,
    Failed,
    RunStep,
    UpdateSpec,
    encode_request,
    event_from_json,
    update_path,
)

# The managed mark: the synclet updates only containers that carry it.
LABELS = {"dev.tilt-lsp.bench": "synclet", "dev.tilt-lsp.managed": "true"}
TAR = ["tar", "-x", "-f", "-", "-C", "/"]


def _fmt(ms: list[float]) -> str:
    return f"{statistics.median(ms):.0f} ms ({min(ms):.0f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--large-mb", type=int, default=20, help="size of the large update")
    parser.add_argument(
        "--image",
        default=os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "tilt-lsp-test-base:bookworm-py3"),
    )
    args = parser.parse_args()
    runs = max(args.runs, 9)

    client = docker.from_env()
    container = client.containers.run(
        args.image,
        ["python3", "-m", "http.server", "8000", "--directory", "/"],
        detach=True,
        init=True,
        labels=LABELS,
    )
    tmp = tempfile.mkdtemp(prefix="bench-synclet-")
    local = os.path.join(tmp, "main.py")
    with open(local, "w") as fh:
        fh.write("def greet(name):\n    return f'Hello, {name}!'\n" * 5)
    archive = build_archive([(local, "/app/main.py")])
    big_files = []
    for i in range(200):
        path = os.path.join(tmp, f"blob{i}.bin")
        with open(path, "wb") as blob:
            blob.write(os.urandom(args.large_mb * 1024 * 1024 // 200))
        big_files.append((path, f"/app/data/blob{i}.bin"))
    big = build_archive(big_files)

    try:
        async with start_local_synclet() as (_proc, url, token), aiohttp.ClientSession() as session:

            def via_synclet(spec: UpdateSpec, archive: bytes) -> Callable[[], Awaitable[None]]:
                body = encode_request(spec, archive)
                headers = {"Authorization": f"Bearer {token}", "Content-Type": UPDATE_CONTENT_TYPE}

                async def run() -> None:
                    async with session.post(
                        url + update_path(container.id), data=body, headers=headers
                    ) as r:
                        assert r.status == 200, await r.text()
                        last = None
                        async for line in r.content:
                            last = event_from_json(line)
                            if isinstance(last, Failed):
                                raise RuntimeError(last.message)
                        assert isinstance(last, Done), last

                return run

            def via_sdk(
                archive: bytes, restart: bool = False, step: bool = False, tar: bool = False
            ) -> Callable[[], Awaitable[None]]:
                """The floor: put_archive (or the synclet's exec tar, ``tar``) without HTTP."""

                def run_sync() -> None:
                    if tar:
                        result = exec_with_stdin(client.api, container.id, TAR, archive)
                        assert result.exit_code == 0, result
                    else:
                        assert client.api.put_archive(container.id, "/", archive)
                    if step:
                        code, _ = container.exec_run(["true"])
                        assert code == 0
                    if restart:
                        client.api.restart(container.id, timeout=10)

                async def run() -> None:
                    await asyncio.to_thread(run_sync)

                return run

            changed = ("/app/main.py",)
            cases: list[tuple[str, UpdateSpec, bytes, dict[str, bool]]] = [
                ("one file, no restart", UpdateSpec((), changed, (), "none"), archive, {}),
                (
                    "one file + a run step (`true`)",
                    UpdateSpec((), changed, (RunStep(("true",)),), "none"),
                    archive,
                    {"step": True},
                ),
                (
                    "one file + restart container",
                    UpdateSpec((), changed, (), "container"),
                    archive,
                    {"restart": True},
                ),
                (
                    f"200 files, {args.large_mb} MB, no restart",
                    UpdateSpec((), ("/app/data",), (), "none"),
                    big,
                    {},
                ),
            ]
            print(f"{runs} runs each, interleaved, image {args.image}; median (min)\n")
            print(
                "| update | synclet (HTTP) | SDK: exec tar, no HTTP | SDK: put_archive (floor) "
                "| synclet - floor |"
            )
            print("| --- | --- | --- | --- | --- |")
            for name, spec, data, kw in cases:
                fns = [
                    via_synclet(spec, data),
                    via_sdk(data, tar=True, **kw),
                    via_sdk(data, **kw),
                ]
                for fn in fns:  # warm up: connection pools, page cache
                    await fn()
                times: list[list[float]] = [[], [], []]
                for _ in range(runs):  # interleaved, so machine noise hits all alike
                    for fn, out in zip(fns, times, strict=True):
                        out.append(await _one(fn))
                overhead = statistics.median(times[0]) - statistics.median(times[2])
                cells = " | ".join(_fmt(t) for t in times)
                print(f"| {name} | {cells} | {overhead:+.1f} ms |")
            await serving_again(client, args.image, session, url, token, runs, tmp)
    finally:
        container.remove(force=True)


WRAPPER = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "synclet", "restart-wrapper.sh"
)
APP = """
import http.server
body = open('/app/msg.txt', 'rb').read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('0.0.0.0', 8000), Handler).serve_forever()
"""


async def serving_again(
    client: Any,
    image: str,
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    runs: int,
    tmp: str,
) -> None:
    """Save -> the app answers with the new file: restart 'container' vs 'process' (wrapper)."""
    containers = {}
    try:
        for mode in ("container", "process"):
            containers[mode] = client.containers.run(
                image,
                [
                    "sh",
                    "-c",
                    'mkdir -p /app && { [ -f /app/msg.txt ] || echo 0 > /app/msg.txt; } && exec sh /rw.sh python3 -c "$APP"',
                ],
                detach=True,
                init=True,
                environment={"APP": APP},
                volumes={os.path.abspath(WRAPPER): {"bind": "/rw.sh", "mode": "ro"}},
                # A fixed host port: Docker may pick a new ephemeral one on restart.
                ports={"8000/tcp": ("127.0.0.1", _free_port())},
                labels={**LABELS, "dev.tilt-lsp.restart-signal": "SIGHUP"},
            )
        ports = {}
        for mode, c in containers.items():
            c.reload()
            ports[mode] = int(c.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"])

        async def answer(port: int) -> bytes | None:
            try:
                async with session.get(
                    f"http://127.0.0.1:{port}/", timeout=aiohttp.ClientTimeout(total=1)
                ) as r:
                    return await r.read()
            except (aiohttp.ClientError, TimeoutError):
                return None

        counter = 0

        async def save_and_wait(mode: str) -> float:
            nonlocal counter
            counter += 1
            message = f"v{counter}\n".encode()
            local = os.path.join(tmp, "msg.txt")
            with open(local, "wb") as fh:
                fh.write(message)
            spec = UpdateSpec((), ("/app/msg.txt",), (), mode)  # type: ignore[arg-type]
            body = encode_request(spec, build_archive([(local, "/app/msg.txt")]))
            headers = {"Authorization": f"Bearer {token}", "Content-Type": UPDATE_CONTENT_TYPE}
            t0 = time.perf_counter()
            async with session.post(
                url + update_path(containers[mode].id), data=body, headers=headers
            ) as r:
                lines = [event_from_json(line) async for line in r.content]
                assert isinstance(lines[-1], Done), lines
            while await answer(ports[mode]) != message:
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"restart {mode}: the app did not serve the new file")
                await asyncio.sleep(0.002)
            return (time.perf_counter() - t0) * 1000

        for mode in containers:  # wait for both apps, warm up
            while await answer(ports[mode]) is None:
                await asyncio.sleep(0.05)
            await save_and_wait(mode)
        times: dict[str, list[float]] = {"container": [], "process": []}
        for _ in range(runs):
            for mode in containers:
                times[mode].append(await save_and_wait(mode))
        print("\nsave -> the app answers HTTP with the synced file (the app reads it at start)\n")
        print("| restart | median (min) |")
        print("| --- | --- |")
        print(f"| `container` (docker restart) | {_fmt(times['container'])} |")
        print(f"| `process` (SIGHUP to synclet/restart-wrapper.sh) | {_fmt(times['process'])} |")
    finally:
        for c in containers.values():
            c.remove(force=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _one(fn: Callable[[], Awaitable[None]]) -> float:
    t0 = time.perf_counter()
    await fn()
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    asyncio.run(main())
