"""The Docker Compose runtime: ``docker_compose`` + ``dc_resource`` resources, with their
``docker_build`` images built by tilt-lsp and live-updated through the synclet.

Compose is driven through its own CLI (``docker compose`` v2, else ``docker-compose`` v1),
never by editing the user's files: an override file in a private temp dir points the service
at the image tilt-lsp built (``up -d --no-deps --no-build SERVICE``). The container is found
by compose's labels; its Docker events and logs are followed from threads. Every log line goes
to the resource log and through the problem parsers, so a stack trace lands on its line.

On a change the live-update planner decides (``tilt_lsp.liveupdate.plan``):
- files only inside syncs, container running: the synclet applies them (seconds → ms);
- container stopped or crashed: the files go in with Docker's archive API, then it starts;
- container gone: the fast build, synced files layered onto the last full-build image;
- anything else: a full build and a recreate.
A failing run step is the user's error (shown, not rebuilt); an infrastructure failure (the
container vanished, the synclet is unreachable) falls back to a full build. A crash is
reported with its exit code and never triggers a rebuild. A container restarted or replaced
behind our back gets every file synced since its image was built before it counts as ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from synclet import protocol as sp
from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import (
    BuildError,
    BuiltImage,
    ImageBuilder,
    dockerfile_path,
    dockerfile_source,
    image_mapper,
)
from tilt_lsp.build.custom import image_builder
from tilt_lsp.build.layered import layer_image
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import (
    BuildChanged,
    LogLines,
    ProblemsReset,
    RuntimeChanged,
)
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.liveupdate.plan import Plan, plan
from tilt_lsp.liveupdate.updater import ArchiveError, expand, make_archive
from tilt_lsp.runtime.composecli import ComposeCli, files_text, started_at
from tilt_lsp.runtime.containers import ContainerEvent, EventWatcher, LogFollower
from tilt_lsp.runtime.controller import Dispatch
from tilt_lsp.runtime.dockerhost import DockerHost, DockerUnavailable
from tilt_lsp.runtime.sink import Sink
from tilt_lsp.tiltfile.model import ImageBuild, Resource

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
RESTART_SIGNAL_LABEL = "dev.tilt-lsp.restart-signal"  # the synclet's "process" restart mode
CRASH_LOOP = (3, 60.0)  # this many deaths within this many seconds is a crash loop
_OURS_S = 0.05  # slack around our own operations when telling our starts from others'
_EXPECT_S = 5.0  # how long a die we caused (restart, recreate) is expected


class ComposeController:
    """Keeps one compose service built, running and live-updated."""

    def __init__(
        self,
        resource: Resource,
        image: ImageBuild | None,
        host: DockerHost,
        dispatch: Dispatch,
    ) -> None:
        assert resource.compose is not None
        self.resource = resource
        self.name = resource.name
        self.spec = resource.compose
        self.image = image
        self.host = host
        self._dispatch = dispatch
        self._lock = asyncio.Lock()
        self._cli: ComposeCli | None = None
        self._builder: ImageBuilder | None = None
        self._mapper = PathMapper(host.root)  # with the Dockerfile's paths from the first build
        self._full: BuiltImage | None = None  # the last full build
        self._deployed: str | None = None  # the image ref the current container runs
        self._since_full: dict[str, str] = {}  # local → container, synced since the full build
        self._since_image: dict[str, str] = {}  # … since the image the container runs
        self._deleted_since_full: set[str] = set()
        self._unscanned: set[str] = set()  # changed since the context was last scanned
        self._container: str | None = None
        self._signal: dict[str, str | None] = {}  # container → its restart signal label
        self._running = False
        self._ready = False
        self._events: EventWatcher | None = None
        self._logs: LogFollower | None = None
        self._attached: tuple[str, float] | None = None
        self._runtime: Sink | None = None
        self._ops: list[tuple[float, float | None]] = []  # our own operations' time windows
        self._expected_die: dict[str, float] = {}  # container → until when a die is ours
        self._exit_reported: str | None = None  # the container whose exit is reported
        self._deaths: deque[float] = deque(maxlen=CRASH_LOOP[0])
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: asyncio.Future[BuiltImage] | None = None
        self._build_failed = False  # until a full build works, every change needs one
        self._stopped = False

    # -- Controller ---------------------------------------------------------------------

    async def update(self, paths: frozenset[str], reason: str) -> bool:
        async with self._lock:
            self._stopped = False
            return await self._update(paths)

    async def rebuild(self) -> bool:
        async with self._lock:
            self._stopped = False
            return await self._full_build(force=True, recreate=True)

    async def restart(self) -> bool:
        async with self._lock:
            self._stopped = False
            if self._container is None:
                return await self._update(frozenset())
            cid = self._container
            self._log(f"restarting container {cid[:12]}")
            self._dispatch(RuntimeChanged(self.name, RuntimeStatus.STARTING))
            self._expect_die(cid)
            with self._ours():
                try:
                    await self._docker(lambda api: api.restart(cid, timeout=10))
                except Exception as err:
                    return self._runtime_failed(f"docker restart failed: {err}")
            return await self._settle(cid)

    async def stop(self) -> None:
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        if self._inflight is not None and not self._inflight.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._inflight), 300)
        async with self._lock:
            if self._events is not None:
                self._events.close()
                self._events = None
            self._close_logs()
            if self._cli is not None and self._container is not None:
                with self._ours(), contextlib.suppress(Exception):
                    await self._cli.run(self._log, "rm", "-f", "-s", "-v", self.spec.service)
                self._dispatch(RuntimeChanged(self.name, RuntimeStatus.STOPPED))
            self._container = None
            self._running = self._ready = False
            if self._builder is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self._builder.remove_leftovers)

    def is_ready(self) -> bool:
        return self._ready

    # -- deciding -----------------------------------------------------------------------

    async def _update(self, paths: frozenset[str]) -> bool:
        self._unscanned |= paths
        if self.image is None:
            return await self._deploy_only()
        if self._full is None or (self._container is None and not self._since_full):
            return await self._full_build(force=False, recreate=False)
        if self._build_failed:
            self._log("full build: the last image build failed")
            return await self._full_build(force=False, recreate=False)
        deleted = await asyncio.to_thread(lambda: {p for p in paths if not os.path.lexists(p)})
        always = [dockerfile_path(self.image), os.path.join(self.image.context, ".dockerignore")]
        decision = plan(self.image.live_update, paths - deleted, deleted, always)
        if decision.kind == "nothing":
            if self._container is None:  # removed (disabled, or behind our back): bring it back
                return await self._layered_build()
            return True
        if decision.kind == "full_build":
            self._log(f"full build: {decision.reason}")
            return await self._full_build(force=False, recreate=False)
        return await self._live_update(decision)

    # -- building -----------------------------------------------------------------------

    async def _full_build(self, force: bool, recreate: bool) -> bool:
        if self.image is None:
            return await self._deploy_only(recreate)
        name = self.name
        self._dispatch(ProblemsReset(name, "build"))
        self._dispatch(ProblemsReset(name, "liveupdate"))
        self._dispatch(BuildChanged(name, BuildStatus.BUILDING))
        # Read the Dockerfile again (once, off the loop): its WORKDIR and COPYs map paths.
        image = self.image
        root = self.host.root

        def read() -> tuple[PathMapper, DockerfileSource | None]:
            source = dockerfile_source(image)
            return image_mapper(root, image, source.text if source else None), source

        self._mapper, source = await asyncio.to_thread(read)
        sink = Sink(name, "build", ProblemStream(self._mapper, source), self._dispatch)
        loop = asyncio.get_running_loop()
        changed = None if self._builder is None else set(self._unscanned)
        self._unscanned.clear()

        def on_line(line: str) -> None:
            loop.call_soon_threadsafe(sink, line)

        def build() -> BuiltImage:
            assert self.image is not None
            if self._builder is None:
                self._builder = image_builder(
                    self.image, self.host.client().api,
                    {**self.host.labels, lbl.RESOURCE: self.name},
                )
            return self._builder.build(changed, on_line, force=force)

        # A build thread cannot be cancelled: remember it, so stop() waits for it and nothing
        # is tagged after tilt-lsp (or a test) cleaned up.
        self._inflight = asyncio.ensure_future(asyncio.to_thread(build))
        try:
            built = await asyncio.shield(self._inflight)
        except (BuildError, DockerUnavailable) as err:
            await asyncio.sleep(0)  # let queued lines reach the sink first
            sink.close()
            reason = err.reason if isinstance(err, BuildError) else str(err)
            self._log(f"build failed: {reason}")
            self._dispatch(BuildChanged(name, BuildStatus.ERROR, f"image build failed: {reason}"))
            self._build_failed = True
            return False
        self._build_failed = False
        sink.close()
        self._dispatch(BuildChanged(name, BuildStatus.OK))
        self._full = built
        self._since_full.clear()
        self._deleted_since_full.clear()
        ok = await self._deploy(built.ref, recreate)
        if ok:
            self._since_image.clear()
            self._spawn(self._cleanup())
            if self.image.live_update is not None:
                self._spawn(self._warm_synclet())
        return ok

    async def _warm_synclet(self) -> None:
        """Start the synclet now, so the first save does not wait for it."""
        try:
            await self.host.updater.warm()
        except Exception as err:
            self._log(f"the synclet did not start ({err}); live updates will rebuild instead")

    async def _layered_build(self) -> bool:
        """The fast build: every file synced since the last full build, layered onto it."""
        assert self._full is not None and self.image is not None
        if not self._since_full and not self._deleted_since_full:
            return await self._full_build(force=False, recreate=False)  # the tag exists: no build
        t0 = time.monotonic()
        try:
            files, missing, archive = await _pack(list(self._since_full.items()))
        except (ArchiveError, OSError) as err:
            self._log(f"fast build failed ({err}); full build")
            return await self._full_build(force=False, recreate=False)
        if missing or self._deleted_since_full:
            self._log("full build: files were deleted since the last full build")
            return await self._full_build(force=False, recreate=False)
        self._dispatch(BuildChanged(self.name, BuildStatus.BUILDING))
        base, repository = self._full.ref, self.image.repository
        labels = {**self.host.labels, lbl.RESOURCE: self.name, lbl.IMAGE: repository}
        try:
            ref, _ = await self._docker(
                lambda api: layer_image(api, base, repository, archive, labels)
            )
        except Exception as err:
            self._log(f"fast build failed ({err}); full build")
            return await self._full_build(force=False, recreate=False)
        self._log(
            f"fast build: {files_text(len(files))} synced since the last full build, layered onto "
            f"{self._full.ref} "
            f"in {(time.monotonic() - t0) * 1000:.0f} ms"
        )
        self._dispatch(BuildChanged(self.name, BuildStatus.OK))
        ok = await self._deploy(ref, recreate=False)
        if ok:
            self._since_image.clear()
            self._spawn(self._cleanup())
        return ok

    async def _cleanup(self) -> None:
        """Our own stale images of this resource: all but what runs and the last full build."""
        builder = self._builder
        if builder is None or self._full is None:
            return
        keep = {self._full.image_id}
        deployed = self._deployed

        def work() -> None:
            if deployed:
                with contextlib.suppress(Exception):
                    keep.add(str(builder.api.inspect_image(deployed)["Id"]))
            builder.cleanup(keep)
            # Containers a fast build left when it was interrupted (they are never started).
            lbl.remove_containers(
                builder.api, {**self.host.labels, lbl.RESOURCE: self.name, lbl.BUILD_KIND: "layer"}
            )

        with contextlib.suppress(Exception):
            await asyncio.to_thread(work)

    # -- deploying ----------------------------------------------------------------------

    async def _deploy_only(self, recreate: bool = False) -> bool:
        self._dispatch(BuildChanged(self.name, BuildStatus.NONE))
        return await self._deploy(None, recreate)

    async def _deploy(self, ref: str | None, recreate: bool) -> bool:
        name = self.name
        try:
            if self._cli is None:  # finds the compose command (a subprocess), makes a temp dir
                self._cli = await asyncio.to_thread(ComposeCli, self.host, self.spec, name)
            await self._watch_events()
            cli = self._cli
            await asyncio.to_thread(cli.write_override, ref)
        except (DockerUnavailable, OSError) as err:
            return self._runtime_failed(str(err))
        self._dispatch(RuntimeChanged(name, RuntimeStatus.STARTING))
        args = ["up", "-d", "--no-deps", "--no-build"]
        if recreate:
            args.append("--force-recreate")
        self._log(f"$ {' '.join(['compose', *args, self.spec.service])}")
        self._container = None  # being replaced: the old one's death is not news
        self._running = self._ready = False
        with self._ours():
            try:
                code, tail = await cli.run(self._log, *args, self.spec.service)
            except OSError as err:
                return self._runtime_failed(f"cannot run compose: {err}")
        if code != 0:
            last = next((t for t in reversed(tail) if t.strip()), "")
            return self._runtime_failed(f"compose up exited with code {code}: {last}")
        self._deployed = ref
        cid = await self._find_container()
        if cid is None:
            return self._runtime_failed("compose up finished but no container was found")
        return await self._settle(cid)

    async def _find_container(self) -> str | None:
        filters = {"label": [f"{PROJECT_LABEL}={self.spec.project_name}",
                             f"{SERVICE_LABEL}={self.spec.service}"]}

        def find(api: Any) -> str | None:
            found = api.containers(all=True, filters=filters)
            if not found:
                return None
            found.sort(key=lambda c: (c.get("State") == "running", c.get("Created", 0)))
            return str(found[-1]["Id"])

        try:
            found: str | None = await self._docker(find)
        except Exception:
            return None
        return found

    async def _adopt(self, cid: str) -> dict[str, Any]:
        """Make ``cid`` the service's container (noting its restart signal); its state."""
        info = await self._docker(lambda api: api.inspect_container(cid))
        self._container = cid
        labels = (info.get("Config") or {}).get("Labels") or {}
        self._signal[cid] = labels.get(RESTART_SIGNAL_LABEL)
        state: dict[str, Any] = info.get("State") or {}
        return state

    async def _settle(self, cid: str) -> bool:
        """After we started or restarted ``cid``: follow its logs and report how it runs."""
        try:
            state = await self._adopt(cid)
        except Exception as err:
            return self._runtime_failed(f"the container vanished: {err}")
        started = started_at(str(state.get("StartedAt") or ""))
        self._attach(cid, started)
        if state.get("Running"):
            self._running = self._ready = True
            self._dispatch(RuntimeChanged(self.name, RuntimeStatus.READY))
            return True
        self._running = self._ready = False
        code = int(state.get("ExitCode") or 0)
        if self._exit_reported != cid:
            self._report_exit(code, state.get("OOMKilled") is True)
        return code == 0

    # -- live update --------------------------------------------------------------------

    async def _live_update(self, decision: Plan) -> bool:
        # What runs is known from the events: no inspect on the hot path. If the container
        # vanished meanwhile, the synclet says so and the fallback is a full build.
        cid = self._container
        running = self._running
        self._record(decision.syncs, decision.deletes)
        if cid is None:
            self._log("live update: the container is gone; fast build")
            return await self._layered_build()
        if not running:
            if decision.deletes or decision.run_steps:
                self._log("live update: the container is stopped; fast build")
                return await self._layered_build()
            return await self._into_stopped(cid, decision)
        mode = self._restart_mode(cid) if decision.restart else "none"
        return await self._sync(cid, decision.syncs, decision.deletes, decision, mode)

    def _restart_mode(self, cid: str) -> sp.RestartMode:
        """Signal the process when the container has a restart wrapper, else restart it."""
        return "process" if self._signal.get(cid) else "container"

    def _record(self, syncs: Iterable[tuple[str, str]], deletes: Iterable[str]) -> None:
        for local, container in syncs:
            self._since_full[local] = container
            self._since_image[local] = container
        for path in deletes:
            self._deleted_since_full.add(path)
            for local in [k for k, v in self._since_full.items() if v == path]:
                self._since_full.pop(local, None)
                self._since_image.pop(local, None)

    async def _sync(
        self,
        cid: str,
        syncs: Iterable[tuple[str, str]],
        deletes: Iterable[str],
        decision: Plan | None,
        mode: sp.RestartMode,
        rebuild_on_failure: bool = True,
    ) -> bool:
        name = self.name
        t0 = time.monotonic()
        try:
            files, missing, archive = await _pack(syncs)
        except (ArchiveError, OSError) as err:
            self._log(f"live update: cannot pack the files ({err}); full build")
            return await self._full_build(force=False, recreate=False)
        all_deletes = [*deletes, *missing]
        steps = tuple(
            sp.RunStep(tuple(step.command.argv)) for step in (decision.run_steps if decision else ())
        )
        spec = sp.UpdateSpec(
            deletes=tuple(all_deletes),
            changed=tuple(c for _, c in files) + tuple(all_deletes),
            run_steps=steps,
            restart=mode,
        )
        self._dispatch(ProblemsReset(name, "liveupdate"))
        self._dispatch(BuildChanged(name, BuildStatus.BUILDING))
        sink = Sink(name, "liveupdate", ProblemStream(self._mapper), self._dispatch)

        def on_event(event: sp.Event) -> None:
            if isinstance(event, sp.Output):
                sink(event.line)
            elif isinstance(event, sp.StepStarted):
                self._log(f"$ {' '.join(event.command)}")
            elif isinstance(event, sp.StepExited) and event.exit_code != 0:
                self._log(f"run step exited with code {event.exit_code}")

        what = files_text(len(files))
        if all_deletes:
            what += f", {len(all_deletes)} deleted"
        if mode == "container":
            self._expect_die(cid)
        with self._ours():
            result = await self.host.updater.update(cid, spec, archive, on_event)
        sink.close()
        ms = (time.monotonic() - t0) * 1000
        if result.outcome == "done":
            restart = f", restart ({mode})" if mode != "none" else ""
            self._log(
                f"live update: {what} synced to {cid[:12]}{restart} in {ms:.0f} ms "
                f"(synclet {result.duration_ms} ms)"
            )
            self._dispatch(BuildChanged(name, BuildStatus.OK))
            if mode == "process":
                self._new_runtime_sink()  # the old process's problems are history
            if mode == "none":
                if self._running:
                    self._ready = True
                    self._dispatch(RuntimeChanged(name, RuntimeStatus.READY))
                return True
            self._dispatch(RuntimeChanged(name, RuntimeStatus.STARTING))
            return await self._settle(cid)
        if result.outcome == "user":
            self._log(f"live update: {result.message}")
            self._dispatch(BuildChanged(name, BuildStatus.ERROR, result.message))
            return False
        if not rebuild_on_failure:
            # A re-sync after a restart: if the container died again meanwhile (a crash
            # loop), its die event says so; rebuilding would make a crash loop a build loop.
            self._log(f"re-sync failed ({result.message}); the container may run old files")
            self._dispatch(BuildChanged(name, BuildStatus.OK))
            return False
        self._log(f"live update failed ({result.message}); full build")
        return await self._full_build(force=False, recreate=False)

    async def _into_stopped(self, cid: str, decision: Plan) -> bool:
        """A stopped (crashed) container: the files go in through the archive API (it works
        on stopped containers), then it starts."""
        t0 = time.monotonic()
        try:
            files, missing, archive = await _pack(decision.syncs)
        except (ArchiveError, OSError) as err:
            self._log(f"live update: cannot pack the files ({err}); full build")
            return await self._full_build(force=False, recreate=False)
        if missing:
            return await self._layered_build()
        self._dispatch(BuildChanged(self.name, BuildStatus.BUILDING))
        self._dispatch(RuntimeChanged(self.name, RuntimeStatus.STARTING))

        def put_and_start(api: Any) -> None:
            api.put_archive(cid, "/", archive)
            api.start(cid)

        with self._ours():
            try:
                await self._docker(put_and_start)
            except Exception as err:
                self._log(f"live update into the stopped container failed ({err}); fast build")
                return await self._layered_build()
        self._log(
            f"live update: {files_text(len(files))} into stopped container {cid[:12]}, started, "
            f"in {(time.monotonic() - t0) * 1000:.0f} ms"
        )
        self._dispatch(BuildChanged(self.name, BuildStatus.OK))
        return await self._settle(cid)

    # -- events and logs ----------------------------------------------------------------

    async def _watch_events(self) -> None:
        if self._events is not None:
            return
        labels = {PROJECT_LABEL: self.spec.project_name, SERVICE_LABEL: self.spec.service}
        watcher = EventWatcher(
            self.host.new_api, labels, self._on_event, asyncio.get_running_loop()
        )
        self._events = watcher
        await asyncio.to_thread(watcher.ready.wait, 10)

    def _on_event(self, event: ContainerEvent) -> None:
        if self._stopped:
            return
        ours = self._is_ours(event.time)
        if event.action == "start":
            fresh = self._attached is None or self._attached[0] != event.container_id or (
                event.time - self._attached[1] > 0.2
            )
            if fresh:
                self._attach(event.container_id, event.time)
            if not ours:
                self._spawn(self._external_start(event))
        elif event.action == "die":
            cid = event.container_id
            if self._expected_die.pop(cid, 0.0) >= time.monotonic():
                return  # we restarted it
            if cid != self._container or self._exit_reported == cid:
                return
            self._running = self._ready = False
            self._report_exit(event.exit_code or 0, oom=False)
        elif event.action == "destroy" and event.container_id == self._container:
            self._container = None  # removed behind our back: the next change recreates it
            self._running = self._ready = False
        elif event.action == "oom":
            self._log("the container ran out of memory and was killed (OOM)")

    async def _external_start(self, event: ContainerEvent) -> None:
        """Started by someone else (a restart policy, `docker start`, another compose run):
        bring it up to date before calling it ready."""
        async with self._lock:
            if self._stopped:
                return
            cid = event.container_id
            replaced = cid != self._container
            self._dispatch(RuntimeChanged(self.name, RuntimeStatus.STARTING))
            try:
                state = await self._adopt(cid)
            except Exception:
                return
            if not state.get("Running"):
                return  # died again already: its die event reports it
            self._running = True
            pending = dict(self._since_image)
            if pending and self._since_full:
                how = "replaced" if replaced else "restarted"
                self._log(
                    f"container {cid[:12]} was {how}: re-syncing {len(pending)} file"
                    f"{'s' if len(pending) != 1 else ''} changed since its image was built"
                )
                mode: sp.RestartMode = "none"
                if replaced:  # its process started from the image's old files
                    mode = self._restart_mode(cid)
                    self._expect_die(cid)
                await self._sync(cid, pending.items(), (), None, mode, rebuild_on_failure=False)
                return
            self._ready = True
            self._dispatch(RuntimeChanged(self.name, RuntimeStatus.READY))

    def _attach(self, cid: str, since: float | None) -> None:
        if self._attached is not None and self._attached[0] == cid and since is not None and (
            abs(since - self._attached[1]) < 0.2
        ):
            return
        self._close_logs()
        self._new_runtime_sink()
        self._exit_reported = None
        self._attached = (cid, since or time.time())
        self._logs = LogFollower(
            self.host.new_api, cid, None if since is None else since - 0.001,
            self._on_log, asyncio.get_running_loop(),
        )

    def _new_runtime_sink(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
        self._dispatch(ProblemsReset(self.name, "runtime"))
        self._runtime = Sink(self.name, "runtime", ProblemStream(self._mapper), self._dispatch)

    def _on_log(self, cid: str, line: str) -> None:
        if self._runtime is not None and self._logs is not None and self._logs.container_id == cid:
            self._runtime(line)

    def _close_logs(self) -> None:
        if self._logs is not None:
            self._logs.close()
            self._logs = None
        if self._runtime is not None:
            self._runtime.close()
        self._attached = None

    def _report_exit(self, code: int, oom: bool) -> None:
        self._exit_reported = self._container
        now = time.monotonic()
        self._deaths.append(now)
        if self._runtime is not None:
            self._runtime.close()  # flush a trace that ended with the process
        what = "was killed: out of memory" if oom else f"exited with code {code}"
        message = f"container {what}"
        n, window = CRASH_LOOP
        if len(self._deaths) == n and now - self._deaths[0] <= window:
            message += f" (crash loop: {n} exits within {window:.0f} s)"
        self._log(message)
        status = RuntimeStatus.EXITED if code == 0 and not oom else RuntimeStatus.CRASHED
        self._dispatch(
            RuntimeChanged(self.name, status, exit_code=code,
                           error=None if status is RuntimeStatus.EXITED else message)
        )

    # -- helpers ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _ours(self) -> Any:
        """Events during this block (and just after) come from what we did."""
        window: tuple[float, float | None] = (time.time() - _OURS_S, None)
        self._ops.append(window)
        try:
            yield
        finally:
            self._ops.remove(window)
            self._ops.append((window[0], time.time() + _OURS_S))
            del self._ops[:-8]

    def _expect_die(self, cid: str) -> None:
        self._expected_die[cid] = time.monotonic() + _EXPECT_S

    def _is_ours(self, at: float) -> bool:
        return any(start <= at and (end is None or at <= end) for start, end in self._ops)

    async def _docker(self, fn: Callable[[Any], Any]) -> Any:
        def call() -> Any:
            return fn(self.host.client().api)

        return await asyncio.to_thread(call)

    def _runtime_failed(self, message: str) -> bool:
        self._log(message)
        self._running = self._ready = False
        self._dispatch(RuntimeChanged(self.name, RuntimeStatus.CRASHED, error=message))
        return False

    def _log(self, line: str) -> None:
        self._dispatch(LogLines(self.name, (line,)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _pack(
    syncs: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[str], bytes]:
    """Off the loop: the synced files (directories walked), the container paths of those that
    vanished, and their tar (names relative to ``/``, as the synclet and ``put_archive`` at
    ``/`` take it). Raises ``ArchiveError`` or ``OSError`` when a file cannot go."""
    pairs = list(syncs)

    def work() -> tuple[list[tuple[str, str]], list[str], bytes]:
        files, missing = expand(pairs)
        return files, missing, make_archive(files)

    return await asyncio.to_thread(work)
