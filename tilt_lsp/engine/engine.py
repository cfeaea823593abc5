"""The engine: load the Tiltfile, map changes to resources, drive each resource's controller,
and keep statuses, logs and problems — the same under ``serve``, ``up`` and ``check``.

Everything runs on one asyncio loop. State changes only in ``dispatch`` (a small reducer per
action); controllers and the loader do their I/O in tasks and threads and report back through
``dispatch``. Each resource has a worker that runs one update at a time and merges requests
that arrive meanwhile, so a burst of 1,000 changed files is one update, not 1,000.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from tilt_lsp.changes.ignore import IgnoreRules
from tilt_lsp.changes.mapping import Watches
from tilt_lsp.changes.watcher import Watcher
from tilt_lsp.diagnostics.model import Problem, Severity
from tilt_lsp.engine import actions as a
from tilt_lsp.engine import settle
from tilt_lsp.engine.listener import EngineListener, NullListener
from tilt_lsp.engine.problems import ProblemStore
from tilt_lsp.engine.queue import Request, ResourceWorker
from tilt_lsp.engine.status import LOG_LINES, BuildStatus, ResourceStatus, RuntimeStatus
from tilt_lsp.runtime.controller import Controller, Dispatch
from tilt_lsp.runtime.local import LocalController, MapperFactory
from tilt_lsp.runtime.processes import LocalProcesses, ProcessRunner
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import Location, Model, Resource, ResourceKind, TriggerMode
from tilt_lsp.tiltfile.worker import TIMEOUT_S, TiltfileWorker

if TYPE_CHECKING:
    from tilt_lsp.runtime.dockerhost import DockerHost

log = logging.getLogger(__name__)

TILTFILE = "(Tiltfile)"  # the resource name Tilt gives the Tiltfile's own problems

ControllerFactory = Callable[[Resource, Dispatch], Controller]


class EngineError(Exception):
    """A request the engine cannot carry out (unknown resource, …), in plain words."""


class Engine:
    def __init__(
        self,
        tiltfile: str,
        *,
        root: str | None = None,
        listener: EngineListener | None = None,
        runner: ProcessRunner | None = None,
        env: Mapping[str, str] | None = None,
        controllers: ControllerFactory | None = None,
        tiltfile_timeout: float = TIMEOUT_S,
    ) -> None:
        self.tiltfile = os.path.abspath(tiltfile)
        self.root = os.path.abspath(root or os.path.dirname(self.tiltfile))
        self.listener: EngineListener = listener or NullListener()
        self.env = dict(os.environ if env is None else env)
        self.runner = runner or LocalProcesses()
        self._mappers = MapperFactory(self.root)
        self._controllers = controllers or self._default_controller
        self.model: Model | None = None
        self.tiltfile_error: TiltfileError | None = None
        self.statuses: dict[str, ResourceStatus] = {}
        self.workers: dict[str, ResourceWorker] = {}
        self.problems = ProblemStore()
        self.tiltfile_log: deque[str] = deque(maxlen=LOG_LINES)  # print() output and errors
        self.ignores = IgnoreRules(os.path.dirname(self.tiltfile))
        self._watches: Watches | None = None
        self._seen: dict[str, settle.Signature] = {}
        self._tick: asyncio.Future[None] | None = None
        self._reload_task: asyncio.Task[None] | None = None
        self._reload_again = False
        self.loads = 0
        self.stopped = False
        self._watcher: Watcher | None = None
        self._docker_host: DockerHost | None = None  # shared by the Docker-backed controllers
        self._evaluator = TiltfileWorker(timeout_s=tiltfile_timeout)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, watch: bool = False) -> None:
        """Load the Tiltfile and start its auto-init resources; with ``watch``, also react
        to files changed outside the editor."""
        self._evaluator.warm()
        if watch:
            self._watcher = Watcher(self.root, self.files_changed, asyncio.get_running_loop())
            self._watcher.start()
        await self._reload(first=True)

    async def stop(self) -> None:
        self.stopped = True
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._reload_task is not None:
            self._reload_task.cancel()
            await asyncio.wait({self._reload_task})
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
        await self.runner.stop_all()
        await self._evaluator.close()
        if self._docker_host is not None:  # the synclet, the compose networks, temp files
            await self._docker_host.close()
            self._docker_host = None

    def kill_processes(self) -> None:
        """SIGKILL every local process group at once: when a graceful stop took too long."""
        self.runner.kill_all()

    # -- what the editor and the watcher say ---------------------------------------------

    def files_changed(self, paths: Iterable[str], origin: str = "watch") -> int:
        """React to changed files; returns how many were news (not ignored, not seen)."""
        fresh = [p for p in self._news(paths) if not self.ignores.ignored(p)]
        if not fresh:
            return 0
        if os.path.join(os.path.dirname(self.tiltfile), ".tiltignore") in fresh:
            self.ignores.reload()
        reload = self._watches is None or self.tiltfile in fresh
        if reload:
            self.request_reload()
        if self._watches is None:
            return len(fresh)
        changes = self._watches.classify(fresh)
        if changes.tiltfile_changed and not reload:  # one change, one reload (not two)
            self.request_reload()
        for name, changed in changes.resources.items():
            status = self.statuses.get(name)
            if status is None or not status.enabled:
                continue
            if status.resource.trigger_mode is TriggerMode.MANUAL:
                self.dispatch(a.PendingChanged(name, frozenset(changed)))
            else:
                reason = f"{len(changed)} changed file{'s' if len(changed) != 1 else ''} ({origin})"
                self.workers[name].request(Request("update", set(changed), reason))
        return len(fresh)

    def _news(self, paths: Iterable[str]) -> list[str]:
        """Drop paths whose content signature we already reacted to: an editor's save shows
        up both as didSave and as a file-system event."""
        out = []
        for path in dict.fromkeys(os.path.abspath(p) for p in paths):
            sig = settle.signature(path)
            if path in self._seen and self._seen[path] == sig:
                continue
            self._seen[path] = sig
            out.append(path)
        return out

    # -- commands -------------------------------------------------------------------------

    def _status(self, name: str) -> ResourceStatus:
        status = self.statuses.get(name)
        if status is None:
            known = ", ".join(self.statuses) or "none"
            raise EngineError(f"no resource named {name!r} (resources: {known})")
        return status

    def _enabled_status(self, name: str) -> ResourceStatus:
        status = self._status(name)
        if not status.enabled:
            raise EngineError(f"resource {name!r} is disabled; enable it first")
        return status

    def restart(self, name: str) -> None:
        self._enabled_status(name)
        self.workers[name].request(Request("restart", reason="restart requested"))

    def rebuild(self, name: str) -> None:
        self._enabled_status(name)
        self.workers[name].request(Request("rebuild", reason="rebuild requested"))

    def trigger(self, name: str) -> None:
        status = self._enabled_status(name)
        pending = set(status.pending_changes)
        self.dispatch(a.PendingChanged(name, frozenset(), replace=True))
        reason = f"triggered ({len(pending)} pending change{'s' if len(pending) != 1 else ''})"
        self.workers[name].request(Request("update", pending, reason))

    def disable(self, name: str) -> None:
        """Stop the resource and ignore its changes until it is enabled again; its worker
        carries out the stop, so a disable and an enable that race apply in order."""
        status = self._status(name)
        if not status.enabled:
            return
        self.dispatch(a.Enabled(name, False))
        self.workers[name].request(Request("stop", reason="disabled"))

    def stopped_by_user(self, name: str) -> None:
        status = self.statuses.get(name)
        if status is None or status.enabled:  # enabled again (or removed) meanwhile
            return
        self.dispatch(a.RuntimeChanged(name, RuntimeStatus.DISABLED))
        self._publish(self.problems.clear(name))

    def enable(self, name: str) -> None:
        status = self._status(name)
        if status.enabled:
            return
        self.dispatch(a.Enabled(name, True))
        self.workers[name].request(Request("update", reason="enabled"))

    def logs(self, name: str, lines: int = 200) -> list[str]:
        if name == TILTFILE:
            return list(self.tiltfile_log)[-lines:] if lines > 0 else list(self.tiltfile_log)
        return self._status(name).log.tail(lines)

    # -- waiting ----------------------------------------------------------------------------

    async def next_change(self) -> None:
        if self._tick is None or self._tick.done():
            self._tick = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._tick)

    def blocked(self, name: str) -> bool:
        """Waiting for a dependency that failed: nothing will happen until it is fixed."""
        status = self.statuses.get(name)
        if status is None or not status.waiting_for:
            return False
        deps = [self.statuses.get(d) for d in status.resource.resource_deps]
        return any(d is not None and d.failed and d.settled for d in deps)

    def busy(self) -> bool:
        return (self._reload_task is not None and not self._reload_task.done()) or any(
            w.busy or (w.pending is not None and not self.blocked(name))
            for name, w in self.workers.items()
        )

    async def wait_settled(self, timeout: float, names: Iterable[str] | None = None) -> bool:
        """Until every enabled auto-init resource is ready, finished, crashed or failed."""

        def settled() -> bool:
            if self.busy():
                return False
            wanted = [
                s
                for s in self.statuses.values()
                if (names is None or s.name in names) and (s.resource.auto_init or s.update_count)
            ]
            return all(s.settled or self.blocked(s.name) for s in wanted)

        async def wait() -> None:
            while not settled():
                await self.next_change()

        try:
            await asyncio.wait_for(wait(), timeout)
            return True
        except TimeoutError:
            return False

    # -- the reducer ----------------------------------------------------------------------

    def dispatch(self, action: a.Action) -> None:
        status = self.statuses.get(getattr(action, "resource", ""))
        changed = True
        if isinstance(action, a.LogLines):
            if status is not None:
                status.log.extend(action.lines)
            elif action.resource == TILTFILE:
                self.tiltfile_log.extend(action.lines)
            self.listener.log_lines(action.resource, action.lines)
            changed = False
        elif isinstance(action, a.ProblemsFound):
            self._publish(self.problems.add(action.resource, action.source, action.problems))
            changed = False
        elif isinstance(action, a.ProblemsReset):
            self._publish(self.problems.set(action.resource, action.source, action.problems))
            changed = False
        elif status is None:
            changed = False
        elif isinstance(action, a.UpdateStarted):
            status.update_count += 1
            status.touch(action.reason)
            status.pending_changes -= action.paths
            self.listener.progress(action.resource, "begin", action.reason)
        elif isinstance(action, a.UpdateFinished):
            message = "up to date" if action.ok else (status.last_error or action.error or "failed")
            self.listener.progress(action.resource, "end", message)
        elif isinstance(action, a.BuildChanged):
            status.build = action.build
            if action.build is BuildStatus.ERROR:
                status.last_error = action.error
            elif action.build is BuildStatus.BUILDING:
                status.last_error = None
        elif isinstance(action, a.RuntimeChanged):
            if action.runtime is RuntimeStatus.STARTING:
                status.start_count += 1
                status.exit_code = None
                status.pid = None
                status.last_error = (
                    None if status.build is not BuildStatus.ERROR else status.last_error
                )
            if action.pid is not None:
                status.pid = action.pid
            if action.runtime in (RuntimeStatus.STOPPED, RuntimeStatus.DISABLED):
                status.pid = None  # nothing of ours runs
            if action.exit_code is not None:
                status.exit_code = action.exit_code
            if action.runtime is RuntimeStatus.CRASHED:
                status.last_error = action.error
            status.runtime = action.runtime
        elif isinstance(action, a.PendingChanged):
            if action.replace:
                status.pending_changes = set(action.paths)
            else:
                status.pending_changes |= action.paths
        elif isinstance(action, a.WaitingFor):
            status.waiting_for = action.what
        elif isinstance(action, a.Enabled):
            status.enabled = action.enabled
        if changed and status is not None:
            self._publish(self.problems.set(status.name, "status", self._status_problems(status)))
            self.listener.status_changed(list(self.statuses.values()))
        if self._tick is not None and not self._tick.done():
            self._tick.set_result(None)

    @staticmethod
    def _status_problems(status: ResourceStatus) -> tuple[Problem, ...]:
        """A failed resource is an error on the Tiltfile line that defines it, so even a
        failure with no source location shows up in the problems panel."""
        loc = status.resource.location
        if loc is None or not status.enabled or not status.failed:
            return ()
        what = "build failed" if status.build is BuildStatus.ERROR else "crashed"
        detail = f": {status.last_error}" if status.last_error else ""
        message = f"resource {status.name!r} {what}{detail}"
        return (Problem(loc.path, loc.line, loc.column, message, source="tilt"),)

    def _publish(self, paths: set[str]) -> None:
        if paths:
            self.listener.diagnostics_changed(self.problems.to_publish(sorted(paths)))

    # -- Tiltfile (re)loading ---------------------------------------------------------------

    def request_reload(self) -> None:
        if self._reload_task is not None and not self._reload_task.done():
            self._reload_again = True
            return
        self._reload_task = asyncio.get_running_loop().create_task(self._reload_loop())

    async def _reload_loop(self) -> None:
        await self._reload()
        while self._reload_again and not self.stopped:
            self._reload_again = False
            await self._reload()

    async def _reload(self, first: bool = False) -> None:
        if not first and not await self._tiltfile_ready():
            return
        self.loads += 1
        try:
            model = await self._evaluator.load(self.tiltfile, self.env)
        except TiltfileError as err:
            if err.kind in ("timeout", "memory", "crash"):
                keeps = "the last good version keeps running" if self.model else "nothing runs"
                err = TiltfileError(f"{err.message}; {keeps}", err.location, err.kind)
            self.tiltfile_error = err
            problem = self._tiltfile_problem(err.location, err.message, Severity.ERROR)
            self.dispatch(a.ProblemsReset(TILTFILE, "tiltfile", (problem,)))
            self.dispatch(a.LogLines(TILTFILE, (f"Tiltfile error: {err}",)))
            if self.model is not None:
                self.listener.message(
                    "warning",
                    f"Tiltfile error; still running the last good version: {err.message}",
                )
            self.listener.status_changed(list(self.statuses.values()))
            return
        self.tiltfile_error = None
        warnings = tuple(
            self._tiltfile_problem(w.location, w.message, Severity.WARNING) for w in model.warnings
        )
        self.dispatch(a.ProblemsReset(TILTFILE, "tiltfile", warnings))
        if model.output:
            self.dispatch(a.LogLines(TILTFILE, tuple(model.output.splitlines())))
        await self._apply(model)

    async def _tiltfile_ready(self) -> bool:
        """Only a settled Tiltfile is read; an empty one while a good one runs is a save in
        progress, not an order to stop everything."""
        sig = await settle.wait_unchanged(self.tiltfile)
        if self.model is None or not settle.is_empty(self.tiltfile, sig):
            return True
        message = "the Tiltfile is empty; still running the last good version"
        self.dispatch(a.LogLines(TILTFILE, (message,)))
        warning = self._tiltfile_problem(None, message, Severity.WARNING)
        self.dispatch(a.ProblemsReset(TILTFILE, "tiltfile", (warning,)))
        return False

    def _tiltfile_problem(self, loc: Location | None, message: str, severity: Severity) -> Problem:
        if loc is None:  # no place known: the top of the Tiltfile
            return Problem(self.tiltfile, 1, 1, message, severity, source="tiltfile")
        return Problem(loc.path, loc.line, loc.column, message, severity, source="tiltfile")

    async def _apply(self, model: Model) -> None:
        old = self.model
        self.model = model
        self.ignores.extra = list(model.watch_ignores)
        self.ignores.reload()
        self._watches = Watches(model)

        def fingerprint(m: Model | None, r: Resource | None) -> object:
            if m is None or r is None:
                return None
            return (r, tuple(m.image(ref) for ref in r.image_refs))

        names = [r.name for r in model.resources]
        for name in [n for n in self.statuses if n not in names]:
            await self.workers.pop(name).stop()
            self._publish(self.problems.clear(name))
            del self.statuses[name]
        statuses: dict[str, ResourceStatus] = {}
        start: list[tuple[str, str]] = []
        for r in model.resources:
            previous = self.statuses.get(r.name)
            if previous is not None and fingerprint(
                old, old.resource(r.name) if old else None
            ) == fingerprint(model, r):
                statuses[r.name] = previous
                continue
            if previous is not None:
                await self.workers.pop(r.name).stop()
            statuses[r.name] = ResourceStatus(name=r.name, kind=r.kind.value, resource=r)
            if previous is not None:
                statuses[r.name].enabled = previous.enabled
                statuses[r.name].log = previous.log
                start.append((r.name, "the Tiltfile changed it"))
            elif r.auto_init:
                start.append((r.name, "initial" if old is None else "added to the Tiltfile"))
        self.statuses = statuses
        for r in model.resources:
            if r.name not in self.workers:
                controller = self._controllers(r, self.dispatch)
                self.workers[r.name] = ResourceWorker(self, r, controller)
        for name, reason in start:
            if self.statuses[name].enabled:
                self.workers[name].request(Request("update", reason=reason))
        self.listener.status_changed(list(self.statuses.values()))

    def _default_controller(self, resource: Resource, dispatch: Dispatch) -> Controller:
        if resource.kind is ResourceKind.LOCAL:
            return LocalController(resource, self.runner, dispatch, self._mappers, self.env)
        assert self.model is not None  # controllers are made while a model is applied
        if resource.kind is ResourceKind.K8S:
            from tilt_lsp.runtime.k8s.controller import K8sController

            images = [i for ref in resource.image_refs if (i := self.model.image(ref)) is not None]
            return K8sController(
                resource,
                images,
                dispatch,
                self.root,
                self.env,
                self.model.default_registry,
                self.model.allowed_k8s_contexts,
            )
        return self._compose_controller(resource, dispatch)

    def _compose_controller(self, resource: Resource, dispatch: Dispatch) -> Controller:
        from tilt_lsp.runtime.compose import ComposeController
        from tilt_lsp.runtime.dockerhost import DockerHost

        assert self.model is not None
        if self._docker_host is None:
            self._docker_host = DockerHost(self.root, self.env)
        images = [i for ref in resource.image_refs if (i := self.model.image(ref)) is not None]
        return ComposeController(
            resource, images[0] if images else None, self._docker_host, dispatch
        )
