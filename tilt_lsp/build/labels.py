"""The labels on everything tilt-lsp creates in Docker, and the cleanup that relies on them.

tilt-lsp never prunes: it removes only objects that carry its own labels for this workspace
and this image, and only those it no longer uses.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

MANAGED = "dev.tilt-lsp.managed"  # value "true" (the synclet refuses containers without it)
WORKSPACE = "dev.tilt-lsp.workspace"  # a hash of the workspace root
RESOURCE = "dev.tilt-lsp.resource"
IMAGE = "dev.tilt-lsp.image"  # the docker_build ref's repository
BUILD_KIND = "dev.tilt-lsp.build"  # "full" | "layered"
CONTEXT = "dev.tilt-lsp.context"  # the content hash the image was built from


def workspace_id(root: str) -> str:
    return hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:16]


def managed_labels(root: str, **extra: str) -> dict[str, str]:
    labels = {MANAGED: "true", WORKSPACE: workspace_id(root)}
    labels.update({k: v for k, v in extra.items() if v})
    return labels


def filters(labels: Mapping[str, str]) -> dict[str, list[str]]:
    return {"label": [f"{k}={v}" for k, v in labels.items()]}


def remove_stale_images(api: Any, labels: Mapping[str, str], keep: Iterable[str]) -> list[str]:
    """Remove images with all of ``labels`` except the ids in ``keep``; an image a container
    still uses stays (Docker refuses, and that is fine). Returns the removed ids."""
    kept = set(keep)
    removed: list[str] = []
    for image in api.images(filters=filters(labels)):
        image_id = str(image.get("Id", ""))
        if not image_id or image_id in kept:
            continue
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        ok = True
        for ref in tags or [image_id]:
            try:
                api.remove_image(ref, force=False, noprune=False)
            except Exception:
                ok = False
        if ok:
            removed.append(image_id)
    return removed


def remove_containers(api: Any, labels: Mapping[str, str]) -> None:
    """Remove stopped or running containers with all of ``labels`` (leftovers of layered
    builds that a crash interrupted)."""
    for c in api.containers(all=True, filters=filters(labels)):
        with contextlib.suppress(Exception):
            api.remove_container(c["Id"], force=True, v=True)
