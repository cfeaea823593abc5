"""What the feature handlers share: the open document's text, its outline (the last one that
parsed, while the user is mid-edit), the resource names known, and the engine's view."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from tilt_lsp.engine.status import ResourceStatus
from tilt_lsp.lsp.features import source
from tilt_lsp.tiltfile.model import Resource

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def lsp_range(span: source.Span) -> types.Range:
    return types.Range(
        types.Position(span.line, span.start), types.Position(span.end_line, span.end)
    )


def is_starlark(uri: str) -> bool:
    """A Tiltfile, or a Starlark file a Tiltfile loads: the files the language features
    read (the editor may send every file of the workspace)."""
    name = os.path.basename(uri)
    return (
        name == "Tiltfile"
        or name.endswith((".Tiltfile", ".star", ".tilt", ".bzl"))
        or name.startswith("Tiltfile.")
    )


class FeatureContext:
    def __init__(self, ls: TiltLanguageServer) -> None:
        self.ls = ls
        self._outlines: dict[str, tuple[str, source.Outline]] = {}

    def text(self, uri: str) -> str:
        doc = self.ls.workspace.text_documents.get(uri)
        if doc is not None:
            return str(doc.source)
        path = to_fs_path(uri)
        try:
            with open(path or "", encoding="utf-8") as f:
                return f.read()
        except OSError:
            return ""

    def outline(self, uri: str) -> source.Outline:
        """The outline of the current text, or of the last text that parsed (empty for a
        file that is not Starlark)."""
        if not is_starlark(uri):
            return source.EMPTY
        text = self.text(uri)
        cached = self._outlines.get(uri)
        if cached is not None and cached[0] == text:
            return cached[1]
        parsed = source.parse(text)
        if parsed is None:
            return cached[1] if cached else source.EMPTY
        self._outlines[uri] = (text, parsed)
        return parsed

    def parses(self, uri: str) -> bool:
        return source.parse(self.text(uri)) is not None

    @staticmethod
    def folder(uri: str) -> str:
        return os.path.dirname(to_fs_path(uri) or "")

    def statuses(self) -> dict[str, ResourceStatus]:
        engine = self.ls.engine
        return dict(engine.statuses) if engine is not None else {}

    def model_resources(self) -> list[Resource]:
        engine = self.ls.engine
        return list(engine.model.resources) if engine is not None and engine.model else []

    def resource_names(self, uri: str) -> list[str]:
        """Resources the text declares, and those the engine knows (Kubernetes workloads
        and compose services get their names from YAML, not from the Tiltfile's text)."""
        names = {name for name, _, _ in self.outline(uri).resources()}
        names |= set(self.statuses())
        names |= {r.name for r in self.model_resources()}
        return sorted(names)

    def engine_loaded(self) -> bool:
        engine = self.ls.engine
        return engine is not None and engine.model is not None
