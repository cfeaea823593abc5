"""What the parts of one compose service's controller share: which container runs, how it
restarts, and how they report (the resource log, status actions, Docker calls off the loop).

The parts (images, deploy, watch, live update) each own one job and read and write this state;
the controller composes them and takes every decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from synclet import protocol as sp
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.engine.actions import Action, LogLines, RuntimeChanged
from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.compose.windows import Windows
from tilt_lsp.runtime.controller import Dispatch
from tilt_lsp.runtime.dockerhost import DockerHost
from tilt_lsp.tiltfile.model import ComposeSpec, Resource

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
GRACE_ENV = "TILT_LSP_RESTART_GRACE"  # seconds a container restart waits before killing (0)


class Service:
    """One compose service's shared state."""

    def __init__(self, resource: Resource, host: DockerHost, dispatch: Dispatch) -> None:
        assert resource.compose is not None
        self.name = resource.name
        self.spec: ComposeSpec = resource.compose
        self.host = host
        self._dispatch = dispatch
        self.mapper = PathMapper(host.root)  # with the Dockerfile's paths from the first build
        self.container: str | None = None
        self.running = False
        self.ready = False
        self.signals: dict[str, str | None] = {}  # container → the signal restarting its app
        self.windows = Windows()
        self.stopped = False
        self.lock = asyncio.Lock()  # one operation at a time on this service
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- reporting ------------------------------------------------------------------------

    def dispatch(self, action: Action) -> None:
        self._dispatch(action)

    def log(self, line: str) -> None:
        self._dispatch(LogLines(self.name, (line,)))

    def runtime_failed(self, message: str) -> bool:
        self.log(message)
        self.running = self.ready = False
        self._dispatch(RuntimeChanged(self.name, RuntimeStatus.CRASHED, error=message))
        return False

    # -- restarts -------------------------------------------------------------------------

    def restart_mode(self, cid: str) -> sp.RestartMode:
        """Signal the process when the container has a restart wrapper, else restart it."""
        return "process" if self.signals.get(cid) else "container"

    def grace(self) -> int:
        """Seconds a container restart waits for the app to stop: 0 (as Tilt) unless set."""
        try:
            return max(0, int(self.host.env.get(GRACE_ENV, "0") or 0))
        except ValueError:
            return 0

    # -- doing ----------------------------------------------------------------------------

    async def docker(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(api)`` in a worker thread (the SDK blocks)."""

        def call() -> Any:
            return fn(self.host.client().api)

        return await asyncio.to_thread(call)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
