"""Telling the deaths and starts we caused from everyone else's, by time.

Docker's events say what happened to a container, not who asked. tilt-lsp records the time
window of each of its own operations (a deploy, a live update, a restart), and an event
stamped inside one is ours. A restart we asked for stays open for as long as it takes
(``docker restart`` of an app that ignores SIGTERM can take its whole grace period): a death
then is expected, never a crash and never a step toward a crash loop.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

Window = tuple[float, float | None]  # (start, end or None while running), epoch seconds

OURS_S = 0.05  # slack around our own operations when telling our starts from others'
DIE_SLACK_S = 0.5  # a die event stamped this long after our restart returned is still ours


class Windows:
    """Our operations' time windows, and our restarts' per container."""

    def __init__(self) -> None:
        self._ops: list[Window] = []
        self._restarts: dict[str, list[Window]] = {}

    @contextlib.contextmanager
    def ours(self) -> Iterator[None]:
        """Events during this block (and just after) come from what we did."""
        window: Window = (time.time() - OURS_S, None)
        self._ops.append(window)
        try:
            yield
        finally:
            self._ops.remove(window)
            self._ops.append((window[0], time.time() + OURS_S))
            del self._ops[:-8]

    @contextlib.contextmanager
    def restarting(self, cid: str) -> Iterator[None]:
        """A restart of ``cid`` we asked for is under way: its deaths until it is done (and
        stamped up to ``DIE_SLACK_S`` after) are ours, however long it takes."""
        window: Window = (time.time() - OURS_S, None)
        windows = self._restarts.setdefault(cid, [])
        windows.append(window)
        try:
            yield
        finally:
            windows.remove(window)
            windows.append((window[0], time.time() + DIE_SLACK_S))
            del windows[:-4]

    def is_ours(self, at: float) -> bool:
        return _inside(self._ops, at)

    def caused(self, cid: str, at: float) -> bool:
        """Whether a death of ``cid`` stamped ``at`` is a restart we asked for."""
        return _inside(self._restarts.get(cid, ()), at)


def _inside(windows: list[Window] | tuple[()], at: float) -> bool:
    return any(start <= at and (end is None or at <= end) for start, end in windows)
