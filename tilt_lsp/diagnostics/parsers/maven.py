"""Maven: compiler messages as the maven-compiler-plugin prints them.

``[ERROR] /src/main/java/com/acme/Order.java:[16,38] message`` (``[WARNING]`` for warnings),
then javac's detail lines (``symbol:``, ``location:``), indented, with or without another
``[ERROR]`` prefix. Maven prints every compiler error twice (in ``COMPILATION ERROR`` and again
in ``Failed to execute goal``); the stream reports a problem once. Test failures are Java
stack traces, read by the Java parser (which also takes surefire's test name).
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Problem, Severity

_MESSAGE = re.compile(
    r"^\[(?P<sev>ERROR|WARNING)\] (?P<path>\S+?\.(?:java|kt|scala|groovy)):"
    r"\[(?P<line>\d+)(?:,(?P<col>\d+))?\] (?P<msg>.*)$"
)
_DETAIL = re.compile(r"^(?:\[(?:ERROR|WARNING)\] )?\s+(?P<detail>[a-z][\w ]*:\s.*)$")
_MAX_DETAILS = 4


class MavenParser:
    source = "maven"
    trigger = re.compile(r"\[(?:ERROR|WARNING)\] \S+?\.(?:java|kt|scala|groovy):\[\d")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._pending: Problem | None = None
        self._details: list[str] = []

    @property
    def active(self) -> bool:
        return self._pending is not None

    def feed(self, line: str) -> list[Finding]:
        if self._pending is not None:
            detail = _DETAIL.match(line)
            if detail and len(self._details) < _MAX_DETAILS:
                self._details.append(" ".join(detail.group("detail").split()))
                return []
        out = self._emit()
        match = _MESSAGE.match(line)
        if match:
            col = match.group("col")
            self._pending = Problem(
                path=match.group("path"),
                line=int(match.group("line")),
                column=int(col) if col else None,
                message=match.group("msg").strip(),
                severity=Severity.ERROR if match.group("sev") == "ERROR" else Severity.WARNING,
                source=self.source,
            )
        return out

    def _emit(self) -> list[Finding]:
        pending, details = self._pending, self._details
        self._pending, self._details = None, []
        if pending is None:
            return []
        if details:
            message = "\n".join([pending.message, *details])
            pending = Problem(
                pending.path,
                pending.line,
                pending.column,
                message,
                pending.severity,
                pending.source,
            )
        return [pending]

    def flush(self, final: bool = True) -> list[Finding]:
        return self._emit()
