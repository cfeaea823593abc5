"""Decide, before anything is written, whether an update may touch the container at all.

The synclet runs with the Docker socket, which is root on the host: an archive member named
``../../etc/cron.d/x`` or a symlink to ``/`` followed by a member written through it would be
a way out of the destination. So the whole archive is read and checked first, and a refusal
is whole: nothing is deleted, nothing extracted. Pure: bytes and a spec in, a summary or a
:class:`Refused` naming the offending member out.

Links are resolved lexically, following the symlinks the archive itself defines (a link to
``.`` followed by ``..`` would otherwise slip through). Symlinks already present in the
container cannot be seen from here: :mod:`synclet.confine` checks those.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from synclet.protocol import UpdateSpec, is_under

DEFAULT_MAX_MEMBERS = 100_000
DEFAULT_MAX_ARCHIVE_BYTES = 1 << 30
_MAX_LINK_HOPS = 40
MAX_META_HEADER = 1 << 20
_META_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


class Refused(ValueError):
    """The request is unsafe or malformed; nothing may be applied. ``str()`` says why."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one archive: members, and the total size of their contents."""

    max_members: int = DEFAULT_MAX_MEMBERS
    max_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES


@dataclass(frozen=True)
class ArchiveSummary:
    """What a validated archive holds: ``files`` non-directory members, ``bytes`` of content.

    ``parents`` are the directories members will be written into, after following the
    archive's own links: :mod:`synclet.confine` checks them against the links already in the
    container, which this pure module cannot see.
    """

    files: int
    bytes: int
    members: int
    parents: tuple[str, ...] = ()


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def _check_path(path: str, dest: str, what: str) -> str:
    """An absolute container path without ``..`` inside ``dest``; returns it normalised."""
    if not path.startswith("/"):
        raise Refused(f"{what} {path!r} is not an absolute container path")
    if "\x00" in path or not _utf8(path):
        raise Refused(f"{what} {path!r} is not valid UTF-8 without NUL bytes")
    parts = _parts(path)
    if ".." in parts:
        raise Refused(f"{what} {path!r} contains '..'")
    normalised = "/" + "/".join(parts)
    if not is_under(normalised, dest):
        raise Refused(f"{what} {path!r} is outside the destination {dest}")
    return normalised


def check_deletes(spec: UpdateSpec) -> list[str]:
    """The deletes of ``spec``, normalised; refuses any outside ``dest`` or the dest itself."""
    dest = "/" + "/".join(_parts(spec.dest))
    out = []
    for path in spec.deletes:
        normalised = _check_path(path, dest, "delete")
        if normalised == dest:
            raise Refused(f"delete {path!r} would remove the whole destination {dest}")
        out.append(normalised)
    return out


class _LinkLoop(Exception):
    """Too many symlink hops: the archive's links form a loop."""


class _Resolver:
    """Lexical path resolution through the symlinks an archive defines, confined to ``dest``."""

    def __init__(self, dest: str, links: dict[str, str]) -> None:
        self.dest = dest
        self.links = links

    def _inside_or_ancestor(self, path: str) -> bool:
        return is_under(path, self.dest) or is_under(self.dest, path)

    def resolve(self, path: str) -> str | None:
        """The absolute path ``path`` reaches, or None if it leaves ``dest`` on the way."""
        resolved: list[str] = []
        stack = list(reversed(_parts(path)))
        hops = 0
        while stack:
            comp = stack.pop()
            if comp == "..":
                if resolved:
                    resolved.pop()
                if not self._inside_or_ancestor("/" + "/".join(resolved)):
                    return None
                continue
            candidate = "/" + "/".join([*resolved, comp])
            target = self.links.get(candidate)
            if target is None:
                resolved.append(comp)
                if not self._inside_or_ancestor(candidate):
                    return None
                continue
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise _LinkLoop
            if target.startswith("/"):
                resolved = []
            stack.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
        final = "/" + "/".join(resolved)
        return final if is_under(final, self.dest) else None


class _GuardedInfo(tarfile.TarInfo):
    """A TarInfo that refuses oversized pax and GNU long-name headers before reading them.

    tarfile reads such a header whole into memory; no honest name needs more than a few KiB.
    """

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES and self.size > MAX_META_HEADER:
            raise Refused(
                f"archive has a {self.size}-byte pax or GNU long-name header "
                f"(the limit is {MAX_META_HEADER} bytes)"
            )
        return super()._proc_member(tarfile_)  # type: ignore[misc, no-any-return]


def open_tar(fileobj: BinaryIO) -> tarfile.TarFile:
    """Open an uncompressed tar for reading (compressed or hybrid bodies never decompress)."""
    return tarfile.open(fileobj=fileobj, mode="r:", tarinfo=_GuardedInfo)


def read_members(tar: tarfile.TarFile, limits: Limits) -> tuple[list[tarfile.TarInfo], int]:
    """Every member (names as tarfile resolved them from pax and GNU headers) and the total
    size of their contents, bounded by ``limits``. Sizes are the extracted sizes: a sparse
    member counts its full length."""
    members = []
    total = 0
    try:
        while (member := tar.next()) is not None:
            members.append(member)
            if len(members) > limits.max_members:
                raise Refused(f"archive has more than {limits.max_members} members")
            total += max(member.size, 0)
            if total > limits.max_bytes:
                raise Refused(f"archive contents exceed {limits.max_bytes} bytes")
    except tarfile.TarError as exc:
        raise Refused(f"not a valid uncompressed tar archive: {exc}") from None
    return members, total


