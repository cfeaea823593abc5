"""``tilt/log`` batches: bounded by size and time, and dropped — counted, never silently —
when the client falls behind (diagnostics travel on their own path and are never dropped).

Pure bookkeeping: the listener decides when to flush and whether the client keeps up.
"""

from __future__ import annotations

from typing import Any

BATCH_S = 0.05  # a batch leaves at the latest this long after its first line…
BATCH_CHARS = 64 * 1024  # …or as soon as it holds this much
MAX_LINE_CHARS = 16 * 1024  # a longer line is sent cut, saying how much was cut


class LogBatcher:
    def __init__(self, batch_chars: int = BATCH_CHARS) -> None:
        self._limit = batch_chars
        self._lines: dict[str, list[str]] = {}
        self._chars = 0
        self._dropped: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return self._chars >= self._limit

    @property
    def owed(self) -> bool:
        """Some drop count has not reached the client yet."""
        return bool(self._dropped)

    def add(self, resource: str, lines: tuple[str, ...] | list[str]) -> None:
        out = self._lines.setdefault(resource, [])
        for line in lines:
            if len(line) > MAX_LINE_CHARS:
                line = f"{line[:MAX_LINE_CHARS]}… ({len(line) - MAX_LINE_CHARS} more characters)"
            out.append(line)
            self._chars += len(line) + 4  # quotes, comma, a little escaping

    def take(self) -> list[dict[str, Any]]:
        """The buffered lines as tilt/log payloads of at most about ``batch_chars`` each;
        a payload says how many lines of its resource were dropped since the last one."""
        payloads: list[dict[str, Any]] = []
        for resource, lines in self._lines.items():
            start, size = 0, 0
            for i, line in enumerate(lines):
                size += len(line) + 4
                if size > self._limit and i > start:
                    payloads.append(self._payload(resource, lines[start:i]))
                    start, size = i, len(line) + 4
            payloads.append(self._payload(resource, lines[start:]))
        for resource in list(self._dropped):  # counts with no line to travel with
            if resource not in self._lines:
                payloads.append(self._payload(resource, []))
        self._lines.clear()
        self._chars = 0
        return payloads

    def drop(self, payload: dict[str, Any]) -> None:
        """The client cannot take ``payload`` now: count its lines for the next one."""
        resource = payload["resource"]
        self._dropped[resource] = (
            self._dropped.get(resource, 0) + len(payload["lines"]) + payload.get("dropped", 0)
        )

    def _payload(self, resource: str, lines: list[str]) -> dict[str, Any]:
        payload: dict[str, Any] = {"resource": resource, "lines": lines}
        dropped = self._dropped.pop(resource, 0)
        if dropped:
            payload["dropped"] = dropped
        return payload
