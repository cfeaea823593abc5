"""Completion: Tilt's functions and values, a call's keyword arguments, resource names inside
resource_deps / k8s_resource / dc_resource, and paths inside path arguments."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.features import cursor, source
from tilt_lsp.lsp.features.context import FeatureContext, is_starlark
from tilt_lsp.lsp.features.hover import entry_markdown
from tilt_lsp.tiltfile import catalog
from tilt_lsp.tiltfile.catalog import Support

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

_RESOURCE_ARG = {"k8s_resource": "workload", "dc_resource": "name"}


def wants_resource(ctx: cursor.Context) -> bool:
    if ctx.keyword == "resource_deps":
        return True
    first = _RESOURCE_ARG.get(ctx.call or "")
    return first is not None and (ctx.keyword == first or (ctx.keyword is None and ctx.index == 0))


def wants_path(ctx: cursor.Context) -> bool:
    for index, keyword in source.PATH_ARGS.get(ctx.call or "", ()):
        if ctx.keyword == keyword or (ctx.keyword is None and index >= 0 and ctx.index == index):
            return True
    return False


def complete(
    features: FeatureContext, uri: str, line: int, character: int
) -> list[types.CompletionItem]:
    if not is_starlark(uri):
        return []
    text = features.text(uri)
    ctx = cursor.context(text, line, character)
    if ctx.in_comment:
        return []
    if ctx.in_string:
        if wants_resource(ctx):
            return [
                types.CompletionItem(
                    label=n, kind=types.CompletionItemKind.Module, detail="resource"
                )
                for n in features.resource_names(uri)
            ]
        if wants_path(ctx):
            return _paths(features.folder(uri), ctx.string_prefix, line, character)
        return []
    items: list[types.CompletionItem] = []
    if ctx.arg_start:
        items += _keywords(ctx)
    items += _names(features, uri, ctx.word)
    return items


def _keywords(ctx: cursor.Context) -> list[types.CompletionItem]:
    entry = catalog.lookup(ctx.call or "")
    if entry is None:
        return []
    return [
        types.CompletionItem(
            label=f"{p.name}=",
            kind=types.CompletionItemKind.Variable,
            detail=p.label,
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=p.doc)
            if p.doc
            else None,
            sort_text=f"0{i:03}",
        )
        for i, p in enumerate(entry.params or ())
        if not p.star and p.name not in ctx.used_keywords
    ]


def _names(features: FeatureContext, uri: str, word: str) -> list[types.CompletionItem]:
    """Names that continue ``word``: after ``os.path.`` only its members, whole names else."""
    prefix = word.rsplit(".", 1)[0] + "." if "." in word else ""
    items: list[types.CompletionItem] = []
    seen: set[str] = set()
    for name in catalog.names():
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        label = rest.split(".", 1)[0]
        if label in seen:
            continue
        seen.add(label)
        entry = catalog.lookup(prefix + label)
        if entry is None:  # a namespace such as `os` or `os.path`
            items.append(types.CompletionItem(label=label, kind=types.CompletionItemKind.Module))
            continue
        unsupported = catalog.support(entry.name) is Support.UNSUPPORTED
        items.append(
            types.CompletionItem(
                label=label,
                kind=types.CompletionItemKind.Function
                if entry.is_function
                else types.CompletionItemKind.Constant,
                detail=entry.signature,
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=entry_markdown(entry)
                ),
                sort_text=("2" if unsupported else "1") + label,
                tags=[types.CompletionItemTag.Deprecated] if unsupported else None,
            )
        )
    if not prefix:
        for name, d in features.outline(uri).defs.items():
            if name not in seen:
                items.append(
                    types.CompletionItem(
                        label=name, kind=types.CompletionItemKind.Function, detail=d.doc or None
                    )
                )
    return items


def _paths(folder: str, typed: str, line: int, character: int) -> list[types.CompletionItem]:
    head, tail = os.path.split(typed)
    where = os.path.normpath(os.path.join(folder, os.path.expanduser(head)))
    try:
        entries = sorted(os.scandir(where), key=lambda e: e.name)
    except OSError:
        return []
    edit_range = types.Range(
        types.Position(line, character - len(tail)), types.Position(line, character)
    )
    items: list[types.CompletionItem] = []
    for e in entries:
        if not e.name.startswith(tail) or (e.name.startswith(".") and not tail.startswith(".")):
            continue
        is_dir = e.is_dir()
        name = e.name + ("/" if is_dir else "")
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Folder if is_dir else types.CompletionItemKind.File,
                text_edit=types.TextEdit(range=edit_range, new_text=name),
            )
        )
    return items


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", ",", "'", '"', "/"]),
    )
    def completion(ls: TiltLanguageServer, params: types.CompletionParams) -> types.CompletionList:
        pos = params.position
        items = complete(features, params.text_document.uri, pos.line, pos.character)
        return types.CompletionList(is_incomplete=False, items=items)
