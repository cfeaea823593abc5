"""A resource's recent output, bounded by lines and by bytes: a service that prints 200 MB,
or one 50 MB line, must not grow the server without end."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

MAX_LINES = 5000
MAX_CHARS = 2 * 1024 * 1024  # per resource
MAX_LINE_CHARS = 16 * 1024  # a longer line is kept cut, saying how much was cut


class LogBuffer:
    def __init__(
        self,
        max_lines: int = MAX_LINES,
        max_chars: int = MAX_CHARS,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self._lines: deque[str] = deque()
        self._chars = 0
        self._max_lines = max_lines
        self._max_chars = max_chars
        self._max_line = max_line_chars

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            if len(line) > self._max_line:
                line = f"{line[: self._max_line]}… ({len(line) - self._max_line} more characters)"
            self._lines.append(line)
            self._chars += len(line)
        while self._lines and (len(self._lines) > self._max_lines or self._chars > self._max_chars):
            self._chars -= len(self._lines.popleft())

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def tail(self, n: int) -> list[str]:
        """The last ``n`` lines (all of them when n <= 0)."""
        if n <= 0 or n >= len(self._lines):
            return list(self._lines)
        return list(self._lines)[-n:]
