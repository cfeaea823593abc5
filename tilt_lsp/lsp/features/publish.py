"""One publishDiagnostics per file, from several layers: the engine's problems (on save,
from builds and runtimes) and the as-you-type checks. A publish replaces the file's whole
list, so each layer's last list is kept and they are sent together."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

ENGINE = "engine"
CHECKS = "checks"


class Layers:
    def __init__(self, ls: TiltLanguageServer) -> None:
        self._ls = ls
        self._layers: dict[str, dict[str, list[types.Diagnostic]]] = {}

    def publish(self, uri: str, layer: str, diagnostics: list[types.Diagnostic]) -> None:
        by_layer = self._layers.setdefault(uri, {})
        if layer in by_layer and by_layer[layer] == diagnostics and layer != ENGINE:
            return  # a re-check that found the same: nothing to send

        by_layer[layer] = diagnostics
        merged = [d for name in sorted(by_layer) for d in by_layer[name]]
        self._ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=merged)
        )

    def get(self, uri: str, layer: str) -> list[types.Diagnostic]:
        return list(self._layers.get(uri, {}).get(layer, []))


_LAYERS: weakref.WeakKeyDictionary[TiltLanguageServer, Layers] = weakref.WeakKeyDictionary()


def layers(ls: TiltLanguageServer) -> Layers:
    found = _LAYERS.get(ls)
    if found is None:
        found = _LAYERS[ls] = Layers(ls)
    return found
