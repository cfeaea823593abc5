"""Reading a Tiltfile only once it has settled: an editor that truncates and then writes, or a
checkout, shows the engine half-written files; acting on one would tear resources down."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

SETTLE_S = 0.15  # a Tiltfile is read once unchanged for this long…
MAX_WAIT_S = 5.0  # …or after this long, whatever happens to it

Signature = tuple[int, int] | None  # (mtime_ns, size); None when the file is missing


def signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


async def wait_unchanged(
    path: str, settle_s: float = SETTLE_S, max_wait_s: float = MAX_WAIT_S
) -> Signature:
    """Wait until ``path`` has not changed for ``settle_s`` (at most ``max_wait_s``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait_s
    last = signature(path)
    while loop.time() < deadline:
        await asyncio.sleep(settle_s)
        now = signature(path)
        if now == last:
            break
        last = now
    return last


def is_empty(path: str, sig: Signature) -> bool:
    """Empty or whitespace only (a missing file is not "empty": it is an error to report)."""
    if sig is None or sig[1] > 4096:
        return False
    try:
        return not Path(path).read_bytes().strip()
    except OSError:
        return False
