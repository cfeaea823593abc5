"""Path mapping: from a path as a tool printed it (in a container, relative, bare) to a file in
the workspace, or to nothing.

A diagnostic on the wrong file is worse than none, so the only answer other than ``None`` is
an existing file inside the workspace root that is not library code. Container paths map by
ordered (container prefix → local prefix) pairs, the longest prefix winning; the pairs come
from sync rules and from a Dockerfile's WORKDIR/COPY/ADD. Relative paths resolve against the
build's working directory. Bare names (``OrderService.java``, ``calc_test.go``) and relative
paths printed from another directory resolve through a workspace index, only when one file
fits the hint (package or directory) better than every other.

Whether a file is library code is decided by where it resolves, never by how its name looks
(``internal/`` is user code in Go): inside the workspace and not under a dependency folder
(``node_modules``, ``site-packages``, ``vendor``, …), a virtualenv (any folder holding
``pyvenv.cfg``), a Go installation (``VERSION`` next to ``src/runtime``) or Go's module cache
(``pkg/mod``). A path that resolves nowhere in the workspace is never the user's anyway.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

# Printed "paths" that name no file at all: Node's built-in modules, Python's "<frozen …>"
# and "<string>", Java modules.
PSEUDO_PREFIXES = ("node:", "<", "java.base/")
# Workspace folders that hold dependencies or build output, never the culprit.
LIBRARY_DIRS = frozenset({
    "node_modules", "site-packages", "dist-packages", ".venv", "venv", "vendor", ".tox",
    "target", "__pycache__", ".git", ".cargo", ".rustup", ".m2",
})
SKIP_DIRS = LIBRARY_DIRS | {".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                            ".gradle", ".idea", ".cache", "dist", "build"}
MAX_INDEXED_FILES = 200_000
_CACHE_LIMIT = 4096
_FILE_CACHE_LIMIT = 256
_MAX_SOURCE_BYTES = 8 << 20


def is_pseudo_path(raw: str) -> bool:
    """True for printed locations that are not files (``node:fs``, ``<frozen os>``)."""
    return raw.startswith(PSEUDO_PREFIXES)


def is_library_dir(directory: str) -> bool:
    """Whether a directory itself is dependency code: its name says so, or it is a
    virtualenv, a Go installation or Go's module cache."""
    name = os.path.basename(directory)
    if name in LIBRARY_DIRS:
        return True
    if os.path.isfile(os.path.join(directory, "pyvenv.cfg")):
        return True
    if name == "mod" and os.path.basename(os.path.dirname(directory)) == "pkg":
        return True  # $GOPATH/pkg/mod
    return os.path.isfile(os.path.join(directory, "VERSION")) and os.path.isdir(
        os.path.join(directory, "src", "runtime")
    )


