"""A resource's worker: one update at a time, and the one rule for merging the requests
that arrive meanwhile (so a burst of 1,000 changed files is one update, not 1,000)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tilt_lsp.engine import actions as a
from tilt_lsp.engine.status import BuildStatus
from tilt_lsp.runtime.controller import Controller
from tilt_lsp.tiltfile.model import Resource

if TYPE_CHECKING:
    from tilt_lsp.engine.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class Request:
    kind: str  # "update" | "rebuild" | "restart"
    paths: set[str] = field(default_factory=set)
    reason: str = ""

    def merge(self, other: Request) -> Request:
        """The one request that does what both asked. A stop (disable) replaces whatever
        was pending; anything asked after a stop (enable) replaces the stop."""
        if "stop" in (self.kind, other.kind):
            return other
        rank = {"restart": 0, "update": 1, "rebuild": 2}
        if rank[other.kind] > rank[self.kind]:
            self.kind = other.kind
        self.paths |= other.paths
        self.reason = other.reason if not self.reason else self.reason
        return self


class ResourceWorker:
    """Runs one resource's work, one request at a time."""

    def __init__(self, engine: Engine, resource: Resource, controller: Controller) -> None:
        self.engine = engine
        self.resource = resource
        self.controller = controller
        self.pending: Request | None = None
        self.busy = False
        self._started = False  # resource_deps gate only the first update, as in Tilt
        self._wake = asyncio.Event()
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(
            self._loop(), name=f"resource:{resource.name}"
        )

    def request(self, req: Request) -> None:
        self.pending = req if self.pending is None else self.pending.merge(req)
        self._wake.set()

    async def _loop(self) -> None:
        name = self.resource.name
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            if self.pending is None:
                continue
            if not self._started and self.pending.kind != "stop":
                await self._wait_for_deps()
            req, self.pending = self.pending, None
            if req is None:
                continue
            if req.kind == "stop":
                self.busy = True
                try:
                    await self.controller.stop()
                finally:
                    self.busy = False
                self.engine.stopped_by_user(name)
                continue
            self.busy = True
            self._started = True
            self.engine.dispatch(a.UpdateStarted(name, req.reason, frozenset(req.paths)))
            try:
                if req.kind == "restart":
                    ok = await self.controller.restart()
                elif req.kind == "rebuild":
                    ok = await self.controller.rebuild()
                else:
                    ok = await self.controller.update(frozenset(req.paths), req.reason)
                self.engine.dispatch(a.UpdateFinished(name, ok))
            except asyncio.CancelledError:
                raise
            except Exception as err:  # an infrastructure bug must not kill the loop
                log.exception("update of %s failed", name)
                self.engine.dispatch(
                    a.BuildChanged(name, BuildStatus.ERROR, f"internal error: {err}")
                )
                self.engine.dispatch(a.UpdateFinished(name, False, str(err)))
            finally:
                self.busy = False

    async def _wait_for_deps(self) -> None:
        deps = [d for d in self.resource.resource_deps if d in self.engine.workers]
        if not deps:
            return

        def unready() -> list[str]:
            return [d for d in deps if not self.engine.workers[d].controller.is_ready()]

        def stop_asked() -> bool:  # a disable while waiting ends the wait
            return self.pending is None or self.pending.kind == "stop"

        first = True
        while (waiting := unready()) and not stop_asked():
            if first:
                self.engine.dispatch(a.WaitingFor(self.resource.name, ", ".join(waiting)))
                first = False
            await self.engine.next_change()
        if not first:
            self.engine.dispatch(a.WaitingFor(self.resource.name, None))

    async def stop(self) -> None:
        self._closed = True  # even if a cancellation were lost on the way, the loop ends
        self._wake.set()
        self._task.cancel()
        await asyncio.wait({self._task})  # never swallows a cancellation of this call
        await self.controller.stop()
