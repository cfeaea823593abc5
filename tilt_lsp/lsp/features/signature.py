"""Signature help: the Tilt function being called, with the argument at the cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.features import cursor
from tilt_lsp.lsp.features.context import FeatureContext, is_starlark
from tilt_lsp.tiltfile import catalog
from tilt_lsp.tiltfile.catalog import Entry

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def active_parameter(entry: Entry, ctx: cursor.Context) -> int | None:
    params = list(entry.params or ())
    if ctx.keyword is not None:
        return next((i for i, p in enumerate(params) if p.name == ctx.keyword), None)
    positional = [i for i, p in enumerate(params) if not p.keyword_only and p.star != "**"]
    if ctx.index < len(positional):
        return positional[ctx.index]
    star = next((i for i, p in enumerate(params) if p.star == "*"), None)
    return star


def signature_at(
    features: FeatureContext, uri: str, line: int, character: int
) -> types.SignatureHelp | None:
    if not is_starlark(uri):
        return None
    ctx = cursor.context(features.text(uri), line, character)
    entry = catalog.lookup(ctx.call or "")
    if entry is None or entry.params is None or ctx.in_comment:
        return None
    params = [
        types.ParameterInformation(
            label=p.label,
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=p.doc)
            if p.doc
            else None,
        )
        for p in entry.params
    ]
    signature = types.SignatureInformation(
        label=entry.signature,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=entry.doc),
        parameters=params,
    )
    active = active_parameter(entry, ctx)
    return types.SignatureHelp(signatures=[signature], active_signature=0, active_parameter=active)


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(
        types.TEXT_DOCUMENT_SIGNATURE_HELP,
        types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=["="]),
    )
    def signature_help(
        ls: TiltLanguageServer, params: types.SignatureHelpParams
    ) -> types.SignatureHelp | None:
        pos = params.position
        return signature_at(features, params.text_document.uri, pos.line, pos.character)
