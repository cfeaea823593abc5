"""``node --test``: failed tests in the TAP reporter (the default off a terminal) and in the
spec reporter.

TAP prints ``not ok 2 - name`` and a YAML block: ``error:`` (quoted, or a ``|-`` block),
``name: 'TypeError'``, ``location:`` (where the test is defined) and ``stack: |-`` whose frames
have no ``at `` (``displayName (/app/users.js:2:23)``). The spec reporter prints
``✖ name (1.2ms)``, the indented error and ``at`` frames. Either way the problem goes on the
innermost user frame, named after the test; a test without a user frame in its stack (a
timeout) goes on its ``location:``. Suites that failed because a subtest failed and
``# TODO`` tests are not problems.
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Frame, Trace
from tilt_lsp.diagnostics.parsers.node import frame_from_location

_NOT_OK = re.compile(r"^(?P<indent> *)not ok \d+ - (?P<name>.*?)(?P<todo> # (?:TODO|SKIP)\b.*)?$")
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[a-zA-Z]\w*): ?(?P<value>.*)$")
_SPEC_FAIL = re.compile(r"^(?P<indent> *)✖ (?P<name>.+?) \([\d.]+m?s\)(?P<todo> # TODO.*)?$")
_SPEC_ERROR = re.compile(r"^ *(?P<error>[A-Z]\w*(?: \[[A-Z0-9_]+\])?: ?.*|[A-Z]\w*Error)$")
_SPEC_AT = re.compile(r"^ +at (?:async )?(?:(?P<func>.*?) \()?(?P<loc>[^()\s][^()]*?)\)?(?: \{)?$")
_STACK_FRAME = re.compile(r"^(?:async )?(?:(?P<func>.*?) \()?(?P<loc>[^()\s][^()]*?)\)?$")
_MAX_FRAMES = 100
# A suite's own failure only says its subtests failed; they are reported themselves.
_SUITE_MARKS = frozenset(
    {("type", "suite"), ("failureType", "subtestsFailed"), ("failureType", "cancelledByParent")}
)
# What starts the spec reporter's next line of results (pass, fail, info, skip, suite).
_SPEC_MARKS = ("\u2714", "\u2716", "\u2139", "\ufe63", "\u25b6")
_MAX_MESSAGE_LINES = 4
_MAX_SPEC_LINES = 40  # lines of one spec-reporter failure before its frames


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return value


class NodeTestParser:
    source = "node --test"
    trigger = re.compile(r" *(?:not ok \d+ - |✖ )")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._mode = ""  # "" | "tap" | "spec"
        self._name = ""
        self._indent = 0
        self._block = ""  # the YAML key whose block is being read: error | stack | other
        self._block_indent = 0
        self._error: list[str] = []
        self._error_name = ""
        self._suite = False
        self._location: Frame | None = None
        self._frames: list[Frame] = []
        self._lines = 0

    @property
    def active(self) -> bool:
        return bool(self._mode)

    def feed(self, line: str) -> list[Finding]:
        if self._mode == "tap":
            return self._tap(line)
        if self._mode == "spec":
            return self._spec(line)
        return self._start(line)

    def _start(self, line: str) -> list[Finding]:
        tap = _NOT_OK.match(line)
        if tap and not tap.group("todo"):
            self._mode, self._name = "tap", tap.group("name")
            self._indent = len(tap.group("indent"))
            return []
        spec = _SPEC_FAIL.match(line)
        if spec and not spec.group("todo"):
            self._mode, self._name = "spec", spec.group("name")
            self._indent = len(spec.group("indent"))
        return []

    def _tap(self, line: str) -> list[Finding]:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if stripped == "..." and indent <= self._indent + 2:
            return self._finish()
        if stripped == "---":
            return []
        if indent <= self._indent and stripped:
            return self._finish() + self._start(line)  # a block that never ended
        if self._block and (indent > self._block_indent or not stripped):
            if self._block == "error" and stripped and len(self._error) < _MAX_MESSAGE_LINES:
                self._error.append(stripped)
            elif self._block == "stack":
                self._add_frame(_STACK_FRAME.match(stripped))
            return []
        self._block = ""
        key = _KEY.match(line)
        if key is None:
            return []
        name, value = key.group("key"), key.group("value").strip()
        if value in ("|-", "|", ">-", ">"):
            self._block, self._block_indent = name, indent
        elif name == "error":
            self._error = [_unquote(value)]
        elif name == "name":
            self._error_name = _unquote(value)
        elif (name, _unquote(value)) in _SUITE_MARKS:
            self._suite = True
        elif name == "location":
            self._location = frame_from_location(f"test '{self._name}'", _unquote(value))
        return []

    def _spec(self, line: str) -> list[Finding]:
        stripped = line.strip()
        at = _SPEC_AT.match(line)
        if at:
            self._add_frame(at)
            return []
        if stripped.startswith(_SPEC_MARKS) or (stripped == "}" and self._frames):
            return self._finish() + self._start(line)
        self._lines += 1
        if self._lines > _MAX_SPEC_LINES:
            return self._finish()
        if not stripped:
            return self._finish() if self._frames else []
        if self._frames:
            if not line.startswith(" "):
                return self._finish() + self._start(line)  # not the report's: it ended
            return []  # the error's own properties after its stack: "code: 'ERR_ASSERTION'"
        if not self._error:
            error = _SPEC_ERROR.match(line)
            if error is None:
                return self._finish()
            self._error = [error.group("error").strip()]
        elif len(self._error) < _MAX_MESSAGE_LINES:
            self._error.append(stripped)
        return []

    def _add_frame(self, match: re.Match[str] | None) -> None:
        if match is None or len(self._frames) >= _MAX_FRAMES:
            return
        frame = frame_from_location(match.group("func"), match.group("loc"))
        if frame is not None:
            self._frames.append(frame)

    def _finish(self) -> list[Finding]:
        name, frames, location = self._name, self._frames, self._location
        error = "\n".join(part for part in self._error if part)
        if self._error_name and not error.startswith(self._error_name):
            error = f"{self._error_name}: {error}"
        suite = self._suite
        self._reset()
        if suite or not error:
            return []
        if location is not None:
            frames = [*frames, location]  # where the test is: the culprit when nothing else is
        if not frames:
            return []
        return [Trace(message=f"{name} failed: {error}", frames=tuple(frames), source=self.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        if not final:
            return []  # the block's "..." or the next test ends it
        return self._finish()
