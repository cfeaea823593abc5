"""Tiltfile errors: each carries the place it belongs to, so it can become a diagnostic."""

from __future__ import annotations

import re

from tilt_lsp.tiltfile.model import Location
from tilt_lsp.tiltfile.source_scan import CLOSERS, Token, open_brackets


class TiltfileError(Exception):
    """A Tiltfile that cannot be understood. ``kind`` names the family of mistake
    (syntax, argument, type, missing-file, live-update, unsupported, fail, reference,
    starlark) so callers and tests can tell them apart without parsing the message."""

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        kind: str = "error",
        argument: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.location = location
        self.kind = kind
        # The keyword argument the message is about: the error is placed on ``name=`` in
        # the call when the call says it by name (see args.locate_argument).
        self.argument = argument

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.message}"


_ARROW = re.compile(r"^\s*-->\s*(?P<path>.+):(?P<line>\d+):(?P<col>\d+)\s*$")
_PARSE_ERROR = re.compile(r"^Parse error: ")


def from_starlark_message(
    text: str, skip_path: str | None = None, source: str | None = None
) -> TiltfileError:
    """Translate the text of a ``starlark.StarlarkError`` (traceback, ``error: ...`` line,
    ``--> path:line:col`` arrow, source excerpt) into a located TiltfileError. With the
    ``source`` of the file, a parse error says what the parser expected in a few words."""
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
        if source is not None and location is not None:
            brackets = open_brackets(source, location.line, location.column)
            message = summarize_expected(message, brackets, location.line)
    elif message.startswith("fail: "):
        kind = "fail"
        message = message[len("fail: ") :]
    elif message.startswith("Variable `") and "not found" in message:
        kind = "reference"
    return TiltfileError(message or text.strip(), location, kind)


_EXPECTED = re.compile(r"^(?P<head>.*?),? expected one of (?P<tokens>.+)$", re.DOTALL)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WORDS = {
    "\\n": "the end of the line",
    "IDENTIFIER": "a name",
    "STRING": "a string",
    "INTEGER": "a number",
    "FLOAT": "a number",
    "FSTRING": "an f-string",
}


def summarize_expected(message: str, brackets: list[Token], line: int = 0) -> str:
    """Replace the parser's list of every token it could take (~50 after an expression)
    with the few a user means: a value, or the ',' or closing bracket of the innermost
    open bracket (naming its line when it opened on another), or the end of the line
    outside brackets."""
    m = _EXPECTED.match(message)
    if not m:
        return message
    expected = _QUOTED.findall(m.group("tokens"))
    suffix = ""
    if len(expected) <= 4:
        words = [_WORDS.get(t, f"'{t}'") for t in expected]
    else:
        words = []
        if "IDENTIFIER" in expected:
            words.append("a value")
        opener = brackets[-1] if brackets else None
        if opener is not None:
            closer = CLOSERS[opener.text]
            words += [f"'{t}'" for t in (",", closer) if t in expected]
            if opener.line != line:  # a call or list over several lines
                suffix = f" for the '{opener.text}' on line {opener.line}"
        elif "\\n" in expected:
            words.append("the end of the line")
    words = list(dict.fromkeys(words))
    if not words:
        return message
    said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{m.group('head')}, expected {said}{suffix}"


def unclosed_at_end(path: str, source: str) -> TiltfileError | None:
    """A file that ends inside a bracket, said the way Python does: at the bracket that is
    never closed (the innermost one), rather than at the end of the file."""
    open_at_end = open_brackets(source)
    if not open_at_end:
        return None
    tok = open_at_end[-1]
    return TiltfileError(
        f"syntax error: unexpected end of file: the '{tok.text}' on line {tok.line} "
        f"(column {tok.column}) is never closed",
        Location(path, tok.line, tok.column),
        "syntax",
    )