def check_archive(
    archive: bytes | BinaryIO, dest: str, limits: Limits | None = None
) -> ArchiveSummary:
    """Validate every member of ``archive`` for extraction into ``dest``, or raise Refused."""
    limits = limits or Limits()
    fileobj = io.BytesIO(archive) if isinstance(archive, bytes) else archive
    if _empty(fileobj):
        return ArchiveSummary(files=0, bytes=0, members=0)
    try:
        with open_tar(fileobj) as tar:
            members, total = read_members(tar, limits)
    except tarfile.TarError as exc:
        raise Refused(f"not a valid uncompressed tar archive: {exc}") from None
    return check_members(members, total, dest)


def _empty(fileobj: BinaryIO) -> bool:
    start = fileobj.tell()
    empty = not fileobj.read(1)
    fileobj.seek(start)
    return empty


def check_members(members: list[tarfile.TarInfo], total: int, dest: str) -> ArchiveSummary:
    """Validate members already read (see :func:`read_members`) for extraction into ``dest``."""
    dest = "/" + "/".join(_parts(dest))
    links: dict[str, str] = {}
    seen: dict[str, bool] = {}  # path -> is a directory
    for m in members:
        path = _member_path(m.name, dest)
        # A name given twice makes the result depend on the extractor (GNU tar defers
        # symlinks, so an earlier link can win over a later one): refuse, unless both are
        # directories. Honest archives never repeat a name.
        if path in seen and not (seen[path] and m.isdir()):
            raise Refused(f"archive member {m.name!r} appears more than once")
        seen[path] = m.isdir()
        if m.issym():
            links[path] = _symlink_target(path, m.linkname)
    resolver = _Resolver(dest, links)

    files = 0
    parents: set[str] = set()
    for m in members:
        try:
            files += _check_member(m, dest, resolver, parents)
        except _LinkLoop:
            raise Refused(f"archive member {m.name!r} is part of a symlink loop") from None
    return ArchiveSummary(
        files=files, bytes=total, members=len(members), parents=tuple(sorted(parents))
    )


def _check_member(m: tarfile.TarInfo, dest: str, resolver: _Resolver, parents: set[str]) -> int:
    """Refuse one unsafe member; 1 if it counts as a file, else 0. Adds to ``parents``."""
    path = _member_path(m.name, dest)
    if path == dest:
        if not m.isdir():
            raise Refused(f"archive member {m.name!r} would replace the destination {dest} itself")
        return 0
    if not (m.isreg() or m.isdir() or m.issym() or m.islnk()):
        raise Refused(
            f"archive member {m.name!r} is a {_kind(m)}; "
            "only files, directories and links can be synced"
        )
    if (m.issym() or m.islnk()) and ("\x00" in m.linkname or not _utf8(m.linkname)):
        raise Refused(f"archive member {m.name!r} has a link target that is not valid UTF-8")
    parent = resolver.resolve(posixpath.dirname(path))
    if parent is None:
        raise Refused(f"archive member {m.name!r} would be written through a link outside {dest}")
    parents.add(parent)
    if m.issym():
        if not m.linkname:
            raise Refused(f"archive member {m.name!r} is a symlink with an empty target")
        if resolver.resolve(_symlink_target(path, m.linkname)) is None:
            raise Refused(
                f"archive member {m.name!r} is a symlink to {m.linkname!r}, which is outside {dest}"
            )
    if m.islnk():
        target = m.linkname
        outside = target.startswith("/") or ".." in _parts(target)
        resolved = None if outside else resolver.resolve(posixpath.join(dest, target))
        if resolved is None:
            raise Refused(
                f"archive member {m.name!r} is a hard link to {target!r}, which is outside {dest}"
            )
        parents.add(posixpath.dirname(resolved))
    return 0 if m.isdir() else 1


def _member_path(name: str, dest: str) -> str:
    """The absolute container path of member ``name``; refuses absolute names and ``..``."""
    if name.startswith("/"):
        raise Refused(
            f"archive member {name!r} has an absolute name; names must be relative to the destination"
        )
    parts = _parts(name)
    if ".." in parts:
        raise Refused(f"archive member {name!r} contains '..'")
    if "\x00" in name:
        raise Refused(f"archive member {name!r} contains a NUL byte")
    if not _utf8(name):
        raise Refused(f"archive member {name!r} is not valid UTF-8")
    return posixpath.join(dest, *parts) if parts else dest


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _symlink_target(path: str, linkname: str) -> str:
    """The absolute (unresolved) path a symlink at ``path`` points to."""
    return (
        linkname if linkname.startswith("/") else posixpath.join(posixpath.dirname(path), linkname)
    )


def _kind(m: tarfile.TarInfo) -> str:
    if m.ischr():
        return "character device"
    if m.isblk():
        return "block device"
    if m.isfifo():
        return "fifo"
    return f"member of unsupported type {m.type!r}"


def check_spec(spec: UpdateSpec) -> list[str]:
    """Validate the destination and the deletes; returns the deletes normalised."""
    if not spec.dest.startswith("/") or ".." in _parts(spec.dest) or "\x00" in spec.dest:
        raise Refused(f"destination {spec.dest!r} must be an absolute container path without '..'")
    return check_deletes(spec)


def check_update(
    spec: UpdateSpec, archive: bytes | BinaryIO, limits: Limits | None = None
) -> ArchiveSummary:
    """Validate a whole update (dest, deletes and archive) before anything is applied."""
    check_spec(spec)
    return check_archive(archive, spec.dest, limits)
