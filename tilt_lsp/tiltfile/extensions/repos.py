"""Which extension repo and folder an ``ext://`` name means (Tilt's rules, pure).

- ``v1alpha1.extension(name, repo_name, repo_path)`` registers a name explicitly.
- Otherwise a repo declared with ``load_host='h'`` serves every ``ext://h/...`` name.
- Otherwise the ``default`` repo (Tilt's public tilt-extensions, unless the Tiltfile declares
  its own ``default``) serves it, the name being the folder.
Extension names are sanitized as Tilt does (``nested/real`` is registered as ``nested_real``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REPO = "default"
DEFAULT_URL = "https://github.com/tilt-dev/tilt-extensions"


@dataclass(frozen=True, slots=True)
class ExtensionRepo:
    name: str
    url: str
    ref: str = ""
    load_host: str = ""
    git_subpath: str = ""

    @property
    def is_file(self) -> bool:
        return self.url.startswith("file://")


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    repo_name: str
    repo_path: str = ""
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """An ``ext://`` name resolved: the repo to fetch and the folder inside it."""

    module: str  # as written after ext://
    repo: ExtensionRepo
    path: str  # folder inside the repo (after git_subpath), "" for the repo's root
    args: tuple[str, ...] = ()


def sanitize(name: str) -> str:
    """Tilt's object-name rule: lowercase, anything outside [a-z0-9.-] becomes '_'."""
    return re.sub(r"[^a-z0-9.-]", "_", name.lower())


def default_repo(repos: dict[str, ExtensionRepo]) -> ExtensionRepo:
    return repos.get(DEFAULT_REPO) or ExtensionRepo(DEFAULT_REPO, DEFAULT_URL)


def resolve(module: str, repos: dict[str, ExtensionRepo], exts: dict[str, Extension]) -> Resolved:
    """Raise LookupError (with the reason) when an explicit extension names an unknown repo."""
    ext = exts.get(sanitize(module)) or exts.get(module)
    if ext is not None:
        if ext.repo_name == DEFAULT_REPO:
            repo = default_repo(repos)
        elif ext.repo_name in repos:
            repo = repos[ext.repo_name]
        else:
            known = ", ".join(sorted(repos)) or "none declared"
            raise LookupError(
                f"extension {ext.name!r} names extension repo {ext.repo_name!r}, which is not "
                f"declared with v1alpha1.extension_repo (repos: {known})"
            )
        return Resolved(module, repo, ext.repo_path, ext.args)
    for repo in repos.values():
        host = repo.load_host
        if host and module.startswith(host + "/"):
            return Resolved(module, repo, module[len(host) + 1 :])
    return Resolved(module, default_repo(repos), module)
