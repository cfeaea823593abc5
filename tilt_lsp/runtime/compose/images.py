"""The images of one compose service: full builds of its ``docker_build`` (cancellable), the
fast build (synced files layered onto the last full build), what was synced since each, and
cleanup of our own stale images.

Each method builds and reports (log lines, build status, problems on the Dockerfile's
lines); none deploys: the controller decides what runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import (
    BuildError,
    BuiltImage,
    ImageBuilder,
    dockerfile_source,
    image_mapper,
)
from tilt_lsp.build.layered import layer_image
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import BuildChanged, ProblemsReset
from tilt_lsp.engine.status import BuildStatus
from tilt_lsp.liveupdate.updater import ArchiveError
from tilt_lsp.runtime.compose.pack import pack
from tilt_lsp.runtime.compose.service import Service
from tilt_lsp.runtime.composecli import files_text
from tilt_lsp.runtime.dockerhost import DockerUnavailable
from tilt_lsp.runtime.sink import Sink
from tilt_lsp.tiltfile.model import ImageBuild


class Images:
    """Builds one service's image and remembers what was synced since."""

    def __init__(self, svc: Service, image: ImageBuild) -> None:
        self.svc = svc
        self.image = image
        self.full: BuiltImage | None = None  # the last full build
        self.failed = False  # until a full build works, every change needs one
        self.since_full: dict[str, str] = {}  # local → container, synced since the full build
        self.since_image: dict[str, str] = {}  # … since the image the container runs
        self.deleted_since_full: set[str] = set()
        self.unscanned: set[str] = set()  # changed since the context was last scanned
        self._builder: ImageBuilder | None = None
        self._inflight: asyncio.Future[BuiltImage] | None = None

    def record(self, syncs: Iterable[tuple[str, str]], deletes: Iterable[str]) -> None:
        """Files synced into the running container: a new container needs them again."""
        for local, container in syncs:
            self.since_full[local] = container
            self.since_image[local] = container
        for path in deletes:
            self.deleted_since_full.add(path)
            for local in [k for k, v in self.since_full.items() if v == path]:
                self.since_full.pop(local, None)
                self.since_image.pop(local, None)

    def deployed(self) -> None:
        """The container now runs a fresh image: nothing synced since."""
        self.since_image.clear()

    # -- the full build -------------------------------------------------------------------

    async def build(self, force: bool) -> BuiltImage | None:
        """A full build (``force``: even when the content tag exists); None when it failed
        or was cancelled (reported)."""
        svc, name, image = self.svc, self.svc.name, self.image
        svc.dispatch(ProblemsReset(name, "build"))
        svc.dispatch(ProblemsReset(name, "liveupdate"))
        svc.dispatch(BuildChanged(name, BuildStatus.BUILDING))
        # Read the Dockerfile again (once, off the loop): its WORKDIR and COPYs map paths.
        root = svc.host.root

        def read() -> tuple[PathMapper, DockerfileSource | None]:
            source = dockerfile_source(image)
            return image_mapper(root, image, source.text if source else None), source

        svc.mapper, source = await asyncio.to_thread(read)
        sink = Sink(name, "build", ProblemStream(svc.mapper, source), svc.dispatch)
        loop = asyncio.get_running_loop()
        changed = None if self._builder is None else set(self.unscanned)
        self.unscanned.clear()

        def on_line(line: str) -> None:
            loop.call_soon_threadsafe(sink, line)

        def run() -> BuiltImage:
            if self._builder is None:
                self._builder = ImageBuilder(
                    image,
                    svc.host.client().api,
                    {**svc.host.labels, lbl.RESOURCE: name},
                    env=svc.host.env,
                )
                if svc.stopped:  # stop() found no builder to cancel
                    raise BuildError("the build was cancelled", cancelled=True)
            return self._builder.build(changed, on_line, force=force)

        # The thread is remembered: stop() cancels it and waits, so nothing is tagged after
        # tilt-lsp (or a test) cleaned up.
        self._inflight = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            built = await asyncio.shield(self._inflight)
        except (BuildError, DockerUnavailable) as err:
            await asyncio.sleep(0)  # let queued lines reach the sink first
            sink.close()
            if isinstance(err, BuildError) and err.cancelled:
                svc.log("build cancelled")
                svc.dispatch(BuildChanged(name, BuildStatus.PENDING))
                return None
            reason = err.reason if isinstance(err, BuildError) else str(err)
            svc.log(f"build failed: {reason}")
            svc.dispatch(BuildChanged(name, BuildStatus.ERROR, f"image build failed: {reason}"))
            self.failed = True
            return None
        self.failed = False
        sink.close()
        svc.dispatch(BuildChanged(name, BuildStatus.OK))
        self.full = built
        self.since_full.clear()
        self.deleted_since_full.clear()
        return built

    async def cancel(self) -> None:
        """Cancel a build in progress (the engine stops its RUN step) and wait for it."""
        if self._inflight is None or self._inflight.done():
            return
        if self._builder is not None:
            self._builder.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._inflight), 300)

    # -- the fast build -------------------------------------------------------------------

    async def layered(self) -> str | None:
        """Every file synced since the last full build, layered onto it: the new ref, or
        None when a full build is needed (said in the log)."""
        assert self.full is not None
        svc = self.svc
        t0 = time.monotonic()
        try:
            files, missing, archive = await pack(list(self.since_full.items()))
        except (ArchiveError, OSError) as err:
            svc.log(f"fast build failed ({err}); full build")
            return None
        if missing or self.deleted_since_full:
            svc.log("full build: files were deleted since the last full build")
            return None
        svc.dispatch(BuildChanged(svc.name, BuildStatus.BUILDING))
        base, repository = self.full.ref, self.image.repository
        labels = {**svc.host.labels, lbl.RESOURCE: svc.name, lbl.IMAGE: repository}
        try:
            ref, _ = await svc.docker(
                lambda api: layer_image(api, base, repository, archive, labels)
            )
        except Exception as err:
            svc.log(f"fast build failed ({err}); full build")
            return None
        svc.log(
            f"fast build: {files_text(len(files))} synced since the last full build, layered "
            f"onto {base} in {(time.monotonic() - t0) * 1000:.0f} ms"
        )
        svc.dispatch(BuildChanged(svc.name, BuildStatus.OK))
        return str(ref)

    # -- cleanup --------------------------------------------------------------------------

    async def cleanup(self, deployed: str | None) -> None:
        """Our own stale images of this resource: all but what runs and the last full build."""
        builder = self._builder
        if builder is None or self.full is None:
            return
        keep = {self.full.image_id}
        labels = {**self.svc.host.labels, lbl.RESOURCE: self.svc.name, lbl.BUILD_KIND: "layer"}

        def work() -> None:
            if deployed:
                with contextlib.suppress(Exception):
                    keep.add(str(builder.api.inspect_image(deployed)["Id"]))
            builder.cleanup(keep)
            # Containers a fast build left when it was interrupted (they are never started).
            lbl.remove_containers(builder.api, labels)

        with contextlib.suppress(Exception):
            await asyncio.to_thread(work)

    async def remove_leftovers(self) -> None:
        if self._builder is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._builder.remove_leftovers)
