"""What every Docker-backed resource of one engine shares: the Docker client, the compose
command line, a state directory for generated files, and the local synclet.

The synclet is started once, on the first live update, and stopped with the engine. Nothing
here runs on the loop's thread except bookkeeping: SDK calls go through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from tilt_lsp.build import labels as lbl
from tilt_lsp.liveupdate.updater import SyncletUpdater


class DockerUnavailable(Exception):
    """The Docker engine (or the compose CLI) is not reachable, in plain words."""


def detect_compose() -> list[str] | None:
    """``docker compose`` (v2) if present, else ``docker-compose`` (v1)."""
    docker = shutil.which("docker")
    if docker:
        try:
            probe = subprocess.run(
                [docker, "compose", "version"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            if probe.returncode == 0:
                return [docker, "compose"]
        except (OSError, subprocess.SubprocessError):
            pass
    v1 = shutil.which("docker-compose")
    return [v1] if v1 else None


class DockerHost:
    """Shared by the Docker-backed controllers of one engine; ``close`` on engine stop."""

    def __init__(self, root: str, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = dict(env)
        self.labels = lbl.managed_labels(root)
        self._client: Any = None
        self._client_lock = threading.Lock()  # client() is called from worker threads
        self._compose: list[str] | None = None
        self._compose_checked = False
        self._state_dir: str | None = None
        self._synclet_stack: contextlib.AsyncExitStack | None = None
        self._synclet: tuple[str, str] | None = None
        self._synclet_lock = asyncio.Lock()
        self.updater = SyncletUpdater(self.synclet_endpoint)
        self.projects: dict[str, list[str]] = {}  # compose project → its base command

    # -- Docker ---------------------------------------------------------------------------

    def client(self) -> Any:
        """The docker SDK client (blocking: call from a worker thread)."""
        with self._client_lock:
            return self._get_client()

    def _get_client(self) -> Any:
        if self._client is None:
            import docker

            try:
                client = docker.from_env(timeout=300, environment=self.env)
                client.ping()
            except Exception as err:
                raise DockerUnavailable(
                    f"cannot reach the Docker engine ({err}); is dockerd running and "
                    "DOCKER_HOST right? `tilt-lsp doctor` checks"
                ) from None
            self._client = client
        return self._client

    def new_api(self) -> Any:
        """A separate low-level client for a long-lived stream (events, logs): a stream holds
        its connection for as long as it runs."""
        import docker

        return docker.APIClient(**docker.utils.kwargs_from_env(environment=self.env), timeout=None)

    def compose_command(self) -> list[str]:
        if not self._compose_checked:
            self._compose = detect_compose()
            self._compose_checked = True
        if self._compose is None:
            raise DockerUnavailable(
                "neither `docker compose` (v2) nor `docker-compose` (v1) is installed"
            )
        return list(self._compose)

    def state_dir(self) -> str:
        """A private temp dir for generated files (compose overrides): never the user's tree."""
        if self._state_dir is None:
            self._state_dir = tempfile.mkdtemp(prefix="tilt-lsp-")
        return self._state_dir

    # -- the synclet ----------------------------------------------------------------------

    async def synclet_endpoint(self) -> tuple[str, str]:
        async with self._synclet_lock:
            if self._synclet is None:
                from synclet.local import start_local_synclet

                stack = contextlib.AsyncExitStack()
                try:
                    running = await stack.enter_async_context(start_local_synclet(env={**self.env}))
                except BaseException:
                    await stack.aclose()
                    raise
                self._synclet_stack = stack
                self._synclet = (running.url, running.token)
            return self._synclet

    # -- shutdown -------------------------------------------------------------------------

    def _remove_networks(self, projects: list[str]) -> None:
        api = self._client.api
        for project in projects:
            flt = {"label": [f"com.docker.compose.project={project}"]}
            for c in api.containers(
                all=True,
                filters={"label": [*flt["label"], *(f"{k}={v}" for k, v in self.labels.items())]},
            ):
                with contextlib.suppress(Exception):  # a container a controller left
                    api.remove_container(c["Id"], force=True, v=True)
            for net in api.networks(filters=flt):
                with contextlib.suppress(Exception):  # still used by a service we don't run
                    api.remove_network(net["Id"])

    async def close(self) -> None:
        await self.updater.close()
        stack, self._synclet_stack = self._synclet_stack, None
        self._synclet = None
        if stack is not None:
            await stack.aclose()
        projects = list(self.projects)
        self.projects.clear()
        if projects and self._client is not None:
            # Containers are removed by their controllers; the projects' networks go here,
            # through the API (a `compose down` costs a second and waits for grace periods).
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._remove_networks, projects)
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(client.close)
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
