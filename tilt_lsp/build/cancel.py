"""Cancelling a build in progress from another thread.

The docker SDK's ``build`` streams one HTTP response and offers no cancel. Its APIClient is a
``requests.Session``, so a response hook (public ``requests`` API) catches the build's
response, in the building thread, before its body is read; cancelling shuts that response's
socket, which wakes the blocked read at once (closing the file alone would not). The engine
sees the client gone and cancels the build, stopping its RUN step's container.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any


class Cancellation:
    """One image builder's cancel switch; ``cancelled`` stays set until ``reset``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._response: Any = None
        self._thread: int | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        response = self._response
        if response is not None:
            shut(response)

    def reset(self) -> None:
        self._event.clear()

    @contextlib.contextmanager
    def watching(self, api: Any) -> Iterator[None]:
        """While the block builds through ``api`` in this thread, a cancel shuts the build."""
        hooks = getattr(api, "hooks", None)
        if isinstance(hooks, dict):
            hooks.setdefault("response", []).append(self._capture)
        self._thread = threading.get_ident()
        try:
            yield
        finally:
            self._thread = None
            self._response = None
            if isinstance(hooks, dict):
                with contextlib.suppress(ValueError):
                    hooks["response"].remove(self._capture)

    def _capture(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == self._thread and "/build" in str(response.url):
            self._response = response
            if self.cancelled:
                shut(response)
        return response


def shut(response: Any) -> None:
    """Shut a streaming response's socket, then close it."""
    raw = getattr(response, "raw", None)
    conn = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is None:
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()
