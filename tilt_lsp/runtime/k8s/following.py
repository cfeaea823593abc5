"""Following a resource's pods (part of ``K8sController``): the pod watch and the log
streams it starts, port forwards, which pods are current, and the resource's runtime status
in the user's words: what the pods say (``pods.describe``), held at "running" while a
container instance is being re-synced, crashed when a re-sync failed or when the app exited
under the restart wrapper (the container outlives it, so only the wrapper's log line says so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tilt_lsp.engine.actions import RuntimeChanged
from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.k8s import pods as k8spods
from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.runtime.k8s.instances import ImageState
from tilt_lsp.runtime.k8s.portforward import PortForwarder
from tilt_lsp.runtime.k8s.watch import LogFollower, PodWatcher

if TYPE_CHECKING:
    from tilt_lsp.runtime.controller import Dispatch
    from tilt_lsp.runtime.local import OutputSink
    from tilt_lsp.tiltfile.model import K8sSpec


class PodFollow:
    """Mixin: the pod-following half of ``K8sController`` (state is declared there)."""

    resource: Any
    spec: K8sSpec
    namespace: str
    _dispatch: Dispatch
    _images: dict[str, ImageState]
    _workload: dict[str, Any] | None
    _selector: str
    _watcher: PodWatcher | None
    _logs: LogFollower | None
    _log_sink: OutputSink | None
    _forwards: list[PortForwarder]
    _pods: dict[str, dict[str, Any]]
    _order: dict[str, int]
    _resync_errors: dict[str, str]
    _app_exits: dict[tuple[str, str], tuple[str, int]]
    _reported: tuple[Any, ...]
    _ready: bool
    _busy: bool

    if TYPE_CHECKING:  # provided by the controller and LiveSync

        def _log(self, *lines: str) -> None: ...
        def _threadsafe(self, fn: Callable[[str], None]) -> Callable[[str], None]: ...
        async def _sink(self, source: str) -> OutputSink: ...
        def _resync_new_instances(self, busy: bool) -> None: ...
        def _resync_pending(self, pod: Any) -> bool: ...

    async def _start_following(self, api: KubeApi) -> None:
        if self._watcher is not None or self._workload is None:
            if self._workload is None and not self._ready:
                self._ready = True
                self._dispatch(RuntimeChanged(self.resource.name, RuntimeStatus.NONE))
            return
        loop = asyncio.get_running_loop()
        self._log_sink = await self._sink("runtime")
        self._logs = LogFollower(
            api, self.namespace, loop, self._log_sink, self._log, self._on_wrapper
        )
        self._watcher = PodWatcher(
            api,
            self.namespace,
            self._selector,
            loop,
            self._on_pods,
            self._log,
        )
        self._watcher.start()
        for forward in self.spec.port_forwards:
            pf = PortForwarder(
                api, self.namespace, forward, self._pick_pod, self._threadsafe(self._log)
            )
            try:
                pf.start()
                self._forwards.append(pf)
                self._log(
                    f"port-forward: localhost:{forward.local_port} -> pod port {forward.container_port}"
                )
            except OSError as err:
                self._log(
                    f"port-forward localhost:{forward.local_port} cannot listen: {err.strerror or err}"
                )

    def _current(self) -> list[dict[str, Any]]:
        refs = {s.ref for s in self._images.values() if s.ref}
        return [dict(p) for p in k8spods.current_pods(list(self._pods.values()), self._order, refs)]

    def _pick_pod(self) -> str | None:
        current = self._current()
        ready = [p for p in current if k8spods.pod_ready(p)]
        return k8spods.pod_name(ready[0]) if ready else None

    # -- pods ---------------------------------------------------------------------------------

    def _on_pods(self, pods: dict[str, dict[str, Any]]) -> None:
        # Pods listed at once are ordered by creation: the newest template's pods come last.
        fresh = sorted(
            (p for uid, p in pods.items() if uid not in self._order),
            key=lambda p: (
                str(p["metadata"].get("creationTimestamp", "")),
                str(p["metadata"].get("name")),
            ),
        )
        for p in fresh:
            self._order[str(p["metadata"]["uid"])] = len(self._order)
        self._pods = pods
        if self._logs is not None:
            self._logs.sync(list(pods.values()))
        self._resync_new_instances(self._busy)
        self._report()

    def _report(self) -> None:
        if self._workload is None:
            return
        current = self._current()
        state = k8spods.describe(current)
        runtime, error, summary = state.runtime, state.error, state.summary
        pending = [k8spods.pod_name(p) for p in current if self._resync_pending(p)]
        if runtime is RuntimeStatus.READY and pending:
            runtime, summary = (
                RuntimeStatus.RUNNING,
                f"re-syncing live-updated files into {', '.join(pending)}",
            )
        failed = [
            self._resync_errors[u]
            for p in current
            if (u := str(p["metadata"]["uid"])) in self._resync_errors
        ]
        if failed and runtime is not RuntimeStatus.CRASHED:
            runtime, error, summary = RuntimeStatus.CRASHED, failed[0], failed[0]
        exit_code = state.exit_code
        exited = self._apps_exited(current)
        if exited and runtime is not RuntimeStatus.CRASHED:
            error, exit_code = exited
            runtime, summary = RuntimeStatus.CRASHED, error
        key = (runtime, error, exit_code, summary)
        self._ready = runtime is RuntimeStatus.READY
        if key == self._reported:
            return
        self._reported = key
        self._log(f"pods: {summary}")
        self._dispatch(
            RuntimeChanged(self.resource.name, runtime, exit_code=exit_code, error=error)
        )

    def _on_wrapper(self, pod: str, container: str, instance: str, code: int | None) -> None:
        """The restart wrapper (PID 1) said the app exited, or that it restarts it."""
        if code is None:
            self._app_exits.pop((pod, container), None)
        else:
            self._app_exits[(pod, container)] = (instance, code)
        self._report()

    def _apps_exited(self, current: list[dict[str, Any]]) -> tuple[str, int] | None:
        """An app that exited under the restart wrapper in a still-running container of the
        current pods: (what to say, its exit code). The pod looks fine to Kubernetes."""
        for pod in current:
            name = k8spods.pod_name(pod)
            for c in k8spods.container_statuses(pod):
                seen = self._app_exits.get((name, str(c.get("name"))))
                if seen is None or "running" not in (c.get("state") or {}):
                    continue
                if seen[0] != str(c.get("containerID") or ""):
                    continue  # said by an earlier instance of the container
                return (
                    f"pod {name} container {c.get('name')}: the app exited with code {seen[1]} "
                    "(the restart wrapper keeps the container; a live update restarts the app)",
                    seen[1],
                )
        return None
