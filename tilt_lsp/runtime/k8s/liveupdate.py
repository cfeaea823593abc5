"""Live update by exec, the way that works on any container runtime: through the Kubernetes
API, ``rm -rf`` the deleted files, stream a tar into ``tar -x -f - -C /``, then run the
triggered ``run()`` steps, each in its own exec.

Failures come in two kinds, because they lead to different things: ``RunStepFailed`` is the
user's code failing (report it, do not rebuild: rebuilding would fail the same way and loop);
``UpdateInfraFailed`` is the mechanism failing (no tar in the image, a read-only
filesystem, the pod vanished) and the caller falls back to a full build and deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from synclet.archive import ArchiveError, build_archive
from tilt_lsp.runtime.k8s.api import ExecResult, KubeApi, KubeError
from tilt_lsp.tiltfile.model import RunStep

LineSink = Callable[[str], None]


class RunStepFailed(Exception):
    """A ``run()`` step failed: the user's error, in the message."""

    @classmethod
    def of(cls, step: str, exit_code: int, detail: str = "") -> RunStepFailed:
        return cls(f"run step {step!r} failed with exit code {exit_code}" + (f": {detail}" if detail else ""))


class UpdateInfraFailed(Exception):
    """The live update could not be carried out; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str
    pod: str
    container: str
    node: str = ""
    container_id: str = ""  # as the pod status says it: "docker://…", "containerd://…"

    def __str__(self) -> str:
        return f"{self.pod}/{self.container}"


class _Lines:
    """Complete lines of a run step's stdout and stderr, each as it arrives."""

    def __init__(self, on_line: LineSink) -> None:
        self._on_line = on_line
        self._pending: dict[int, bytes] = {}

    def feed(self, channel: int, data: bytes) -> None:
        *lines, rest = (self._pending.get(channel, b"") + data).split(b"\n")
        self._pending[channel] = rest
        for line in lines:
            self._on_line(line.decode("utf-8", "replace").rstrip("\r"))

    def close(self) -> None:
        for rest in self._pending.values():
            if rest:
                self._on_line(rest.decode("utf-8", "replace"))
        self._pending.clear()


def _plain(result: ExecResult, what: str, target: Target) -> str:
    text = (result.error or result.stderr.decode("utf-8", "replace")).strip()
    if "tar" in text and ("executable file not found" in text or "not found" in text.lower()):
        return (f"{what} in {target} failed: 'tar' is not in the container image (a scratch or "
                f"distroless image?). Live update needs tar in the image; add it, or remove "
                f"live_update to rebuild on every change. ({text})")
    if "Permission denied" in text or "Read-only file system" in text:
        return (f"{what} in {target} failed: the container's user cannot write there "
                f"(run as a user that owns the sync destinations, or make them writable). ({text})")
    return f"{what} in {target} failed (exit code {result.exit_code}): {text or 'no output'}"


class ExecUpdater:
    """Updates one container through ``KubeApi.exec``. Blocking: run it in a thread."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api

    def update(self, target: Target, syncs: Sequence[tuple[str, str]], deletes: Sequence[str],
               run_steps: Sequence[RunStep], on_line: LineSink) -> None:
        try:
            if deletes:
                result = self.api.exec(target.namespace, target.pod, target.container, ["rm", "-rf", "--", *deletes])
                if result.error or result.exit_code:
                    raise UpdateInfraFailed(_plain(result, "deleting files", target))
            if syncs:
                try:
                    archive = build_archive(syncs)
                except ArchiveError as err:
                    raise UpdateInfraFailed(f"cannot send the changed files: {err}") from None
                result = self.api.exec(target.namespace, target.pod, target.container,
                                       ["tar", "-x", "-f", "-", "-C", "/"], stdin=archive)
                if result.error or result.exit_code:
                    raise UpdateInfraFailed(_plain(result, "copying files with tar", target))
            for step in run_steps:
                if not step.echo_off:
                    on_line(f"$ {step.command.display}")
                lines = _Lines(on_line)
                result = self.api.exec(target.namespace, target.pod, target.container,
                                       list(step.command.argv), on_output=lines.feed)
                lines.close()
                if result.error:
                    raise RunStepFailed.of(step.command.display, result.exit_code, result.error)
                if result.exit_code:
                    raise RunStepFailed.of(step.command.display, result.exit_code)
        except KubeError as err:
            raise UpdateInfraFailed(f"exec into {target} failed: {err.message}") from None
