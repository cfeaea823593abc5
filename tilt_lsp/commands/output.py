"""How the terminal commands print problems and statuses."""

from __future__ import annotations

import json
from typing import Any

from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.engine.status import ResourceStatus


def problem_json(resource: str, p: Problem) -> dict[str, Any]:
    return {
        "path": p.path,
        "line": p.line,
        "column": p.column,
        "end_line": p.end_line,
        "end_column": p.end_column,
        "severity": p.severity.value,
        "message": p.message,
        "source": p.source,
        "resource": resource,
        "related": [
            {"path": r.path, "line": r.line, "column": r.column, "message": r.message}
            for r in p.related
        ],
    }


def problem_text(resource: str, p: Problem) -> str:
    col = p.column if p.column is not None else 1
    first = p.message.splitlines()[0] if p.message else ""
    return f"{p.path}:{p.line}:{col}: {p.severity.value}: {first} [{resource}]"


def format_problem(resource: str, p: Problem, fmt: str) -> str:
    return json.dumps(problem_json(resource, p)) if fmt == "json" else problem_text(resource, p)


def status_line(s: ResourceStatus) -> str:
    parts = [f"{s.name}:", f"build {s.build.value},", f"runtime {s.runtime.value}"]
    if s.pid:
        parts.append(f"(pid {s.pid})")
    if s.waiting_for:
        parts.append(f"waiting for {s.waiting_for}")
    if s.pending_changes:
        parts.append(f"{len(s.pending_changes)} pending change(s): trigger it to apply")
    if not s.enabled:
        parts.append("disabled")
    if s.last_error:
        parts.append(f"— {s.last_error}")
    return " ".join(parts)
