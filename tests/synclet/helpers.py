"""Helpers for the synclet tests: talking to it, hand-made archives, test containers.

Containers run the offline base image with ``init=True`` so that ``docker restart`` takes
milliseconds rather than the 10 s a PID-1 ``sleep`` (which ignores SIGTERM) would.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from synclet.protocol import (
    MANAGED_LABEL,
    MANAGED_VALUE,
    UPDATE_CONTENT_TYPE,
    Event,
    UpdateSpec,
    encode_request,
    event_from_json,
    update_path,
)

MAX_BODY = 4 * 1024 * 1024
MANAGED = {MANAGED_LABEL: MANAGED_VALUE}
"""The mark of a container tilt-lsp deployed: the synclet updates no other (contract 1)."""


@dataclass(frozen=True)
class Synclet:
    url: str
    token: str


@dataclass
class Reply:
    """What the synclet answered: a status, and either events or a JSON error body."""

    status: int
    events: list[Event]
    error: str | None = None

    def names(self) -> list[str]:
        return [e.EVENT for e in self.events]


async def post_update(
    synclet: Synclet,
    container_id: str,
    spec: UpdateSpec | None = None,
    archive: bytes = b"",
    *,
    body: bytes | None = None,
    token: str | None = "<right>",
    content_type: str = UPDATE_CONTENT_TYPE,
    on_event: Callable[[Event], Any] | None = None,
) -> Reply:
    """POST one update and collect the streamed events (``on_event`` sees each as it comes)."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {synclet.token if token == '<right>' else token}"
    if body is None:
        assert spec is not None
        body = encode_request(spec, archive)
    async with (
        aiohttp.ClientSession() as session,
        session.post(synclet.url + update_path(container_id), data=body, headers=headers) as r,
    ):
        if r.status != 200:
            payload = await r.json()
            return Reply(status=r.status, events=[], error=payload["error"])
        assert r.headers["Content-Type"].startswith("application/x-ndjson")
        events = []
        async for raw in r.content:
            event = event_from_json(raw)
            events.append(event)
            if on_event is not None:
                result = on_event(event)
                if hasattr(result, "__await__"):
                    await result
        return Reply(status=r.status, events=events)


def make_tar(
    *members: tuple[tarfile.TarInfo, bytes | None], format: int = tarfile.PAX_FORMAT
) -> bytes:
    """A tar of hand-made members (for archives no honest client would build). A member's
    ``pax_headers`` are written as given: they override its name, as a crafted archive would."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=format) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def member(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    linkname: str = "",
    mode: int = 0o644,
    pax: dict[str, str] | None = None,
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = mode
    info.pax_headers = dict(pax or {})
    return info


def names_in(archive: bytes) -> list[str]:
    """The member names Python's tarfile reads (pax and GNU long names applied)."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        return [m.name for m in tar]


def exec_out(container: Any, *cmd: str) -> str:
    code, out = container.exec_run(list(cmd))
    assert code == 0, out
    return str(out.decode())


def run_container(
    docker_client: Any, docker_resources: Any, image: str, *, managed: bool = True, **kwargs: Any
) -> Any:
    """A running container from ``image`` (``sleep infinity`` under an init), tracked for
    cleanup; ``managed`` containers carry tilt-lsp's mark."""
    kwargs.setdefault("command", ["sleep", "infinity"])
    kwargs.setdefault("init", True)
    mark = MANAGED if managed else {}
    kwargs["labels"] = {**docker_resources.labels, **mark, **kwargs.get("labels", {})}
    container = docker_client.containers.run(image, detach=True, **kwargs)
    docker_resources.track_container(container)
    return container


def dumps(events: list[Event]) -> str:
    return "\n".join(json.dumps(e.to_dict()) for e in events)


@dataclass
class Running:
    """A synclet process started by a test, its address, token and log (its stderr)."""

    proc: subprocess.Popen[str]
    url: str
    token: str
    log: Path

    @property
    def synclet(self) -> Synclet:
        return Synclet(url=self.url, token=self.token)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_synclet(
    tmp: Path,
    *args: str,
    listen: str = "127.0.0.1:0",
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[Running]:
    """``python -m synclet serve -v`` with a fresh 0600 token, stderr to ``tmp/synclet.log``."""
    token = secrets.token_urlsafe(32)
    token_file = tmp / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    log = tmp / "synclet.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "synclet", "serve", "-v", "--listen", listen,
             "--token-file", str(token_file), *args],
            stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=preexec_fn,
        )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("synclet listening on "), (line, log.read_text())
        yield Running(proc, line.removeprefix("synclet listening on "), token, log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def changed_paths(container: Any) -> set[str]:
    """Every path Docker reports as added, changed or deleted in the container's filesystem
    (seen from the host, not through anything inside the container)."""
    return {d["Path"] for d in container.diff() or []}


def file_in(container: Any, path: str) -> tarfile.TarInfo | None:
    """The container's ``path`` as Docker's archive API reports it (from the host), or None."""
    import docker.errors

    try:
        stream, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return tar.next()
