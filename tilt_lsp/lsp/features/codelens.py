"""Code lenses over each resource in the Tiltfile: its state and last update, ▶ trigger,
↻ restart, logs, and its endpoints; refreshed (workspace/codeLens/refresh) as the engine's
status changes, at most a few times a second."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from tilt_lsp.engine import wording
from tilt_lsp.engine.status import ResourceStatus
from tilt_lsp.lsp import protocol as p
from tilt_lsp.lsp.features.context import FeatureContext

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

REFRESH_S = 0.2
_ICON = {"ok": "●", "busy": "◌", "error": "✖", "idle": "○"}


def lenses_for(status: ResourceStatus, line: int, column: int) -> list[types.CodeLens]:
    where = types.Range(types.Position(line, column), types.Position(line, column))
    name = status.name

    def lens(title: str, command: str, *args: Any) -> types.CodeLens:
        return types.CodeLens(
            range=where, command=types.Command(title=title, command=command, arguments=list(args))
        )

    summary = f"{_ICON[wording.tone(status)]} {name}: {wording.state(status)} · {wording.when(status.last_update_at)}"
    waiting = wording.pending(status)
    if waiting:
        summary += f" · {waiting}"
    out = [lens(summary, p.CMD_SHOW_LOGS, {"resource": name})]
    if status.enabled:
        out.append(lens("▶ Trigger", p.CMD_TRIGGER, name))
        out.append(lens("↻ Restart", p.CMD_RESTART, name))
    out.append(lens("Logs", p.CMD_SHOW_LOGS, {"resource": name}))
    for link in wording.endpoint_links(status.resource):
        out.append(lens(f"↗ {link.name or link.url}", p.CMD_OPEN_LINK, link.url))
    return out


def code_lenses(features: FeatureContext, uri: str) -> list[types.CodeLens]:
    path = os.path.abspath(to_fs_path(uri) or "")
    statuses = features.statuses()
    placed: dict[str, tuple[int, int]] = {}
    for r in features.model_resources():
        if r.location is not None and os.path.abspath(r.location.path) == path:
            placed[r.name] = (r.location.line - 1, max(r.location.column - 1, 0))
    for name, call, _ in features.outline(uri).resources():  # text edited since the last load
        placed.setdefault(name, (call.span.line, call.span.start))
    out: list[types.CodeLens] = []
    for name, (line, column) in sorted(placed.items(), key=lambda kv: kv[1]):
        status = statuses.get(name)
        if status is not None:
            out += lenses_for(status, line, column)
    return out


class Refresher:
    """Asks the client to re-request code lenses (and re-runs the checks, whose resource
    names the engine may have just learned) after status changes, coalesced."""

    def __init__(self, ls: TiltLanguageServer, on_change: list[Any]) -> None:
        self.ls = ls
        self.on_change = on_change
        self._timer: asyncio.TimerHandle | None = None
        self.asked = False  # a client that never asked for lenses needs no refresh

    def status_changed(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(REFRESH_S, self._fire)

    def _fire(self) -> None:
        self._timer = None
        for callback in self.on_change:
            callback()
        caps = self.ls.client_capabilities.workspace
        lens_caps = caps.code_lens if caps else None
        if self.asked and lens_caps and lens_caps.refresh_support:
            self.ls.workspace_code_lens_refresh(None)


def register(ls: TiltLanguageServer, features: FeatureContext, refresher: Refresher) -> None:
    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: TiltLanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        refresher.asked = True
        return code_lenses(features, params.text_document.uri)
