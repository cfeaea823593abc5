"""Building a ``docker_build`` image through the Docker engine, streaming every line.

The low-level ``APIClient.build(decode=True)`` yields the engine's JSON messages as they come;
each ``stream`` text is split into lines and handed to ``on_line`` (the caller sends them to
the loop: the resource log and a ProblemStream). ``build`` is synchronous and meant for a
worker thread.

Images are tagged by content, ``REPO:tilt-<hash>`` of the context hash, the Dockerfile, the
build args and the target: an unchanged context is not built again, and a tag names exactly
one content. The Dockerfile is built as written; ``finish.py`` then adds tilt-lsp's labels
(cleanup removes only our own images) and, when the live update restarts, the restart wrapper,
in one commit. ``cancel`` (from another thread) ends a build in progress: the connection is
shut, and the engine stops the build and its RUN container.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.cancel import Cancellation
from tilt_lsp.build.context import GENERATED_DOCKERFILE, BuildContext, Snapshot
from tilt_lsp.build.finish import FinishError, finish_image, wants_wrapper, wrapper_script
from tilt_lsp.build.reasons import plain_build_error, unpullable_base
from tilt_lsp.changes.mapping import under
from tilt_lsp.diagnostics.dockerpaths import dockerfile_mappings
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.tiltfile.model import ImageBuild

LineSink = Callable[[str], None]
_VANISHED = re.compile(r"No such image: sha256:[0-9a-f]+")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})$")  # an intermediate image of the legacy builder


class BuildError(Exception):
    """The image did not build. ``reason`` in plain words, ``log`` the builder's last lines."""

    def __init__(self, reason: str, log: tuple[str, ...] = (), cancelled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log = log
        self.cancelled = cancelled


@dataclass(frozen=True, slots=True)
class BuiltImage:
    ref: str  # REPO:tilt-<hash>
    image_id: str
    snapshot: Snapshot
    reused: bool  # the tag already existed: nothing was built


def dockerfile_path(image: ImageBuild) -> str:
    """The Dockerfile's path (``Dockerfile`` in the context unless ``dockerfile=`` says)."""
    return image.dockerfile or os.path.join(image.context, "Dockerfile")


def dockerfile_text(image: ImageBuild) -> str:
    if image.dockerfile_contents is not None:
        return image.dockerfile_contents
    path = dockerfile_path(image)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as err:
        raise BuildError(f"cannot read Dockerfile {path}: {err.strerror or err}") from None


def dockerfile_source(image: ImageBuild) -> DockerfileSource | None:
    """The Dockerfile as the problem parsers should name it (None for inline contents)."""
    if image.dockerfile_contents is not None:
        return None
    try:
        return DockerfileSource(dockerfile_path(image), dockerfile_text(image))
    except BuildError:
        return None


def image_mapper(root: str, image: ImageBuild, text: str | None = None) -> PathMapper:
    """Container paths → workspace: the live_update syncs and the Dockerfile's COPY/ADD,
    relative paths against its final WORKDIR. ``text``: the Dockerfile, when already read."""
    pairs: list[tuple[str, str]] = []
    workdir: str | None = None
    try:
        if text is None:
            text = dockerfile_text(image)
        pairs, workdir = dockerfile_mappings(text, image.context)
    except Exception:  # an unreadable Dockerfile still gets the sync rules
        pairs = []
    if image.live_update is not None:
        pairs = [(s.container_path, s.local_path) for s in image.live_update.syncs] + pairs
    return PathMapper(root, pairs, workdir=workdir)


class ImageBuilder:
    """Builds one ``docker_build`` image, remembering its context between builds."""

    def __init__(
        self,
        image: ImageBuild,
        api: Any,
        labels: Mapping[str, str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.image = image
        self.api = api
        self.labels = dict(labels)
        self.wrap = wants_wrapper(image, os.environ if env is None else env)
        self._cancel = Cancellation()
        self.context = BuildContext(
            image.context, image.ignore, image.only, self._dockerfile_in_context()
        )
        # Intermediate images a failed build left (they carry no labels: the legacy builder
        # labels only the final image). Removed by ``remove_leftovers``.
        self.leftovers: set[str] = set()

    def _dockerfile_in_context(self) -> str | None:
        if self.image.dockerfile_contents is not None:
            return None
        return os.path.abspath(dockerfile_path(self.image))

    def tag_for(self, snapshot: Snapshot, dockerfile: str) -> str:
        h = hashlib.sha256()
        h.update(snapshot.digest.encode())
        h.update(b"\0" + dockerfile.encode())
        for k, v in sorted(self.image.build_args.items()):
            h.update(f"\0{k}={v}".encode())
        h.update(f"\0target={self.image.target}".encode())
        if self.wrap:  # a new wrapper (or turning it off) is a new image
            h.update(b"\0wrapper=" + hashlib.sha256(wrapper_script()).digest())
        return f"{self.image.repository}:tilt-{h.hexdigest()[:16]}"

    def existing(self, ref: str) -> str | None:
        try:
            return str(self.api.inspect_image(ref)["Id"])
        except Exception:
            return None

    def build(
        self,
        changed: Iterable[str] | None,
        on_line: LineSink,
        force: bool = False,
    ) -> BuiltImage:
        """Scan the context (only ``changed`` when given), then build unless an image with
        the same content tag exists (``force`` builds anyway). A ``cancel`` during the build,
        or before it started, ends it with ``BuildError(cancelled=True)``."""
        try:
            return self._build(changed, on_line, force)
        finally:
            self._cancel.reset()  # a cancel applies to one build

    def _build(self, changed: Iterable[str] | None, on_line: LineSink, force: bool) -> BuiltImage:
        if self._cancel.cancelled:
            raise BuildError("the build was cancelled", cancelled=True)
        text = dockerfile_text(self.image)
        snapshot = self.context.scan(changed)
        ref = self.tag_for(snapshot, text)
        found = self.existing(ref)
        if found is not None and not force:
            on_line(f"image {ref} is up to date (same context, Dockerfile and build args)")
            return BuiltImage(ref, found, snapshot, reused=True)
        extra: dict[str, bytes] = {}
        dockerfile_name = self._dockerfile_name()
        if dockerfile_name == GENERATED_DOCKERFILE:
            extra[GENERATED_DOCKERFILE] = text.encode("utf-8")
        tar = self.context.tar(snapshot, extra)
        s = self.context.stats
        on_line(
            f"building {ref}: context {len(snapshot.files)} files, {len(tar) >> 10} KiB "
            f"({s.files_read} read{', walked' if s.walked else ''})"
        )
        try:
            built_id = self._run_build(tar, ref, dockerfile_name, on_line)
        except BuildError as err:
            if not _VANISHED.search(err.reason) or self._cancel.cancelled:
                raise
            # A cached layer was removed while the build used it (a prune, another tool's
            # cleanup on a shared engine): the next build does not find it in the cache.
            on_line(f"{err.reason}: a cached layer vanished during the build; building again")
            built_id = self._run_build(tar, ref, dockerfile_name, on_line)
        if self._cancel.cancelled:
            self.leftovers.add(built_id)
            raise BuildError("the build was cancelled", cancelled=True)
        t0 = time.monotonic()
        labels = {**self.labels, lbl.IMAGE: self.image.repository, lbl.BUILD_KIND: "full"}
        try:
            image_id, finish = finish_image(self.api, built_id, ref, labels, self.wrap)
        except FinishError as err:
            self.leftovers.add(built_id)
            raise BuildError(str(err)) from None
        ms = (time.monotonic() - t0) * 1000
        if finish.wrapped:
            on_line(
                f"added the restart wrapper ({ms:.0f} ms): a live update restarts the process "
                "in the same container (TILT_LSP_RESTART_WRAPPER=0 turns this off)"
            )
        elif finish.note:
            on_line(finish.note)
        return BuiltImage(ref, image_id, snapshot, reused=False)

    def cancel(self) -> None:
        """End the build in progress (from any thread), or the next one if none runs yet:
        it raises ``BuildError(cancelled=True)``."""
        self._cancel.cancel()

    def _dockerfile_name(self) -> str:
        path = self._dockerfile_in_context()
        if path is None:
            return GENERATED_DOCKERFILE
        root = self.context.root
        if under(path, root):
            return os.path.relpath(path, root).replace(os.sep, "/")
        return GENERATED_DOCKERFILE

    def _run_build(self, tar: bytes, ref: str, dockerfile: str, on_line: LineSink) -> str:
        """The user's Dockerfile as written (no labels: the legacy builder would add a LABEL
        step per label); the built image's id (untagged: ``finish`` tags the final image)."""
        tail: list[str] = []
        partial = ""
        image_id: str | None = None
        error: str | None = None

        layers: list[str] = []
        after_from = [False]
        step = [""]  # the instruction being built, as the builder printed it

        def emit(line: str) -> None:
            # The last " ---> ID" of a failed build is its deepest image; removing it later
            # also removes its untagged parents. The id printed right after FROM is the
            # base image: never ours.
            layer = _LAYER.match(line)
            if layer and not after_from[0]:
                layers[:] = [layer.group(1)]
            if line.startswith("Step "):
                after_from[0] = " : FROM " in line
                step[0] = line.partition(" : ")[2]
            tail.append(line)
            del tail[:-20]
            on_line(line)

        try:
            with self._cancel.watching(self.api):
                stream = self.api.build(
                    fileobj=io.BytesIO(tar),
                    custom_context=True,
                    dockerfile=dockerfile,
                    buildargs=dict(self.image.build_args),
                    target=self.image.target or None,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    decode=True,
                )
                for message in stream:
                    if "stream" in message:
                        partial += str(message["stream"])
                        *lines, partial = partial.split("\n")
                        for line in lines:
                            emit(line.rstrip("\r"))
                    elif "error" in message:
                        error = str(message.get("error") or "").strip()
                    elif "aux" in message and isinstance(message["aux"], dict):
                        image_id = message["aux"].get("ID") or image_id
                    elif "status" in message:
                        emit(str(message["status"]))
        except Exception as err:
            if partial:
                emit(partial)
            explanation = getattr(err, "explanation", None)
            if explanation:  # as the docker CLI prints it: a Dockerfile parse error's line
                emit(f"Error response from daemon: {explanation}")
            self.leftovers.update(layers)
            if self._cancel.cancelled:
                raise BuildError("the build was cancelled", tuple(tail), cancelled=True) from None
            raise BuildError(f"the Docker engine refused the build: {err}", tuple(tail)) from None
        if self._cancel.cancelled:
            self.leftovers.update(layers)
            raise BuildError("the build was cancelled", tuple(tail), cancelled=True)
        if partial:
            emit(partial)
        if error:
            base = unpullable_base(
                step[0], error, dockerfile_text(self.image), self.image.build_args
            )
            if base is not None:
                # In the legacy builder's own shape ("COPY failed: …"), so the problem lands
                # on the FROM line like any failed step.
                emit(f"FROM failed: {base}")
                self.leftovers.update(layers)
                raise BuildError(base, tuple(tail))
            for line in error.splitlines():
                emit(line)
            self.leftovers.update(layers)
            raise BuildError(plain_build_error(error), tuple(tail))
        if image_id is None:
            raise BuildError("the build finished without an image", tuple(tail))
        return image_id

    def remove_leftovers(self) -> None:
        """Remove the deepest intermediate image of each failed build, with its untagged
        parents; one that became a parent of a later image stays (Docker refuses, and that
        is right), and a tagged image is never touched."""
        for image_id in sorted(self.leftovers):
            try:
                if self.api.inspect_image(image_id).get("RepoTags"):
                    self.leftovers.discard(image_id)  # tagged: not a leftover of ours
                    continue
            except Exception:
                self.leftovers.discard(image_id)
                continue
            try:
                self.api.remove_image(image_id, force=False, noprune=False)
            except Exception as err:
                if "No such image" not in str(err) and "not found" not in str(err).lower():
                    continue  # still a parent or in use: try again next time
            self.leftovers.discard(image_id)

    def cleanup(self, keep: Iterable[str]) -> list[str]:
        """Remove this image's stale builds (all but ``keep``) and failed-build leftovers."""
        removed = lbl.remove_stale_images(
            self.api, {**self.labels, lbl.IMAGE: self.image.repository}, keep
        )
        self.remove_leftovers()
        return removed
