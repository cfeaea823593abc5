"""The Docker Compose runtime's controller: one ``dc_resource``, its ``docker_build`` image
built by tilt-lsp and live-updated through the synclet. It takes the decisions; the parts do
the work: ``images.py`` (builds), ``deploy.py`` (compose up), ``liveupdate.py`` (files into
the container), ``watch.py`` (events, logs, exits), sharing ``service.py``'s state.

On a change the live-update planner decides (``tilt_lsp.liveupdate.plan``):
- files only inside syncs, container running: the synclet applies them (seconds → ms);
- container stopped or crashed: the files go in with Docker's archive API, then it starts;
- container gone: the fast build, synced files layered onto the last full-build image;
- anything else: a full build and a recreate.
A failing run step is the user's error (shown, not rebuilt); an infrastructure failure (the
container vanished, the synclet is unreachable) falls back to a full build. A crash is
reported with its exit code and never triggers a rebuild. A container restarted or replaced
behind our back gets every file synced since its image was built before it counts as ready.
A restart restarts the app inside the container when the image has the restart wrapper
(every image tilt-lsp builds for a restarting live update), else the container, with no
grace; either way a death we caused is never a crash.
"""

from __future__ import annotations

import asyncio
import os

from synclet import protocol as sp
from tilt_lsp.build.builder import dockerfile_path
from tilt_lsp.engine.actions import BuildChanged, RuntimeChanged
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.liveupdate.plan import Plan, plan
from tilt_lsp.runtime.compose.deploy import Deployer
from tilt_lsp.runtime.compose.images import Images
from tilt_lsp.runtime.compose.liveupdate import LiveUpdates, Next
from tilt_lsp.runtime.compose.service import Service
from tilt_lsp.runtime.compose.watch import Watch
from tilt_lsp.runtime.composecli import started_at
from tilt_lsp.runtime.containers import ContainerEvent
from tilt_lsp.runtime.controller import Dispatch
from tilt_lsp.runtime.dockerhost import DockerHost
from tilt_lsp.tiltfile.model import ImageBuild, Resource


