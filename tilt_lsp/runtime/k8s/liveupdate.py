"""Live update by exec, the way that works on any container runtime: through the Kubernetes
API, ``rm -rf`` the deleted files, stream a tar into ``head -c N | tar -x -f - -C /``, then
run the triggered ``run()`` steps, each in its own exec.

Why ``head -c N``: API servers before 1.29 speak the v4 streaming protocol, where closing
stdin is not signalled to the process. GNU tar stops at the archive's end marker, but BusyBox
tar (Alpine and most small images) reads its input to the end and would wait forever. ``head``
ends after exactly the archive's length, so the exec ends on every tar and every protocol.
When the image has no ``sh`` or no ``head`` the tar runs alone (fine with v5's stdin close or
GNU tar). Either way the exec has a deadline of seconds, not minutes.

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

    exit_code: int = 0

    @classmethod
    def of(cls, step: str, exit_code: int, detail: str = "") -> RunStepFailed:
        err = cls(
            f"run step {step!r} failed with exit code {exit_code}"
            + (f": {detail}" if detail else "")
        )
        err.exit_code = exit_code
        return err


class UpdateInfraFailed(Exception):
    """The live update could not be carried out; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str
    pod: str
    container: str
    node: str = ""
    container_id: str = ""  # as the pod status says it: "docker://…", "containerd://…"
    restarts: int = 0  # the container's restartCount when this instance was seen

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
        return (
            f"{what} in {target} failed: 'tar' is not in the container image (a scratch or "
            f"distroless image?). Live update needs tar in the image; add it, or remove "
            f"live_update to rebuild on every change. ({text})"
        )
    if "Permission denied" in text or "Read-only file system" in text:
        return (
            f"{what} in {target} failed: the container's user cannot write there "
            f"(run as a user that owns the sync destinations, or make them writable). ({text})"
        )
    return f"{what} in {target} failed (exit code {result.exit_code}): {text or 'no output'}"


TAR_TIMEOUT_S = 15.0
TAR_MIN_RATE = 1_000_000  # bytes/s the deadline allows on top of TAR_TIMEOUT_S
NO_HEAD = 96  # the exit code of the tar script when the image has no ``head``
TAR_ARGV = ["tar", "-x", "-f", "-", "-C", "/"]


def tar_script(length: int) -> list[str]:
    """Extract exactly ``length`` bytes of stdin as a tar at ``/``: ends without an end of
    stdin (v4). ``tar: not found`` is said as tar says it, so the advice below applies."""
    return [
        "sh",
        "-c",
        "command -v tar >/dev/null 2>&1 || { echo 'tar: not found' >&2; exit 127; }; "
        f"command -v head >/dev/null 2>&1 || exit {NO_HEAD}; "
        f"head -c {length} | tar -x -f - -C /",
    ]


def tar_timeout(length: int) -> float:
    return TAR_TIMEOUT_S + length / TAR_MIN_RATE


class ExecUpdater:
    """Updates one container through ``KubeApi.exec``. Blocking: run it in a thread."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api

    def update(
        self,
        target: Target,
        syncs: Sequence[tuple[str, str]],
        deletes: Sequence[str],
        run_steps: Sequence[RunStep],
        on_line: LineSink,
    ) -> None:
        try:
            if deletes:
                result = self.api.exec(
                    target.namespace, target.pod, target.container, ["rm", "-rf", "--", *deletes]
                )
                if result.error or result.exit_code:
                    raise UpdateInfraFailed(_plain(result, "deleting files", target))
            if syncs:
                try:
                    archive = build_archive(syncs)
                except ArchiveError as err:
                    raise UpdateInfraFailed(f"cannot send the changed files: {err}") from None
                self.copy(target, archive)
            for step in run_steps:
                if not step.echo_off:
                    on_line(f"$ {step.command.display}")
                lines = _Lines(on_line)
                result = self.api.exec(
                    target.namespace,
                    target.pod,
                    target.container,
                    list(step.command.argv),
                    on_output=lines.feed,
                )
                lines.close()
                if result.error:
                    raise RunStepFailed.of(step.command.display, result.exit_code, result.error)
                if result.exit_code:
                    raise RunStepFailed.of(step.command.display, result.exit_code)
        except KubeError as err:
            # KubeApi.exec's own failures already say "exec into POD/CONTAINER …".
            text = (
                err.message
                if err.message.startswith("exec into")
                else (f"exec into {target} failed: {err.message}")
            )
            raise UpdateInfraFailed(text) from None

    def copy(self, target: Target, archive: bytes) -> None:
        """Extract ``archive`` at ``/`` in the container; raises UpdateInfraFailed."""
        timeout = tar_timeout(len(archive))
        result = self.api.exec(
            target.namespace,
            target.pod,
            target.container,
            tar_script(len(archive)),
            stdin=archive,
            timeout_s=timeout,
        )
        if result.exit_code == NO_HEAD or (result.error and "not found" in result.error):
            # No head (or no sh): tar alone, ended by v5's stdin close or GNU tar's own end.
            result = self.api.exec(
                target.namespace,
                target.pod,
                target.container,
                TAR_ARGV,
                stdin=archive,
                timeout_s=timeout,
            )
        if result.error or result.exit_code:
            raise UpdateInfraFailed(_plain(result, "copying files with tar", target))

    def signal(self, target: Target, signal: str) -> None:
        """Send ``signal`` to the container's PID 1 (the restart wrapper restarts the app on
        it). Raises UpdateInfraFailed."""
        name = signal.upper().removeprefix("SIG")
        try:
            result = self.api.exec(
                target.namespace,
                target.pod,
                target.container,
                ["sh", "-c", f"kill -{name} 1"],
                timeout_s=TAR_TIMEOUT_S,
            )
        except KubeError as err:
            raise UpdateInfraFailed(f"signalling {target} failed: {err.message}") from None
        if result.error or result.exit_code:
            raise UpdateInfraFailed(_plain(result, f"sending SIG{name} to PID 1", target))
