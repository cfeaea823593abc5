"""What Tilt's Starlark accepts and starlark-rust does not, rewritten before parsing.

Tilt runs go.starlark.net with ``While``, ``Set``, ``Recursion``, ``GlobalReassign`` and
``TopLevelControl``. starlark-rust has the last three (``set`` has no counterpart); tabs and
``while`` loops are rewritten:

- tabs in indentation become spaces (to the next multiple of 8, as Go's scanner counts);
- ``while COND:`` becomes ``for _ in range(<huge>):`` whose body starts with
  ``if not (COND): break`` — the same loop (``continue`` re-checks the condition).

The rewrite keeps every original line where it was except for the inserted check lines;
``LineMap`` maps a line of the rewritten text back to the user's line.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_FOREVER = 2147483647


@dataclass
class LineMap:
    """Rewritten line number (1-based) → the user's line number."""

    inserted: list[int] = field(default_factory=list)  # rewritten lines of the checks

    def original(self, line: int) -> int:
        if line in self.inserted:
            # A check line belongs to its while: the last original line before it.
            while line in self.inserted:
                line -= 1
        return line - sum(1 for at in self.inserted if at < line)


def expand_indent_tabs(source: str) -> str:
    """Tabs in the indentation of code lines (text inside a multi-line string is kept)."""
    if "\t" not in source:
        return source
    in_strings = _string_lines(source)
    lines = source.splitlines(keepends=True)
    return "".join(
        line if n in in_strings else _INDENT.sub(lambda m: m.group().expandtabs(8), line)
        for n, line in enumerate(lines, start=1)
    )


def _string_lines(source: str) -> set[int]:
    """Lines that continue a multi-line string (their leading whitespace is data)."""
    out: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                out.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def rewrite(source: str) -> tuple[str, LineMap]:
    source = expand_indent_tabs(source)
    if not re.search(r"^\s*while\b", source, re.MULTILINE):
        return source, LineMap()
    headers = {h.start: h for h in _while_headers(source)}
    if not headers:
        return source, LineMap()
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    inserted: list[int] = []
    i = 0
    while i < len(lines):
        h = headers.get(i + 1)
        body = None if h is None else _body_indent(lines, h)
        if h is None or body is None:  # not a while, or `while c: stmt` on one line
            out.append(lines[i])
            i += 1
            continue
        out.append(f"{' ' * h.indent}for _tilt_while_{h.start} in range({_FOREVER}):\n")
        out.extend("\n" for _ in range(h.start + 1, h.end + 1))  # a multi-line header
        out.append(f"{' ' * body}if not ({h.cond}):\n")
        inserted.append(len(out))
        out.append(f"{' ' * body}    break\n")
        inserted.append(len(out))
        i = h.end
    return "".join(out), LineMap(inserted)


@dataclass(frozen=True)
class _Header:
    start: int  # line of `while`
    end: int  # line of its `:`
    colon_end: int  # column after the `:`
    indent: int
    cond: str


def _while_headers(source: str) -> list[_Header]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    out = []
    starts = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
    previous = tokenize.NEWLINE
    for k, tok in enumerate(tokens):
        at_start = previous in starts
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            previous = tok.type
        if not (at_start and tok.type == tokenize.NAME and tok.string == "while"):
            continue
        depth = 0
        for t in tokens[k + 1 :]:
            if t.type == tokenize.OP and t.string in "([{":
                depth += 1
            elif t.type == tokenize.OP and t.string in ")]}":
                depth -= 1
            elif t.type == tokenize.OP and t.string == ":" and depth == 0:
                cond = " ".join(_slice(source, tok.end, t.start).split())
                out.append(_Header(tok.start[0], t.start[0], t.end[1], tok.start[1], cond))
                break
    return out


def _slice(source: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    lines = source.splitlines(keepends=True)
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1] : end[1]]
    parts = [lines[start[0] - 1][start[1] :], *lines[start[0] : end[0] - 1]]
    return "".join([*parts, lines[end[0] - 1][: end[1]]])


def _body_indent(lines: list[str], h: _Header) -> int | None:
    """The indentation of the first body line (None: the body is on the header line)."""
    rest = lines[h.end - 1][h.colon_end :].strip()
    if rest and not rest.startswith("#"):
        return None
    for line in lines[h.end :]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        width = len(line) - len(line.lstrip(" "))
        return width if width > h.indent else None
    return None