class WorkspaceIndex:
    """File name → workspace-relative paths, built by one walk of the root when first needed.

    A long-running server creates files after the walk: a name that is not found rebuilds
    the index, at most once per ``REFRESH_S``; ``invalidate()`` forces the next lookup to.
    """

    REFRESH_S = 10.0

    def __init__(self, root: str) -> None:
        self._root = os.path.realpath(root)
        self._by_name: dict[str, list[str]] | None = None
        self._built_at = 0.0

    @property
    def root(self) -> str:
        return self._root

    def invalidate(self) -> None:
        self._by_name = None

    def lookup(self, name: str) -> list[str]:
        if self._by_name is None or (
            name not in self._by_name and time.monotonic() - self._built_at > self.REFRESH_S
        ):
            self._by_name = self._build()
            self._built_at = time.monotonic()
        return self._by_name.get(name, [])

    def _build(self) -> dict[str, list[str]]:
        by_name: dict[str, list[str]] = {}
        count = 0
        for dirpath, dirnames, filenames in os.walk(self._root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            rel = os.path.relpath(dirpath, self._root)
            for name in filenames:
                by_name.setdefault(name, []).append(
                    name if rel == "." else posixpath.join(rel.replace(os.sep, "/"), name)
                )
                count += 1
            if count >= MAX_INDEXED_FILES:
                break
        return by_name


@dataclass
class PathMapper:
    """Maps printed paths onto workspace files; see the module docstring for the rules."""

    root: str
    mappings: list[tuple[str, str]] = field(default_factory=list)
    workdir: str | None = None
    """The container's (or remote build's) working directory, for relative paths."""
    local_workdir: str | None = None
    """The local directory relative paths resolve against when no mapping applies."""
    index: WorkspaceIndex | None = None
    """A workspace index to share between mappers of the same root (one walk for all)."""

    CACHE_S = 5.0  # answers are remembered this long: files appear and disappear

    def __post_init__(self) -> None:
        self.root = os.path.realpath(self.root)
        self.mappings = [(_norm(c), os.path.abspath(local)) for c, local in self.mappings]
        if self.index is None or self.index.root != self.root:
            self.index = WorkspaceIndex(self.root)
        self._cache: dict[tuple[str, str | None, bool], str | None] = {}
        self._cache_time = time.monotonic()
        self._files: dict[str, tuple[int, int, list[str]]] = {}  # path -> (mtime, size, lines)
        self._library_dirs: dict[str, bool] = {}  # directory -> is_library_dir, with parents

    def add(self, container_prefix: str, local_prefix: str) -> None:
        self.mappings.append((_norm(container_prefix), os.path.abspath(local_prefix)))
        self._cache.clear()

    def map_container_path(self, path: str) -> str | None:
        """Local path for an absolute container path by the longest matching prefix."""
        return map_by_prefix(self.mappings, _norm(path))

    def resolve(self, raw: str, package: str | None = None, strict: bool = False) -> str | None:
        """The workspace file a printed path means, or None. ``package`` is a directory hint
        (``com/acme/orders``, ``example.com/calc``); ``strict`` requires it to match."""
        key = (raw, package, strict)
        if time.monotonic() - self._cache_time > self.CACHE_S:
            self._cache.clear()
            self._library_dirs.clear()
            self._cache_time = time.monotonic()
        if key in self._cache:
            return self._cache[key]
        result = self._resolve(raw, package, strict)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _resolve(self, raw: str, package: str | None, strict: bool) -> str | None:
        if not raw or "\x00" in raw or is_pseudo_path(raw):
            return None
        path = unquote(raw[len("file://"):]) if raw.startswith("file://") else raw
        candidates: list[str] = []
        if path.startswith("/"):
            mapped = self.map_container_path(path)
            candidates.append(mapped if mapped is not None else path)
        else:
            if self.workdir:
                mapped = self.map_container_path(posixpath.join(self.workdir, path))
                if mapped is not None:
                    candidates.append(mapped)
            candidates.append(os.path.join(self.local_workdir or self.root, path))
            candidates.append(os.path.join(self.root, path))
        for candidate in candidates:
            usable = self._usable(candidate)
            if usable is not None:
                return usable
        if path.startswith("/"):
            return None  # an unmapped absolute path is not ours to guess
        return self._from_index(path, package, strict)

    def _usable(self, candidate: str) -> str | None:
        real = os.path.realpath(candidate)
        if real != self.root and not real.startswith(self.root.rstrip(os.sep) + os.sep):
            return None
        if not os.path.isfile(real) or self._in_library(os.path.dirname(real)):
            return None
        return real

    def _in_library(self, directory: str) -> bool:
        """Whether a workspace directory or one of its parents below the root is library
        code (remembered per directory for the mapper's cache period)."""
        known = self._library_dirs.get(directory)
        if known is not None:
            return known
        if directory == self.root or not directory.startswith(self.root):
            return False
        verdict = is_library_dir(directory) or self._in_library(os.path.dirname(directory))
        if len(self._library_dirs) >= _CACHE_LIMIT:
            self._library_dirs.clear()
        self._library_dirs[directory] = verdict
        return verdict

    def _from_index(self, path: str, package: str | None, strict: bool) -> str | None:
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".", "..")]
        if not parts:
            return None
        assert self.index is not None
        found = self.index.lookup(parts[-1])
        wanted_dirs = parts[:-1]
        hint = [p for p in (package or "").split("/") if p]
        scored: list[tuple[int, str]] = []
        for rel in found:
            dirs = rel.split("/")[:-1]
            if wanted_dirs and not _ends_with(dirs, wanted_dirs):
                continue
            score = _common_suffix(dirs, hint) if hint else 0
            if strict and hint and score < len(hint):
                continue
            scored.append((score, rel))
        if not scored:
            return None
        scored.sort(reverse=True)
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            return None  # two files fit equally well: refuse to guess
        return self._usable(os.path.join(self.root, scored[0][1]))


    def has_line(self, path: str, line: int) -> bool:
        """Whether a resolved file is long enough to have ``line``: a frame pointing past
        the end is from another version of the file (or another file of that name)."""
        lines = self._read(path)
        return lines is not None and 1 <= line <= max(len(lines), 1)

    def line_text(self, path: str, line: int) -> str | None:
        """The text of a 1-based line of a workspace file (read once per file version)."""
        lines = self._read(path)
        return lines[line - 1] if lines is not None and 1 <= line <= len(lines) else None

    def _read(self, path: str) -> list[str] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        cached = self._files.get(path)
        if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        if st.st_size > _MAX_SOURCE_BYTES:
            return None  # not source code a person edits
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        if len(self._files) >= _FILE_CACHE_LIMIT:
            self._files.clear()
        self._files[path] = (st.st_mtime_ns, st.st_size, lines)
        return lines


def map_by_prefix(pairs: Iterable[tuple[str, str]], path: str) -> str | None:
    """``path`` with its longest matching (whole-component) prefix replaced; earlier pairs
    win ties. None when no prefix matches."""
    best: tuple[str, str] | None = None
    for prefix, local in pairs:
        matches = path == prefix or path.startswith(prefix.rstrip("/") + "/")
        if matches and (best is None or len(prefix) > len(best[0])):
            best = (prefix, local)
    if best is None:
        return None
    rest = path[len(best[0]):].lstrip("/")
    return os.path.join(best[1], rest) if rest else best[1]


def _norm(path: str) -> str:
    return posixpath.normpath(path) if path else path


def _ends_with(dirs: list[str], suffix: list[str]) -> bool:
    return len(dirs) >= len(suffix) and dirs[len(dirs) - len(suffix):] == suffix


def _common_suffix(a: list[str], b: list[str]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def mapper_from_sync_rules(
    root: str, rules: Iterable[tuple[str, str]], workdir: str | None = None
) -> PathMapper:
    """A mapper from Tilt-style sync rules: (local path, container path) pairs."""
    return PathMapper(root, [(container, local) for local, container in rules], workdir=workdir)

