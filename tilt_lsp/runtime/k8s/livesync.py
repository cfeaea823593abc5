"""Live update and re-sync of a Kubernetes resource's containers (part of ``K8sController``).

What a real kubelet does that this code is shaped by:

- A container the kubelet restarts (a crash, a failed liveness probe, an OOM kill) starts from
  its image: every file copied into the previous instance is gone. So "holds every
  live-updated file" is a property of a container *instance* (pod uid, container name,
  containerID), not of a pod: each new instance is re-synced (every file changed since the
  image was built, then the run steps, then a process restart where the image has the restart
  wrapper) before the resource is reported ready again.
- A live update can lose its container underneath it (the change makes the app crash and the
  kubelet restarts it while the exec runs: exit 137). That update is not done: it is retried
  once in the new instance with every file since the image. If the container restarts again,
  the change crashes the app: that is the user's error, shown with the crash's output, and
  nothing is rebuilt (a build from that state would bake the crash into the image and loop,
  Tilt#5633); the next save rebuilds from the workspace as it is then.
- A change that arrives while the container is crash-looping cannot be synced (no running
  instance): the resource is built and deployed from the workspace instead (as Tilt does).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tilt_lsp.changes.mapping import under
from tilt_lsp.engine.actions import BuildChanged, ProblemsReset
from tilt_lsp.engine.status import BuildStatus
from tilt_lsp.liveupdate.plan import Plan, plan
from tilt_lsp.liveupdate.updater import expand
from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.runtime.k8s.instances import (
    DEATH_WAIT_S,
    RESTART_WAIT_S,
    ContainerRestarted,
    ImageState,
    crashing,
    instance_key,
    instance_now,
    running_targets,
    wait_running,
)
from tilt_lsp.runtime.k8s.liveupdate import ExecUpdater, RunStepFailed, Target, UpdateInfraFailed
from tilt_lsp.runtime.k8s.synclet import NodeSynclets, docker_container_id, synclet_update
from tilt_lsp.tiltfile.model import RunStep

if TYPE_CHECKING:
    from tilt_lsp.runtime.controller import Dispatch
    from tilt_lsp.runtime.local import OutputSink


class LiveSync:
    """Mixin: the live-update half of ``K8sController`` (state is declared there)."""

    resource: Any
    namespace: str
    _images: dict[str, ImageState]
    _api: KubeApi | None
    _dispatch: Dispatch
    _synclets: NodeSynclets | None
    _synced: set[str]
    _resyncing: set[str]
    _resync_errors: dict[str, str]
    _selector: str

    _tasks: set[asyncio.Task[Any]]

    if TYPE_CHECKING:  # provided by the controller

        def _log(self, *lines: str) -> None: ...
        def _current(self) -> list[dict[str, Any]]: ...
        def _report(self) -> None: ...
        def _fail_build(self, message: str) -> bool: ...
        def _threadsafe(self, fn: Callable[[str], None]) -> Callable[[str], None]: ...
        async def _sink(self, source: str) -> OutputSink: ...
        async def _deploy(self, paths: frozenset[str] | None, force: bool) -> bool: ...
        async def restart(self) -> bool: ...

    # -- which containers ---------------------------------------------------------------------

    def _running_targets(
        self, pod: Mapping[str, Any], repos: set[str] | None = None
    ) -> list[tuple[str, Target]]:
        return running_targets(pod, self._images, repos)

    # -- re-sync of new container instances ---------------------------------------------------

    def _resync_new_instances(self, busy: bool) -> None:
        """Start a re-sync for every running container instance of the current pods that
        does not hold the live-updated files (a new pod, or a container the kubelet
        restarted)."""
        if busy:
            return
        dirty = any(s.dirty for s in self._images.values())
        for pod in self._current():
            uid = str(pod["metadata"]["uid"])
            todo = [
                (repo, t)
                for repo, t in self._running_targets(pod)
                if instance_key(uid, t) not in self._synced
                and instance_key(uid, t) not in self._resyncing
            ]
            if not todo:
                continue
            if not dirty:
                self._synced.update(instance_key(uid, t) for _, t in todo)
                continue
            self._resyncing.update(instance_key(uid, t) for _, t in todo)
            task = asyncio.get_running_loop().create_task(self._resync(uid, todo))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _resync_pending(self, pod: Mapping[str, Any]) -> bool:
        uid = str(pod["metadata"]["uid"])
        return any(k.startswith(f"{uid}/") for k in self._resyncing)

    async def _resync(self, uid: str, todo: list[tuple[str, Target]]) -> None:
        """A container instance that started from the image (a new pod, or a restart) lacks
        the live-updated files: send all of them, run the run steps, restart the process
        (restart wrapper) before it counts as ready."""
        api = self._api
        assert api is not None
        sink = await self._sink("build")
        try:
            for repo, target in todo:
                key = instance_key(uid, target)
                state = self._images[repo]
                if not state.dirty:
                    self._synced.add(key)
                    continue
                self._log(
                    f"re-syncing {len(state.synced)} file(s) changed since the image was built "
                    f"into {target} (a new pod or a restarted container starts from the image)"
                )
                try:
                    await self._send_all(api, target, state, self._threadsafe(sink))
                except RunStepFailed as err:
                    # The user's code failing in the new container: as in a live update.
                    self._fail_build(f"re-sync into {target}: {err}")
                except UpdateInfraFailed as err:
                    self._log(f"re-sync into {target} failed: {err}")
                    self._resync_errors[uid] = (
                        f"pod {target.pod} lacks the live-updated files: {err}"
                    )
                    continue
                self._synced.add(key)
        finally:
            sink.close()
            for _, target in todo:
                self._resyncing.discard(instance_key(uid, target))
            self._report()

    async def _send_all(
        self, api: KubeApi, target: Target, state: ImageState, on_line: Callable[[str], None]
    ) -> None:
        """Every file changed since the image, the run steps, and the process restart."""
        syncs, _gone = await asyncio.to_thread(
            expand, [(local, container) for container, local in state.synced.items()]
        )
        await self._update_target(api, target, syncs, sorted(state.deleted), state.runs, on_line)
        if state.restarts_process and state.restart_signal:
            await asyncio.to_thread(ExecUpdater(api).signal, target, state.restart_signal)

    # -- one container ------------------------------------------------------------------------

    async def _update_target(
        self,
        api: KubeApi,
        target: Target,
        syncs: list[tuple[str, str]],
        deletes: list[str],
        runs: tuple[RunStep, ...],
        on_line: Callable[[str], None],
    ) -> None:
        """Through the node's synclet when there is one and the container runs on Docker,
        else (or when the synclet fails) by exec. Raises RunStepFailed / UpdateInfraFailed."""
        docker_id = docker_container_id(target.container_id)
        if docker_id is not None and target.node:
            if self._synclets is None:
                self._synclets = NodeSynclets(api, self._threadsafe(self._log))
            endpoint = await asyncio.to_thread(self._synclets.endpoint_for, target.node)
            if endpoint is not None:
                outcome, message = await synclet_update(
                    endpoint, docker_id, syncs, deletes, runs, on_line
                )
                if outcome == "done":
                    return
                if outcome == "user":
                    raise RunStepFailed(message)
                self._log(f"synclet {endpoint.pod} failed ({message}); updating {target} by exec")
                self._synclets.forget(target.node)
        await asyncio.to_thread(ExecUpdater(api).update, target, syncs, deletes, runs, on_line)

    async def _update_checked(
        self,
        api: KubeApi,
        target: Target,
        state: ImageState,
        p: Plan,
        syncs: list[tuple[str, str]],
        full: bool,
        on_line: Callable[[str], None],
        uid: str,
    ) -> Target:
        """One container's live update, never reported done while the container restarted
        underneath it: then retried once in the new instance (with every file since the
        image). Returns the instance that holds the files; raises RunStepFailed,
        UpdateInfraFailed, ContainerRestarted."""
        try:
            return await self._attempts(api, target, state, p, syncs, full, on_line, uid)
        finally:
            self._resyncing.difference_update(
                {k for k in self._resyncing if k.startswith(f"{uid}/")}
            )

    async def _attempts(
        self,
        api: KubeApi,
        target: Target,
        state: ImageState,
        p: Plan,
        syncs: list[tuple[str, str]],
        full: bool,
        on_line: Callable[[str], None],
        uid: str,
    ) -> Target:
        for attempt in (0, 1):
            failure: Exception | None = None
            try:
                if full:
                    await self._send_all(api, target, state, on_line)
                else:
                    await self._update_target(
                        api, target, syncs, list(p.deletes), p.run_steps, on_line
                    )
            except (RunStepFailed, UpdateInfraFailed) as err:
                failure = err
            killed = failure is not None and (
                isinstance(failure, UpdateInfraFailed)
                or getattr(failure, "exit_code", 0) in (126, 137, 143, -1)
            )
            verdict, _pod = await instance_now(api, target, DEATH_WAIT_S if killed else 0)
            if verdict == "same":
                if failure is not None:
                    raise failure
                return target
            if verdict == "gone":
                # The pod was deleted (a rollout, tilt.restart): its replacement is re-synced.
                self._log(
                    f"live update: pod {target.pod} went away; its replacement gets the files"
                )
                return target
            what = f"container {target} restarted during the live update"
            if failure is not None:
                what += f" ({failure})"
            if attempt == 1:
                raise ContainerRestarted(
                    f"{what}, and again in the retry: the change seems to crash the app (its "
                    "output is in the log and the problems). Nothing was rebuilt: fix it and save."
                )
            self._log(f"{what}; retrying once in the new container with every file since the image")
            new = await wait_running(api, target)
            if new is None:
                raise ContainerRestarted(
                    f"{what}, and it did not run again within {RESTART_WAIT_S:g} s: the change "
                    "seems to crash the app (see the log and the problems). Nothing was "
                    "rebuilt: fix it and save."
                )
            target, full = new, True
            # Not ready until the retry put the files in (the kubelet says ready at once).
            self._resyncing.add(instance_key(uid, target))
            self._report()
        raise AssertionError("unreachable")

    # -- live update --------------------------------------------------------------------------

    def _plans(self, paths: frozenset[str]) -> dict[str, Plan]:
        out: dict[str, Plan] = {}
        for repo, state in self._images.items():
            image = state.image
            mine = [p for p in paths if under(p, image.context)]
            if not mine:
                continue
            always = [
                image.dockerfile or os.path.join(image.context, "Dockerfile"),
                os.path.join(image.context, ".dockerignore"),
            ]
            changed = [p for p in mine if os.path.lexists(p)]
            deleted = [p for p in mine if not os.path.lexists(p)]
            out[repo] = plan(image.live_update, changed, deleted, always)
        return out

    async def _live_update(self, plans: dict[str, Plan], paths: frozenset[str]) -> bool:
        name = self.resource.name
        api = self._api
        assert api is not None
        current = self._current()
        down = [c for repo in plans for c in crashing(current, repo, self._images[repo])]
        if down:
            # Tilt: "cannot live update because the container is crashing".
            self._log(
                f"full build: {', '.join(down)} is not running (crashing), a live update "
                "cannot reach it"
            )
            return await self._rebuild_crashing(paths)
        self._dispatch(ProblemsReset(name, "build"))
        # The app's problems from before this save are stale now; one that crashes during the
        # update (the synced change running) is this update's news and must stay.
        self._dispatch(ProblemsReset(name, "runtime"))
        self._dispatch(BuildChanged(name, BuildStatus.BUILDING))
        sink = await self._sink("build")
        on_line = self._threadsafe(sink)
        restart_pods = False
        updated: list[str] = []  # instance keys that hold every change so far
        try:
            for repo, p in plans.items():
                state = self._images[repo]
                for local, container in p.syncs:
                    state.synced[container] = local
                    state.deleted.discard(container)
                for container in p.deletes:
                    state.synced.pop(container, None)
                    state.deleted.add(container)
                targets = [
                    (str(pod["metadata"]["uid"]), t)
                    for pod in current
                    for _, t in self._running_targets(pod, {repo})
                ]
                if not targets:
                    self._log(
                        f"live update: no running container of {repo} yet; the files go to the next one"
                    )
                    continue
                syncs, _gone = await asyncio.to_thread(expand, p.syncs)
                for uid, target in targets:
                    # An instance that missed earlier changes (restarted, not re-synced yet)
                    # gets every file since the image.
                    full = instance_key(uid, target) not in self._synced
                    self._log(
                        f"live update of {target}: "
                        + (
                            f"every file since the image ({len(state.synced)})"
                            if full
                            else f"{len(syncs)} file(s) copied, {len(p.deletes)} deleted"
                        )
                        + f", {len(state.runs if full else p.run_steps)} run step(s)"
                    )
                    try:
                        done = await self._update_checked(
                            api, target, state, p, syncs, full, on_line, uid
                        )
                    except RunStepFailed:
                        updated.append(instance_key(uid, target))  # its files are in
                        raise
                    updated.append(instance_key(uid, done))
                    if p.restart or state.restarts_process:
                        if state.restart_signal and not full:
                            self._log(
                                f"restarting the app in {done} ({state.restart_signal} to PID 1)"
                            )
                            await asyncio.to_thread(
                                ExecUpdater(api).signal, done, state.restart_signal
                            )
                        elif not state.restart_signal:
                            restart_pods = True
        except RunStepFailed as err:
            await asyncio.sleep(0)
            sink.close()
            self._synced.update(updated)  # no re-sync (and no second run) of these
            return self._fail_build(str(err))
        except ContainerRestarted as err:
            await asyncio.sleep(0)
            sink.close()
            self._report()
            return self._fail_build(f"live update failed: {err}")
        except UpdateInfraFailed as err:
            await asyncio.sleep(0)
            sink.close()
            self._log(f"live update failed: {err}", "falling back to a full build and deploy")
            return await self._deploy(paths, force=False)
        await asyncio.sleep(0)
        sink.close()
        self._dispatch(BuildChanged(name, BuildStatus.OK))
        self._synced.update(updated)
        if restart_pods and updated:
            # Without a restart wrapper in the image (no restart-signal label), deleting the
            # pod restarts the process; its replacement is re-synced before it counts as ready.
            self._log(
                "restart: the image has no restart wrapper; deleting the updated pods (their "
                "replacements get the synced files)"
            )
            self._synced.difference_update(updated)
            await asyncio.to_thread(api.delete_pods, self.namespace, self._selector)
        return True

    async def _rebuild_crashing(self, paths: frozenset[str]) -> bool:
        """Build and deploy from the workspace; when that yields the images already deployed
        (the change undid what made it crash), start the pods afresh from them."""
        before = {repo: s.ref for repo, s in self._images.items()}
        if not await self._deploy(paths, force=False):
            return False
        if before == {repo: s.ref for repo, s in self._images.items()}:
            self._log("the same images: replacing the crashing pods")
            return await self.restart()
        return True
