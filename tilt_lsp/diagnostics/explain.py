"""Why output with errors in it gave no problem: the files it names are not in the workspace.

``tilt-lsp diagnose`` on a container's log without ``--map`` finds the traces but cannot place
them (``/app/handlers.py`` is not a local path). Saying nothing would look like "no errors";
this names the paths that did not map and, when the workspace holds files with the same
trailing path, the ``--map`` that would place them.
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tilt_lsp.diagnostics.model import Finding, Trace
from tilt_lsp.diagnostics.paths import PathMapper, is_pseudo_path

MAX_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Unplaced:
    """What could not be placed: the printed places, and the mappings that would place them."""

    count: int
    places: tuple[str, ...]
    maps: tuple[tuple[str, str], ...]  # (container prefix, local dir relative to the root)


def printed_places(finding: Finding) -> list[tuple[str, int]]:
    """The (path, line) places of a finding that a mapping could place, innermost first.

    Bare file names (Java frames) are found through the workspace index whatever the
    mapping, so one that is not placed is someone else's code (a jar's frame): no advice."""
    if isinstance(finding, Trace):
        places = [(f.path, f.line) for f in finding.frames if not f.library]
    else:
        places = [(finding.path, finding.line)]
    return [(path, line) for path, line in places if "/" in path and not is_pseudo_path(path)]


def unplaced(findings: Iterable[Finding], mapper: PathMapper) -> Unplaced | None:
    """What the findings that found no place point at, or None if there were none."""
    count, votes = 0, Counter[tuple[str, str]]()
    places: dict[str, bool] = {}  # printed place -> a mapping would place it
    for finding in findings:
        where = printed_places(finding)
        if not where:
            continue
        count += 1
        for path, line in where:
            suggestion = suggest_map(path, mapper)
            if suggestion is not None:
                votes[suggestion] += 1
            place = f"{path}:{line}"
            places[place] = places.get(place, False) or suggestion is not None
    if count == 0:
        return None
    # The places a mapping would fix first: they are the user's files.
    ordered = sorted(places, key=lambda p: not places[p])
    return Unplaced(count, tuple(ordered), tuple(m for m, _n in votes.most_common()))


def suggest_map(path: str, mapper: PathMapper) -> tuple[str, str] | None:
    """The mapping that puts an absolute printed path on the one workspace file ending with
    the longest part of it, e.g. ``/app/src/h.py`` and ``svc/src/h.py`` → ``(/app, svc)``."""
    if not path.startswith("/"):
        return None
    parts = [p for p in posixpath.normpath(path).split("/") if p]
    if len(parts) < 2 or mapper.index is None:
        return None
    best: list[tuple[int, str]] = []
    for rel in mapper.index.lookup(parts[-1]):
        local = rel.split("/")
        common = 0
        while (
            common < len(local) and common < len(parts) and local[-1 - common] == parts[-1 - common]
        ):
            common += 1
        best.append((common, rel))
    if not best:
        return None
    best.sort(reverse=True)
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None  # two files fit as well: no advice is better than wrong advice
    common, rel = best[0]
    container = "/" + "/".join(parts[: len(parts) - common])
    rel_parts = rel.split("/")
    local_dir = "/".join(rel_parts[: len(rel_parts) - common]) or "."
    if container == "/":
        return None
    return container, local_dir


def explain(result: Unplaced, root: str, cwd: str) -> str:
    """The message for the user, in words they can act on (``--map`` local paths relative
    to ``cwd``, as the user would type them)."""
    shown = ", ".join(result.places[:MAX_SHOWN])
    more = f" and {len(result.places) - MAX_SHOWN} more" if len(result.places) > MAX_SHOWN else ""
    what = "1 error" if result.count == 1 else f"{result.count} errors"
    they = "it names" if result.count == 1 else "they name"
    text = (
        f"found {what} in the output, but none of the files {they} is in the workspace "
        f"{root} ({shown}{more})."
    )
    if result.maps:
        maps = " ".join(
            f"--map {container}={os.path.relpath(os.path.join(root, local), cwd)}"
            for container, local in result.maps[:3]
        )
        return f"{text} They look like paths in a container or on another machine; try: {maps}"
    return (
        f"{text} If they were copied from your files (into an image, onto another machine), "
        "add --map CONTAINER_PATH=LOCAL_PATH for the directory they came from; if they are "
        "relative, pass --workdir DIR or --root DIR."
    )
