"""The one small interface every tool-family parser implements, and helpers they share.

A parser is a streaming state machine over *clean* lines (no ANSI, no log prefixes, no CR).
Most lines of a log are ordinary output, so a parser also declares a ``trigger``: a regex
that, matched at the *start* of a line, matches every line that can start something it
recognises, and ``needles``: literal strings that start something wherever they occur. The
stream runs one combined anchored trigger over a line and only wakes idle parsers when it (or
a needle) matches; a parser in the middle of something (``active``) sees every line. That
keeps the cost of an ordinary log line at one anchored regex match, whatever the number of
parsers (an unanchored search was 4x slower).
"""

from __future__ import annotations

import re
from typing import Protocol

from tilt_lsp.diagnostics.model import Finding

LOCATION_TRIGGER = r"[^\s:(]+(?::\d+[:, ]|\(\d+,\d+\): )"
"""A line starting with ``path:line:`` or ``path(line,col): ``: every compiler's diagnostic.

Shared (and deduplicated in the combined trigger) because one cheap, backtracking-free
alternative is much faster than one per compiler; each parser's own regex does the rest.
Paths with spaces do not trigger: a price paid for speed on every ordinary log line.
"""


class Parser(Protocol):
    """A line-by-line recogniser of one tool family's problems."""

    source: str
    trigger: re.Pattern[str]
    needles: tuple[str, ...]

    @property
    def active(self) -> bool:
        """True while the parser is inside a multi-line problem and must see every line."""
        ...

    def feed(self, line: str) -> list[Finding]:
        """Consume one clean line; return the findings it completed."""
        ...

    def flush(self, final: bool = True) -> list[Finding]:
        """Return what is pending. ``final``: the stream ended, so report what can be and
        reset. Not final: the output went quiet (a long build step, a slow test), so report
        only what is complete but unconfirmed (a stack with no line after it yet) and keep
        the context that later lines need (the current build step, the running test)."""
        ...


def caret_column(line: str) -> int | None:
    """1-based column of the first ``^`` in a caret line, if the line is only a caret marker."""
    stripped = line.rstrip()
    if not stripped or stripped.lstrip(" \t|~^-") != "":
        return None
    index = stripped.find("^")
    return index + 1 if index >= 0 else None


def underline_length(line: str) -> int | None:
    """Characters a compiler's ``^~~~~`` marker covers from its caret (gcc, clang), if the line
    is only a marker (and gcc's ``|`` gutter)."""
    if "^" not in line or line.strip(" \t|~^+-") != "":
        return None
    rest = line[line.index("^") + 1:]
    return 1 + len(rest) - len(rest.lstrip("~"))
