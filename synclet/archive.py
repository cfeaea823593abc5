"""Build the tar stream of one update on the client side (tilt-lsp).

It lives with the synclet because the synclet defines what an acceptable archive is
(:mod:`synclet.safety`): keeping the writer next to the checker keeps them in agreement.

Only regular files and symlinks are sent. Directories are implied by member names (``tar -x``
and Docker's archive API both create missing parents). Ownership is always root (uid/gid 0,
no names): the developer's uid means nothing inside the container, and when the extraction
runs as a non-root container user, tar gives the files to that user anyway.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterable

from synclet.protocol import is_under


class ArchiveError(ValueError):
    """A (local path, container path) pair that cannot go into an update archive."""


def member_name(container_path: str, dest: str = "/") -> str:
    """The archive member name of absolute ``container_path`` for an update into ``dest``."""
    if not container_path.startswith("/"):
        raise ArchiveError(f"container path must be absolute: {container_path!r}")
    parts = [p for p in container_path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"container path must not contain '..': {container_path!r}")
    normalised = "/" + "/".join(parts)
    if not is_under(normalised, dest):
        raise ArchiveError(f"container path {container_path!r} is outside the destination {dest!r}")
    base = [p for p in dest.split("/") if p not in ("", ".")]
    rel = parts[len(base) :]
    if not rel:
        raise ArchiveError(f"container path {container_path!r} is the destination itself")
    return "/".join(rel)


def build_archive(files: Iterable[tuple[str, str]], dest: str = "/") -> bytes:
    """An uncompressed tar of ``(local path, container path)`` pairs, names relative to ``dest``.

    Regular files keep their permission bits and mtime; symlinks are sent as symlinks (their
    target unchanged, so a link escaping ``dest`` will be refused by the synclet). Anything
    else (a directory, a device, a missing file) raises :class:`ArchiveError`: the caller
    decides whether a missing file is a delete.
    """
    buf = io.BytesIO()
    seen: set[str] = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for local, container in files:
            name = member_name(container, dest)
            if name in seen:
                raise ArchiveError(f"container path {container!r} appears twice")
            seen.add(name)
            try:
                st = os.lstat(local)
            except FileNotFoundError:
                raise ArchiveError(f"local file {local!r} does not exist") from None
            info = tarfile.TarInfo(name)
            info.mode = stat.S_IMODE(st.st_mode)
            info.mtime = int(st.st_mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if stat.S_ISLNK(st.st_mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(local)
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                with open(local, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                raise ArchiveError(
                    f"{local!r} is neither a regular file nor a symlink; only those can be synced"
                )
    return buf.getvalue()
