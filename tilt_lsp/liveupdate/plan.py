"""The live-update decision, as a pure function: given the ``live_update`` steps and the
changed files, sync them into the running container, rebuild the image, or do nothing.

Tilt's rules (``internal/containerupdate``, ``liveupdate``): every changed file must be inside
some ``sync`` for a live update; one file outside every sync, or one that matches a
``fall_back_on`` path, means a full rebuild. A deleted local file is deleted in the container.
``run`` steps run when one of their trigger files changed (always, without triggers);
``restart_container`` restarts after the files are in place.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tilt_lsp.changes.mapping import under
from tilt_lsp.tiltfile.model import LiveUpdate, RunStep, SyncRule

PlanKind = Literal["live_update", "full_build", "nothing"]


@dataclass(frozen=True, slots=True)
class Plan:
    kind: PlanKind
    syncs: tuple[tuple[str, str], ...] = ()  # (local path, container path), files that exist
    deletes: tuple[str, ...] = ()  # container paths of deleted local files
    run_steps: tuple[RunStep, ...] = ()  # the run steps these changes trigger, in order
    restart: bool = False
    reason: str = ""  # why a full build (in the user's words), or why nothing


def container_path(rules: Iterable[SyncRule], local: str) -> str | None:
    """Where ``local`` goes by the most specific sync rule that holds it, or None."""
    best: SyncRule | None = None
    for rule in rules:
        if under(local, rule.local_path) and (
            best is None or len(rule.local_path) > len(best.local_path)
        ):
            best = rule
    if best is None:
        return None
    rest = os.path.relpath(local, best.local_path)
    if rest == ".":
        return best.container_path
    return posixpath.join(best.container_path, rest.replace(os.sep, "/"))


def plan(
    live_update: LiveUpdate | None,
    changed: Iterable[str],
    deleted: Iterable[str] = (),
    always_rebuild: Iterable[str] = (),
) -> Plan:
    """Decide what ``changed`` (absolute local paths; ``deleted`` ones no longer exist) needs.

    ``always_rebuild`` are files that mean a new image whatever the syncs say (the
    Dockerfile, ``.dockerignore``): the running container cannot take them."""
    paths = sorted(set(changed) | set(deleted))
    gone = set(deleted)
    if not paths:
        return Plan("nothing", reason="no changes")
    if live_update is None or not live_update.syncs:
        return Plan("full_build", reason=f"{_name(paths[0])} changed and there is no live_update sync")
    rebuild_on = (*live_update.fall_back_on, *always_rebuild)
    syncs: list[tuple[str, str]] = []
    deletes: list[str] = []
    for path in paths:
        hit = next((f for f in rebuild_on if under(path, f)), None)
        if hit is not None:
            return Plan("full_build", reason=f"{_name(path)} matches fall_back_on ({_name(hit)})"
                        if hit in live_update.fall_back_on else f"{_name(path)} changed")
        target = container_path(live_update.syncs, path)
        if target is None:
            return Plan("full_build", reason=f"{_name(path)} is outside every sync")
        if path in gone:
            deletes.append(target)
        else:
            syncs.append((path, target))
    steps = tuple(
        step for step in live_update.runs
        if not step.triggers or any(under(p, t) for p in paths for t in step.triggers)
    )
    return Plan(
        "live_update",
        syncs=tuple(syncs),
        deletes=tuple(deletes),
        run_steps=steps,
        restart=live_update.restart_container,
    )


def _name(path: str) -> str:
    return os.path.basename(path.rstrip(os.sep)) or path
