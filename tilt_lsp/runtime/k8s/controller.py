"""The Kubernetes runtime: one ``K8sController`` per ``k8s_resource``.

update → build the images (or live-update them by exec), deliver them to the cluster, apply
the resource's objects with server-side apply; then follow the resource's pods (a watch that
survives expiry), report their state, stream every container's log (with timestamps,
including a crashed instance's) through the problem parsers, keep port forwards open. The
live update itself, and the re-sync of every container instance that started from the image
(a new pod, a container the kubelet restarted), is the ``LiveSync`` half in ``livesync.py``;
following the pods and saying what they mean is the ``PodFollow`` half in ``following.py``.

The ``kubernetes`` client is synchronous: every call runs in a thread (``asyncio.to_thread``
or the watcher's own threads) and results come back to the loop as actions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from tilt_lsp.changes.mapping import under
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.engine.actions import BuildChanged, LogLines, ProblemsReset, RuntimeChanged
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.runtime.controller import Dispatch
from tilt_lsp.runtime.k8s import customdeploy
from tilt_lsp.runtime.k8s import objects as k8sobj
from tilt_lsp.runtime.k8s.api import KubeApi, KubeError
from tilt_lsp.runtime.k8s.builds import DockerImageBuilds, ImageBuilds
from tilt_lsp.runtime.k8s.following import PodFollow
from tilt_lsp.runtime.k8s.images import Delivery, DeliveryError, detect
from tilt_lsp.runtime.k8s.instances import ImageState
from tilt_lsp.runtime.k8s.livesync import LiveSync
from tilt_lsp.runtime.k8s.portforward import PortForwarder
from tilt_lsp.runtime.k8s.synclet import NodeSynclets
from tilt_lsp.runtime.k8s.watch import LogFollower, PodWatcher
from tilt_lsp.runtime.local import OutputSink
from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.model import CustomDeploy, ImageBuild, Resource, image_repository

ApiFactory = Callable[[], KubeApi]


LOCAL_CONTEXTS = (
    "docker-desktop",
    "docker-for-desktop",
    "minikube",
    "microk8s",
    "rancher-desktop",
    "orbstack",
    "colima",
    "krucible",
)
LOCAL_PREFIXES = ("kind-", "k3d-", "crc-", "colima-")


def is_local_context(name: str) -> bool:
    """The context names Tilt deploys to without ``allow_k8s_contexts``."""
    return name in LOCAL_CONTEXTS or name.startswith(LOCAL_PREFIXES)


class K8sController(LiveSync, PodFollow):
    def __init__(
        self,
        resource: Resource,
        images: list[ImageBuild],
        dispatch: Dispatch,
        root: str,
        env: Mapping[str, str],
        default_registry: str = "",
        allowed_contexts: tuple[str, ...] = (),
        builds: ImageBuilds | None = None,
        api_factory: ApiFactory | None = None,
    ) -> None:
        assert resource.k8s is not None
        self.resource = resource
        self.spec = resource.k8s
        self._dispatch = dispatch
        self._root = root
        self._env = dict(env)
        self._registry = default_registry
        self._allowed_contexts = allowed_contexts
        self._images = {image_repository(i.ref): ImageState(i) for i in images}
        self._builds: ImageBuilds = builds or DockerImageBuilds(root, resource.name, env)
        self._api_factory = api_factory or (lambda: KubeApi(self._env))
        self._api: KubeApi | None = None
        self._delivery: Delivery | None = None
        self._deployed = False
        self._watcher: PodWatcher | None = None
        self._logs: LogFollower | None = None
        self._forwards: list[PortForwarder] = []
        self._synclets: NodeSynclets | None = None
        self._log_sink: OutputSink | None = None
        self._pods: dict[str, dict[str, Any]] = {}
        self._order: dict[str, int] = {}
        # container instances (pod uid/container/containerID) holding every live-updated file
        self._synced: set[str] = set()
        self._resyncing: set[str] = set()
        self._resync_errors: dict[str, str] = {}
        # (pod, container) -> (containerID, exit code) of an app that exited under the wrapper
        self._app_exits: dict[
            tuple[str, str], tuple[str, int]
        ] = {}  # pod uid -> why it lacks live-updated files
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reported: tuple[Any, ...] = ()
        self._ready = False
        self._busy = False  # an update is running: pod events must not re-sync meanwhile
        objs = [dict(o) for o in self.spec.objects]
        self._workload = k8sobj.workload(objs)
        self._selector = k8sobj.pod_selector(resource.name)  # k8s_custom_deploy: its own
        self.namespace = ""

    # -- Controller -------------------------------------------------------------------------

    async def update(self, paths: frozenset[str], reason: str) -> bool:
        self._busy = True
        try:
            if not self._deployed or not paths:
                return await self._deploy(None if not self._deployed else paths, force=False)
            plans = self._plans(paths)
            if any(p.kind == "full_build" for p in plans.values()) or not plans:
                why = next(
                    (p.reason for p in plans.values() if p.kind == "full_build"), "changed files"
                )
                self._log(f"full build: {why}")
                return await self._deploy(paths, force=False)
            live = {repo: p for repo, p in plans.items() if p.kind == "live_update"}
            if not live:
                return True
            return await self._live_update(live, paths)
        finally:
            self._busy = False
            if self._watcher is not None:
                self._on_pods(self._pods)  # pods that appeared meanwhile may need a re-sync

    async def rebuild(self) -> bool:
        """Build everything again and deploy. Content-tagged images of an unchanged context
        get the same ref, so the apply changes nothing: the pods are replaced then, so that
        a rebuild always starts the containers afresh."""
        self._busy = True
        try:
            before = {repo: s.ref for repo, s in self._images.items()}
            was_deployed = self._deployed
            if not await self._deploy(None, force=True):
                return False
            after = {repo: s.ref for repo, s in self._images.items()}
            if was_deployed and before == after and self._workload is not None:
                self._log("rebuild: the same images; replacing the pods")
                return await self.restart()
            return True
        finally:
            self._busy = False

    async def restart(self) -> bool:
        """Delete the resource's pods (their controller makes new ones from the same
        template; a bare Pod is applied again). No build."""
        api = await self._ensure_api()
        if api is None:
            return False
        if not self._deployed:
            return await self.update(frozenset(), "restart")
        try:
            deleted = await asyncio.to_thread(api.delete_pods, self.namespace, self._selector)
        except KubeError as err:
            self._fail_runtime(f"restart failed: {err.message}")
            return False
        self._log(
            f"restart: deleted pod{'s' if len(deleted) != 1 else ''} {', '.join(deleted) or '(none)'}"
        )
        self._dispatch(ProblemsReset(self.resource.name, "runtime"))
        if self._workload is not None and self._workload.get("kind") == "Pod":
            # A bare Pod has no controller to replace it: apply it again once it is gone
            # (a deleted pod terminates gracefully; patching it meanwhile would fail).
            workload = self._workload
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90
            while await asyncio.to_thread(api.get, workload) is not None:
                if loop.time() > deadline:
                    self._fail_runtime(
                        f"restart: pod {k8sobj.name_of(workload)} is still terminating after 90 s"
                    )
                    return False
                await asyncio.sleep(0.5)
            return await self._apply_objects(api)
        return True

    async def stop(self) -> None:
        self._ready = False
        self._reported = ()
        for forward in self._forwards:
            forward.stop()
        self._forwards.clear()
        if self._synclets is not None:
            self._synclets.stop()
            self._synclets = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._logs is not None:
            self._logs.stop()
            self._logs = None
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._log_sink is not None:
            self._log_sink.close()
            self._log_sink = None
        if self._deployed:
            self._dispatch(RuntimeChanged(self.resource.name, RuntimeStatus.STOPPED))

    def is_ready(self) -> bool:
        return self._ready

    # -- helpers ----------------------------------------------------------------------------

    def _log(self, *lines: str) -> None:
        self._dispatch(LogLines(self.resource.name, lines))

    def _mapper(self) -> PathMapper:
        from tilt_lsp.build.builder import image_mapper

        pairs: list[tuple[str, str]] = []
        workdir: str | None = None
        for state in self._images.values():
            m = image_mapper(self._root, state.image)
            pairs += m.mappings
            workdir = workdir or m.workdir
        return PathMapper(self._root, pairs, workdir=workdir, local_workdir=self._root)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ensure_api(self) -> KubeApi | None:
        if self._api is not None:
            return self._api
        try:
            self._api = await asyncio.to_thread(self._api_factory)
        except KubeError as err:
            # Not a build failure: the kubeconfig is missing or unusable.
            self._dispatch(
                BuildChanged(
                    self.resource.name,
                    BuildStatus.ERROR,
                    f"{err.message} (set KUBECONFIG or create ~/.kube/config)",
                    label="has a Kubernetes config problem",
                )
            )
            self._log(err.message)
            return None
        api = self._api
        self.namespace = (
            k8sobj.namespace_of(self._workload, api.namespace) if self._workload else api.namespace
        )
        self._log(f"cluster: context {api.context!r} at {api.server}")
        if not is_local_context(api.context) and api.context not in self._allowed_contexts:
            # Tilt's guard against deploying a dev loop to production by accident.
            self._api = None
            self._fail_build(
                f"context {api.context!r} does not look like a local development cluster; if deploying "
                f"there is intended, add allow_k8s_contexts('{api.context}') to the Tiltfile"
            )
            return None
        return api

    def _fail_build(self, message: str) -> bool:
        self._log(message)
        self._dispatch(BuildChanged(self.resource.name, BuildStatus.ERROR, message))
        return False

    def _fail_runtime(self, message: str) -> None:
        self._log(message)
        self._dispatch(RuntimeChanged(self.resource.name, RuntimeStatus.CRASHED, error=message))

    async def _sink(self, source: str) -> OutputSink:
        # The mapper reads the Dockerfiles: off the loop.
        mapper = await asyncio.to_thread(self._mapper)
        return OutputSink(self.resource.name, source, mapper, self._dispatch)

    def _threadsafe(self, fn: Callable[[str], None]) -> Callable[[str], None]:
        loop = asyncio.get_running_loop()

        def call(line: str) -> None:
            loop.call_soon_threadsafe(fn, line)

        return call

    # -- full build and deploy ----------------------------------------------------------------

    async def _deploy(self, paths: frozenset[str] | None, force: bool) -> bool:
        name = self.resource.name
        api = await self._ensure_api()
        if api is None:
            return False
        self._dispatch(ProblemsReset(name, "build"))
        self._dispatch(BuildChanged(name, BuildStatus.BUILDING))
        if self._images:
            if self._delivery is None:
                nodes = await asyncio.to_thread(api.nodes)
                self._delivery = detect(api.context, api.server, nodes, self._env, self._registry)
                self._log(self._delivery.describe())
            sink = await self._sink("build")
            on_line = self._threadsafe(sink)
            for repo, state in self._images.items():
                changed = (
                    None
                    if paths is None
                    else frozenset(p for p in paths if under(p, state.image.context))
                )
                if paths is not None and not changed and state.ref:
                    continue  # nothing of this image changed
                try:
                    ref = await asyncio.to_thread(
                        self._builds.build, state.image, changed, force, on_line
                    )
                    ref = await asyncio.to_thread(
                        self._builds.deliver, self._delivery, ref, on_line
                    )
                except DeliveryError as err:
                    sink.close()
                    return self._fail_build(f"image delivery failed: {err}")
                except Exception as err:  # BuildError and the engine's own errors
                    await asyncio.sleep(0)  # let queued build lines reach the log first
                    sink.close()
                    return self._fail_build(
                        f"image build of {repo} failed: {getattr(err, 'reason', err)}"
                    )
                signal = await asyncio.to_thread(self._builds.restart_signal, ref)
                state.reset(ref, signal)
            await asyncio.sleep(0)
            sink.close()
        if not await self._apply_objects(api):
            return False
        self._dispatch(BuildChanged(name, BuildStatus.OK))
        self._synced.clear()
        self._resync_errors.clear()
        self._dispatch(ProblemsReset(name, "runtime"))
        await self._start_following(api)
        self._report()
        return True

    async def _apply_objects(self, api: KubeApi) -> bool:
        if self.resource.custom_deploy is not None:
            return await self._apply_custom(api, self.resource.custom_deploy)
        refs = {repo: s.ref for repo, s in self._images.items() if s.ref}
        prepared = k8sobj.apply_order(
            k8sobj.prepare(list(self.spec.objects), self.resource.name, refs)
        )
        for obj in prepared:
            what = f"{obj.get('kind')}/{k8sobj.name_of(obj)}"
            try:
                try:
                    result = await asyncio.to_thread(api.apply, obj)
                except KubeError as err:
                    if not k8sobj.immutable(err.status, err.message):
                        raise
                    # A Job's pod template cannot change: Tilt deletes and re-creates it.
                    self._log(f"{what}: {err.message}; deleting it and creating it again")
                    result = await self._recreate(api, obj)
            except (KubeError, k8sobj.UnsupportedKind) as err:
                message = err.message if isinstance(err, KubeError) else str(err)
                return self._fail_build(f"deploy of {what} failed: {message}")
            self._log(
                f"applied {what} (resourceVersion {result.get('metadata', {}).get('resourceVersion', '?')})"
            )
        self._deployed = True
        return True

    async def _apply_custom(self, api: KubeApi, deploy: CustomDeploy) -> bool:
        """k8s_custom_deploy: the user's apply_cmd deploys; follow what it printed."""
        refs = [self._images[image_repository(ref)].ref for ref in deploy.image_deps]
        try:
            objs = await asyncio.to_thread(
                customdeploy.run_apply, deploy, refs, self._env, self._threadsafe(self._log)
            )
        except customdeploy.CustomDeployError as err:
            return self._fail_build(f"deploy failed: {err.message}")
        self._workload = k8sobj.workload(objs)
        if self._workload is not None:
            self.namespace = k8sobj.namespace_of(self._workload, api.namespace)
            self._selector = customdeploy.pod_selector(self._workload)
        self._log(f"k8s_custom_deploy applied {', '.join(k8s.selector_of(o) for o in objs)}")
        self._deployed = True
        return True

    async def _recreate(self, api: KubeApi, obj: dict[str, Any]) -> dict[str, Any]:
        """Delete ``obj`` (its pods go with it), wait until it is gone, apply it again."""
        await asyncio.to_thread(api.delete, obj, "Background")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while await asyncio.to_thread(api.get, obj) is not None:
            if loop.time() > deadline:
                raise KubeError(0, "Timeout", "the old object was still there after 60 s")
            await asyncio.sleep(0.3)
        return dict(await asyncio.to_thread(api.apply, obj))
