"""The build context of a ``docker_build``: which files Docker sees, their content hash, and
the tar Docker receives.

A rebuild after one saved file must not re-read a 10,000-file context. Every file the context
holds is remembered as a ``FileEntry``: (size, mtime_ns) → sha256 and its ready-made tar
member (header, data, padding). A scan re-stats files and only re-reads those whose size or
mtime changed; given the changed paths the engine already knows, it does not even walk the
tree. The tar is the cached members joined, so building it costs a memory copy, not a read of
the context.

What is in the context follows Docker and Tilt: ``.dockerignore`` and ``ignore=`` exclude
(gitignore syntax, ``!`` re-includes), ``only=`` keeps just the listed paths; the Dockerfile
and ``.dockerignore`` are always sent, as ``docker build`` does.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pathspec

from tilt_lsp.changes.ignore import read_ignore_file, spec
from tilt_lsp.changes.mapping import under

MAX_CACHED_MEMBER = 4 << 20  # bigger files are read again when the tar is made
GENERATED_DOCKERFILE = ".tilt-lsp.Dockerfile"  # dockerfile_contents / a Dockerfile outside


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of the context as last seen."""

    rel: str  # POSIX path relative to the context
    size: int
    mtime_ns: int
    mode: int
    sha256: str
    member: bytes | None  # the tar member (header + data + padding), None when too big


