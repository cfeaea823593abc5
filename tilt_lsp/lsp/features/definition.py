"""Go to definition: a load()ed symbol (into the loaded file), a local function or variable,
a load path (the file), and a resource name in resource_deps (the call declaring it)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.convert import uri as path_uri
from tilt_lsp.lsp.features import cursor, source
from tilt_lsp.lsp.features.context import FeatureContext, lsp_range

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def _file_start(path: str) -> types.Location:
    return types.Location(path_uri(path), types.Range(types.Position(0, 0), types.Position(0, 0)))


def _symbol_in(path: str, name: str) -> types.Location | None:
    try:
        with open(path, encoding="utf-8") as f:
            outline = source.parse(f.read())
    except OSError:
        return None
    found = outline.defs.get(name) if outline else None
    return types.Location(path_uri(path), lsp_range(found.span)) if found else None


def definition_at(
    features: FeatureContext, uri: str, line: int, character: int
) -> types.Location | None:
    outline = features.outline(uri)
    folder = features.folder(uri)
    for load in outline.loads:
        target = os.path.normpath(os.path.join(folder, load.path.value))
        if load.path.span.contains(line, character):
            return _file_start(target) if os.path.isfile(target) else None
        for original in load.symbols.values():
            if original.span.contains(line, character):
                return _symbol_in(target, original.value) or _file_start(target)
    for call in outline.calls:  # a resource name inside resource_deps=[...]
        deps = call.arg(-1, "resource_deps")
        for s in deps.strings if deps else ():
            if s.span.contains(line, character):
                return _resource(features, uri, s.value)
    found = cursor.word_at(features.text(uri), line, character)
    if found is None:
        return None
    word = found[0]
    for load in outline.loads:
        if word in load.symbols:
            target = os.path.normpath(os.path.join(folder, load.path.value))
            return _symbol_in(target, load.symbols[word].value) or _file_start(target)
    found_def = outline.defs.get(word)
    if found_def is not None:
        return types.Location(uri, lsp_range(found_def.span))
    return None


def _resource(features: FeatureContext, uri: str, name: str) -> types.Location | None:
    for declared, _call, string in features.outline(uri).resources():
        if declared == name:
            return types.Location(uri, lsp_range(string.span))
    for r in features.model_resources():  # workloads and services named by their YAML
        if r.name == name and r.location is not None:
            pos = types.Position(r.location.line - 1, max(r.location.column - 1, 0))
            return types.Location(path_uri(r.location.path), types.Range(pos, pos))
    return None


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: TiltLanguageServer, params: types.DefinitionParams) -> types.Location | None:
        pos = params.position
        return definition_at(features, params.text_document.uri, pos.line, pos.character)
