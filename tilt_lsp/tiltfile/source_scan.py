"""Finding places in Starlark source text, for messages that point at the right spot.

starlark-pyo3 tells a builtin only where its call starts; a message about ``deps=`` belongs on
``deps=``, and a warning about one path on that path's string. A syntax error says which
tokens the parser would take, and which bracket is open decides which of them the user
needs. A small lexer is enough for both: strings (with their prefixes, escapes and triple
quotes), comments, names and brackets. Lines and columns are 1-based, as in Location.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING_START = re.compile(r"(?i)(?:rb|br|r|b)?(?:'''|\"\"\"|'|\")")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_.]*")
_OPERATORS = ("**=", "//=", ">>=", "<<=", "==", "!=", "<=", ">=", "->", "**", "//", "<<", ">>")
CLOSERS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name | string | number | op
    text: str
    line: int
    column: int

    @property
    def value(self) -> str | None:
        """A string token's value (None for other tokens, or one Python cannot read)."""
        if self.kind != "string":
            return None
        try:
            value = ast.literal_eval(self.text)
        except (SyntaxError, ValueError):
            return None
        return value if isinstance(value, str) else None


def tokens(source: str) -> Iterator[Token]:
    """The tokens of ``source`` that matter for placing messages, comments skipped."""
    i, line, line_start, n = 0, 1, 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\n":
            i, line, line_start = i + 1, line + 1, i + 1
            continue
        if ch in " \t\r\\":
            i += 1
            continue
        if ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        col = i - line_start + 1
        start = _STRING_START.match(source, i)
        if start:
            end = _string_end(source, start.end(), start.group().lstrip("rRbB"))
            text = source[i:end]
            yield Token("string", text, line, col)
            newlines = text.count("\n")
            if newlines:
                line += newlines
                line_start = i + text.rfind("\n") + 1
            i = end
            continue
        m = _NAME.match(source, i) or _NUMBER.match(source, i)
        if m:
            yield Token("name" if ch.isalpha() or ch == "_" else "number", m.group(), line, col)
            i = m.end()
            continue
        op = next((o for o in _OPERATORS if source.startswith(o, i)), ch)
        yield Token("op", op, line, col)
        i += len(op)


def _string_end(source: str, i: int, quote: str) -> int:
    """The index just past the string whose body starts at ``i``."""
    n = len(source)
    while i < n:
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and source[i] == "\n":
            return i  # unterminated: the parser reports it; stop at the line's end
        i += 1
    return n


def _before(tok: Token, line: int, column: int) -> bool:
    return (tok.line, tok.column) < (line, column)


def open_brackets(source: str, line: int | None = None, column: int = 1) -> list[Token]:
    """The brackets still open just before (line, column), or at the end of ``source``
    without a line: their opening tokens, outermost first."""
    stack: list[Token] = []
    for tok in tokens(source):
        if line is not None and not _before(tok, line, column):
            break
        if tok.kind != "op":
            continue
        if tok.text in CLOSERS:
            stack.append(tok)
        elif tok.text in CLOSERS.values() and stack and CLOSERS[stack[-1].text] == tok.text:
            stack.pop()
    return stack


def call_arguments(source: str, line: int, column: int) -> list[list[Token]]:
    """The arguments of the call whose name starts at (line, column): the tokens of each,
    split at the commas of the call's own parentheses. Empty if there is no such call."""
    args: list[list[Token]] = []
    depth = 0
    for tok in tokens(source):
        if _before(tok, line, column):
            continue
        if depth == 0:
            if tok.kind == "op" and tok.text == "(":
                depth, args = 1, [[]]
            elif tok.kind == "op" and tok.text not in (".",):
                return []  # not a call after all
            continue
        if tok.kind == "op" and tok.text in CLOSERS:
            depth += 1
        elif tok.kind == "op" and tok.text in CLOSERS.values():
            depth -= 1
            if depth == 0:
                return [a for a in args if a]
        elif tok.kind == "op" and tok.text == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    return [a for a in args if a]


def argument(
    source: str, line: int, column: int, name: str, position: int | None = None
) -> list[Token] | None:
    """The tokens of argument ``name`` (``name=...``) of the call at (line, column), or of
    its ``position``-th positional argument (0-based) when it is not given by keyword."""
    args = call_arguments(source, line, column)
    for arg in args:
        if _keyword(arg) == name:
            return arg
    positional = [a for a in args if _keyword(a) is None and a[0].text not in ("*", "**")]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _keyword(arg: list[Token]) -> str | None:
    if len(arg) >= 2 and arg[0].kind == "name" and arg[1].kind == "op" and arg[1].text == "=":
        return arg[0].text
    return None


def string_in(arg: list[Token], value: str) -> Token | None:
    """The first string literal in ``arg`` whose value is ``value``."""
    return next((t for t in arg if t.kind == "string" and t.value == value), None)
