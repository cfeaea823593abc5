"""Tiltfile errors: each carries the place it belongs to, so it can become a diagnostic."""

from __future__ import annotations

import re

from tilt_lsp.tiltfile.model import Location


class TiltfileError(Exception):
    """A Tiltfile that cannot be understood. ``kind`` names the family of mistake
    (syntax, argument, type, missing-file, live-update, unsupported, fail, reference,
    starlark) so callers and tests can tell them apart without parsing the message."""

    def __init__(self, message: str, location: Location | None = None, kind: str = "error"):
        super().__init__(message)
        self.message = message
        self.location = location
        self.kind = kind

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.message}"

    def __reduce__(self) -> tuple[type[TiltfileError], tuple[str, Location | None, str]]:
        # Keep the place and kind when the error crosses a process boundary (pickle).
        return (type(self), (self.message, self.location, self.kind))


_ARROW = re.compile(r"^\s*-->\s*(?P<path>.+):(?P<line>\d+):(?P<col>\d+)\s*$")
_PARSE_ERROR = re.compile(r"^Parse error: ")


def from_starlark_message(text: str, skip_path: str | None = None) -> TiltfileError:
    """Translate the text of a ``starlark.StarlarkError`` (traceback, ``error: ...`` line,
    ``--> path:line:col`` arrow, source excerpt) into a located TiltfileError."""
    lines = text.splitlines()
    message = ""
    for line in lines:
        if line.startswith("error: "):
            message = line[len("error: ") :].strip()
            break
    location = None
    for line in lines:
        m = _ARROW.match(line)
        if m and m.group("path") != skip_path:
            location = Location(m.group("path"), int(m.group("line")), int(m.group("col")))
            break
    kind = "starlark"
    if _PARSE_ERROR.match(message):
        kind = "syntax"
        message = "syntax error: " + message[len("Parse error: ") :]
    elif message.startswith("fail: "):
        kind = "fail"
        message = message[len("fail: ") :]
    elif message.startswith("Variable `") and "not found" in message:
        kind = "reference"
    return TiltfileError(message or text.strip(), location, kind)
