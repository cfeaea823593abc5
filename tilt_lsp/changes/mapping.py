"""Which resources a set of changed files affects (pure).

A local_resource watches its ``deps`` (minus its ``ignore``); a resource that deploys an image
watches the image's build context (minus ``.dockerignore``, ``ignore=`` and outside ``only=``).
A change to a file the Tiltfile read means the Tiltfile must be evaluated again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pathspec

from tilt_lsp.changes.ignore import matches, read_ignore_file, spec
from tilt_lsp.tiltfile.model import ImageBuild, Model, Resource


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass
class ChangeMap:
    """What one batch of changed paths means."""

    tiltfile_changed: bool = False
    resources: dict[str, set[str]] = field(default_factory=dict)


class Watches:
    """The precomputed watch rules of one model (built once per Tiltfile evaluation)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.config_files = set(model.config_files)
        self._base = os.path.dirname(model.tiltfile)
        self._local: dict[str, tuple[tuple[str, ...], pathspec.PathSpec[Any]]] = {}
        for r in model.resources:
            if r.local:
                self._local[r.name] = (r.local.deps, spec(r.local.ignore))
        self._images: dict[
            str, tuple[ImageBuild, pathspec.PathSpec[Any], pathspec.PathSpec[Any] | None]
        ] = {}
        for image in model.images:
            ignores = list(image.ignore) + read_ignore_file(
                os.path.join(image.context, ".dockerignore")
            )
            only = spec(image.only) if image.only else None
            self._images[image.ref] = (image, spec(ignores), only)

    def image_watches(self, image: ImageBuild, path: str) -> bool:
        _, ignore, only = self._images[image.ref]
        if not under(path, image.context):
            return False
        if matches(ignore, image.context, path):
            return False
        return only is None or _only_matches(only, image.context, path)

    def resource_watches(self, r: Resource, path: str) -> bool:
        if r.name in self._local:
            deps, ignore = self._local[r.name]
            return any(under(path, d) for d in deps) and not matches(ignore, self._base, path)
        if r.custom_deploy is not None and any(under(path, d) for d in r.custom_deploy.deps):
            return True  # k8s_custom_deploy(deps=...): apply again
        for ref in r.image_refs:
            image = self.model.image(ref)
            if image is not None and self.image_watches(image, path):
                return True
        return False

    def classify(self, paths: Iterable[str]) -> ChangeMap:
        out = ChangeMap()
        for path in paths:
            if path in self.config_files:
                out.tiltfile_changed = True
            for r in self.model.resources:
                if self.resource_watches(r, path):
                    out.resources.setdefault(r.name, set()).add(path)
        return out


def _only_matches(only: pathspec.PathSpec[Any], base: str, path: str) -> bool:
    rel = os.path.relpath(path, base)
    # ``only=['src']`` includes everything under src/.
    parts = rel.split(os.sep)
    return any(only.match_file(os.sep.join(parts[: i + 1])) for i in range(len(parts)))
