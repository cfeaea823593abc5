"""Hover: the catalog's docs for a Tilt function or value, a parameter's doc on its keyword,
and a local function's signature line and docstring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.features import cursor
from tilt_lsp.lsp.features.context import FeatureContext, is_starlark
from tilt_lsp.tiltfile import catalog
from tilt_lsp.tiltfile.catalog import Entry, Param

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def entry_markdown(entry: Entry) -> str:
    parts = [f"```python\n{entry.signature}\n```", entry.doc]
    note = catalog.support(entry.name).note
    if note:
        parts.append(f"*{note}*")
    documented = [p for p in entry.params or () if p.doc]
    if documented:
        parts.append("\n".join(f"- `{p.name}`: {p.doc}" for p in documented))
    return "\n\n".join(parts)


def param_markdown(entry: Entry, param: Param) -> str:
    text = f"```python\n{param.label}\n```\nParameter of `{entry.name}`"
    return text + (f": {param.doc}" if param.doc else "")


def hover_at(features: FeatureContext, uri: str, line: int, character: int) -> types.Hover | None:
    if not is_starlark(uri):
        return None
    text = features.text(uri)
    found = cursor.word_at(text, line, character)
    if found is None:
        return None
    word, start, end = found
    where = types.Range(types.Position(line, start), types.Position(line, end))
    rest = text.split("\n")[line][end:].lstrip()
    if rest.startswith("=") and not rest.startswith("=="):  # a keyword argument
        ctx = cursor.context(text, line, start)
        entry = catalog.lookup(ctx.call or "")
        param = entry.param(word) if entry else None
        if entry and param:
            return _hover(param_markdown(entry, param), where)
    entry = catalog.lookup(word)
    if entry is not None:
        return _hover(entry_markdown(entry), where)
    local = features.outline(uri).defs.get(word)
    if local is not None:
        line_text = text.split("\n")[local.span.line].strip()
        doc = f"\n\n{local.doc}" if local.doc else ""
        return _hover(f"```python\n{line_text}\n```{doc}", where)
    return None


def _hover(markdown: str, where: types.Range) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown), range=where
    )


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: TiltLanguageServer, params: types.HoverParams) -> types.Hover | None:
        pos = params.position
        return hover_at(features, params.text_document.uri, pos.line, pos.character)
