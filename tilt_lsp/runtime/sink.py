"""One stream of output lines (a build, a run step, a container's log): each line to the
resource log and through a ProblemStream; problems out as they complete."""

from __future__ import annotations

import asyncio

from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import LogLines, ProblemsFound
from tilt_lsp.runtime.controller import Dispatch

QUIET_FLUSH_S = 0.3  # a multi-line problem is complete when its stream goes quiet


class Sink:
    """One stream of lines: to the resource log, and through a ProblemStream to problems."""

    def __init__(
        self, resource: str, source: str, stream: ProblemStream, dispatch: Dispatch
    ) -> None:
        self._resource = resource
        self._source = source
        self._stream = stream
        self._dispatch = dispatch
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, line: str) -> None:
        self._dispatch(LogLines(self._resource, (line,)))
        self._found(self._stream.feed(line))
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(QUIET_FLUSH_S, self._flush)

    def _flush(self) -> None:
        self._timer = None
        self._found(self._stream.flush())

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._found(self._stream.close())

    def _found(self, problems: list[Problem]) -> None:
        if problems:
            self._dispatch(ProblemsFound(self._resource, self._source, tuple(problems)))
