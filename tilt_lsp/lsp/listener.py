"""The engine's news, sent to the editor: diagnostics, tilt/status, tilt/log, $/progress."""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tilt_lsp.engine import wording
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import Published
from tilt_lsp.engine.status import BuildStatus, ResourceStatus, RuntimeStatus
from tilt_lsp.lsp import features
from tilt_lsp.lsp import protocol as p
from tilt_lsp.lsp.convert import LineCache, file_lines, to_diagnostic, uri
from tilt_lsp.lsp.features.publish import ENGINE, layers
from tilt_lsp.lsp.logbatch import BATCH_S, LogBatcher

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

LOG_BACKLOG_BYTES = 1024 * 1024  # the client has this much unread: drop log batches
LOG_RETRY_S = 0.25  # how often a drop count waits for the client to catch up


def _backlog(writer: Any) -> int:
    """Bytes written to the client that it has not taken yet (0 when unknown)."""
    pending = getattr(writer, "pending_bytes", None)  # lsp/stdio.py's QueuedWriter
    if isinstance(pending, int):
        return pending
    transport = getattr(writer, "transport", None)  # an asyncio StreamWriter (TCP)
    if transport is not None:
        return int(transport.get_write_buffer_size())
    return 0


def status_payload(engine: Engine | None, statuses: list[ResourceStatus]) -> dict[str, Any]:
    """The aggregate state for a status bar, and each resource (without its log)."""
    problems = engine.problems.all() if engine else []
    errors = sum(1 for *_, pr in problems if pr.severity.value == "error")
    warnings = sum(1 for *_, pr in problems if pr.severity.value == "warning")
    building = [
        s.name
        for s in statuses
        if s.build is BuildStatus.BUILDING or s.runtime is RuntimeStatus.STARTING
    ]
    err = engine.tiltfile_error if engine else None
    state = (
        "building"
        if building
        else ("error" if errors or err or any(s.failed for s in statuses) else "ok")
    )
    return {
        "state": state,
        "errors": errors,
        "warnings": warnings,
        "building": building,
        "tiltfile": {
            "path": engine.tiltfile if engine else None,
            "error": str(err) if err else None,
        },
        "resources": [plain_json(s) for s in statuses],
    }


def plain_json(s: ResourceStatus, tail: int = 0) -> dict[str, Any]:
    """A resource's JSON, with its state in plain words and its endpoints for the UI."""
    return {
        **s.to_json(tail=tail),
        "summary": wording.state(s),
        "endpoints": wording.endpoints(s.resource),
    }


class LspListener:
    def __init__(self, ls: TiltLanguageServer) -> None:
        self.ls = ls
        self._progress_ids = itertools.count(1)
        self._progress: dict[str, asyncio.Task[str | None]] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._logs = LogBatcher()
        self._log_timer: asyncio.TimerHandle | None = None

    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        self.ls.protocol.notify(p.NOTIFY_STATUS, status_payload(self.ls.engine, statuses))
        features.status_changed(self.ls)

    def diagnostics_changed(self, published: Published) -> None:
        lines = LineCache(self._lines)
        for path, items in published.items():
            diagnostics = [to_diagnostic(res, prob, lines) for res, _src, prob in items]
            layers(self.ls).publish(uri(path), ENGINE, diagnostics)

    def _lines(self, path: str) -> list[str]:
        """The editor's buffer when the file is open (it may differ from the disk), else the
        file."""
        doc = self.ls.workspace.text_documents.get(uri(path))
        if doc is not None:
            return [line.rstrip("\r\n") for line in doc.lines]
        return file_lines(path)

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None:
        if not self.ls.options.get("logNotifications"):
            return
        self._logs.add(resource, lines)
        if self._logs.full:
            self._flush_logs()
        elif self._log_timer is None:
            self._log_timer = asyncio.get_running_loop().call_later(BATCH_S, self._flush_logs)

    def _flush_logs(self) -> None:
        if self._log_timer is not None:
            self._log_timer.cancel()
            self._log_timer = None
        for payload in self._logs.take():
            if _backlog(self.ls.protocol.writer) > LOG_BACKLOG_BYTES:
                self._logs.drop(payload)  # counted in the next payload of that resource
            else:
                self.ls.protocol.notify(p.NOTIFY_LOG, payload)
        if self._logs.owed:  # tell the counts once the client catches up
            self._log_timer = asyncio.get_running_loop().call_later(LOG_RETRY_S, self._flush_logs)

    def progress(self, resource: str, phase: str, message: str) -> None:
        caps = self.ls.client_capabilities.window
        if not (caps and caps.work_done_progress):
            return
        loop = asyncio.get_running_loop()
        if phase == "begin":
            token = f"tilt-lsp/{resource}/{next(self._progress_ids)}"
            self._progress[resource] = loop.create_task(self._begin(token, resource, message))
        else:
            begun = self._progress.pop(resource, None)
            if begun is not None:
                ending = loop.create_task(self._end(begun, message))
                self._ending.add(ending)
                ending.add_done_callback(self._ending.discard)

    async def _begin(self, token: str, resource: str, message: str) -> str | None:
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception:  # the client refused: no progress for this one
            return None
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=f"Updating {resource}", message=message, cancellable=False
            ),
        )
        return token

    async def _end(self, begun: asyncio.Task[str | None], message: str) -> None:
        token = await begun
        if token is not None:
            self.ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))

    def message(self, severity: str, text: str) -> None:
        kind = types.MessageType.Error if severity == "error" else types.MessageType.Warning
        self.ls.show(kind, f"tilt-lsp: {text}")
