"""Linkers (GNU ld through gcc/clang, and LLVM's lld): errors that carry a source location.

With debug info (``-g``) GNU ld names the source line: ``/usr/bin/ld: main.o: in function
`main':`` then ``main.c:7: undefined reference to `total'`` (or ``multiple definition of …;
other.o:util.c:3: first defined here``). lld prints ``ld.lld: error: undefined symbol: f`` and
``>>> referenced by main.c:7 (/src/main.c:7)`` lines (``>>> defined at`` for a duplicate). The
problem goes on the first location; the others are related places. Without ``-g`` there is
no line (``main.c:(.text+0x1e): …``), and nothing to point at.
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Problem, Related
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

# "/usr/bin/ld", "ld.lld", "/usr/bin/x86_64-linux-gnu-ld.gold": a program that is a linker.
# Anchored on a literal for lines that do not start with "/" (most log lines): cheap to fail.
_LINKER = r"(?:/\S*/)?(?:[\w.]+-)?(?:ld|ld\.lld|ld64\.lld|lld-link|ld\.gold|ld\.bfd)"
_LINKER_TRIGGER = r"(?:/\S*/)?(?:ld|ld\.lld|ld64\.lld|lld-link|ld\.gold|ld\.bfd): "
_IN_FUNCTION = re.compile(rf"^{_LINKER}: \S+: in function [`'](?P<func>[^']+)':$")
_GNU = re.compile(
    r"^(?P<path>[^\s:][^:]*?\.\w+):(?P<line>\d+): (?P<msg>(?:undefined reference to|multiple "
    r"definition of|relocation truncated to fit:) .+)$"
)
_FIRST_DEFINED = re.compile(r"; (?:\S+?\.o:)?(?P<path>[^\s:]+):(?P<line>\d+): first defined here$")
_LLD_ERROR = re.compile(rf"^{_LINKER}: error: (?P<msg>.+)$")
_LLD_PLACE = re.compile(
    r"^>>> (?P<what>referenced by|defined at) (?P<path>[^\s:]+):(?P<line>\d+)"
    r"(?: \((?P<abs>[^():\s]+):(?P<absline>\d+)\))?"
)
_MAX_RELATED = 20


class LinkerParser:
    source = "ld"
    trigger = re.compile(f"{LOCATION_TRIGGER}|{_LINKER_TRIGGER}")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._function: str | None = None
        self._lld: str | None = None  # the message of an lld error being read
        self._places: list[tuple[str, int, str]] = []

    @property
    def active(self) -> bool:
        return self._lld is not None or self._function is not None

    def feed(self, line: str) -> list[Finding]:
        if self._lld is not None:
            if line.startswith(">>> "):
                place = _LLD_PLACE.match(line)
                if place and len(self._places) < _MAX_RELATED:
                    path = place.group("abs") or place.group("path")
                    number = int(place.group("absline") or place.group("line"))
                    self._places.append((path, number, place.group("what")))
                return []
            out = self._emit_lld()
            return out + self.feed(line)
        function, self._function = self._function, None
        in_function = _IN_FUNCTION.match(line)
        if in_function:
            self._function = in_function.group("func")
            return []
        lld = _LLD_ERROR.match(line)
        if lld:
            self._lld, self._places = lld.group("msg").strip(), []
            return []
        gnu = _GNU.match(line)
        if gnu is None:
            return []
        message, related = gnu.group("msg"), []
        first = _FIRST_DEFINED.search(message)
        if first:
            message = message[: first.start()]
            related.append(
                Related(first.group("path"), int(first.group("line")), None, "first defined here")
            )
        if function:
            message += f" (in function '{function}')"
        return [
            Problem(
                gnu.group("path"),
                int(gnu.group("line")),
                None,
                message,
                source=self.source,
                related=tuple(related),
            )
        ]

    def _emit_lld(self) -> list[Finding]:
        message, places = self._lld or "", self._places
        self._lld, self._places = None, []
        if not places:
            return []
        (path, line, _what), rest = places[0], places[1:]
        related = tuple(Related(p, n, None, f"also {what} here") for p, n, what in rest)
        return [Problem(path, line, None, message, source=self.source, related=related)]

    def flush(self, final: bool = True) -> list[Finding]:
        self._function = None
        return self._emit_lld()
