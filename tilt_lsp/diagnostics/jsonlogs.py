"""Structured (JSON) log lines: the stack trace inside one field, escaped onto one line.

pino puts it in ``err.stack``, Python JSON formatters in ``exc_info`` or ``traceback``, ECS
in ``error.stack_trace``, zap in ``stacktrace``, some loggers in a multi-line ``message``.
The trace's own lines are recovered so the ordinary parsers can read them. A line is only
decoded when it looks like a JSON object with an escaped newline and mentions such a field,
which keeps ordinary lines at the cost of a couple of ``in`` checks.

Docker's json-file log lines (``{"log": "…\\n", "stream": "stderr", "time": …}``) are the
other case: one record per output line, so they are unwrapped back into the plain stream.
"""

from __future__ import annotations

import json
from typing import Any

_STACK_KEYS = (
    "stack", "stack_trace", "stacktrace", "exc_info", "exc_text", "exception", "traceback",
    "backtrace", "error", "err", "trace", "message", "msg", "full_message",
)
_MARKERS = ("stack", "exc_", "exception", "traceback", "trace", "err", "msg", "message")
_MAX_DEPTH = 3


def stack_texts(text: str) -> list[str] | None:
    """The multi-line stack strings in a JSON log line; None if the line is not JSON."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}") and "\\n" in stripped):
        return None
    if not any(marker in stripped for marker in _MARKERS):
        return None
    try:
        record = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    found: list[str] = []
    _collect(record, 0, found)
    return found


def _collect(node: dict[str, Any], depth: int, found: list[str]) -> None:
    for key, value in node.items():
        lowered = key.lower().lstrip("@_")
        if isinstance(value, str):
            if "\n" in value and lowered in _STACK_KEYS:
                found.append(value)
        elif isinstance(value, dict) and depth < _MAX_DEPTH:
            _collect(value, depth + 1, found)
        elif (
            isinstance(value, list) and lowered in _STACK_KEYS and value
            and all(isinstance(v, str) for v in value)
        ):
            # Some formatters (structlog's exc_info as frames) emit lists of lines.
            found.append("\n".join(value))


def docker_json_log(text: str) -> str | None:
    """The output line inside a Docker json-file log record, or None if it is not one."""
    if not text.startswith('{"log":'):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("log"), str):
        return None
    if "stream" not in record and "time" not in record:
        return None
    return str(record["log"])
