"""Document symbols: one per resource (and per image) the Tiltfile declares, plus its
functions, so the outline view lists what the Tiltfile runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.features import source
from tilt_lsp.lsp.features.context import FeatureContext, lsp_range

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def document_symbols(outline: source.Outline) -> list[types.DocumentSymbol]:
    out: list[types.DocumentSymbol] = []
    for name, call, string in outline.resources():
        out.append(
            types.DocumentSymbol(
                name=name,
                detail=call.name,
                kind=types.SymbolKind.Module,
                range=lsp_range(call.span),
                selection_range=lsp_range(string.span),
            )
        )
    for call in outline.calls:
        if call.name == "docker_build":
            ref = call.arg(0, "ref")
            if ref and ref.strings:
                out.append(
                    types.DocumentSymbol(
                        name=ref.strings[0].value,
                        detail="docker_build",
                        kind=types.SymbolKind.Package,
                        range=lsp_range(call.span),
                        selection_range=lsp_range(ref.strings[0].span),
                    )
                )
    for d in outline.defs.values():
        if d.doc or _is_function(outline, d.name):
            out.append(
                types.DocumentSymbol(
                    name=d.name,
                    kind=types.SymbolKind.Function,
                    range=lsp_range(d.span),
                    selection_range=lsp_range(d.span),
                )
            )
    out.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return out


def _is_function(outline: source.Outline, name: str) -> bool:
    return any(c.name == name for c in outline.calls)


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(
        ls: TiltLanguageServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        return document_symbols(features.outline(params.text_document.uri))
