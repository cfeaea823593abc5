"""Ruby: uncaught exceptions and syntax errors.

An uncaught exception is ``file.rb:11:in `meth': message (NoMethodError)``, maybe an
error_highlight excerpt, then ``\\tfrom file.rb:7:in `caller'`` frames (Ruby 3.4 quotes with
``'`` instead of a backtick). The header is the innermost frame. A syntax error is
``file.rb:6: syntax error, …``; ``file.rb:3: warning: …`` is a warning.
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Severity, Trace
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

_HEADER = re.compile(r"^(?P<path>[^\s:]+\.rb):(?P<line>\d+):in [`'](?P<func>[^']*)': "
                     r"(?P<msg>.*) \((?P<cls>[A-Z][\w:]*)\)$")
_FROM = re.compile(r"^\s+from (?P<path>[^\s:]+\.rb):(?P<line>\d+):in [`'](?P<func>[^']*)'$")
_COMPILE = re.compile(r"^(?P<path>[^\s:]+\.rb):(?P<line>\d+): (?:(?P<warn>warning): )?"
                      r"(?P<msg>.+)$")
_MAX_FRAMES = 200
_MAX_GAP = 6  # error_highlight: blank line, code line, caret line


class RubyParser:
    source = "ruby"
    trigger = re.compile(LOCATION_TRIGGER)
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._message: str | None = None
        self._frames: list[Frame] = []
        self._gap = 0

    @property
    def active(self) -> bool:
        return self._message is not None

    def feed(self, line: str) -> list[Finding]:
        if self._message is not None:
            frame = _FROM.match(line)
            if frame:
                self._gap = _MAX_GAP  # excerpt lines only come before the first "from"
                if len(self._frames) < _MAX_FRAMES:
                    self._frames.append(_frame(frame))
                return []
            if self._gap < _MAX_GAP and not line.startswith("\t"):
                self._gap += 1
                return []
            return self._finish() + self._start(line)
        return self._start(line)

    def _start(self, line: str) -> list[Finding]:
        header = _HEADER.match(line)
        if header:
            self._message = f"{header.group('cls')}: {header.group('msg')}"
            self._frames = [_frame(header)]
            self._gap = 0
            return []
        compile_error = _COMPILE.match(line)
        if compile_error:
            warn = compile_error.group("warn") is not None
            msg = compile_error.group("msg")
            if warn or msg.startswith("syntax error"):
                return [Problem(
                    path=compile_error.group("path"), line=int(compile_error.group("line")),
                    column=None, message=msg.strip(),
                    severity=Severity.WARNING if warn else Severity.ERROR, source=self.source,
                )]
        return []

    def _finish(self) -> list[Finding]:
        message, frames = self._message or "", self._frames
        self._message, self._frames = None, []
        return [Trace(message=message, frames=tuple(frames), source=self.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        return self._finish() if self._message is not None else []


def _frame(match: re.Match[str]) -> Frame:
    return Frame(path=match.group("path"), line=int(match.group("line")),
                 function=match.group("func"))
