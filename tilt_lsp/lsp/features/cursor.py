"""Where the cursor is in text that may not parse yet (the user is typing): inside which
call, at which argument, inside a string or not, after which word. Pure; a small scanner over
the text before the cursor, since a half-typed call is exactly when completion is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENT_BEFORE = re.compile(r"([A-Za-z_][\w.]*)\s*$")
_WORD_BEFORE = re.compile(r"[A-Za-z_][\w.]*$|$")
_KEYWORD_BEFORE = re.compile(r"([A-Za-z_]\w*)\s*$")
# Names are looked for in the text just before a bracket or the cursor, not from the file's
# start (a search anchored at the end from position 0 costs the whole prefix each time).
_LOOKBACK = 200


@dataclass
class _Frame:
    bracket: str
    call: str | None  # the function called, for "("
    index: int = 0  # positional index of the current argument
    keyword: str | None = None  # the keyword of the current argument
    positional: int = 0
    used: list[str] = field(default_factory=list)  # keywords already given


@dataclass(frozen=True, slots=True)
class Context:
    call: str | None  # the innermost call the cursor is in (through lists)
    index: int  # positional index of the argument (when keyword is None)
    keyword: str | None
    in_string: bool
    string_prefix: str  # what is typed inside the string so far
    word: str  # the identifier (maybe dotted) typed before the cursor
    arg_start: bool  # at the start of an argument: a keyword name may come here
    used_keywords: tuple[str, ...]
    in_comment: bool = False


def offset(text: str, line: int, character: int) -> int:
    lines = text.split("\n")
    before = sum(len(x) + 1 for x in lines[:line])
    current = lines[line] if line < len(lines) else ""
    return before + min(character, len(current))


def context(text: str, line: int, character: int) -> Context:
    end = offset(text, line, character)
    stack: list[_Frame] = []
    i = 0
    in_string = False
    string_start = 0
    while i < end:
        c = text[i]
        if c == "#":
            nl = text.find("\n", i)
            if nl == -1 or nl >= end:
                return _result(stack, text, end, in_comment=True)
            i = nl + 1
            continue
        if c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            close = _string_end(text, i + len(quote), quote, end)
            if close is None:
                in_string, string_start = True, i + len(quote)
                break
            i = close
            continue
        if c in "([{":
            name = None
            if c == "(":
                m = _IDENT_BEFORE.search(text, max(0, i - _LOOKBACK), i)
                name = m.group(1) if m else None
            stack.append(_Frame(c, name))
        elif c in ")]}":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1].bracket == "(":
            frame = stack[-1]
            if frame.keyword is None:
                frame.positional += 1
            frame.keyword = None
            frame.index = frame.positional
        elif c == "=" and stack and stack[-1].bracket == "(":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            prev = text[i - 1] if i else ""
            if nxt != "=" and prev not in "=!<>":
                m = _KEYWORD_BEFORE.search(text, max(0, i - _LOOKBACK), i)
                if m:
                    stack[-1].keyword = m.group(1)
                    stack[-1].used.append(m.group(1))
        i += 1
    if in_string:
        return _result(stack, text, end, string_prefix=text[string_start:end])
    return _result(stack, text, end)


def _string_end(text: str, i: int, quote: str, end: int) -> int | None:
    """The index after the closing quote, or None when the string is still open at ``end``."""
    while i < end:
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if text[i] == "\n" and len(quote) == 1:
            return None if i >= end else i + 1  # an unclosed one-line string ends at the line
        i += 1
    return None


def _result(
    stack: list[_Frame],
    text: str,
    end: int,
    string_prefix: str | None = None,
    in_comment: bool = False,
) -> Context:
    call_frame = next((f for f in reversed(stack) if f.bracket == "("), None)
    direct = bool(stack) and stack[-1].bracket == "("
    found = _WORD_BEFORE.search(text, max(0, end - _LOOKBACK), end)
    word = "" if string_prefix is not None or in_comment or found is None else found.group(0)
    before = text[: end - len(word)].rstrip(" \t\n")
    arg_start = direct and (before.endswith("(") or before.endswith(",")) and "." not in word
    return Context(
        call=call_frame.call if call_frame else None,
        index=call_frame.index if call_frame else 0,
        keyword=call_frame.keyword if call_frame else None,
        in_string=string_prefix is not None,
        string_prefix=string_prefix or "",
        word=word,
        arg_start=arg_start,
        used_keywords=tuple(call_frame.used) if call_frame else (),
        in_comment=in_comment,
    )


def word_at(text: str, line: int, character: int) -> tuple[str, int, int] | None:
    """The dotted identifier under the cursor and its columns on the line."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    current = lines[line]
    for m in re.finditer(r"[A-Za-z_][\w.]*", current):
        if m.start() <= character <= m.end():
            # hovering `path` in `os.path.join` means os.path; keep the parts up to the cursor
            dot = current.find(".", character, m.end())
            stop = dot if dot != -1 else m.end()
            return current[m.start() : stop], m.start(), stop
    return None
