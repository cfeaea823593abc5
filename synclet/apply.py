"""Apply one validated update to a container through the Docker SDK.

Synchronous on purpose: the docker SDK is, so the server runs :func:`apply_update` in a
thread (``asyncio.to_thread``) and receives events through the ``emit`` callback.

Order, as in Tilt's container updater (after :mod:`synclet.confine` has checked the links
already in the container): deletes (``rm -rf --`` via exec), then the archive
(``tar -x`` via exec with the archive on stdin, as Tilt does since #3708: it runs as the
container's user, so files get the owner the app expects and a permission problem shows as
one; it costs ~5 ms more than Docker's copy API per update, see docs/benchmarks.md; falling
back to ``put_archive`` when the image has no tar),
then the triggered run steps with their output streamed line by line, then the restart.

Failures are classified for the engine: a run step that exits non-zero is the user's
(``user``: show its output, do not rebuild); a container that is gone or stopped, or Docker
failing, is ``infrastructure`` (the engine falls back to a full rebuild, which also repairs a
half-applied update). Messages say what happened in plain words.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import shlex
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from synclet import confine
from synclet.protocol import (
    Deleted,
    Done,
    Event,
    Extracted,
    ExtractMethod,
    FailureKind,
    Output,
    Restarted,
    StepExited,
    StepStarted,
    UpdateSpec,
)
from synclet.safety import ArchiveSummary

RESTART_SIGNAL_LABEL = "dev.tilt-lsp.restart-signal"
"""Container label declaring that PID 1 restarts the app when it receives this signal.

``restart: process`` is only reliable when something in the container promises to restart the
app on a signal (a supervisor or a small wrapper; DESIGN §4 measured 73 ms vs 309 ms for
``docker restart``). The synclet cannot know that by itself, so the container must say so.
"""

MAX_LINE = 64 * 1024
_NOT_FOUND = re.compile(r"executable file not found|no such file or directory|not found", re.I)
_QUOTED = re.compile("['\u2018`\"]([^'\u2019`\"]+)['\u2019`\"]")
_TAR_PATH = re.compile(r"^tar: ([^:]+):")

Emit = Callable[[Event], None]


class UpdateFailed(Exception):
    """The update stopped; ``kind`` and ``message`` become the ``failed`` event."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None
    output: bytes


def _docker_errors() -> tuple[type[BaseException], ...]:
    import docker.errors
    import requests

    return (docker.errors.DockerException, requests.RequestException, OSError)


