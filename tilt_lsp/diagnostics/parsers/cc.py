"""C and C++ compilers (gcc, g++, clang): errors and warnings with their context as related.

A diagnostic is ``file:line:col: error|warning: message``. What explains it comes around it:
``In file included from a.c:1:`` lines before it (the include chain), ``In instantiation of
…`` / ``required from here`` lines before a template error, and ``note:`` lines after it. All
of those become related places of the one problem. Java sources are left to javac's parser.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tilt_lsp.diagnostics.model import Finding, Problem, Related, Severity
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER, underline_length

_DIAG = re.compile(
    r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?:(?P<col>\d+):)? "
    r"(?P<sev>fatal error|error|warning|note): (?P<msg>.*)$"
)
_INCLUDED = re.compile(r"^(?:In file included|\s+) from (?P<path>[^:]+):(?P<line>\d+)(?::\d+)?[:,]$")
_REQUIRED = re.compile(
    r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?:(?P<col>\d+):)?\s+(?P<msg>(?:required|"
    r"in (?:required|expansion)|recursively required).*?):?$"
)
# The same "file:line: error:" shape is printed by other tools (ruby -w, mypy); only C-family
# sources (and extension-less system headers such as <vector>) are this parser's.
_C_EXTENSIONS = frozenset({
    "c", "h", "cc", "cp", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "inl", "ipp", "tcc",
    "m", "mm", "cu", "cuh", "s", "ino",
})
_SEVERITY = {"fatal error": Severity.ERROR, "error": Severity.ERROR, "warning": Severity.WARNING}
_MAX_RELATED = 50


class CcParser:
    source = "cc"  # gcc and clang print the same shape
    trigger = re.compile(f"{LOCATION_TRIGGER}|In file included from ")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._pending: Problem | None = None
        self._ranged = False  # the pending problem's first marker line was read
        self._context: list[Related] = []
        self._in_context = False

    @property
    def active(self) -> bool:
        return self._pending is not None or bool(self._context)

    def feed(self, line: str) -> list[Finding]:
        diag = _DIAG.match(line)
        if diag and not _is_c_source(diag.group("path")):
            diag = None
        if diag:
            return self._diagnostic(diag)
        included = _INCLUDED.match(line)
        if included and (line.startswith("In file") or self._in_context):
            out = self._emit()
            self._in_context = True
            self._add_context(included.group("path"), int(included.group("line")), None,
                              "included from here")
            return out
        required = _REQUIRED.match(line)
        if required:
            out = self._emit()
            col = required.group("col")
            self._add_context(required.group("path"), int(required.group("line")),
                              int(col) if col else None, required.group("msg"))
            return out
        if line.startswith((" ", "\t")) or ": In " in line or not line.strip():
            pending = self._pending
            if pending is not None and not self._ranged and pending.column is not None:
                length = underline_length(line)
                if length is not None:
                    self._ranged = True
                    self._pending = replace(pending, end_line=pending.line,
                                            end_column=pending.column + length)
            return []  # code excerpt, caret, "file: In function 'main':"
        out = self._emit()
        self._context = []
        self._in_context = False
        return out

    def _diagnostic(self, diag: re.Match[str]) -> list[Finding]:
        self._in_context = False
        col = diag.group("col")
        path, line = diag.group("path"), int(diag.group("line"))
        column = int(col) if col else None
        sev = diag.group("sev")
        if sev == "note":
            if self._pending is not None and len(self._pending.related) < _MAX_RELATED:
                note = Related(path, line, column, diag.group("msg").strip())
                self._pending = replace(self._pending, related=(*self._pending.related, note))
            self._ranged = True  # marker lines now belong to the note
            return []
        out = self._emit()
        self._ranged = False
        self._pending = Problem(
            path=path, line=line, column=column, message=diag.group("msg").strip(),
            severity=_SEVERITY[sev], source=self.source, related=tuple(self._context),
        )
        self._context = []
        return out

    def _add_context(self, path: str, line: int, column: int | None, message: str) -> None:
        if len(self._context) < _MAX_RELATED:
            self._context.append(Related(path, line, column, message))

    def _emit(self) -> list[Finding]:
        pending, self._pending = self._pending, None
        return [pending] if pending is not None else []

    def flush(self, final: bool = True) -> list[Finding]:
        if final:
            self._context = []
            self._in_context = False
        return self._emit()


def _is_c_source(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return True
    return name.rsplit(".", 1)[-1].lower() in _C_EXTENSIONS
