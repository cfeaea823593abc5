"""Rust: rustc/cargo errors and warnings, and panics (with or without a backtrace).

A compiler diagnostic is a ``error[E0308]: message`` header whose location comes on a later
`` --> src/x.rs:4:5`` line; ``note:``/``help:`` sub-diagnostics with their own ``-->`` become
related places. Headers without a location (``error: aborting due to …``, ``warning: `x`
generated 1 warning``) are summaries, not problems. A panic's location is where it was raised
(the user's call site under ``#[track_caller]``); with ``RUST_BACKTRACE=1`` the frames follow
and the first user frame wins, so a panic inside a dependency lands in user code. Both the
new (``panicked at src/main.rs:4:5:`` + message line) and the old (``panicked at 'msg',
src/main.rs:4:5``) formats are read.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Related, Severity, Trace

_HEADER = re.compile(r"^(?P<sev>error|warning)(?:\[(?P<code>\w+)\])?: (?P<msg>.+)$")
_SUB = re.compile(r"^(?P<kind>note|help)(?:\[\w+\])?: (?P<msg>.+)$")
_ARROW = re.compile(r"^\s*--> (?P<path>.+?):(?P<line>\d+):(?P<col>\d+)$")
_PANIC_NEW = re.compile(r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at "
                        r"(?P<path>.+?):(?P<line>\d+):(?P<col>\d+):$")
_PANIC_OLD = re.compile(r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at "
                        r"'(?P<msg>.*)', (?P<path>.+?):(?P<line>\d+):(?P<col>\d+)$")
_LABEL = re.compile(r"^\s*\d*\s*\|[\s|-]*(?P<marks>\^+)(?: (?P<label>\S.*))?$")
_BT_FUNC = re.compile(r"^\s+\d+: (?P<func>.+)$")
_BT_AT = re.compile(r"^\s+at (?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
_LIBRARY = ("/rustc/", "/.cargo/registry/", "/.cargo/git/", "/rustlib/")
_MAX_FRAMES = 200


class RustParser:
    source = "rustc"
    trigger = re.compile(r"(?:error|warning)(?:\[\w+\])?: |thread '[^']*'.* panicked at ")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._diag: Problem | None = None  # header seen; path empty until its "-->"
        self._sub: str | None = None
        self._labelled = False
        self._waited = 0  # lines since a header that still has no "-->" location
        self._panic: Trace | None = None
        self._panic_message: list[str] | None = None
        self._function = ""

    @property
    def active(self) -> bool:
        return self._diag is not None or self._panic is not None

    def feed(self, line: str) -> list[Finding]:
        if self._panic is not None:
            return self._panic_line(line)
        header = _HEADER.match(line)
        if header:
            out = self._emit()
            self._diag = Problem(
                path="", line=0, column=None, message=header.group("msg").strip(),
                severity=Severity.ERROR if header.group("sev") == "error" else Severity.WARNING,
                source=self.source, code=header.group("code"),
            )
            return out
        panic = _PANIC_NEW.match(line) or _PANIC_OLD.match(line)
        if panic:
            out = self._emit()
            frame = Frame(panic.group("path"), int(panic.group("line")), int(panic.group("col")))
            old = "msg" in panic.groupdict()
            self._panic = Trace(
                message=f"panicked: {panic.group('msg')}" if old else "panicked",
                frames=(frame,), source=self.source,
            )
            self._panic_message = None if old else []
            return out
        if self._diag is not None:
            return self._diag_line(line)
        return []

    def _diag_line(self, line: str) -> list[Finding]:
        assert self._diag is not None
        if not self._diag.path:
            self._waited += 1
            if self._waited > 3 and not _ARROW.match(line):
                return self._emit()  # "error: something" from a program, not from rustc
        arrow = _ARROW.match(line)
        sub = _SUB.match(line)
        if arrow:
            path, ln, col = arrow.group("path"), int(arrow.group("line")), int(arrow.group("col"))
            d = self._diag
            if not d.path:
                self._diag = Problem(path, ln, col, d.message, d.severity, d.source, code=d.code)
            elif self._sub is not None:
                rel = Related(path, ln, col, self._sub)
                self._diag = replace(d, related=(*d.related, rel))
            self._sub = None
        elif sub:
            self._sub = sub.group("msg").strip()
            self._labelled = True  # labels after a note belong to the note
        elif not self._labelled and self._diag.path and (label := _LABEL.match(line)):
            # The primary label says what is wrong at the caret: worth having in the message.
            d = self._diag
            text = label.group("label")
            if text and text.startswith("help:"):
                text = None  # a suggestion, not what is wrong
            self._diag = replace(
                d, message=f"{d.message}: {text}" if text else d.message, end_line=d.line,
                end_column=(d.column + len(label.group("marks"))) if d.column else None,
            )
            self._labelled = True
        elif not line.strip():
            return self._emit()
        return []

    def _panic_line(self, line: str) -> list[Finding]:
        assert self._panic is not None
        if self._panic_message is not None:  # new format: the message follows the header
            ends = line.startswith(("note:", "stack backtrace:")) or not line.strip()
            if not ends and len(self._panic_message) < 20:
                self._panic_message.append(line.strip())
                return []
            msg = " ".join(self._panic_message)[:500]
            self._panic = Trace(f"panicked: {msg}", self._panic.frames, self.source)
            self._panic_message = None
        if line.startswith("stack backtrace:"):
            return []
        if line.startswith("note:") or not line.strip():
            return self._finish_panic()
        func = _BT_FUNC.match(line)
        if func:
            self._function = func.group("func")
            return []
        at = _BT_AT.match(line)
        if at:
            path = at.group("path")
            col = at.group("col")
            frames = self._panic.frames
            if len(frames) < _MAX_FRAMES:
                frame = Frame(path, int(at.group("line")), int(col) if col else None,
                              self._function, library=path.startswith(_LIBRARY))
                self._panic = Trace(self._panic.message, (*frames, frame), self.source)
            return []
        return self._finish_panic() + self.feed(line)

    def _finish_panic(self) -> list[Finding]:
        panic, self._panic = self._panic, None
        if panic is not None and self._panic_message:
            msg = " ".join(self._panic_message)[:500]
            panic = Trace(f"panicked: {msg}", panic.frames, panic.source)
        self._panic_message = None
        if panic is None:
            return []
        # The panic location repeats as a backtrace frame: keep backtrace order, innermost first.
        first, rest = panic.frames[0], panic.frames[1:]
        frames = tuple(f for f in rest if not f.library)
        ordered = (first, *(f for f in frames if (f.line, f.column) != (first.line, first.column)))
        return [Trace(panic.message, ordered, panic.source)]

    def _emit(self) -> list[Finding]:
        diag, self._diag, self._sub = self._diag, None, None
        self._labelled = False
        self._waited = 0
        self._waited = 0  # lines since a header that still has no "-->" location
        if diag is None or not diag.path:
            return []
        return [diag]

    def flush(self, final: bool = True) -> list[Finding]:
        return self._emit() + self._finish_panic()
