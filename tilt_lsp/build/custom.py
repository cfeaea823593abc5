"""Building a ``custom_build`` image: the user's command builds it, as in Tilt.

The command runs in ``dir`` with ``$EXPECTED_REF`` (``REPO:tilt-build-<time>``, or
``REPO:<tag>`` with ``tag=``) and ``$EXPECTED_IMAGE``/``$EXPECTED_TAG`` set; with
``outputs_image_ref_to`` it writes the ref it built to that file instead. The result is
then re-tagged through a one-line ``FROM`` build that adds tilt-lsp's labels (the managed mark
the synclet checks, the cleanup labels), so a custom image is handled like any other.
With ``skips_local_docker`` the image never reaches the local engine: its ref is used as is.

``image_builder`` is the one place that picks the builder for an image.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterable, Mapping
from typing import Any

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError, BuiltImage, ImageBuilder, LineSink
from tilt_lsp.build.context import Snapshot
from tilt_lsp.tiltfile.model import ImageBuild


def image_builder(image: ImageBuild, api: Any, labels: Mapping[str, str]) -> ImageBuilder:
    """The builder for this image: the user's command for custom_build, else Docker."""
    if image.custom is not None:
        return CustomBuilder(image, api, labels)
    return ImageBuilder(image, api, labels)


def expected_ref(image: ImageBuild, now: float | None = None) -> str:
    assert image.custom is not None
    tag = image.custom.tag or f"tilt-build-{int(now if now is not None else time.time())}"
    return f"{image.repository}:{tag}"


class CustomBuilder(ImageBuilder):
    def build(
        self, changed: Iterable[str] | None, on_line: LineSink, force: bool = False
    ) -> BuiltImage:
        custom = self.image.custom
        assert custom is not None
        expected = expected_ref(self.image)
        repo, _, tag = expected.rpartition(":")
        env = {
            **(custom.base_env or os.environ),
            **custom.env,
            "EXPECTED_REF": expected,
            "EXPECTED_IMAGE": repo,
            "EXPECTED_TAG": tag,
        }
        on_line(f"custom_build: running {custom.command.display} (EXPECTED_REF={expected})")
        tail = self._run(list(custom.command.argv), custom.dir, env, on_line)
        ref = expected
        if custom.outputs_image_ref_to:
            try:
                with open(custom.outputs_image_ref_to, encoding="utf-8") as f:
                    ref = f.read().strip()
            except OSError as err:
                raise BuildError(
                    f"custom_build: the command did not write the image ref to "
                    f"{custom.outputs_image_ref_to}: {err.strerror}",
                    tail,
                ) from None
        if custom.skips_local_docker:
            return BuiltImage(ref, "", Snapshot({}, ref), reused=False)
        try:
            built_id = str(self.api.inspect_image(ref)["Id"])
        except Exception:
            raise BuildError(
                f"custom_build: the command succeeded but no image {ref} is in the local Docker "
                "engine: tag what it builds with $EXPECTED_REF (or set skips_local_docker=True "
                "when it pushes elsewhere)",
                tail,
            ) from None
        final = f"{self.image.repository}:tilt-{built_id.split(':')[-1][:16]}"
        image_id = self._labelled(ref, final, on_line)
        if not custom.tag and not custom.outputs_image_ref_to:
            # The time-stamped tag only carried the result here; the labelled tag names it.
            with contextlib.suppress(Exception):
                self.api.remove_image(ref, noprune=True)
        return BuiltImage(final, image_id, Snapshot({}, built_id), reused=False)

    def _run(
        self, argv: list[str], cwd: str, env: Mapping[str, str], on_line: LineSink
    ) -> tuple[str, ...]:
        tail: list[str] = []
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        except OSError as err:
            raise BuildError(f"custom_build: cannot run {argv[0]!r}: {err.strerror}") from None
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                tail.append(line)
                del tail[:-20]
                on_line(line)
            code = proc.wait()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        if code != 0:
            raise BuildError(f"custom_build command failed with exit code {code}", tuple(tail))
        return tuple(tail)

    def _labelled(self, source: str, ref: str, on_line: LineSink) -> str:
        """``FROM source`` with our labels, tagged ``ref``: adds no layer."""
        dockerfile = f"FROM {source}\n".encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
        labels = {**self.labels, lbl.IMAGE: self.image.repository, lbl.BUILD_KIND: "full"}
        error = None
        for chunk in self.api.build(
            fileobj=io.BytesIO(buf.getvalue()),
            custom_context=True,
            tag=ref,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
        ):
            if "error" in chunk:
                error = str(chunk["error"]).strip()
        if error:
            raise BuildError(f"custom_build: labelling {source} failed: {error}")
        on_line(f"custom_build: {source} → {ref}")
        return str(self.api.inspect_image(ref)["Id"])

    def remove_leftovers(self) -> None:
        """The user's command owns what it built; tilt-lsp leaves it alone."""
