"""Which Dockerfile line a build step is: by stage and step number, checked against its text.

Both builders number steps, differently. The legacy builder counts every instruction of the
file (``Step 10/11 : RUN …``; global ``ARG``s included, its ``--label`` step added at the
end). BuildKit counts, per stage, the instructions that make a build step (``FROM``, ``RUN``,
``COPY``, ``ADD``, ``WORKDIR``) and names the stage (``[build 2/4]``, ``[stage-1 5/5]``; no
name in a one-stage build). The number finds the instruction; its text must agree. Without a
number (or when it disagrees) the text alone decides, within the stage if known, and only
when exactly one instruction has it: two identical ``RUN`` lines in different stages are
never guessed between.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

_BUILDKIT_STEPS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})
_PREFIX = 60  # BuildKit may shorten a long instruction in its step line


@dataclass(frozen=True, slots=True)
class StepRef:
    """A build step as the builder printed it."""

    text: str
    number: int | None = None
    total: int | None = None
    stage: str | None = None
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class _Instruction:
    keyword: str
    text: str  # normalised, upper case
    line: int  # 1-based
    stage: int  # -1 before the first FROM


def _normalise(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split()).upper()


def _instructions(dockerfile_text: str) -> tuple[list[_Instruction], dict[str, int]]:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode("utf-8")))
    out: list[_Instruction] = []
    names: dict[str, int] = {}
    stage = -1
    for item in parser.structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        value = str(item["value"])
        if keyword == "FROM":
            stage += 1
            words = value.split()
            if len(words) >= 3 and words[-2].upper() == "AS":
                names[words[-1].lower()] = stage
            names[f"stage-{stage}"] = stage
        out.append(
            _Instruction(
                keyword, _normalise(f"{keyword} {value}"), int(item["startline"]) + 1, stage
            )
        )
    return out, names


def _agrees(instruction: _Instruction, wanted: str) -> bool:
    return instruction.text == wanted or (
        len(wanted) >= _PREFIX and instruction.text.startswith(wanted[:_PREFIX])
    )


def locate_step(dockerfile_text: str, step: StepRef) -> int | None:
    """1-based line of the step's instruction, or None when it cannot be known for sure."""
    instructions, names = _instructions(dockerfile_text)
    wanted = _normalise(step.text)
    keyword = wanted.split(" ", 1)[0]
    if step.legacy and step.number is not None:
        if 1 <= step.number <= len(instructions):
            candidate = instructions[step.number - 1]
            if _agrees(candidate, wanted):
                return candidate.line
        scope = instructions
    else:
        stages = {i.stage for i in instructions if i.stage >= 0}
        stage: int | None = None
        if step.stage is not None:
            stage = names.get(step.stage.lower())
            if stage is None:
                return None  # a stage this Dockerfile does not have: another file's build
        elif len(stages) == 1:
            stage = next(iter(stages))
        scope = [i for i in instructions if stage is None or i.stage == stage]
        if stage is not None and step.number is not None:
            steps = [i for i in scope if i.keyword in _BUILDKIT_STEPS]
            if 1 <= step.number <= len(steps):
                candidate = steps[step.number - 1]
                # FROM prints the resolved image, so its text cannot agree; the count can.
                from_image = keyword == "FROM" and step.total == len(steps)
                if candidate.keyword == keyword and (_agrees(candidate, wanted) or from_image):
                    return candidate.line
    matches = [i.line for i in scope if _agrees(i, wanted)]
    return matches[0] if len(matches) == 1 else None
