"""Re-write an update's archive member by member: the only tar stream that reaches a container.

A request's body is never handed to Docker or to ``tar``: parsers disagree (Python's tarfile,
GNU tar, BusyBox tar and Go's archive/tar differ on pax and GNU long names, on which of two
names wins, on trailing data), and Docker decompresses whatever looks compressed. So the
synclet reads the body with one parser, checks the members *as that parser named them*
(:mod:`synclet.safety`: pax ``path``/``linkpath`` and GNU long names are already applied),
and writes a new archive from exactly those members:

* names become ``./<dest>/<name>``, so the extraction runs at ``/`` and a destination that
  does not exist yet is simply created;
* only regular files, directories, symlinks and hard links, with fresh headers: no pax
  records are carried over (no stale ``path``, no xattrs, no ownership names), ``uid``/``gid``
  are 0, setuid/setgid/sticky bits are dropped;
* contents are copied and counted as they are read, so the size limit holds on the bytes that
  are written, whatever the headers claimed;
* the stream starts with a tar header we wrote, never with a compression signature.
"""

from __future__ import annotations

import tarfile
from typing import BinaryIO

from synclet.safety import ArchiveSummary, Limits, Refused, check_members, open_tar, read_members

# The signatures Docker's archive code (and GNU tar's auto-detection) treat as compression.
COMPRESSION_MAGIC: dict[str, bytes] = {
    "gzip": b"\x1f\x8b",
    "bzip2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
    "zstd": b"\x28\xb5\x2f\xfd",
    "lzip": b"LZIP",
    "compress": b"\x1f\x9d",
}


def compression_of(head: bytes) -> str | None:
    """The compression format whose signature ``head`` starts with, if any."""
    return next((name for name, magic in COMPRESSION_MAGIC.items() if head.startswith(magic)), None)


def _prefixed(prefix: str, rel_name: str) -> str:
    """``./<dest>/<name>``: the leading ``./`` also keeps the stream from ever starting with a
    compression signature, whatever the names."""
    parts = [p for p in (*prefix.split("/"), *rel_name.split("/")) if p not in ("", ".")]
    return "./" + "/".join(parts) if parts else "."


def _header(member: tarfile.TarInfo, name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = member.mode & 0o777  # no setuid, setgid or sticky bit
    info.mtime = min(max(int(member.mtime), 0), 8**11 - 1)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Counted:
    """A reader that counts what it hands out against the whole archive's limit."""

    def __init__(self, inner: BinaryIO, counter: list[int], limit: int) -> None:
        self.inner = inner
        self.counter = counter
        self.limit = limit

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.counter[0] += len(data)
        if self.counter[0] > self.limit:
            raise Refused(f"archive contents exceed {self.limit} bytes")
        return data


def prepare_archive(body: BinaryIO, dest: str, limits: Limits, out: BinaryIO) -> ArchiveSummary:
    """Check the archive in ``body`` for ``dest`` and write its re-written form to ``out``.

    Raises :class:`Refused` (nothing useful in ``out`` then). ``out`` is rewound afterwards.
    An empty body gives an empty ``out`` and a summary with no members.
    """
    start = body.tell()
    head = body.read(512)
    body.seek(start)
    if not head:
        return ArchiveSummary(files=0, bytes=0, members=0)
    if (kind := compression_of(head)) is not None:
        raise Refused(
            f"the archive is {kind}-compressed (or starts like it): send an uncompressed tar"
        )
    prefix = "/".join(p for p in dest.split("/") if p not in ("", "."))
    try:
        with open_tar(body) as tin:
            members, total = read_members(tin, limits)
            summary = check_members(members, total, dest)
            written = [0]
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tout:
                for member in members:
                    name = _prefixed(prefix, member.name)
                    if name == _prefixed(prefix, "") and member.isdir():
                        continue  # the destination itself: nothing to write
                    info = _header(member, name)
                    if member.isdir():
                        info.type = tarfile.DIRTYPE
                        tout.addfile(info)
                    elif member.issym():
                        info.type = tarfile.SYMTYPE
                        info.linkname = member.linkname
                        tout.addfile(info)
                    elif member.islnk():
                        info.type = tarfile.LNKTYPE
                        info.linkname = _prefixed(prefix, member.linkname)
                        tout.addfile(info)
                    else:  # a regular file (check_members let nothing else through)
                        info.size = member.size
                        data = tin.extractfile(member)
                        assert data is not None
                        tout.addfile(info, _Counted(data, written, limits.max_bytes))  # type: ignore[arg-type]
    except tarfile.TarError as exc:
        raise Refused(f"not a valid uncompressed tar archive: {exc}") from None
    out.seek(0)
    if compression_of(out.read(8)) is not None:  # cannot happen: a tar header comes first
        raise Refused("the re-written archive would start like a compressed stream")
    out.seek(0)
    return summary
