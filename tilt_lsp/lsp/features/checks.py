"""Checks as you type (on open and change, not only on save): a resource_deps entry naming
no resource (with "did you mean"), a path argument where nothing exists, an image that no
compose file or Kubernetes YAML uses. Pure over the outline; the engine's resource names
complete what the text alone cannot know."""

from __future__ import annotations

import asyncio
import difflib
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

from tilt_lsp.lsp.features import source
from tilt_lsp.lsp.features.context import FeatureContext, lsp_range
from tilt_lsp.lsp.features.publish import CHECKS, ENGINE, layers
from tilt_lsp.lsp.protocol import DIAGNOSTIC_SOURCE

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer

DEBOUNCE_S = 0.25
SOURCE = f"{DIAGNOSTIC_SOURCE} (Tiltfile)"
UNKNOWN_RESOURCE = "unknown-resource"
MISSING_PATH = "missing-path"
UNUSED_IMAGE = "unused-image"
# Paths that must exist (read_file and friends may have a default; load has its own error).
_MUST_EXIST = {
    "docker_build",
    "local_resource",
    "docker_compose",
    "k8s_yaml",
    "watch_file",
    "sync",
    "fall_back_on",
}
_DEPLOYERS = ("k8s_yaml", "docker_compose")


def check(
    outline: source.Outline,
    folder: str,
    known: list[str] | None,
    read: Callable[[str], str | None],
) -> list[types.Diagnostic]:
    """``known``: every resource name, or None when it cannot be known yet (resources come
    from YAML or loaded files and the engine has not read them)."""
    out: list[types.Diagnostic] = []
    if known is not None:
        out += _unknown_resources(outline, known)
    out += _missing_paths(outline, folder)
    out += _unused_images(outline, folder, read)
    return out


def resources_known_from_text(outline: source.Outline) -> bool:
    names = {c.name for c in outline.calls}
    if names & {"k8s_yaml", "docker_compose", "load"}:
        return False
    declared = len(outline.resources())
    return declared == sum(1 for c in outline.calls if c.name in source.RESOURCE_CALLS)


def _diagnostic(
    span: source.Span,
    message: str,
    code: str,
    severity: types.DiagnosticSeverity,
    data: dict[str, str] | None = None,
) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(span),
        message=message,
        severity=severity,
        source=SOURCE,
        code=code,
        data=data,
    )


def _unknown_resources(outline: source.Outline, known: list[str]) -> list[types.Diagnostic]:
    out: list[types.Diagnostic] = []
    for call in outline.calls:
        deps = call.arg(-1, "resource_deps")
        for s in deps.strings if deps else ():
            if s.value in known:
                continue
            close = difflib.get_close_matches(s.value, known, n=1, cutoff=0.6)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f" (resources: {', '.join(known) or 'none'})"
            )
            out.append(
                _diagnostic(
                    s.span,
                    f"resource_deps: no resource named '{s.value}'{hint}",
                    UNKNOWN_RESOURCE,
                    types.DiagnosticSeverity.Error,
                    {"suggestion": close[0]} if close else None,
                )
            )
    return out


def _missing_paths(outline: source.Outline, folder: str) -> list[types.Diagnostic]:
    out: list[types.Diagnostic] = []
    for call, s in outline.paths():
        if call.name not in _MUST_EXIST or "://" in s.value:
            continue
        if call.name in _DEPLOYERS and ("\n" in s.value or ":" in s.value):
            continue  # YAML text, not a path
        path = os.path.normpath(os.path.join(folder, os.path.expanduser(s.value)))
        if os.path.exists(path):
            continue
        out.append(
            _diagnostic(
                s.span,
                f"{call.name}(): nothing at {s.value} ({path} does not exist)",
                MISSING_PATH,
                types.DiagnosticSeverity.Warning,
            )
        )
    return out


def _unused_images(
    outline: source.Outline, folder: str, read: Callable[[str], str | None]
) -> list[types.Diagnostic]:
    texts: list[str] = []
    for call in outline.calls:
        if call.name not in _DEPLOYERS:
            continue
        first = call.arg(0, "yaml" if call.name == "k8s_yaml" else "configPaths")
        if first is None or not first.strings:
            return []  # YAML from local()/helm()/read_file(): cannot tell statically
        for s in first.strings:
            if "\n" in s.value:
                texts.append(s.value)
                continue
            text = read(os.path.normpath(os.path.join(folder, s.value)))
            if text is None:
                return []
            texts.append(text)
    out: list[types.Diagnostic] = []
    for call in outline.calls:
        ref = call.arg(0, "ref") if call.name == "docker_build" else None
        if ref is None or not ref.strings:
            continue
        s = ref.strings[0]
        repository = re.split(r"[:@]", s.value.rsplit("/", 1)[-1])[0]
        if any(re.search(rf"(?<![\w.-]){re.escape(repository)}(?![\w.-])", t) for t in texts):
            continue
        where = (
            "no compose file or Kubernetes YAML names it"
            if texts
            else "nothing deploys it (no k8s_yaml or docker_compose)"
        )
        out.append(
            _diagnostic(
                s.span,
                f"image '{s.value}' is built but not used: {where}",
                UNUSED_IMAGE,
                types.DiagnosticSeverity.Warning,
            )
        )
    return out


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def diagnostics_for(features: FeatureContext, uri: str) -> list[types.Diagnostic]:
    outline = features.outline(uri)
    known: list[str] | None = None
    if features.engine_loaded() or resources_known_from_text(outline):
        known = features.resource_names(uri)
    found = check(outline, features.folder(uri), known, _read)
    return without_engine_repeats(found, layers(features.ls).get(uri, ENGINE))


def without_engine_repeats(
    found: list[types.Diagnostic], engine: list[types.Diagnostic]
) -> list[types.Diagnostic]:
    """Once the file is saved the engine may say the same (an unused image, a missing deps
    path): say it once, the engine's way."""

    def repeated(d: types.Diagnostic) -> bool:
        line = d.range.start.line
        same_line = [e.message for e in engine if e.range.start.line == line]
        if d.code == UNUSED_IMAGE:
            return any("not used" in m for m in same_line)
        if d.code == MISSING_PATH:
            path = d.message.split(" nothing at ", 1)[-1].split(" (", 1)[0]
            return any(path in m for m in same_line)
        return False

    return [d for d in found if not repeated(d)]


def is_tiltfile(uri: str) -> bool:
    name = os.path.basename(uri)
    return name == "Tiltfile" or name.endswith(".Tiltfile") or name.startswith("Tiltfile.")


def register(ls: TiltLanguageServer, features: FeatureContext) -> None:
    pending: dict[str, asyncio.TimerHandle] = {}

    def run(uri: str) -> None:
        pending.pop(uri, None)
        layers(ls).publish(uri, CHECKS, diagnostics_for(features, uri))

    def schedule(uri: str, delay: float) -> None:
        if not is_tiltfile(uri):
            return
        old = pending.pop(uri, None)
        if old is not None:
            old.cancel()
        pending[uri] = asyncio.get_running_loop().call_later(delay, run, uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TiltLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TiltLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        schedule(params.text_document.uri, DEBOUNCE_S)
