"""The problem: what every parser produces and every consumer (engine, CLI, LSP) reads.

Parsers know nothing of LSP; a problem uses 1-based lines and columns like the tools that print
them. The LSP layer converts to 0-based positions at the edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a problem (a caller's frame, an include site, a note)."""

    path: str
    line: int
    column: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in tool output.

    ``path`` is as the tool printed it until path mapping resolves it to a local absolute
    path. ``line``/``column`` are 1-based; ``column`` is None when the tool gave none.
    """

    path: str
    line: int
    column: int | None
    message: str
    severity: Severity = Severity.ERROR
    source: str = ""
    end_line: int | None = None
    end_column: int | None = None
    related: tuple[Related, ...] = field(default=())
