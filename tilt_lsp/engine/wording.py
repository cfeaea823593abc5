"""A resource's state in plain words, the same in every UI (code lens, terminal table,
editor views): "ready", "build failed", "waiting for db" — never an internal enum value."""

from __future__ import annotations

import time

from tilt_lsp.engine.status import BuildStatus, ResourceStatus, RuntimeStatus
from tilt_lsp.tiltfile.model import Link, Resource


def state(s: ResourceStatus) -> str:
    """A few words: what the resource is doing now."""
    if not s.enabled:
        return "disabled"
    if s.build is BuildStatus.BUILDING:
        return "updating"
    if s.build is BuildStatus.ERROR:
        return "update failed"
    if s.build is BuildStatus.PENDING:
        if s.waiting_for:
            return f"waiting for {s.waiting_for}"
        return (
            "waiting for a trigger"
            if s.update_count == 0 and not s.resource.auto_init
            else "queued"
        )
    return {
        RuntimeStatus.NOT_STARTED: "not started yet",
        RuntimeStatus.STARTING: "starting",
        RuntimeStatus.RUNNING: "running",
        RuntimeStatus.READY: "ready",
        RuntimeStatus.EXITED: "finished",
        RuntimeStatus.CRASHED: f"crashed (exit code {s.exit_code})"
        if s.exit_code is not None
        else "crashed",
        RuntimeStatus.STOPPED: "stopped",
        RuntimeStatus.DISABLED: "disabled",
        RuntimeStatus.NONE: "up to date",
    }[s.runtime]


def tone(s: ResourceStatus) -> str:
    """ok / busy / error / idle: for colour and icons."""
    if not s.enabled:
        return "idle"
    if s.failed:
        return "error"
    if (
        s.build in (BuildStatus.BUILDING, BuildStatus.PENDING)
        or s.runtime is RuntimeStatus.STARTING
    ):
        return "busy"
    return "ok"


def when(at: float | None) -> str:
    """The last update's time: "12:03:04", or "never"."""
    if at is None:
        return "never updated"
    return "updated " + time.strftime("%H:%M:%S", time.localtime(at))


def pending(s: ResourceStatus) -> str:
    n = len(s.pending_changes)
    return f"{n} pending {'change' if n == 1 else 'changes'}" if n else ""


def endpoints(r: Resource) -> list[str]:
    """Where to reach the resource, as URLs (see :func:`endpoint_links`)."""
    return [link.url for link in endpoint_links(r)]


def endpoint_links(r: Resource) -> list[Link]:
    """Where to reach the resource: its links (with their names), its port forwards, compose's
    published ports; each URL once."""
    out = list(r.links)
    if r.k8s is not None:
        for pf in r.k8s.port_forwards:
            host = "localhost" if pf.host in ("", "0.0.0.0") else pf.host
            out.append(Link(f"http://{host}:{pf.local_port}/", pf.name))
    if r.compose is not None:
        for port in r.compose.config.get("ports") or ():
            published = _published(port)
            if published:
                out.append(Link(f"http://localhost:{published}/"))
    seen: dict[str, Link] = {}
    for link in out:
        seen.setdefault(link.url, link)
    return list(seen.values())


def _published(port: object) -> str | None:
    """compose's short ("8000:80", "127.0.0.1:8000:80") or long ({published: 8000}) form."""
    if isinstance(port, dict):
        value = port.get("published")
        return str(value) if value else None
    parts = str(port).split("/")[0].split(":")
    return parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else None
