"""Path mappings from a Dockerfile: where in the image each local file ends up.

``COPY src dest`` puts ``context/src`` at ``dest`` (relative to the WORKDIR in force), so a
trace printed in the container names ``dest/...`` and we want ``context/src/...``. Multi-stage
builds add two things: ``COPY --from=build /src/app /app`` brings a file that came from the
context in the ``build`` stage (follow it back), and a compiled binary prints paths of the
stage that built it, so every stage's copies count, not only the last one's. ``ARG`` and
``ENV`` values are substituted in paths (``WORKDIR $APP_HOME``); a ``FROM stage`` inherits
that stage's WORKDIR and files.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from tilt_lsp.diagnostics.paths import PathMapper, map_by_prefix

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)(?::[-+][^}]*)?\}|(?P<plain>\w+))")


@dataclass
class _Stage:
    workdir: str = "/"
    pairs: list[tuple[str, str]] = field(default_factory=list)  # container -> local


def dockerfile_mappings(
    dockerfile_text: str, context_dir: str
) -> tuple[list[tuple[str, str]], str | None]:
    """(container prefix, local prefix) pairs of every stage, and the last stage's WORKDIR."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode("utf-8")))
    stages: dict[str, _Stage] = {}
    current = _Stage()
    variables: dict[str, str] = {}
    everything: list[tuple[str, str]] = []
    for item in parser.structure:
        instruction = str(item["instruction"]).upper()
        value = str(item["value"]).strip()
        if instruction == "FROM":
            current = _from(value, stages, variables)
        elif instruction in ("ARG", "ENV"):
            variables.update(_assignments(value, instruction))
        elif instruction == "WORKDIR":
            current.workdir = posixpath.normpath(
                posixpath.join(current.workdir, _substitute(value, variables))
            )
        elif instruction in ("COPY", "ADD"):
            added = _copy_pairs(_substitute(value, variables), current.workdir, context_dir,
                                stages)
            current.pairs.extend(added)
            everything.extend(added)
    return everything, current.workdir if current.workdir != "/" else None


def mapper_from_dockerfile(
    root: str, dockerfile_path: str, context_dir: str | None = None
) -> PathMapper:
    """A mapper from a Dockerfile: COPY/ADD pairs, and its WORKDIR for relative paths."""
    context = context_dir or os.path.dirname(os.path.abspath(dockerfile_path))
    text = Path(dockerfile_path).read_text(encoding="utf-8", errors="replace")
    pairs, workdir = dockerfile_mappings(text, context)
    return PathMapper(root, pairs, workdir=workdir)


def _from(value: str, stages: dict[str, _Stage], variables: dict[str, str]) -> _Stage:
    words = [w for w in value.split() if not w.startswith("--")]
    image = _substitute(words[0], variables).lower() if words else ""
    base = stages.get(image)
    stage = _Stage(base.workdir, list(base.pairs)) if base else _Stage()
    stages[str(sum(1 for k in stages if k.isdigit()))] = stage
    if len(words) >= 3 and words[1].upper() == "AS":
        stages[words[2].lower()] = stage
    return stage


def _assignments(value: str, instruction: str) -> dict[str, str]:
    try:
        words = shlex.split(value)
    except ValueError:
        return {}
    if instruction == "ENV" and len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # the old "ENV KEY value" form
    pairs = (w.split("=", 1) for w in words if "=" in w)
    return {k: v for k, v in pairs}


def _substitute(text: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        return variables.get(name, match.group(0))

    return _VARIABLE.sub(value, text) if "$" in text else text


def _copy_pairs(
    value: str, workdir: str, context_dir: str, stages: dict[str, _Stage]
) -> list[tuple[str, str]]:
    try:
        args = json.loads(value) if value.startswith("[") else shlex.split(value)
    except ValueError:
        return []
    if not isinstance(args, list):
        return []
    words = [str(a) for a in args]
    source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
    words = [w for w in words if not w.startswith("--")]
    if len(words) < 2:
        return []
    *sources, dest = words
    dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
    into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    pairs: list[tuple[str, str]] = []
    for src in sources:
        if "://" in src:
            continue
        if any(ch in src for ch in "*?["):
            src = posixpath.dirname(src) or "."
            into_dir = False  # the pattern's directory stands for the destination directory
        if source_stage is not None:
            stage = stages.get(source_stage.lower())
            local = _local_in_stage(stage, src) if stage else None
        else:
            local = os.path.normpath(os.path.join(context_dir, src))
        if local is None:
            continue
        if os.path.isdir(local) or not into_dir:
            pairs.append((dest_abs, local))
        else:
            pairs.append((posixpath.join(dest_abs, posixpath.basename(src)), local))
    return pairs


def _local_in_stage(stage: _Stage, src: str) -> str | None:
    """The local path a file at ``src`` in another stage came from, if it came from ours."""
    return map_by_prefix(stage.pairs, posixpath.normpath(posixpath.join(stage.workdir, src)))
