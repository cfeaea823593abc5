"""Live updates of one compose service's container: into a running container through the
synclet (deletes, files, run steps, restart), into a stopped one through Docker's archive API.

Each returns what should happen next, in one word; the controller acts on it. A failing run
step is the user's error (shown, never rebuilt); an infrastructure failure asks for a full
build, except for a re-sync after a restart (a crash loop must not become a build loop).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from synclet import protocol as sp
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import BuildChanged, ProblemsReset, RuntimeChanged
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.liveupdate.updater import ArchiveError
from tilt_lsp.runtime.compose.pack import pack
from tilt_lsp.runtime.compose.service import Service
from tilt_lsp.runtime.compose.watch import Watch
from tilt_lsp.runtime.composecli import files_text
from tilt_lsp.runtime.sink import Sink
from tilt_lsp.tiltfile.model import RunStep

# ready: done, nothing restarted; settle: done, the app (re)started, see how it runs;
# failed: reported, nothing more to do; layered / full_build: that build is needed.
Next = Literal["ready", "settle", "failed", "layered", "full_build"]


class LiveUpdates:
    """Puts files into one service's container."""

    def __init__(self, svc: Service, watch: Watch) -> None:
        self.svc = svc
        self.watch = watch

    async def sync(
        self,
        cid: str,
        syncs: Iterable[tuple[str, str]],
        deletes: Iterable[str],
        run_steps: Iterable[RunStep],
        mode: sp.RestartMode,
        resync: bool = False,
    ) -> Next:
        """One synclet request into the running container ``cid``."""
        svc, name = self.svc, self.svc.name
        t0 = time.monotonic()
        try:
            files, missing, archive = await pack(syncs)
        except (ArchiveError, OSError) as err:
            svc.log(f"live update: cannot pack the files ({err}); full build")
            return "full_build"
        all_deletes = [*deletes, *missing]
        spec = sp.UpdateSpec(
            deletes=tuple(all_deletes),
            changed=tuple(c for _, c in files) + tuple(all_deletes),
            run_steps=tuple(sp.RunStep(tuple(step.command.argv)) for step in run_steps),
            restart=mode,
        )
        svc.dispatch(ProblemsReset(name, "liveupdate"))
        svc.dispatch(BuildChanged(name, BuildStatus.BUILDING))
        sink = Sink(name, "liveupdate", ProblemStream(svc.mapper), svc.dispatch)

        def on_event(event: sp.Event) -> None:
            if isinstance(event, sp.Output):
                sink(event.line)
            elif isinstance(event, sp.StepStarted):
                svc.log(f"$ {' '.join(event.command)}")
            elif isinstance(event, sp.StepExited) and event.exit_code != 0:
                svc.log(f"run step exited with code {event.exit_code}")

        what = files_text(len(files))
        if all_deletes:
            what += f", {len(all_deletes)} deleted"
        restarting = svc.windows.restarting(cid) if mode == "container" else _nothing()
        with svc.windows.ours(), restarting:
            result = await svc.host.updater.update(cid, spec, archive, on_event)
        sink.close()
        ms = (time.monotonic() - t0) * 1000
        if result.outcome == "done":
            restart = f", restart ({mode})" if mode != "none" else ""
            svc.log(
                f"live update: {what} synced to {cid[:12]}{restart} in {ms:.0f} ms "
                f"(synclet {result.duration_ms} ms)"
            )
            svc.dispatch(BuildChanged(name, BuildStatus.OK))
            if mode == "process":
                self.watch.new_runtime_sink()  # the old process's problems are history
            if mode == "none":
                if svc.running:
                    svc.ready = True
                    svc.dispatch(RuntimeChanged(name, RuntimeStatus.READY))
                return "ready"
            svc.dispatch(RuntimeChanged(name, RuntimeStatus.STARTING))
            return "settle"
        if result.outcome == "user":
            svc.log(f"live update: {result.message}")
            svc.dispatch(BuildChanged(name, BuildStatus.ERROR, result.message))
            return "failed"
        if resync:
            # A re-sync after a restart: if the container died again meanwhile (a crash
            # loop), its die event says so; rebuilding would make a crash loop a build loop.
            svc.log(f"re-sync failed ({result.message}); the container may run old files")
            svc.dispatch(BuildChanged(name, BuildStatus.OK))
            return "failed"
        svc.log(f"live update failed ({result.message}); full build")
        return "full_build"

    async def into_stopped(self, cid: str, syncs: Iterable[tuple[str, str]]) -> Next:
        """A stopped (crashed) container: the files go in through the archive API (it works
        on stopped containers), then it starts."""
        svc = self.svc
        t0 = time.monotonic()
        try:
            files, missing, archive = await pack(syncs)
        except (ArchiveError, OSError) as err:
            svc.log(f"live update: cannot pack the files ({err}); full build")
            return "full_build"
        if missing:
            return "layered"
        svc.dispatch(BuildChanged(svc.name, BuildStatus.BUILDING))
        svc.dispatch(RuntimeChanged(svc.name, RuntimeStatus.STARTING))

        def put_and_start(api: Any) -> None:
            api.put_archive(cid, "/", archive)
            api.start(cid)

        with svc.windows.ours():
            try:
                await svc.docker(put_and_start)
            except Exception as err:
                svc.log(f"live update into the stopped container failed ({err}); fast build")
                return "layered"
        svc.log(
            f"live update: {files_text(len(files))} into stopped container {cid[:12]}, started, "
            f"in {(time.monotonic() - t0) * 1000:.0f} ms"
        )
        svc.dispatch(BuildChanged(svc.name, BuildStatus.OK))
        return "settle"


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield
