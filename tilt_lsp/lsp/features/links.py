"""Document links: path arguments (Dockerfiles, build contexts, manifests, compose files,
deps, loaded files) become clickable when the file or folder exists."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.convert import uri as path_uri
from tilt_lsp.lsp.features import source
from tilt_lsp.lsp.features.context import FeatureContext, lsp_range

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def document_links(
    outline: source.Outline, folder: str, tooltips: bool = True
) -> list[types.DocumentLink]:
    out: list[types.DocumentLink] = []
    for call, string in outline.paths():
        path = os.path.normpath(os.path.join(folder, os.path.expanduser(string.value)))
        if (
            call.name == "docker_build"
            and os.path.isdir(path)
            and string is _first(call, 1, "context")
        ):
            dockerfile = os.path.join(path, "Dockerfile")  # the context opens its Dockerfile
            target = dockerfile if os.path.isfile(dockerfile) else None
        else:
            target = path if os.path.isfile(path) else None
        if target is None:
            continue
        out.append(
            types.DocumentLink(
                range=lsp_range(string.span),
                target=path_uri(target),
                tooltip=f"Open {os.path.relpath(target, folder)}" if tooltips else None,
            )
        )
    return out


def _first(call: source.Call, index: int, keyword: str) -> source.Str | None:
    arg = call.arg(index, keyword)
    return arg.strings[0] if arg and arg.strings else None


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DOCUMENT_LINK)
    def links(ls: TiltLanguageServer, params: types.DocumentLinkParams) -> list[types.DocumentLink]:
        uri = params.text_document.uri
        caps = ls.client_capabilities.text_document
        link_caps = caps.document_link if caps else None
        tooltips = bool(link_caps and link_caps.tooltip_support)
        return document_links(features.outline(uri), features.folder(uri), tooltips)
