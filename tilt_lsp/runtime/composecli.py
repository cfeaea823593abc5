"""The compose command line for one service: ``docker compose`` (v2) or ``docker-compose``
(v1), the user's files plus tilt-lsp's override file, which lives in a private temp dir and
never in the user's tree."""

from __future__ import annotations

import asyncio
import os
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import yaml

from tilt_lsp.build import labels as lbl
from tilt_lsp.runtime.dockerhost import DockerHost
from tilt_lsp.runtime.processes import LocalProcesses
from tilt_lsp.tiltfile.model import ComposeSpec


class ComposeCli:
    """The compose command line for one service, with tilt-lsp's override file."""

    def __init__(self, host: DockerHost, spec: ComposeSpec, resource: str) -> None:
        self.host = host
        self.spec = spec
        self.resource = resource
        self._processes = LocalProcesses()
        first = spec.config_paths[0]
        base = [
            *host.compose_command(),
            "--project-name",
            spec.project_name,
            "--project-directory",
            os.path.dirname(first),
        ]
        if spec.env_file:
            base += ["--env-file", spec.env_file]
        for profile in spec.profiles:
            base += ["--profile", profile]
        for path in spec.config_paths:
            base += ["-f", path]
        self.base = base
        host.projects.setdefault(spec.project_name, base)
        self.override = os.path.join(
            host.state_dir(), spec.project_name, f"{spec.service}.override.yml"
        )

    def write_override(self, image_ref: str | None) -> None:
        """Point the service at ``image_ref`` and label its container; the user's files are
        never touched."""
        service: dict[str, Any] = {
            "labels": {**self.host.labels, lbl.RESOURCE: self.resource},
        }
        if image_ref:
            service["image"] = image_ref
        doc: dict[str, Any] = {"services": {self.spec.service: service}}
        version = _compose_version(self.spec.config_paths[0])
        if version:
            doc = {"version": version, **doc}
        os.makedirs(os.path.dirname(self.override), exist_ok=True)
        with open(self.override, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False)

    def command(self, *args: str) -> list[str]:
        return [*self.base, "-f", self.override, *args]

    async def run(self, on_line: Callable[[str], None], *args: str) -> tuple[int, list[str]]:
        """Run one compose command in its own process group (a cancelled caller stops it:
        nothing outlives the engine); its exit code and last lines."""
        tail: deque[str] = deque(maxlen=10)

        def lines(batch: list[str]) -> None:
            for line in batch:
                tail.append(line)
                on_line(line)

        handle = await self._processes.start(self.command(*args), os.getcwd(), self.host.env, lines)
        try:
            code = await handle.wait()
        except asyncio.CancelledError:
            await self._processes.stop(handle)
            raise
        return code, list(tail)


def files_text(n: int) -> str:
    return f"{n} file{'s' if n != 1 else ''}"


def _compose_version(path: str) -> str | None:
    """The user's ``version:`` (compose v1 wants every file of a project to agree)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return None
    version = doc.get("version") if isinstance(doc, dict) else None
    return str(version) if version is not None else None


def started_at(value: str) -> float | None:
    """Docker's ``State.StartedAt`` (RFC 3339 with nanoseconds) as epoch seconds."""
    from datetime import datetime

    if not value or value.startswith("0001-"):
        return None
    head, _, frac = value.rstrip("Z").partition(".")
    try:
        base = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())
    return base + (int(digits) / 10 ** len(digits) if digits else 0.0)


_GENERIC = ("Encountered errors while bringing up the project", "ERROR: Encountered errors")
_CAUSES = (
    "address already in use",
    "port is already allocated",
    "No such image",
    "pull access denied",
    "not found",
    "no such file",
    "permission denied",
)
_PORT_TAKEN = ("address already in use", "port is already allocated")


def failure_reason(tail: list[str]) -> str:
    """The line of compose's output that says why ``up`` failed (compose ends with a generic
    "Encountered errors while bringing up the project"), with advice for a taken port."""
    lines = [t.strip() for t in tail if t.strip() and not t.strip().startswith(_GENERIC)]
    cause = next((t for t in reversed(lines) if any(c in t for c in _CAUSES)), None)
    if cause is None:
        cause = next((t for t in reversed(lines) if "error" in t.lower()), None)
    if cause is None:
        cause = lines[-1] if lines else (tail[-1].strip() if tail else "no output")
    cause = _FOR_SERVICE.sub("", cause)
    if any(p in cause for p in _PORT_TAKEN):
        cause += (
            " (another process or container holds that host port: stop it, or change "
            "the port mapping in the compose file)"
        )
    return cause


_FOR_SERVICE = re.compile(r"^ERROR: for \S+\s+")
