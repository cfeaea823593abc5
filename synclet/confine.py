"""Check, inside the container, that no symlink already there leads a write out of ``dest``.

:mod:`synclet.safety` sees only the request. If the image has ``/app/logs -> /var/log``, a
member ``logs/x`` for ``dest=/app`` passes every check there and ``tar`` would write
``/var/log/x``. So before anything is deleted or extracted, each directory the update writes
into (and each delete's parent) is walked component by component through Docker's stat API
(``HEAD /containers/{id}/archive?path=``), which reports a symlink's fully resolved target,
scoped to the container's root. A path that leads outside the *physical* destination is
refused whole, like any other unsafe request.

Why the stat API rather than ``realpath`` via exec: it works on every image (no shell needed,
so distroless too) and costs a couple of milliseconds per directory level, against 20-40 ms for
an exec. Results are cached per update, so many files in one directory cost one walk.
Directories that do not exist yet end the walk: tar creates them as real directories.

With ``dest=/`` (the default) there is nothing outside, and no call is made.

What remains is a race: a link the container itself creates between this check and the
extraction. The synclet does not defend against the app in its own container.
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Iterable
from typing import Any

from synclet.protocol import is_under

_SYMLINK = 1 << 27  # Go's os.ModeSymlink, as Docker reports a path's mode


class Escapes(Exception):
    """``path`` leads outside the destination through a link already in the container."""

    def __init__(self, path: str, physical: str, dest: str) -> None:
        super().__init__(
            f"{path} leads to {physical} through a symlink already in the container, "
            f"which is outside {dest}; nothing was applied"
        )


class _Walker:
    def __init__(self, api: Any, container_id: str) -> None:
        self.api = api
        self.container_id = container_id
        self.cache: dict[str, str | None] = {}

    def _link_target(self, path: str) -> str | None:
        """The resolved target when ``path`` is a symlink, ``path`` if it is not, None if absent."""
        if path in self.cache:
            return self.cache[path]
        url = self.api._url("/containers/{0}/archive", self.container_id)
        response = self.api.head(url, params={"path": path})
        if response.status_code == 404:
            result = None
        else:
            self.api._raise_for_status(response)
            header = response.headers.get("X-Docker-Container-Path-Stat", "")
            stat = json.loads(base64.b64decode(header)) if header else {}
            is_link = int(stat.get("mode", 0)) & _SYMLINK and stat.get("linkTarget")
            result = posixpath.normpath(str(stat["linkTarget"])) if is_link else path
        self.cache[path] = result
        return result

    def physical(self, path: str) -> str:
        """Where absolute ``path`` really is (Docker reports each link's target fully resolved).

        The part below the deepest existing directory is appended as is: tar will create it.
        """
        current = "/"
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for i, comp in enumerate(parts):
            target = self._link_target(posixpath.join(current, comp))
            if target is None:
                return posixpath.join(current, *parts[i:])
            current = target
        return current


def check_confined(api: Any, container_id: str, dest: str, directories: Iterable[str]) -> None:
    """Raise :class:`Escapes` if any of ``directories`` really lies outside ``dest``.

    ``directories`` are lexical absolute paths inside ``dest`` (as :mod:`synclet.safety`
    returns them). Docker errors propagate to the caller.
    """
    dest = posixpath.normpath(dest)
    if dest == "/":
        return
    walker = _Walker(api, container_id)
    real_dest = walker.physical(dest)
    for directory in directories:
        physical = walker.physical(posixpath.normpath(directory))
        if not is_under(physical, real_dest):
            raise Escapes(directory, physical, dest)
