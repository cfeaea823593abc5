"""One description of Tilt's Tiltfile API: every builtin's name, parameters, types and docs.

Completion, signature help and hover read this catalog; nothing else describes the API a
second time. Each entry is written as a Python-style signature (parsed with :mod:`ast`, since
Starlark shares Python's syntax) plus our own documentation. Whether tilt-lsp runs a builtin
comes from the loader's own tables (``api.BUILTINS``), so the docs cannot drift from the
implementation on that point.
"""

from __future__ import annotations

import functools

from tilt_lsp.tiltfile.catalog import build, core, deploy, unsupported, v1alpha1
from tilt_lsp.tiltfile.catalog.model import Entry, Param, Support

__all__ = ["ENTRIES", "Entry", "Param", "Support", "lookup", "names", "support"]

ENTRIES: dict[str, Entry] = {
    e.name: e for group in (core, build, deploy, unsupported, v1alpha1) for e in group.ENTRIES
}

# Starlark's own functions: documented so hover works, always available.
_LANGUAGE = frozenset(
    {"load", "struct", "fail", "print", "str", "int", "len", "range", "sorted", "type"}
)


def lookup(name: str) -> Entry | None:
    return ENTRIES.get(name)


def names() -> list[str]:
    return sorted(ENTRIES)


def support(name: str) -> Support:
    """How tilt-lsp handles ``name``: runs it, accepts it with no effect, or refuses it."""
    from tilt_lsp.tiltfile import api  # imported late: the API pulls in starlark

    if name in _LANGUAGE:
        return Support.SUPPORTED
    if name in api.unsupported.NAMES:
        return Support.UNSUPPORTED
    impl = api.BUILTINS.get(name)
    if impl is not None:
        # core's settings that only matter to Tilt's own UI are made by one factory
        accepted = impl.__qualname__.startswith("_accepted.")
        return Support.ACCEPTED if accepted else Support.SUPPORTED
    if name in _constant_names():
        return Support.SUPPORTED
    return Support.UNSUPPORTED


@functools.cache
def _constant_names() -> frozenset[str]:
    from tilt_lsp.tiltfile import api
    from tilt_lsp.tiltfile.state import EvalState

    return frozenset(api.constants(EvalState(main_path="Tiltfile", env={})))
