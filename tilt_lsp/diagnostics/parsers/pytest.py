"""pytest: the FAILURES and ERRORS sections of a test run, in every ``--tb`` style.

pytest does not print Python tracebacks: each failed test gets a section headed
``____ test_name ____`` whose frames are ``path:line: ...`` lines (``tests/test_x.py:7:
AssertionError`` in the long style, ``tests/test_x.py:7: in test_add`` in the short one) and
whose message is the ``E   `` lines. A section is one problem, on the innermost frame that is
the user's (``calc.py:6`` when the test called it), named after the test. ``--tb=line`` prints
only ``/abs/path.py:7: message`` per failure; the names come from the short test summary,
which lists the failures in the same order (``FAILED tests/test_x.py::test_add - …``); when
the counts differ, no name is better than a wrong one. The ``E`` lines of a collection
error can hold a whole Python error (a ``SyntaxError`` with its ``File "…", line 2``), and
``--tb=native`` prints Python's own tracebacks: a section's lines (the ``E`` lines without
their ``E``) go through a Python parser of its own, whose problem then wins, named after the
test. (The stream's Python parser leaves these sections to this one.)
"""

from __future__ import annotations

import re
from dataclasses import replace

from tilt_lsp.diagnostics.model import Finding, Frame, Trace
from tilt_lsp.diagnostics.parsers.python import PYTEST_END, PythonParser

_SESSION = re.compile(r"^={3,} (?P<title>.+?) ={3,}$")
_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_CAPTURED = re.compile(r"^-{3,} (?:Captured|captured) .* -{3,}$")
_LOCATION = re.compile(r"^(?P<path><[^>]+>|[^\s:<][^:]*?\.py):(?P<line>\d+): ?(?P<rest>.*)$")
_E_LINE = re.compile(r"^E(?: +(?P<text>.*))?$")
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (?P<id>\S+?)(?: - .*)?$")
_MAX_HELD = 1000
_MAX_FRAMES = 200
_MAX_E_LINES = 8


class PytestParser:
    source = "pytest"
    trigger = re.compile(r"={3,} (?:FAILURES|ERRORS) ={3,}$")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._in_section = False  # inside FAILURES or ERRORS
        self._errors = False  # ERRORS (setup, collection) rather than FAILURES
        self._held: list[Trace] = []  # --tb=line failures, named by the summary
        self._summary: list[str] | None = None  # test names of the short test summary
        self._reset_test(None)

    def _reset_test(self, name: str | None) -> None:
        self._test = name
        self._frames: list[Frame] = []
        self._e_lines: list[str] = []
        self._inner = PythonParser()
        self._inner_found: list[Finding] = []
        self._captured = False  # reading a test's captured output: not ours

    @property
    def active(self) -> bool:
        return self._in_section or bool(self._held)

    def feed(self, line: str) -> list[Finding]:
        if self._summary is not None:
            summary = _SUMMARY.match(line)
            if summary and len(self._summary) < _MAX_HELD:
                self._summary.append(summary.group("id").split("::", 1)[-1])
                return []
            return self._release() + self.feed(line)
        session = _SESSION.match(line)
        if session:
            out = self._finish()
            title = session.group("title")
            if self._held:
                if title == "short test summary info":
                    self._summary = []
                    self._in_section = False
                    return out
                out += self._release()
            self._in_section = title in ("FAILURES", "ERRORS")
            self._errors = title == "ERRORS"
            self._reset_test(None)
            return out
        if not self._in_section:
            return []
        if PYTEST_END.match(line):  # -q: the run ended without a summary
            out = self._finish() + self._release()
            self._in_section = False
            return out
        section = _SECTION.match(line)
        if section:
            out = self._finish()
            self._reset_test(section.group("name"))
            return out
        if self._captured:
            return []
        if _CAPTURED.match(line):
            self._captured = True
            return []
        e_line = _E_LINE.match(line)
        if e_line:
            text = e_line.group("text") or ""
            if len(self._e_lines) < _MAX_E_LINES and text.strip():
                self._e_lines.append(text.strip())
            inner = line[1:]
            inner = inner[3:] if inner.startswith("   ") else inner.lstrip()
            self._inner_found.extend(self._inner.feed(inner))
            return []
        self._inner_found.extend(self._inner.feed(line))  # --tb=native: Python's own format
        location = _LOCATION.match(line)
        if location:
            return self._location(location)
        return []

    def _location(self, location: re.Match[str]) -> list[Finding]:
        path = location.group("path")
        frame = Frame(path=path, line=int(location.group("line")), library=path.startswith("<"))
        if self._test is None:
            # --tb=line: "E" lines, then one location line with the message; no test name.
            e_lines, self._e_lines = self._e_lines, []
            message = location.group("rest").strip() or " ".join(e_lines[:1])
            if message and len(self._held) < _MAX_HELD:
                self._held.append(Trace(message=message, frames=(frame,), source=self.source))
            return []
        if len(self._frames) < _MAX_FRAMES:
            self._frames.append(frame)
        return []

    def _finish(self) -> list[Finding]:
        test, frames, e_lines = self._test, self._frames, self._e_lines
        inner = self._inner_found + self._inner.flush()
        self._reset_test(None)
        if test is None:
            return []
        prefix = f"{test}: " if self._errors else f"{test} failed: "
        traces = [f for f in inner if isinstance(f, Trace)]
        if traces:
            return [replace(t, message=prefix + t.message, source=self.source) for t in traces]
        if not frames or not e_lines:
            return []
        message = prefix + "\n".join(e_lines)
        return [Trace(message=message, frames=tuple(reversed(frames)), source=self.source)]

    def _release(self) -> list[Finding]:
        """The --tb=line failures, named if the summary listed as many failures."""
        held, names = self._held, self._summary
        self._held, self._summary = [], None
        if names is None or len(names) != len(held):
            return list(held)
        return [
            replace(trace, message=f"{name} failed: {trace.message}")
            for trace, name in zip(held, names, strict=True)
        ]

    def flush(self, final: bool = True) -> list[Finding]:
        if not final:
            return []  # the next section header or the summary line completes a section
        out = self._finish() + self._release()
        self._in_section = False
        return out
