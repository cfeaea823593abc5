"""The diagnostics store: problems keyed by (resource, source, file), with replace-per-source
semantics and a memory of what was published, so a fixed error always clears — on every file
it was on (efm-langserver regressed on exactly this)."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable

from tilt_lsp.diagnostics.model import Problem

Key = tuple[str, str]  # (resource, source)


class ProblemStore:
    def __init__(self, max_per_key: int = 200) -> None:
        self._problems: dict[Key, dict[str, list[Problem]]] = {}
        self._published: set[str] = set()
        self._max = max_per_key

    def set(self, resource: str, source: str, problems: Iterable[Problem]) -> builtins.set[str]:
        """Replace what (resource, source) says; return the paths whose problems changed."""
        key = (resource, source)
        old = self._problems.pop(key, {})
        new: dict[str, list[Problem]] = defaultdict(list)
        for p in problems:
            if len(new[p.path]) < self._max:
                new[p.path].append(p)
        if new:
            self._problems[key] = dict(new)
        return {p for p in set(old) | set(new) if old.get(p) != new.get(p)}

    def add(self, resource: str, source: str, problems: Iterable[Problem]) -> builtins.set[str]:
        """Append (for streams: a log yields problems one at a time)."""
        key = (resource, source)
        current = self._problems.setdefault(key, {})
        changed: builtins.set[str] = builtins.set()
        for p in problems:
            items = current.setdefault(p.path, [])
            if p not in items and len(items) < self._max:
                items.append(p)
                changed.add(p.path)
        return changed

    def clear(self, resource: str, source: str | None = None) -> builtins.set[str]:
        changed: builtins.set[str] = builtins.set()
        for key in [
            k for k in self._problems if k[0] == resource and (source is None or k[1] == source)
        ]:
            changed |= set(self._problems.pop(key))
        return changed

    def for_path(self, path: str) -> list[tuple[str, str, Problem]]:
        return [
            (resource, source, p)
            for (resource, source), by_path in self._problems.items()
            for p in by_path.get(path, ())
        ]

    def for_resource(self, resource: str) -> list[Problem]:
        return [
            p
            for (r, _), by_path in self._problems.items()
            if r == resource
            for ps in by_path.values()
            for p in ps
        ]

    def all(self) -> list[tuple[str, str, Problem]]:
        return [
            (r, s, p)
            for (r, s), by_path in self._problems.items()
            for ps in by_path.values()
            for p in ps
        ]

    def to_publish(self, paths: Iterable[str]) -> dict[str, list[tuple[str, str, Problem]]]:
        """The full current list for each path (empty to clear), remembering what was sent."""
        out: dict[str, list[tuple[str, str, Problem]]] = {}
        for path in paths:
            items = self.for_path(path)
            if items or path in self._published:
                out[path] = items
            if items:
                self._published.add(path)
            else:
                self._published.discard(path)
        return out
