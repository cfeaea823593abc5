"""Watching the workspace for changes made outside the editor (git checkout, generators).

watchdog reports from its own thread; batches cross into the engine's loop after a short
quiet period, so a checkout of 1,000 files arrives as one batch, not 1,000 events.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from tilt_lsp.changes.ignore import is_editor_or_vcs_noise

# Deliver once nothing happened for QUIET_S, or at the latest MAX_WAIT_S after the first
# change of a batch: long enough that a checkout on a slow disk (a few seconds of writes
# with short pauses) is one update on the whole tree, not two on half-written ones.
QUIET_S = 0.2
MAX_WAIT_S = 10.0


class Watcher(FileSystemEventHandler):
    def __init__(
        self,
        root: str,
        on_batch: Callable[[list[str]], object],
        loop: asyncio.AbstractEventLoop,
        quiet_s: float = QUIET_S,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self.root = os.path.abspath(root)
        self._on_batch = on_batch
        self._loop = loop
        self._quiet = quiet_s
        self._max_wait = max_wait_s
        self._lock = threading.Lock()
        self._paths: dict[str, None] = {}
        self._first = 0.0
        self._last = 0.0
        self._scheduled = False
        self._observer = Observer()
        self.batches = 0

    def start(self) -> None:
        self._observer.schedule(self, self.root, recursive=True)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    # watchdog thread
    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write") or (
            event.is_directory and event.event_type == "modified"
        ):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        fresh = [os.fsdecode(p) for p in paths if p and not is_editor_or_vcs_noise(os.fsdecode(p))]
        if not fresh:
            return
        now = time.monotonic()
        with self._lock:
            if not self._paths:
                self._first = now
            self._paths.update(dict.fromkeys(fresh))
            self._last = now
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._arm, self._quiet)

    # engine loop
    def _arm(self, delay: float) -> None:
        self._loop.call_later(delay, self._deliver)

    def _deliver(self) -> None:
        now = time.monotonic()
        with self._lock:
            quiet_for = now - self._last
            waited = now - self._first
            if quiet_for < self._quiet and waited < self._max_wait:
                delay = min(self._quiet - quiet_for, self._max_wait - waited)
                self._loop.call_later(max(delay, 0.005), self._deliver)
                return
            batch = list(self._paths)
            self._paths.clear()
            self._scheduled = False
        if batch:
            self.batches += 1
            self._on_batch(batch)