@dataclass
class ScanStats:
    """What the last scan cost: the figures that show it scales with changes."""

    stat_calls: int = 0
    files_read: int = 0
    bytes_read: int = 0
    walked: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The context at one moment: its files and the hash that names it."""

    files: Mapping[str, FileEntry]
    digest: str  # sha256 over (path, mode, content sha) of every file, sorted


@dataclass
class BuildContext:
    """The context directory of one image, remembered between builds."""

    root: str
    ignore: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    dockerfile: str | None = None  # absolute path; kept even when ignored
    stats: ScanStats = field(default_factory=ScanStats)

    def __post_init__(self) -> None:
        self.root = os.path.abspath(self.root)
        self._entries: dict[str, FileEntry] = {}
        self._scanned = False
        self._reload_rules()

    def _reload_rules(self) -> None:
        patterns = list(self.ignore) + read_ignore_file(os.path.join(self.root, ".dockerignore"))
        self._ignore: pathspec.PathSpec[Any] = spec(patterns)
        self._negations = any(p.strip().startswith("!") for p in patterns)
        self._only: pathspec.PathSpec[Any] | None = spec(self.only) if self.only else None

    # -- which files ----------------------------------------------------------------------

    def included(self, rel: str) -> bool:
        """Whether a context-relative POSIX path is sent to Docker."""
        if rel in (".dockerignore",) or self._is_dockerfile(rel):
            return True
        if self._ignore.match_file(rel):
            return False
        if self._only is not None:
            parts = rel.split("/")
            return any(self._only.match_file("/".join(parts[: i + 1])) for i in range(len(parts)))
        return True

    def _dir_excluded(self, rel: str) -> bool:
        # A directory matched by an ignore pattern is pruned unless a "!" pattern could
        # re-include something below it (then its files are checked one by one).
        if not self._ignore.match_file(rel + "/"):
            return False
        return not self._negations

    def _is_dockerfile(self, rel: str) -> bool:
        return self.dockerfile is not None and os.path.join(self.root, rel) == self.dockerfile

    # -- scanning -------------------------------------------------------------------------

    def scan(self, changed: Iterable[str] | None = None) -> Snapshot:
        """The context now. With ``changed`` (absolute paths) after a first full scan, only
        those paths are looked at; without, every file is stat'ed and only files whose size
        or mtime changed are read."""
        self.stats = ScanStats()
        paths = None if changed is None else list(changed)
        if paths is not None and any(
            os.path.basename(p) == ".dockerignore" and os.path.dirname(p) == self.root
            for p in paths
        ):
            self._reload_rules()
            paths = None  # what is in the context changed wholesale
        if not self._scanned or paths is None:
            self._full_scan()
        else:
            for path in paths:
                self._refresh(path)
        self._scanned = True
        return Snapshot(dict(self._entries), _digest(self._entries))

    def _full_scan(self) -> None:
        self.stats.walked = True
        seen: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
            dirnames[:] = sorted(
                d for d in dirnames if not self._dir_excluded(_join(rel_dir, d))
            )
            for name in filenames:
                rel = _join(rel_dir, name)
                if self.included(rel) and self._load(rel):
                    seen.add(rel)
        if self.dockerfile and under(self.dockerfile, self.root):
            rel = os.path.relpath(self.dockerfile, self.root).replace(os.sep, "/")
            if rel not in seen and self._load(rel):
                seen.add(rel)
        for gone in set(self._entries) - seen:
            del self._entries[gone]

    def _refresh(self, path: str) -> None:
        path = os.path.abspath(path)
        if not under(path, self.root) or path == self.root:
            return
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        if os.path.isdir(path):
            prefix = rel + "/"
            for old in [r for r in self._entries if r.startswith(prefix)]:
                if not os.path.lexists(os.path.join(self.root, old)):
                    del self._entries[old]
            for dirpath, dirnames, filenames in os.walk(path):
                sub = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
                dirnames[:] = [d for d in dirnames if not self._dir_excluded(_join(sub, d))]
                for name in filenames:
                    r = _join(sub, name)
                    if self.included(r):
                        self._load(r)
            return
        if not self.included(rel) or not self._load(rel):
            self._entries.pop(rel, None)
            prefix = rel + "/"  # a deleted directory
            for old in [r for r in self._entries if r.startswith(prefix)]:
                del self._entries[old]

    def _load(self, rel: str) -> bool:
        """Stat a file and (re)read it if it changed; False when it is not a regular file."""
        full = os.path.join(self.root, rel)
        self.stats.stat_calls += 1
        try:
            st = os.stat(full)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        old = self._entries.get(rel)
        mode = stat.S_IMODE(st.st_mode)
        if old is not None and (old.size, old.mtime_ns, old.mode) == (
            st.st_size,
            st.st_mtime_ns,
            mode,
        ):
            return True
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            return False
        self.stats.files_read += 1
        self.stats.bytes_read += len(data)
        digest = hashlib.sha256(data).hexdigest()
        member = None
        if len(data) <= MAX_CACHED_MEMBER:
            member = tar_member(rel, data, mode, st.st_mtime_ns)
        self._entries[rel] = FileEntry(rel, len(data), st.st_mtime_ns, mode, digest, member)
        return True

    # -- the tar --------------------------------------------------------------------------

    def tar(self, snapshot: Snapshot, extra: Mapping[str, bytes] | None = None) -> bytes:
        """The context as an uncompressed tar, from the cached members; ``extra`` adds
        generated files (a Dockerfile from ``dockerfile_contents``)."""
        parts: list[bytes] = []
        for rel in sorted(snapshot.files):
            entry = snapshot.files[rel]
            if entry.member is not None:
                parts.append(entry.member)
                continue
            try:
                with open(os.path.join(self.root, rel), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            parts.append(tar_member(rel, data, entry.mode, entry.mtime_ns))
        for rel, data in (extra or {}).items():
            parts.append(tar_member(rel, data, 0o644, 0))
        parts.append(b"\0" * (tarfile.BLOCKSIZE * 2))
        return b"".join(parts)


def tar_member(rel: str, data: bytes, mode: int, mtime_ns: int) -> bytes:
    """One regular-file tar member: header (PAX for long names), data, padding."""
    info = tarfile.TarInfo(rel)
    info.size = len(data)
    info.mode = mode
    # Real mtimes: Python compares a source's mtime with its .pyc; a constant would let a
    # stale .pyc win after a same-size edit.
    info.mtime = mtime_ns // 1_000_000_000
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    header = info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape")
    pad = (-len(data)) % tarfile.BLOCKSIZE
    return header + data + b"\0" * pad


def _digest(entries: Mapping[str, FileEntry]) -> str:
    h = hashlib.sha256()
    for rel in sorted(entries):
        e = entries[rel]
        h.update(f"{rel}\0{e.mode:o}\0{e.sha256}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


def read_tar_names(data: bytes) -> list[str]:
    """Member names of a tar (for tests and troubleshooting)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getnames()
