"""The one interface the engine drives every kind of resource through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tilt_lsp.engine.actions import Action

Dispatch = Callable[[Action], None]


class Controller(Protocol):
    """Keeps one resource up to date. Methods run on the engine loop; they report progress
    only through ``dispatch``; none may block the loop."""

    async def update(self, paths: frozenset[str], reason: str) -> bool:
        """Bring the resource up to date with ``paths`` changed (all of it on first start);
        True when it worked."""
        ...

    async def rebuild(self) -> bool:
        """Build and deploy from scratch, whatever changed."""
        ...

    async def restart(self) -> bool:
        """Restart what runs, without building."""
        ...

    async def stop(self) -> None: ...

    def is_ready(self) -> bool:
        """Ready enough for resources that list this one in resource_deps."""
        ...
