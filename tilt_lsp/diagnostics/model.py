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
    code: str | None = None
    """The tool's own identifier for the kind of problem (``TS2322``, ``E0308``), if any."""
    package: str | None = None
    """A hint for resolving a bare file name (Java package, Go import path); not shown."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a stack trace, as printed (raw path, before path mapping).

    ``library`` is the parser's own verdict where the tool says so (a ``java.base/`` module, a
    ``runtime.`` function, ``node:internal``); path mapping adds its own verdict later.
    ``package`` helps to find a bare file name (``OrderService.java`` in ``com.acme.orders``).
    """

    path: str
    line: int
    column: int | None = None
    function: str = ""
    library: bool = False
    package: str | None = None
    excerpt: str | None = None
    """The code the tool printed for the frame, stripped: finds the column in the real line."""
    span: tuple[int, int] | None = None
    """Where the tool's markers (``^^^^``) fall within ``excerpt``, as [start, end) offsets."""


@dataclass(frozen=True, slots=True)
class Trace:
    """A runtime error with its stack, innermost frame first.

    Which frame is the culprit is only known after path mapping: the innermost frame that maps
    onto a workspace file gets the problem, the user's other frames become related places.
    """

    message: str
    frames: tuple[Frame, ...]
    source: str
    severity: Severity = Severity.ERROR
    code: str | None = None


Finding = Problem | Trace
"""What a parser yields: a located problem (build output) or a trace still to be placed."""
