"""Packing synced files for a container, off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from tilt_lsp.liveupdate.updater import expand, make_archive


async def pack(
    syncs: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[str], bytes]:
    """The synced files (directories walked), the container paths of those that vanished,
    and their tar (names relative to ``/``, as the synclet and ``put_archive`` at ``/`` take
    it). Raises ``ArchiveError`` or ``OSError`` when a file cannot go."""
    pairs = list(syncs)

    def work() -> tuple[list[tuple[str, str]], list[str], bytes]:
        files, missing = expand(pairs)
        return files, missing, make_archive(files)

    return await asyncio.to_thread(work)
