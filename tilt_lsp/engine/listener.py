"""What the engine tells its front end (the language server, or the terminal CLI)."""

from __future__ import annotations

from typing import Protocol

from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.engine.status import ResourceStatus

Published = dict[str, list[tuple[str, str, Problem]]]  # path -> [(resource, source, problem)]


class EngineListener(Protocol):
    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        """Some resource's status changed (statuses: all of them, in Tiltfile order)."""

    def diagnostics_changed(self, published: Published) -> None:
        """The full problem list of each path that changed; an empty list clears a path."""

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None: ...

    def progress(self, resource: str, phase: str, message: str) -> None:
        """phase: "begin" or "end" of an update."""

    def message(self, severity: str, text: str) -> None:
        """Something the user must act on (not routine status)."""


class NullListener:
    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        pass

    def diagnostics_changed(self, published: Published) -> None:
        pass

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None:
        pass

    def progress(self, resource: str, phase: str, message: str) -> None:
        pass

    def message(self, severity: str, text: str) -> None:
        pass
