"""Deploying one compose service through its own CLI: the override file pointing the service
at the image tilt-lsp built (never an edit of the user's files), ``up -d --no-deps --no-build
SERVICE``, finding the container by compose's labels, and removing it.

A failed ``up`` is reported with compose's own line that says why (``address already in
use``), not its closing "Encountered errors while bringing up the project".
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tilt_lsp.build.finish import RESTART_SIGNAL_LABEL, WRAPPER_LABEL
from tilt_lsp.engine.actions import RuntimeChanged
from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.compose.service import PROJECT_LABEL, SERVICE_LABEL, Service
from tilt_lsp.runtime.composecli import ComposeCli, failure_reason
from tilt_lsp.runtime.dockerhost import DockerUnavailable


class Deployer:
    """Runs one service's container."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.cli: ComposeCli | None = None
        self.deployed: str | None = None  # the image ref the current container runs

    async def prepare(self) -> bool:
        """Find the compose command (a subprocess) and make the override's temp dir, once."""
        if self.cli is None:
            svc = self.svc
            try:
                self.cli = await asyncio.to_thread(ComposeCli, svc.host, svc.spec, svc.name)
            except (DockerUnavailable, OSError) as err:
                return svc.runtime_failed(str(err))
        return True

    async def up(self, ref: str | None, recreate: bool) -> str | None:
        """``compose up`` the service on ``ref`` (None: the compose file's image); the new
        container's id, or None when it failed (reported)."""
        svc = self.svc
        cli = self.cli
        assert cli is not None
        try:
            await asyncio.to_thread(cli.write_override, ref)
        except OSError as err:
            svc.runtime_failed(str(err))
            return None
        svc.dispatch(RuntimeChanged(svc.name, RuntimeStatus.STARTING))
        args = ["up", "-d", "--no-deps", "--no-build"]
        if recreate:
            args.append("--force-recreate")
        svc.log(f"$ {' '.join(['compose', *args, svc.spec.service])}")
        svc.container = None  # being replaced: the old one's death is not news
        svc.running = svc.ready = False
        with svc.windows.ours():
            try:
                code, tail = await cli.run(svc.log, *args, svc.spec.service)
            except OSError as err:
                svc.runtime_failed(f"cannot run compose: {err}")
                return None
        if code != 0:
            svc.runtime_failed(f"compose up exited with code {code}: {failure_reason(tail)}")
            return None
        self.deployed = ref
        cid = await self._find()
        if cid is None:
            svc.runtime_failed("compose up finished but no container was found")
        return cid

    async def _find(self) -> str | None:
        spec = self.svc.spec
        filters = {
            "label": [f"{PROJECT_LABEL}={spec.project_name}", f"{SERVICE_LABEL}={spec.service}"]
        }

        def find(api: Any) -> str | None:
            found = api.containers(all=True, filters=filters)
            if not found:
                return None
            found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)))
            return str(found[-1]["Id"])

        try:
            found: str | None = await self.svc.docker(find)
        except Exception:
            return None
        return found

    async def adopt(self, cid: str) -> dict[str, Any]:
        """Make ``cid`` the service's container (noting how its app restarts); its state."""
        svc = self.svc
        info = await svc.docker(lambda api: api.inspect_container(cid))
        svc.container = cid
        labels = (info.get("Config") or {}).get("Labels") or {}
        signal = labels.get(RESTART_SIGNAL_LABEL)
        wrapper = labels.get(WRAPPER_LABEL)
        if wrapper and info.get("Path") != wrapper:
            signal = None  # compose's `entrypoint:` replaced our wrapper: restart the container
        svc.signals[cid] = signal
        state: dict[str, Any] = info.get("State") or {}
        return state

    async def remove(self) -> None:
        """Remove the service's container, killed at once, through the API: `compose rm -s`
        would give an app that ignores SIGTERM (PID 1) its 10 s, and start a compose process."""
        svc = self.svc
        cid = svc.container
        if self.cli is None or cid is None:
            return
        svc.log(f"removing container {cid[:12]}")
        with svc.windows.ours(), contextlib.suppress(Exception):
            await svc.docker(lambda api: api.remove_container(cid, force=True, v=True))
        svc.dispatch(RuntimeChanged(svc.name, RuntimeStatus.STOPPED))
