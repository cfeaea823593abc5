"""GNU make: a failed recipe and a Makefile syntax error.

``make: *** [Makefile:9: build] Error 1`` (make 4.x) names the Makefile line of the recipe
command that failed and its target; ``make[1]: …`` is a sub-make, whose paths are relative to
the directory of its ``make[1]: Entering directory '/src/lib'`` line. ``Makefile:7: ***
missing separator.  Stop.`` is a syntax error. Older makes print ``make: *** [build] Error 1``
with no location: nothing to point at, so nothing is reported.
"""

from __future__ import annotations

import posixpath
import re

from tilt_lsp.diagnostics.model import Finding, Problem
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

_PROGRAM = r"(?P<prog>g?make(?:\[(?P<level>\d+)\])?)"
_RECIPE = re.compile(
    rf"^{_PROGRAM}: \*\*\* \[(?P<path>[^\s:\[\]]+):(?P<line>\d+): (?P<target>[^\]]+)\] "
    r"Error (?P<code>\d+)(?P<ignored> \(ignored\))?$"
)
_DIRECTORY = re.compile(rf"^{_PROGRAM}: (?P<verb>Entering|Leaving) directory '(?P<dir>[^']+)'$")
_SYNTAX = re.compile(
    r"^(?:g?make(?:\[\d+\])?: )?(?P<path>[^\s:]+):(?P<line>\d+): \*\*\* "
    r"(?P<msg>.+?)\.?  Stop\.$"
)
_MAX_LEVELS = 32


class MakeParser:
    source = "make"
    # "Makefile:7: *** …" starts like every compiler's location line: the shared alternative.
    trigger = re.compile(rf"{LOCATION_TRIGGER}|g?make(?:\[\d+\])?: ")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._dirs: dict[str, str] = {}  # make level -> its directory

    @property
    def active(self) -> bool:
        return False

    def feed(self, line: str) -> list[Finding]:
        directory = _DIRECTORY.match(line)
        if directory:
            level = directory.group("level") or "0"
            if directory.group("verb") == "Entering" and len(self._dirs) < _MAX_LEVELS:
                self._dirs[level] = directory.group("dir")
            else:
                self._dirs.pop(level, None)
            return []
        recipe = _RECIPE.match(line)
        if recipe:
            if recipe.group("ignored"):
                return []  # "-command": make went on, so did the build
            target, code = recipe.group("target"), recipe.group("code")
            path = self._path(recipe.group("path"), recipe.group("level"))
            return [
                Problem(
                    path,
                    int(recipe.group("line")),
                    None,
                    f"recipe for target '{target}' failed with Error {code}",
                    source=self.source,
                )
            ]
        syntax = _SYNTAX.match(line)
        if syntax:
            return [
                Problem(
                    syntax.group("path"),
                    int(syntax.group("line")),
                    None,
                    syntax.group("msg").strip(),
                    source=self.source,
                )
            ]
        return []

    def _path(self, path: str, level: str | None) -> str:
        directory = self._dirs.get(level or "0")
        if directory is None or path.startswith("/"):
            return path
        return posixpath.join(directory, path)

    def flush(self, final: bool = True) -> list[Finding]:
        if final:
            self._dirs.clear()
        return []