def container_state(
    api: Any, container_id: str, info: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The container's inspect data (``info`` if the caller just fetched it);
    ``infrastructure`` if it is gone or not running."""
    import docker.errors

    if info is None:
        try:
            info = api.inspect_container(container_id)
        except docker.errors.NotFound:
            raise UpdateFailed(
                "infrastructure", f"container {container_id} not found: it was removed or replaced"
            ) from None
    assert info is not None
    state = info.get("State") or {}
    if not state.get("Running") or state.get("Paused") or state.get("Restarting"):
        status = state.get("Status", "not running")
        raise UpdateFailed(
            "infrastructure", f"container {container_id} is {status}; live update needs it running"
        )
    return info


def _gone_or(api: Any, container_id: str, exc: BaseException, doing: str) -> UpdateFailed:
    """Explain a Docker error: usually the container died under us."""
    try:
        container_state(api, container_id)
    except UpdateFailed as gone:
        return UpdateFailed("infrastructure", f"{gone.message} (while {doing})")
    except Exception:
        pass
    return UpdateFailed("infrastructure", f"Docker failed while {doing}: {exc}")


def _demux(raw: bytes) -> bytes:
    """Join the payloads of Docker's multiplexed stdout/stderr stream (non-tty exec).

    Docker writes its own exec errors ("executable file not found") unframed: anything that
    does not parse as frames is returned as is.
    """
    out = bytearray()
    pos = 0
    while pos < len(raw):
        header = raw[pos : pos + 8]
        if len(header) < 8 or header[0] not in (0, 1, 2) or header[1:4] != b"\0\0\0":
            return raw
        (size,) = struct.unpack(">I", header[4:8])
        out += raw[pos + 8 : pos + 8 + size]
        pos += 8 + size
    return bytes(out)


def _exit_code(api: Any, exec_id: str) -> int | None:
    """The exec's exit code; Docker may report it a moment after the stream closes."""
    for _ in range(50):
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            code = info.get("ExitCode")
            return int(code) if code is not None else None
        time.sleep(0.01)
    return None


def exec_with_stdin(
    api: Any, container_id: str, cmd: list[str], data: bytes | BinaryIO
) -> ExecResult:
    """Run ``cmd`` in the container with ``data`` (bytes, or a file sent from its start in
    bounded chunks) on its stdin; collect its output."""
    exec_id = api.exec_create(container_id, cmd, stdin=True, stdout=True, stderr=True)["Id"]
    sock = api.exec_start(exec_id, socket=True)
    raw_sock: socket.socket = getattr(sock, "_sock", sock)
    chunks: list[bytes] = []

    def reader() -> None:
        with contextlib.suppress(OSError):
            while True:
                chunk = raw_sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if isinstance(data, bytes):
                raw_sock.sendall(data)
            else:
                data.seek(0)
                while chunk := data.read(1 << 20):
                    raw_sock.sendall(chunk)
        with contextlib.suppress(OSError):
            raw_sock.shutdown(socket.SHUT_WR)
        thread.join()
    finally:
        with contextlib.suppress(OSError):
            sock.close()
    return ExecResult(_exit_code(api, exec_id), _demux(b"".join(chunks)))


def exec_collect(api: Any, container_id: str, cmd: list[str]) -> ExecResult:
    """Run ``cmd`` in the container without stdin; collect its output."""
    exec_id = api.exec_create(container_id, cmd, stdout=True, stderr=True)["Id"]
    output = api.exec_start(exec_id)
    return ExecResult(_exit_code(api, exec_id), bytes(output or b""))


def _text(output: bytes) -> str:
    return output.decode("utf-8", "replace").strip()


def _permission_message(output: str, fallback: str) -> str | None:
    """Plain advice for the first "Permission denied" line of tar or rm, if any."""
    line = next((ln for ln in output.splitlines() if "permission denied" in ln.lower()), None)
    if line is None:
        return None
    match = _TAR_PATH.match(line) or _QUOTED.search(line)
    path = match.group(1).strip() if match else fallback
    path = posixpath.normpath("/" + path.lstrip("/"))  # tar names members ./app/...
    return (
        f"permission denied writing {path}: the container user cannot write there; "
        "chown the directory in your Dockerfile or sync elsewhere"
    )


def delete_paths(api: Any, container_id: str, paths: list[str]) -> None:
    """``rm -rf --`` the (validated) paths in the container."""
    result = exec_collect(api, container_id, ["rm", "-rf", "--", *paths])
    if result.exit_code == 0:
        return
    text = _text(result.output)
    advice = _permission_message(text, paths[0])
    if advice:
        raise UpdateFailed("infrastructure", advice.replace("writing", "deleting", 1))
    if result.exit_code in (126, 127) or (_NOT_FOUND.search(text) and "rm:" not in text):
        raise UpdateFailed(
            "infrastructure",
            "cannot delete files in the container: the image has no 'rm' "
            "(a scratch or distroless image?); a full rebuild applies the deletion instead",
        )
    container_state(api, container_id)  # a container that died under us says so
    raise UpdateFailed("infrastructure", f"deleting files failed (exit {result.exit_code}): {text}")


def runs_as_root(info: dict[str, Any]) -> bool:
    user = str((info.get("Config") or {}).get("User") or "")
    return user.split(":", 1)[0] in ("", "root", "0")


def _payload(archive: BinaryIO) -> bytes | BinaryIO:
    """What ``put_archive`` sends: a small archive as bytes, a large one as the file itself
    (streamed from disk; requests reads a file in blocks)."""
    size = archive.seek(0, 2)
    archive.seek(0)
    return archive.read() if size <= 1 << 20 else archive


def extract(
    api: Any, container_id: str, archive: BinaryIO, dest: str, as_root: bool = False
) -> ExtractMethod:
    """Write the archive into the container; returns the method used.

    ``archive`` is the synclet's re-written archive (:mod:`synclet.rewrite`), names rooted at
    ``/``: never a request body.

    ``tar -x`` through exec runs as the container's user, so synced files belong to that
    user, not root (Tilt #3708). When the container runs as root the two are the same, and
    Docker's archive API does it in one call instead of three.
    """
    if as_root:
        try:
            if api.put_archive(container_id, "/", _payload(archive)):
                return "archive-api"
        except _docker_errors():
            container_state(api, container_id)  # a container that died under us says so
        # Refused (a read-only path?): tar gives the reason in words.
    result = exec_with_stdin(api, container_id, ["tar", "-x", "-f", "-", "-C", "/"], archive)
    if result.exit_code == 0:
        return "tar"
    text = _text(result.output)
    advice = _permission_message(text, dest)
    if advice:
        raise UpdateFailed("infrastructure", advice)
    if result.exit_code in (126, 127) or (_NOT_FOUND.search(text) and "tar:" not in text):
        try:
            ok = api.put_archive(container_id, "/", _payload(archive))
        except _docker_errors() as exc:
            raise UpdateFailed(
                "infrastructure",
                "the image has no tar, and Docker's archive API failed too "
                f"({exc}): the image has neither tar nor a writable filesystem",
            ) from None
        if not ok:
            raise UpdateFailed(
                "infrastructure",
                "the image has no tar, and Docker's archive API refused the files: "
                "the image has neither tar nor a writable filesystem",
            )
        return "archive-api"
    container_state(api, container_id)  # a container that died under us says so
    raise UpdateFailed(
        "infrastructure", f"extracting files with tar failed (exit {result.exit_code}): {text}"
    )


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Split a byte stream into text lines (no newline), capping absurdly long ones."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_LINE:
                    yield buf[:MAX_LINE].decode("utf-8", "replace")
                    buf = buf[MAX_LINE:]
                    continue
                break
            yield buf[:nl].rstrip(b"\r").decode("utf-8", "replace")
            buf = buf[nl + 1 :]
    if buf:
        yield buf.rstrip(b"\r").decode("utf-8", "replace")


def _container_died(api: Any, container_id: str, started_at: str, code: int | None) -> str | None:
    """Why a step's container went away under it, or None if the container is fine.

    A step killed by a signal (exit >= 128) may have died with its container; Docker reports
    the container's death some milliseconds after the exec's, so wait up to a second for it.
    """
    deadline = time.monotonic() + (1.0 if code is None or code >= 128 else 0.0)
    while True:
        try:
            info = container_state(api, container_id)
        except UpdateFailed as gone:
            return gone.message
        if (info.get("State") or {}).get("StartedAt") != started_at:
            return f"container {container_id} restarted"
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def run_step(
    api: Any, container_id: str, index: int, command: tuple[str, ...], emit: Emit, started_at: str
) -> int:
    """Run one step, streaming its output; returns its exit code."""
    exec_id = api.exec_create(container_id, list(command), stdout=True, stderr=True)["Id"]
    stream = api.exec_start(exec_id, stream=True)
    for line in _lines(stream):
        emit(Output(index=index, line=line))
    code = _exit_code(api, exec_id)
    if code != 0:
        # A step killed with its container is not the user's failure.
        died = _container_died(api, container_id, started_at, code)
        if died is not None:
            raise UpdateFailed(
                "infrastructure", f"{died} (while running step {index} ({shlex.join(command)}))"
            )
    if code is None:
        raise UpdateFailed("infrastructure", f"run step {index} ended without an exit code")
    return code


def restart(api: Any, container_id: str, info: dict[str, Any], mode: str, timeout: int) -> None:
    """Restart the container, or signal its main process (``process`` mode). ``timeout``:
    seconds Docker waits after the stop signal before killing; 0 (the default, as Tilt) kills
    at once: an app that ignores SIGTERM as PID 1 would otherwise cost the whole grace."""
    if mode == "container":
        api.restart(container_id, timeout=timeout)
    elif mode == "process":
        signal = restart_signal(info)
        if signal is None:
            raise UpdateFailed("refused", process_mode_unsupported(container_id))
        api.kill(container_id, signal=signal)


def restart_signal(info: dict[str, Any]) -> str | None:
    """The signal the container's labels promise will restart its app, if any."""
    labels = (info.get("Config") or {}).get("Labels") or {}
    value = labels.get(RESTART_SIGNAL_LABEL)
    return str(value) if value else None


def process_mode_unsupported(container_id: str) -> str:
    return (
        f"restart 'process' needs the container to declare how its app restarts: container "
        f"{container_id} has no label {RESTART_SIGNAL_LABEL}=<signal> (PID 1 must restart the "
        "app on that signal); use restart 'container' instead"
    )


def apply_update(
    api: Any,
    container_id: str,
    spec: UpdateSpec,
    archive: BinaryIO,
    summary: ArchiveSummary,
    deletes: list[str],
    emit: Emit,
    *,
    restart_timeout: int = 0,
    started: float | None = None,
    info: dict[str, Any] | None = None,
) -> None:
    """Apply a validated update, emitting events; raises :class:`UpdateFailed` on failure.

    ``deletes`` and ``summary`` come from :mod:`synclet.safety`: this function trusts them.
    ``info`` is the container's inspect data if the caller fetched it a moment ago (one Docker
    call less on the hot path); otherwise it is fetched here.
    """
    t0 = started if started is not None else time.monotonic()
    info = container_state(api, container_id, info)
    if spec.restart == "process" and restart_signal(info) is None:
        raise UpdateFailed("refused", process_mode_unsupported(container_id))
    doing = "checking the container's links"
    try:
        parents = {posixpath.dirname(path) for path in deletes} | set(summary.parents)
        try:
            confine.check_confined(api, container_id, spec.dest, sorted(parents))
        except confine.Escapes as exc:
            raise UpdateFailed("refused", str(exc)) from None
        if deletes:
            doing = "deleting files"
            delete_paths(api, container_id, deletes)
            emit(Deleted(count=len(deletes)))
        if summary.members:
            doing = "extracting files"
            method = extract(api, container_id, archive, spec.dest, runs_as_root(info))
            emit(Extracted(files=summary.files, bytes=summary.bytes, method=method))
        for index, step in spec.triggered_steps():
            doing = f"running step {index} ({shlex.join(step.command)})"
            emit(StepStarted(index=index, command=step.command))
            started_at = str((info.get("State") or {}).get("StartedAt", ""))
            code = run_step(api, container_id, index, step.command, emit, started_at)
            emit(StepExited(index=index, exit_code=code))
            if code != 0:
                raise UpdateFailed(
                    "user", f"run step {index} ({shlex.join(step.command)}) exited with code {code}"
                )
        if spec.restart != "none":
            doing = f"restarting ({spec.restart})"
            restart(api, container_id, info, spec.restart, restart_timeout)
            emit(Restarted(mode=spec.restart))
    except UpdateFailed:
        raise
    except _docker_errors() as exc:
        raise _gone_or(api, container_id, exc, doing) from None
    emit(Done(duration_ms=round((time.monotonic() - t0) * 1000)))