class ComposeController:
    """Keeps one compose service built, running and live-updated."""

    def __init__(
        self,
        resource: Resource,
        image: ImageBuild | None,
        host: DockerHost,
        dispatch: Dispatch,
    ) -> None:
        self.resource = resource
        self.name = resource.name
        self.image = image
        self.host = host
        self.svc = Service(resource, host, dispatch)
        self.images = Images(self.svc, image) if image is not None else None
        self.deployer = Deployer(self.svc)
        self.watch = Watch(self.svc, self._external_start)
        self.live = LiveUpdates(self.svc, self.watch)

    # -- Controller ---------------------------------------------------------------------

    async def update(self, paths: frozenset[str], reason: str) -> bool:
        async with self.svc.lock:
            self.svc.stopped = False
            return await self._update(paths)

    async def rebuild(self) -> bool:
        async with self.svc.lock:
            self.svc.stopped = False
            return await self._full_build(force=True, recreate=True)

    async def restart(self) -> bool:
        svc = self.svc
        async with svc.lock:
            svc.stopped = False
            cid = svc.container
            if cid is None:
                return await self._update(frozenset())
            signal = svc.signals.get(cid)
            svc.dispatch(RuntimeChanged(self.name, RuntimeStatus.STARTING))
            if signal and svc.running:
                svc.log(f"restarting the app in container {cid[:12]} ({signal})")
                self.watch.new_runtime_sink()
                try:
                    await svc.docker(lambda api: api.kill(cid, signal=signal))
                except Exception as err:
                    return svc.runtime_failed(f"cannot signal the container: {err}")
                return await self._settle(cid)
            grace = svc.grace()
            svc.log(f"restarting container {cid[:12]}")
            with svc.windows.ours(), svc.windows.restarting(cid):
                try:
                    await svc.docker(lambda api: api.restart(cid, timeout=grace))
                except Exception as err:
                    return svc.runtime_failed(f"docker restart failed: {err}")
            return await self._settle(cid)

    async def stop(self) -> None:
        svc = self.svc
        svc.stopped = True
        svc.cancel_tasks()
        if self.images is not None:
            # Ctrl-C during a build: cancel it rather than wait for it.
            await self.images.cancel()
        async with svc.lock:
            self.watch.close()
            await self.deployer.remove()
            svc.container = None
            svc.running = svc.ready = False
            if self.images is not None:
                await self.images.remove_leftovers()

    def is_ready(self) -> bool:
        return self.svc.ready

    # -- deciding -----------------------------------------------------------------------

    async def _update(self, paths: frozenset[str]) -> bool:
        images, image = self.images, self.image
        if images is None or image is None:
            return await self._deploy_only()
        images.unscanned |= paths
        if images.full is None or (self.svc.container is None and not images.since_full):
            return await self._full_build(force=False, recreate=False)
        if images.failed:
            self.svc.log("full build: the last image build failed")
            return await self._full_build(force=False, recreate=False)
        deleted = await asyncio.to_thread(lambda: {p for p in paths if not os.path.lexists(p)})
        always = [dockerfile_path(image), os.path.join(image.context, ".dockerignore")]
        decision = plan(image.live_update, paths - deleted, deleted, always)
        if decision.kind == "nothing":
            if self.svc.container is None:  # removed (disabled, or behind our back): bring it back
                return await self._layered_build()
            return True
        if decision.kind == "full_build":
            self.svc.log(f"full build: {decision.reason}")
            return await self._full_build(force=False, recreate=False)
        return await self._live_update(decision)

    async def _next(self, step: Next, cid: str) -> bool:
        """Act on what a live update says comes next."""
        if step == "ready":
            return True
        if step == "settle":
            return await self._settle(cid)
        if step == "layered":
            return await self._layered_build()
        if step == "full_build":
            return await self._full_build(force=False, recreate=False)
        return False

    # -- building and deploying ---------------------------------------------------------

    async def _full_build(self, force: bool, recreate: bool) -> bool:
        images = self.images
        if images is None:
            return await self._deploy_only(recreate)
        built = await images.build(force)
        if built is None:
            return False
        ok = await self._deploy(built.ref, recreate)
        if ok:
            images.deployed()
            self.svc.spawn(images.cleanup(self.deployer.deployed))
            if images.image.live_update is not None:
                self.svc.spawn(self._warm_synclet())
        return ok

    async def _layered_build(self) -> bool:
        """The fast build: every file synced since the last full build, layered onto it."""
        images = self.images
        assert images is not None and images.full is not None
        if not images.since_full and not images.deleted_since_full:
            return await self._full_build(force=False, recreate=False)  # the tag exists: no build
        ref = await images.layered()
        if ref is None:
            return await self._full_build(force=False, recreate=False)
        ok = await self._deploy(ref, recreate=False)
        if ok:
            images.deployed()
            self.svc.spawn(images.cleanup(self.deployer.deployed))
        return ok

    async def _warm_synclet(self) -> None:
        """Start the synclet now, so the first save does not wait for it."""
        try:
            await self.host.updater.warm()
        except Exception as err:
            self.svc.log(f"the synclet did not start ({err}); live updates will rebuild instead")

    async def _deploy_only(self, recreate: bool = False) -> bool:
        self.svc.dispatch(BuildChanged(self.name, BuildStatus.NONE))
        return await self._deploy(None, recreate)

    async def _deploy(self, ref: str | None, recreate: bool) -> bool:
        if not await self.deployer.prepare():
            return False
        try:
            await self.watch.start()
        except Exception as err:
            return self.svc.runtime_failed(f"cannot follow the container's events: {err}")
        cid = await self.deployer.up(ref, recreate)
        if cid is None:
            return False
        return await self._settle(cid)

    async def _settle(self, cid: str) -> bool:
        """After we started or restarted ``cid``: follow its logs and report how it runs."""
        svc = self.svc
        try:
            state = await self.deployer.adopt(cid)
        except Exception as err:
            return svc.runtime_failed(f"the container vanished: {err}")
        self.watch.attach(cid, started_at(str(state.get("StartedAt") or "")))
        if state.get("Running"):
            svc.running = svc.ready = True
            svc.dispatch(RuntimeChanged(self.name, RuntimeStatus.READY))
            return True
        svc.running = svc.ready = False
        code = int(state.get("ExitCode") or 0)
        if self.watch.exit_reported != cid:
            self.watch.report_exit(code, state.get("OOMKilled") is True)
        return code == 0

    # -- live update --------------------------------------------------------------------

    async def _live_update(self, decision: Plan) -> bool:
        # What runs is known from the events: no inspect on the hot path. If the container
        # vanished meanwhile, the synclet says so and the fallback is a full build.
        images, svc = self.images, self.svc
        assert images is not None
        cid, running = svc.container, svc.running
        images.record(decision.syncs, decision.deletes)
        if cid is None:
            svc.log("live update: the container is gone; fast build")
            return await self._layered_build()
        if not running:
            if decision.deletes or decision.run_steps:
                svc.log("live update: the container is stopped; fast build")
                return await self._layered_build()
            return await self._next(await self.live.into_stopped(cid, decision.syncs), cid)
        lu = images.image.live_update
        # restart_process (the restart_process extension) restarts like restart_container().
        restart = decision.restart or (lu is not None and lu.restart_process)
        mode: sp.RestartMode = svc.restart_mode(cid) if restart else "none"
        step = await self.live.sync(cid, decision.syncs, decision.deletes, decision.run_steps, mode)
        return await self._next(step, cid)

    async def _external_start(self, event: ContainerEvent) -> None:
        """Started by someone else (a restart policy, `docker start`, another compose run):
        bring it up to date before calling it ready."""
        svc = self.svc
        async with svc.lock:
            if svc.stopped:
                return
            cid = event.container_id
            replaced = cid != svc.container
            svc.dispatch(RuntimeChanged(self.name, RuntimeStatus.STARTING))
            try:
                state = await self.deployer.adopt(cid)
            except Exception:
                return
            if not state.get("Running"):
                return  # died again already: its die event reports it
            svc.running = True
            images = self.images
            pending = dict(images.since_image) if images is not None else {}
            if images is not None and pending and images.since_full:
                how = "replaced" if replaced else "restarted"
                svc.log(
                    f"container {cid[:12]} was {how}: re-syncing {len(pending)} file"
                    f"{'s' if len(pending) != 1 else ''} changed since its image was built"
                )
                # A new container's process started from the image's old files.
                mode: sp.RestartMode = svc.restart_mode(cid) if replaced else "none"
                step = await self.live.sync(cid, pending.items(), (), (), mode, resync=True)
                await self._next(step, cid)
                return
            svc.ready = True
            svc.dispatch(RuntimeChanged(self.name, RuntimeStatus.READY))
