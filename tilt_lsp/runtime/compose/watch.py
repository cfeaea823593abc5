"""Watching one compose service: its container's Docker events and logs, and what they mean.

The log goes to the resource log and through the problem parsers (a stack trace lands on its
line). A death is a crash unless we caused it (``windows.py``); three within a minute are a
crash loop. Under the restart wrapper the container outlives the app: the wrapper's line
``restart-wrapper: APP exited with code N`` is the app's death. A start someone else caused
(a restart policy, ``docker start``) is handed to the controller to bring the container up
to date.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from tilt_lsp.build.finish import app_exit_code
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import ProblemsReset, RuntimeChanged
from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.compose.service import PROJECT_LABEL, SERVICE_LABEL, Service
from tilt_lsp.runtime.containers import ContainerEvent, EventWatcher, LogFollower
from tilt_lsp.runtime.sink import Sink

CRASH_LOOP = (3, 60.0)  # this many deaths within this many seconds is a crash loop

OnExternalStart = Callable[[ContainerEvent], Coroutine[Any, Any, None]]


class Watch:
    """Events and logs of one service's container."""

    def __init__(self, svc: Service, on_external_start: OnExternalStart) -> None:
        self.svc = svc
        self._on_external_start = on_external_start
        self._events: EventWatcher | None = None
        self._logs: LogFollower | None = None
        self._attached: tuple[str, float] | None = None
        self._runtime: Sink | None = None
        self.exit_reported: str | None = None  # the container whose exit is reported
        self._deaths: deque[float] = deque(maxlen=CRASH_LOOP[0])

    async def start(self) -> None:
        """Follow the service's container events (once)."""
        if self._events is not None:
            return
        svc = self.svc
        labels = {PROJECT_LABEL: svc.spec.project_name, SERVICE_LABEL: svc.spec.service}
        watcher = EventWatcher(svc.host.new_api, labels, self._on_event, asyncio.get_running_loop())
        self._events = watcher
        await asyncio.to_thread(watcher.ready.wait, 10)

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
            self._events = None
        self._close_logs()

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, event: ContainerEvent) -> None:
        svc = self.svc
        if svc.stopped:
            return
        cid = event.container_id
        if event.action == "start":
            fresh = (
                self._attached is None
                or self._attached[0] != cid
                or event.time - self._attached[1] > 0.2
            )
            if fresh:
                self.attach(cid, event.time)
            if not svc.windows.is_ours(event.time):
                svc.spawn(self._on_external_start(event))
        elif event.action == "die":
            if svc.windows.caused(cid, event.time):
                return  # we restarted it
            if cid != svc.container or self.exit_reported == cid:
                return
            svc.running = svc.ready = False
            self.report_exit(event.exit_code or 0, oom=False)
        elif event.action == "destroy" and cid == svc.container:
            svc.container = None  # removed behind our back: the next change recreates it
            svc.running = svc.ready = False
        elif event.action == "oom":
            svc.log("the container ran out of memory and was killed (OOM)")

    # -- logs -----------------------------------------------------------------------------

    def attach(self, cid: str, since: float | None) -> None:
        """Follow ``cid``'s log from ``since`` (its start), unless already following it."""
        if (
            self._attached is not None
            and self._attached[0] == cid
            and since is not None
            and abs(since - self._attached[1]) < 0.2
        ):
            return
        self._close_logs()
        self.new_runtime_sink()
        self.exit_reported = None
        self._attached = (cid, since or time.time())
        self._logs = LogFollower(
            self.svc.host.new_api,
            cid,
            None if since is None else since - 0.001,
            self._on_log,
            asyncio.get_running_loop(),
        )

    def new_runtime_sink(self) -> None:
        """A new run of the app: the old run's problems are history."""
        svc = self.svc
        if self._runtime is not None:
            self._runtime.close()
        svc.dispatch(ProblemsReset(svc.name, "runtime"))
        self._runtime = Sink(svc.name, "runtime", ProblemStream(svc.mapper), svc.dispatch)

    def _on_log(self, cid: str, line: str) -> None:
        if self._runtime is None or self._logs is None or self._logs.container_id != cid:
            return
        self._runtime(line)
        code = app_exit_code(line)
        svc = self.svc
        if code is not None and cid == svc.container and not svc.stopped:
            # The restart wrapper outlives the app: the container runs, the app crashed.
            svc.ready = False
            self.report_exit(code, oom=False, container=False)

    def _close_logs(self) -> None:
        if self._logs is not None:
            self._logs.close()
            self._logs = None
        if self._runtime is not None:
            self._runtime.close()
        self._attached = None

    # -- exits ----------------------------------------------------------------------------

    def report_exit(self, code: int, oom: bool, container: bool = True) -> None:
        """The container (or, under the wrapper, the app) died by itself: say so."""
        svc = self.svc
        if container:
            self.exit_reported = svc.container
        now = time.monotonic()
        self._deaths.append(now)
        if self._runtime is not None:
            self._runtime.close()  # flush a trace that ended with the process
        what = "was killed: out of memory" if oom else f"exited with code {code}"
        message = f"container {what}" if container else f"the app {what}"
        n, window = CRASH_LOOP
        if len(self._deaths) == n and now - self._deaths[0] <= window:
            message += f" (crash loop: {n} exits within {window:.0f} s)"
        svc.log(message)
        status = RuntimeStatus.EXITED if code == 0 and not oom else RuntimeStatus.CRASHED
        error = None if status is RuntimeStatus.EXITED else message
        svc.dispatch(RuntimeChanged(svc.name, status, exit_code=code, error=error))
