"""Building a ``custom_build`` image: the user's command builds it, as in Tilt.

The command runs in ``dir`` with ``$EXPECTED_REF`` (``REPO:tilt-build-<time>``, or
``REPO:<tag>`` with ``tag=``) and ``$EXPECTED_IMAGE``/``$EXPECTED_TAG`` set; with
``outputs_image_ref_to`` it writes the ref it built to that file instead. The result is
then finished like a docker_build image (tilt-lsp's labels: the managed mark the synclet
checks, the cleanup labels; the restart wrapper when the live update restarts), so a custom
image is handled like any other.
With ``skips_local_docker`` the image never reaches the local engine: its ref is used as is.

``image_builder`` is the one place that picks the builder for an image.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError, BuiltImage, ImageBuilder, LineSink
from tilt_lsp.build.context import Snapshot
from tilt_lsp.build.finish import FinishError, finish_image
from tilt_lsp.tiltfile.model import ImageBuild


def image_builder(
    image: ImageBuild, api: Any, labels: Mapping[str, str], env: Mapping[str, str] | None = None
) -> ImageBuilder:
    """The builder for this image: the user's command for custom_build, else Docker."""
    if image.custom is not None:
        return CustomBuilder(image, api, labels, env=env)
    return ImageBuilder(image, api, labels, env=env)


def expected_ref(image: ImageBuild, now: float | None = None) -> str:
    assert image.custom is not None
    tag = image.custom.tag or f"tilt-build-{int(now if now is not None else time.time())}"
    return f"{image.repository}:{tag}"


class CustomBuilder(ImageBuilder):
    """custom_build: the command builds; then the same finishing commit as docker_build
    (tilt-lsp's labels, the restart wrapper when the live update restarts, the
    ``entrypoint=`` override)."""

    def _build(self, changed: Iterable[str] | None, on_line: LineSink, force: bool) -> BuiltImage:
        custom = self.image.custom
        assert custom is not None
        if self._cancel.cancelled:
            raise BuildError("the build was cancelled", cancelled=True)
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
        labels = {**self.labels, lbl.IMAGE: self.image.repository, lbl.BUILD_KIND: "full"}
        try:
            image_id, finish = finish_image(
                self.api, built_id, final, labels, self.wrap, self._entrypoint()
            )
        except FinishError as err:
            raise BuildError(str(err)) from None
        on_line(f"custom_build: {ref} → {final}")
        if finish.wrapped:
            on_line("added the restart wrapper: a live update restarts the process in place")
        elif finish.note:
            on_line(finish.note)
        if not custom.tag and not custom.outputs_image_ref_to:
            # The time-stamped tag only carried the result here; the final tag names it.
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
        watcher = threading.Thread(target=self._stop_on_cancel, args=(proc,), daemon=True)
        watcher.start()
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                tail.append(line)
                del tail[:-20]
                on_line(line)
            code = proc.wait()
        except BaseException:
            _killpg(proc.pid)
            proc.wait()
            raise
        if self._cancel.cancelled:
            raise BuildError("the build was cancelled", cancelled=True)
        if code != 0:
            raise BuildError(f"custom_build command failed with exit code {code}", tuple(tail))
        return tuple(tail)

    def _stop_on_cancel(self, proc: subprocess.Popen[bytes]) -> None:
        while proc.poll() is None:
            if self._cancel.cancelled:
                _killpg(proc.pid)
                return
            time.sleep(0.1)

    def remove_leftovers(self) -> None:
        """The user's command owns what it built; tilt-lsp leaves it alone."""


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
