"""Python: tracebacks (plain, chained, from ``logging.exception``) and syntax errors.

A traceback is recognised only by its exact header line and ``  File "…", line N`` frames, so
prose that mentions "Traceback" or "File" never starts one. A syntax error printed without a
traceback (startup, ``py_compile``, ``compileall``) is a location line without ``, in …``
followed by the offending code and ``SyntaxError:``/``IndentationError:``/``TabError:``.
Each block of a chained traceback ("During handling of the above exception…", "The above
exception was the direct cause…") is its own problem: each names a different culprit line.
unittest's ``FAIL: test_add (test_calc.CalcTest.test_add)`` line names the test of the
traceback that follows. Inside pytest's ``PASSES`` section tracebacks are the captured logs
of tests that passed: not problems; its ``FAILURES`` and ``ERRORS`` sections are the pytest
parser's. A line of the same stream's other output may fall inside
a traceback (``docker compose up`` interleaves stdout and stderr): up to ``MAX_FOREIGN`` lines
that neither continue the traceback nor end it are skipped.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Severity, Trace
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

_HEADER = re.compile(r"Traceback \(most recent call last\):\s*$")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
_SYNTAX_TYPES = ("SyntaxError", "IndentationError", "TabError")
_WARNING = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+): (?P<category>[A-Z]\w*Warning): "
                      r"(?P<msg>.+)$")
# An ExceptionGroup (asyncio.TaskGroup) draws its tracebacks in a box: "  + Exception Group
# Traceback…", "  |   File …", "  +-+---- 1 ----", "    | ValueError: …". Without the box
# drawing, each part is an ordinary traceback, and each becomes its own problem.
_GROUP_HEADER = re.compile(r"^\s*\+ Exception Group Traceback \(most recent call last\):\s*$")
_GROUP_LINE = re.compile(r"^\s*(?P<mark>[+|])(?P<rest>.*)$")
_SEPARATOR = "\x00separator"  # not a possible line: the stream removes NUL bytes
_MAX_FRAMES = 500
_MAX_EXCERPT = 12  # lines between frames: code and carets (3.13 prints multi-line spans)
MAX_FOREIGN = 2  # lines of other output tolerated inside one traceback
_UNITTEST = re.compile(r"^(?:FAIL|ERROR): (?P<test>\w+ \([\w.]+\)(?: \(.*\))?)$")
_PYTEST_SESSION = re.compile(r"^={3,} (?P<title>.+?) ={3,}$")
PYTEST_END = re.compile(r"^(?:=+ )?\d+ (?:failed|passed|errors?)\b.* in [\d.]+s\b.*$")
"""pytest's last line, with ``-q`` too (no ``=`` around it): a run's sections end here."""
# Exception names that end a traceback at once; any other name is held until the next line
# shows whether the traceback went on (then it was someone else's output).
_STRONG = ("Error", "Exception", "Exit", "Interrupt", "Warning", "Iteration", "Group")

# Lines inside a traceback between frames: the code excerpt and its carets, always indented.
# The "*** Error compiling" line of compileall needs no handling: the location line follows.


class PythonParser:
    source = "python"
    trigger = re.compile(LOCATION_TRIGGER + r'|\s*File "[^"]+", line \d+|(?:FAIL|ERROR): \w|={3,} ')
    needles: tuple[str, ...] = ("Traceback (most recent call last):",)  # also after a log prefix

    def __init__(self) -> None:
        self._group = False
        self._frames: list[Frame] = []
        self._state = "idle"  # idle | traceback | syntax
        self._since_frame = 0
        self._shown_indent = 0
        self._test: str | None = None  # unittest's name for the next traceback
        self._test_age = 0
        self._quiet = False  # in pytest's PASSES section
        self._held: list[str] = []  # the exception line, or other output inside the trace
        self._foreign = 0

    @property
    def active(self) -> bool:
        return (self._state != "idle" or self._group or self._test is not None
                or self._quiet)

    def feed(self, line: str) -> list[Finding]:
        if self._group or _GROUP_HEADER.match(line):
            inner = _ungroup(line)
            if inner is None:
                self._group = False  # the box ended: back to plain lines
                self._reset()
            else:
                self._group = True
                return self._reset() if inner is _SEPARATOR else self._feed(inner)
        return self._feed(line)

    def _feed(self, line: str) -> list[Finding]:
        if self._state == "idle":
            return self._idle(line)
        frame = _FRAME.match(line)
        if self._held:
            if frame or (line[:1] in (" ", "\t") and line.strip()):
                # The traceback goes on: the held lines were other output, not its end.
                self._foreign += len(self._held)
                self._held = []
                self._since_frame -= 1  # the first held line was counted as an excerpt line
                if self._foreign > MAX_FOREIGN:
                    self._reset()
                    return self._idle(line)
            elif line.strip() and len(self._held) <= MAX_FOREIGN and not _is_strong(line):
                self._held.append(line)
                return []
            elif _is_strong(line):
                self._held = []  # the exception line: what was held was other output
                return self._finish(line)
            else:
                return self._end_with_held(line)
        self._since_frame = 0 if frame else self._since_frame + 1
        if self._since_frame > _MAX_EXCERPT:
            return self._reset()  # a frame's excerpt is a few lines; this is something else
        if frame:
            if len(self._frames) < _MAX_FRAMES:
                self._frames.append(_frame(frame))
            if frame.group("func") is None and self._state == "syntax":
                self._frames = [self._frames[-1]]
            return []
        if line.startswith((" ", "\t")) or not line.strip():
            # Code excerpt, caret markers, or the blank line some tools print; keep going.
            if self._frames and line.strip():
                self._excerpt_line(line)
            return [] if line.strip() or self._frames else self._reset()
        if _is_strong(line):
            return self._finish(line)
        self._held = [line]  # the exception line, unless the traceback goes on after it
        return []

    def _end_with_held(self, line: str | None) -> list[Finding]:
        """The traceback ended: its first held line was the exception line; the rest, and
        ``line``, are read afresh."""
        held, self._held = self._held, []
        out = self._finish(held[0])
        for text in [*held[1:], *([line] if line is not None else [])]:
            out.extend(self._feed(text))
        return out

    def _excerpt_line(self, line: str) -> None:
        """Remember the frame's code and where its ``^^^`` markers point (3.11+)."""
        frame = self._frames[-1]
        if self._since_frame == 1:
            self._frames[-1] = replace(frame, excerpt=line.strip())
            self._shown_indent = len(line) - len(line.lstrip())
        elif self._since_frame == 2 and frame.excerpt and line.strip(" ~^") == "":
            first, last = line.find("^"), line.rfind("^")
            if first >= 0:
                start, end = first - self._shown_indent, last + 1 - self._shown_indent
                if 0 <= start < end <= len(frame.excerpt) + 1:  # +1: "expected ':'" at the end
                    self._frames[-1] = replace(frame, span=(start, end))

    def _idle(self, line: str) -> list[Finding]:
        if self._quiet and PYTEST_END.match(line):
            self._quiet = False
            return []
        if line[:1] == "=" and (session := _PYTEST_SESSION.match(line)):
            # PASSES: captured logs of tests that passed. FAILURES, ERRORS: the pytest parser
            # reads them, naming each problem after its test.
            self._quiet = session.group("title") in ("PASSES", "FAILURES", "ERRORS")
            return []
        if line[:1] in ("F", "E") and (test := _UNITTEST.match(line)):
            self._test, self._test_age = test.group("test"), 0
            return []
        if self._test is not None:
            self._test_age += 1
            if self._test_age > 3:  # "-----", maybe a loader's line, then the traceback
                self._test = None
        if _HEADER.search(line):
            self._state = "traceback"
            self._frames = []
            return []
        frame = _FRAME.match(line)
        if frame and frame.group("func") is None:
            self._state = "syntax"
            self._frames = [_frame(frame)]
            return []
        warning = _WARNING.match(line)
        if warning:  # warnings.warn(): "app.py:11: DeprecationWarning: …"
            return [Problem(
                path=warning.group("path"), line=int(warning.group("line")), column=None,
                message=f"{warning.group('category')}: {warning.group('msg').strip()}",
                severity=Severity.WARNING, source=self.source,
            )]
        return []

    def _finish(self, line: str) -> list[Finding]:
        exc = _EXCEPTION.match(line.strip())
        frames = self._frames
        state = self._state
        self._reset()
        if exc is None or not frames:
            # A new header right away (no exception line) restarts; anything else ends it.
            return self._idle(line)
        name = exc.group("type")
        last = name.rsplit(".", 1)[-1]
        if state == "syntax" and last not in _SYNTAX_TYPES:
            return []
        if state == "traceback" and not (
            last.endswith(("Error", "Exception", "Exit", "Interrupt", "Warning", "Iteration"))
            or last[:1].isupper()
        ):
            return []
        if self._quiet:
            return []
        message = line.strip()
        if self._test is not None and state == "traceback":
            message = f"{self._test}: {message}"
            self._test = None
        return [Trace(message=message, frames=tuple(reversed(frames)), source=self.source)]

    def _reset(self) -> list[Finding]:
        self._held = []
        self._foreign = 0
        self._since_frame = 0
        self._shown_indent = 0
        self._state = "idle"
        self._frames = []
        return []

    def flush(self, final: bool = True) -> list[Finding]:
        out: list[Finding] = []
        if self._held:
            out = self._end_with_held(None)  # quiet after it: it was the exception line
        if not final:
            return out  # a traceback is only complete with its exception line
        self._group = False
        self._test = None
        self._quiet = False
        return out + self._reset()


def _is_strong(line: str) -> bool:
    """Whether a line is surely an exception line (``ValueError: …``, ``KeyboardInterrupt``)."""
    exc = _EXCEPTION.match(line.strip())
    return exc is not None and exc.group("type").rsplit(".", 1)[-1].endswith(_STRONG)


def _ungroup(line: str) -> str | None:
    """A line of an exception group's box without its drawing; None if it is not one."""
    match = _GROUP_LINE.match(line)
    if match is None:
        return None
    rest = match.group("rest")
    if match.group("mark") == "+" and rest.startswith("-"):
        return _SEPARATOR
    return rest[1:] if rest.startswith(" ") else rest


def _frame(match: re.Match[str]) -> Frame:
    path = match.group("path")
    library = path.startswith("<")  # <frozen importlib._bootstrap>, <string>, <stdin>
    return Frame(
        path=path, line=int(match.group("line")), function=match.group("func") or "",
        library=library,
    )
