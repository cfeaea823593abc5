"""Which changed paths are noise: version control, caches, editor temp files, .tiltignore.

Editors write temp and backup files on every save (vim's ``4913`` probe and ``*.swp``, emacs'
``.#lock`` and ``#autosave#``, JetBrains' ``___jb_tmp___``); reacting to them would double every
update (Tilt #6187, #6615). Caches that running code writes (``__pycache__``) would make a
Python service restart itself forever.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pathspec

IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".idea",
        ".tilt-lsp",
    }
)
EDITOR_FILES = (
    "*.swp",
    "*.swo",
    "*.swx",
    "*.swpx",
    "*~",
    ".#*",
    "#*#",
    "4913",
    "*.pyc",
    "*.pyo",
    ".DS_Store",
    "*___jb_tmp___",
    "*___jb_old___",
    "*.kate-swp",
    ".*.kate-swp",
    "*.tmp.*",
    ".goutputstream-*",
)


def is_editor_or_vcs_noise(path: str) -> bool:
    parts = path.split(os.sep)
    if any(p in IGNORED_DIRS for p in parts[:-1]) or parts[-1] in IGNORED_DIRS:
        return True
    name = parts[-1]
    return any(fnmatch.fnmatchcase(name, pat) for pat in EDITOR_FILES)


def read_ignore_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return [
                line.rstrip("\n")
                for line in f
                if line.strip() and not line.lstrip().startswith("#")
            ]
    except OSError:
        return []


def spec(patterns: Iterable[str]) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def matches(patterns: pathspec.PathSpec[Any], base: str, path: str) -> bool:
    """Does ``path`` (absolute) match ``patterns`` written relative to ``base``? A path
    outside ``base`` never matches."""
    rel = os.path.relpath(path, base)
    if rel.startswith(".."):
        return False
    return patterns.match_file(rel) or patterns.match_file(rel + "/")


@dataclass
class IgnoreRules:
    """Workspace-wide ignores: built-in noise, ``.tiltignore`` next to the Tiltfile, and
    ``watch_settings(ignore=...)``."""

    root: str
    extra: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tiltignore = os.path.join(self.root, ".tiltignore")
        self.reload()

    def reload(self) -> None:
        self._spec = spec(read_ignore_file(self.tiltignore) + self.extra)

    def ignored(self, path: str) -> bool:
        return is_editor_or_vcs_noise(path) or matches(self._spec, self.root, path)
