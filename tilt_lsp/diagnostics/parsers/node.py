"""Node.js: uncaught errors and logged ``err.stack`` (CommonJS, ESM, async frames).

Node prints, for an uncaught error, an optional location header (``/app/x.js:4``, the source
line and a caret), then ``TypeError: message`` and ``    at …`` frames. A SyntaxError has
only internal frames, so its header line is the culprit. An error name alone proves nothing:
a problem is emitted only when at least one ``at`` frame or a header location follows.
Up to ``MAX_FOREIGN`` lines of the same stream's other output between two frames (stdout
interleaved with stderr) are skipped when more frames follow them. A message that ends with
a colon (an assertion's ``Expected values to be strictly equal:``) goes on until its frames;
its first lines join the message.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from tilt_lsp.diagnostics.model import Finding, Frame, Trace
from tilt_lsp.diagnostics.parsers.base import caret_column

_LOCATION_HEADER = re.compile(
    r"^(?P<path>(?:file://)?(?:/|[A-Za-z]:[\\/])\S*?\.(?:[cm]?[jt]sx?|node)):(?P<line>\d+)$"
)
_ERROR = re.compile(
    r"^(?:Uncaught )?(?P<name>[A-Z][\w$]*(?:Error|Exception)|Error)"
    r"(?: \[[A-Z0-9_]+\])?(?::\s?(?P<msg>.*))?$"
)
_AT = re.compile(r"^\s+at (?:async )?(?:(?P<func>.*?) \()?(?P<loc>[^()\s][^()]*?)\)?(?: \{)?$")
_ELIDED = re.compile(r"^\s+\.\.\. \d+ lines matching cause stack trace \.\.\.$")
_CAUSE = re.compile(r"^\s+\[cause\]: (?P<error>.+)$")  # Error(msg, { cause }), each its own problem
_LOC = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+)$")
_MAX_FRAMES = 200
_MAX_HEADER_GAP = 6  # lines between the location header and the error line (code, caret)
MAX_FOREIGN = 2
_MAX_CONTINUED = 30  # an assertion's diff before its first frame
_MESSAGE_LINES = 4


class NodeParser:
    source = "node"
    needles: tuple[str, ...] = ()
    trigger = re.compile(
        r"(?:file://)?/\S*\.(?:[cm]?[jt]sx?):\d+$"
        r"|(?:Uncaught )?(?:[A-Z][\w$]*(?:Error|Exception)|Error)(?: \[[A-Z0-9_]+\])?(?::|$)"
    )

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._header: Frame | None = None
        self._header_gap = 0
        self._message: str | None = None
        self._frames: list[Frame] = []
        self._foreign: list[str] = []
        self._continued = 0  # lines of a multi-line message read before the first frame
        self._continued_lines = 0

    @property
    def active(self) -> bool:
        return self._header is not None or self._message is not None

    def feed(self, line: str) -> list[Finding]:
        if self._message is not None:
            at = _AT.match(line)
            if at:
                self._foreign.clear()  # more frames: those lines were someone else's output
                frame = frame_from_location(at.group("func"), at.group("loc"))
                if frame is not None and len(self._frames) < _MAX_FRAMES:
                    self._frames.append(frame)
                return []
            if _ELIDED.match(line):
                return []
            cause = _CAUSE.match(line)
            if cause and _ERROR.match(cause.group("error")):
                out = self._finish()
                self._message = cause.group("error").strip()
                return out
            if (not self._frames and (self._continued or self._message.endswith(":"))
                    and not _ERROR.match(line) and self._continued < _MAX_CONTINUED):
                # "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:"
                # goes on with its diff before the first frame.
                self._continued += 1
                if line.strip() and self._continued_lines < _MESSAGE_LINES:
                    self._continued_lines += 1
                    self._message += "\n" + line.strip()
                return []
            if (self._frames and len(self._foreign) < MAX_FOREIGN
                    and not _ERROR.match(line) and not _LOCATION_HEADER.match(line)):
                self._foreign.append(line)
                return []
            return self._finish_and_replay(line)
        if self._header is not None:
            return self._after_header(line)
        return self._start(line)

    def _after_header(self, line: str) -> list[Finding]:
        assert self._header is not None
        error = _ERROR.match(line)
        if error:
            self._message = line.removeprefix("Uncaught ").strip()
            return []
        column = caret_column(line) if "^" in line else None
        if column is not None and self._header.column is None:
            self._header = Frame(self._header.path, self._header.line, column)
        self._header_gap += 1
        if self._header_gap > _MAX_HEADER_GAP:
            self._reset()
        return []

    def _start(self, line: str) -> list[Finding]:
        header = _LOCATION_HEADER.match(line)
        if header:
            self._reset()
            self._header = Frame(_clean_path(header.group("path")), int(header.group("line")))
            return []
        if _ERROR.match(line):
            self._reset()
            self._message = line.removeprefix("Uncaught ").strip()
        return []

    def _finish(self) -> list[Finding]:
        frames = self._frames
        message = self._message or ""
        header = self._header
        self._reset()
        if header is not None:
            frames = [header, *frames]
        elif not frames:
            return []
        return [Trace(message=message, frames=tuple(frames), source=self.source)]

    def _finish_and_replay(self, line: str | None) -> list[Finding]:
        held = self._foreign
        out = self._finish()
        for text in [*held, *([line] if line is not None else [])]:
            out.extend(self.feed(text) if self.active else self._start(text))
        return out

    def flush(self, final: bool = True) -> list[Finding]:
        if self._message is not None:
            out = self._finish_and_replay(None)
            return out + (self._finish() if self._message is not None else [])
        if final:
            self._reset()
        return []


def _clean_path(path: str) -> str:
    if path.startswith("file://"):
        return unquote(path[len("file://"):])
    return path


def frame_from_location(function: str | None, location: str) -> Frame | None:
    """A frame from a stack line's parts: ``function`` (if printed) and ``path:line:col``."""
    loc = _LOC.match(location)
    if loc is None:
        return None  # "at JSON.parse (<anonymous>)", "at new Promise (<anonymous>)"
    path = _clean_path(loc.group("path"))
    library = path.startswith(("node:", "internal/", "<"))
    return Frame(
        path=path, line=int(loc.group("line")), column=int(loc.group("col")),
        function=(function or "").strip(), library=library,
    )
