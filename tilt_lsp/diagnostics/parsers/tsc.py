"""TypeScript compiler (tsc): plain (``file(3,5): error TS2322: …``) and ``--pretty`` output.

In pretty output (colours already stripped by the stream) a diagnostic is ``file:3:5 - error
TS2322: …`` followed by a code excerpt and indented ``file:l:c - message`` related places.
Plain output continues a message on indented lines (the elaboration of a type error).
"""

from __future__ import annotations

import re
from dataclasses import replace

from tilt_lsp.diagnostics.model import Finding, Problem, Related, Severity
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

_PLAIN = re.compile(r"^(?P<path>[^\s(][^(]*?)\((?P<line>\d+),(?P<col>\d+)\): "
                    r"(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$")
_PRETTY = re.compile(r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?P<col>\d+) - "
                     r"(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$")
_RELATED = re.compile(r"^\s+(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?P<col>\d+) - (?P<msg>.*)$")
_MAX_EXTRA = 20


class TscParser:
    source = "tsc"
    trigger = re.compile(LOCATION_TRIGGER)
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._pending: Problem | None = None
        self._pretty = False
        self._extra: list[str] = []
        self._related: list[Related] = []

    @property
    def active(self) -> bool:
        return self._pending is not None

    def feed(self, line: str) -> list[Finding]:
        match = _PLAIN.match(line) or _PRETTY.match(line)
        if match:
            out = self._emit()
            sev = Severity.ERROR if match.group("sev") == "error" else Severity.WARNING
            self._pending = Problem(
                path=match.group("path"), line=int(match.group("line")),
                column=int(match.group("col")), message=match.group("msg").strip(),
                severity=sev, source=self.source, code=match.group("code"),
            )
            self._pretty = match.re is _PRETTY
            return out
        if self._pending is None:
            return []
        related = _RELATED.match(line) if self._pretty else None
        if related:
            if len(self._related) < _MAX_EXTRA:
                self._related.append(Related(
                    related.group("path"), int(related.group("line")),
                    int(related.group("col")), related.group("msg").strip(),
                ))
            return []
        if self._pretty and (not line.strip() or line[:1].isdigit() or line.startswith(" ")):
            squiggle = line.strip()
            p = self._pending
            if squiggle and squiggle.strip("~") == "" and p.end_column is None and p.column:
                self._pending = replace(p, end_line=p.line, end_column=p.column + len(squiggle))
            return []  # code excerpt ("3 console.log(…)"), squiggles, blank lines
        if not self._pretty and line.startswith(" ") and line.strip():
            if len(self._extra) < _MAX_EXTRA:
                self._extra.append(line.strip())
            return []
        return self._emit()

    def _emit(self) -> list[Finding]:
        pending, self._pending = self._pending, None
        extra, self._extra = self._extra, []
        related, self._related = self._related, []
        if pending is None:
            return []
        message = "\n".join([pending.message, *extra])
        return [replace(pending, message=message, related=tuple(related))]

    def flush(self, final: bool = True) -> list[Finding]:
        return self._emit()
