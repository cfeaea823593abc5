"""Tiltfile language features and live status in the editor, one module per LSP feature.
``register`` wires them into the server; handlers stay a few lines and call pure functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tilt_lsp.lsp.features import (
    actions,
    checks,
    codelens,
    completion,
    definition,
    hover,
    links,
    signature,
    symbols,
)
from tilt_lsp.lsp.features.context import FeatureContext
from tilt_lsp.lsp.features.publish import CHECKS, layers

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

_REFRESHERS: dict[int, codelens.Refresher] = {}


def register(ls: TiltLanguageServer) -> None:
    features = FeatureContext(ls)
    for module in (completion, signature, hover, definition, symbols, links, checks):
        module.register(ls, features)
    actions.register(ls, features.text)

    def recheck() -> None:
        for uri in list(ls.workspace.text_documents):
            if checks.is_tiltfile(uri):
                layers(ls).publish(uri, CHECKS, checks.diagnostics_for(features, uri))

    refresher = _REFRESHERS[id(ls)] = codelens.Refresher(ls, [recheck])
    codelens.register(ls, features, refresher)


def status_changed(ls: TiltLanguageServer) -> None:
    """Called by the listener on each tilt/status: lenses and checks follow the engine."""
    refresher = _REFRESHERS.get(id(ls))
    if refresher is not None:
        refresher.status_changed()
