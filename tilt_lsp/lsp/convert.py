"""Problems (1-based, tool terms) to LSP diagnostics (0-based, editor terms)."""

from __future__ import annotations

import os
from collections.abc import Callable

from lsprotocol import types
from pygls.uris import from_fs_path

from tilt_lsp.diagnostics.model import Problem, Severity
from tilt_lsp.lsp.protocol import DIAGNOSTIC_SOURCE

LineReader = Callable[[str, int], str | None]  # (path, 0-based line) -> text

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def uri(path: str) -> str:
    return from_fs_path(os.path.abspath(path)) or f"file://{path}"


def file_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


class LineCache:
    """A LineReader that reads each file once: one publish can place many diagnostics and
    related frames in the same few files. ``source`` gives a file's lines (the editor's open
    buffer, or the disk)."""

    def __init__(self, source: Callable[[str], list[str]] = file_lines) -> None:
        self._source = source
        self._files: dict[str, list[str]] = {}

    def __call__(self, path: str, line: int) -> str | None:
        lines = self._files.get(path)
        if lines is None:
            lines = self._files[path] = self._source(path)
        return lines[line] if 0 <= line < len(lines) else None


def problem_range(p: Problem, read_line: LineReader) -> types.Range:
    """The tool's place, widened to something visible: from the column (or the first
    non-blank character) to the given end, or to the end of the line."""
    line = max(p.line - 1, 0)
    text = read_line(p.path, line) or ""
    start = max(p.column - 1, 0) if p.column is not None else len(text) - len(text.lstrip())
    if p.end_line is not None and p.end_column is not None:
        end = types.Position(max(p.end_line - 1, line), max(p.end_column - 1, 0))
    else:
        end = types.Position(line, max(len(text), start + 1))
    return types.Range(types.Position(line, start), end)


def to_diagnostic(resource: str, p: Problem, read_line: LineReader) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri(r.path),
                problem_range(Problem(r.path, r.line, r.column, r.message), read_line),
            ),
            message=r.message,
        )
        for r in p.related
    ]
    return types.Diagnostic(
        range=problem_range(p, read_line),
        message=p.message,
        severity=_SEVERITY[p.severity],
        source=f"{DIAGNOSTIC_SOURCE} ({resource})",
        code=p.source or None,
        related_information=related or None,
        data={"resource": resource, "tool": p.source},
    )
