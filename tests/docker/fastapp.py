"""An unmodified app as users write it, in a compose project driven by the real engine: shared
by the fast-by-default tests (and the shape bench/bench_docker.py measures).

``CMD ["python3", "-u", "src/app.py"]``, an HTTP server with no signal handling (as PID 1 it
ignores SIGTERM), a Tiltfile with ``sync`` + ``restart_container()``. Nothing in the image
knows about tilt-lsp.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests import support
from tilt_lsp.build import labels as lbl
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import NullListener, Published

APP = """import os
from http.server import BaseHTTPRequestHandler, HTTPServer

MESSAGE = "v1"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{MESSAGE} {os.getpid()}".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


print("serving", flush=True)
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""

DOCKERFILE = """ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
WORKDIR /app
COPY src /app/src
CMD ["python3", "-u", "src/app.py"]
"""

COMPOSE = """services:
  web:
    image: fastapp-web
    build: .
    ports:
      - "127.0.0.1:${WEB_PORT}:8000"
"""

TILTFILE = """docker_compose('docker-compose.yml')
docker_build(
    'fastapp-web',
    '.',
    build_args={'BASE_IMAGE': os.getenv('BASE_IMAGE', 'python:3.12-slim')},
    live_update=[sync('src', '/app/src'), restart_container()],
)
"""


class Recorder(NullListener):
    """Every diagnostic as it appeared (a republished one is not new), and the current ones
    per path."""

    def __init__(self) -> None:
        self.history: list[tuple[str, str]] = []  # (path, message), each time one appears
        self.current: dict[str, list[Any]] = {}

    def diagnostics_changed(self, published: Published) -> None:
        for path, items in published.items():
            before = {p.message for p in self.current.get(path, [])}
            self.current[path] = [p for _r, _s, p in items]
            self.history.extend((path, p.message) for _r, _s, p in items if p.message not in before)


def write_app(root: Path, dockerfile: str = DOCKERFILE) -> None:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "Dockerfile").write_text(dockerfile)
    (root / "docker-compose.yml").write_text(COMPOSE)
    (root / "Tiltfile").write_text(TILTFILE)


def project_name() -> str:
    return f"tiltlsp10t{uuid.uuid4().hex[:10]}"


def get(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return str(resp.read().decode())
    except Exception as err:
        return f"error: {err}"


async def until_serves(port: int, prefix: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(get, port)
        if last.startswith(prefix):
            return last
        await asyncio.sleep(0.01)
    raise AssertionError(f"port {port} did not serve {prefix!r} within {timeout}s: {last!r}")


async def until(cond: Any, what: str, timeout: float = 30.0) -> Any:
    """tests.support.until with this module's argument order and 30 s default."""
    return await support.until(cond, timeout, what)


def cleanup(docker_client: Any, root: Path, project: str) -> None:
    api = docker_client.api
    flt = {"label": [f"com.docker.compose.project={project}"]}
    for c in api.containers(all=True, filters=flt):
        with contextlib.suppress(Exception):
            api.remove_container(c["Id"], force=True, v=True)
    for net in api.networks(filters=flt) + api.networks(names=[f"{project}_default"]):
        with contextlib.suppress(Exception):
            api.remove_network(net["Id"])
    lbl.remove_containers(api, lbl.managed_labels(str(root)))
    lbl.remove_stale_images(api, lbl.managed_labels(str(root)), keep=())


def containers(docker_client: Any, project: str) -> list[Any]:
    return list(
        docker_client.containers.list(
            all=True, filters={"label": [f"com.docker.compose.project={project}"]}
        )
    )


def new_engine(root: Path, env: dict[str, str], recorder: Recorder) -> Engine:
    return Engine(str(root / "Tiltfile"), listener=recorder, env=env)
