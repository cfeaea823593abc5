"""The fast build: when only synced files changed but a container must be created anyway
(the old one is gone or stopped mid-way), put those files on top of the last full-build image
instead of running the Dockerfile again: create a container from it, ``put_archive``, commit.

Always from the last *full* build, with every file synced since it: committing on top of a
committed image would grow one layer per save.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any

from tilt_lsp.build import labels as lbl


def layered_tag(repository: str, base_id: str, archive: bytes) -> str:
    h = hashlib.sha256(base_id.encode() + b"\0" + archive).hexdigest()[:16]
    return f"{repository}:tilt-layer-{h}"


def layer_image(
    api: Any,
    base_ref: str,
    repository: str,
    archive: bytes,
    labels: Mapping[str, str],
) -> tuple[str, str]:
    """(tag, image id) of ``base_ref`` plus the files of ``archive`` (names relative to
    ``/``). Blocking: run in a thread."""
    base_id = str(api.inspect_image(base_ref)["Id"])
    tag = layered_tag(repository, base_id, archive)
    with contextlib.suppress(Exception):
        return tag, str(api.inspect_image(tag)["Id"])
    # Never started: it only carries the files; its config (CMD, ENV, …) is the image's.
    container = api.create_container(base_ref, labels={**labels, lbl.BUILD_KIND: "layer"})
    cid = container["Id"]
    try:
        if archive:
            api.put_archive(cid, "/", archive)
        repo, _, version = tag.rpartition(":")
        changes = [f'LABEL {k}="{v}"' for k, v in {**labels, lbl.BUILD_KIND: "layered"}.items()]
        result = api.commit(cid, repository=repo, tag=version, changes=changes)
        return tag, str(result["Id"])
    finally:
        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True, v=True)
