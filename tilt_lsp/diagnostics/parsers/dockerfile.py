"""Docker image builds: a failing Dockerfile instruction, for the legacy builder and BuildKit.

The legacy builder prints ``Step 3/5 : RUN …``, the step's output, then ``The command
'/bin/sh -c …' returned a non-zero code: 1``. BuildKit prints ``#8 [3/5] RUN …``, output lines
``#8 0.15 …``, ``#8 ERROR: …`` and at the end either ``executor failed running […]`` (older
engines) or ``Dockerfile:12`` with an excerpt and ``ERROR: failed to solve: …`` (newer).
The problem goes on the Dockerfile line of the failing instruction: the printed line number
when there is one, else the instruction whose text matches the step (the Dockerfile's text is
given to the parser), else nothing, since a guess would be a false alarm. The message carries
the exit code and the step's last output lines, which usually say what went wrong.
"""

from __future__ import annotations

import io
import re
from collections import deque
from dataclasses import dataclass

from tilt_lsp.diagnostics.model import Finding, Problem

_LEGACY_STEP = re.compile(r"^Step (?P<n>\d+)/\d+ : (?P<text>.+)$")
_LEGACY_FAIL = re.compile(r"^The command '(?P<cmd>.*)' returned a non-zero code: (?P<code>\d+)")
_LEGACY_STEP_FAIL = re.compile(r"^(?P<instr>[A-Z]+) failed: (?P<msg>.+)$")  # "COPY failed: …"
_BK_STEP = re.compile(r"^#(?P<id>\d+) \[(?:[\w.-]+ )?(?P<n>\d+)/\d+\] (?P<text>.+)$")
_BK_OUTPUT = re.compile(r"^#(?P<id>\d+) \d+\.\d+ (?P<text>.*)$")
_BK_ERROR = re.compile(r"^#(?P<id>\d+) ERROR: (?P<msg>.*)$")
_EXIT_CODE = re.compile(r"(?:exit code: |non-zero code: )(?P<code>\d+)")
_LINE_REF = re.compile(r"^(?P<path>\S*Dockerfile[\w.-]*|\S+\.[Dd]ockerfile):(?P<line>\d+)$")
_FINAL = re.compile(r"^(?:ERROR: failed to solve: |failed to solve: |executor failed running "
                    r"|failed to compute cache key: )")
_TAIL = 3


@dataclass(frozen=True, slots=True)
class DockerfileSource:
    """The Dockerfile a build used: its path (as problems should name it) and its text."""

    path: str
    text: str


@dataclass
class _Failure:
    text: str
    exit_code: str | None
    output: list[str]
    error: str = ""  # what the builder said, when it is not a command's exit code


class DockerParser:
    source = "docker"
    # "Dockerfile:12" and "failed to solve" only matter after a failed step, when the parser
    # is active and sees every line anyway.
    trigger = re.compile(r"Step \d+/\d+ : |#\d+ |The command '")
    needles: tuple[str, ...] = ()

    def __init__(self, dockerfile: DockerfileSource | None = None) -> None:
        self._dockerfile = dockerfile
        self._step: str | None = None
        self._output: deque[str] = deque(maxlen=_TAIL)
        self._steps: dict[str, str] = {}
        self._outputs: dict[str, deque[str]] = {}
        self._failure: _Failure | None = None
        self._line: int | None = None
        self._line_path = ""  # the Dockerfile as BuildKit names it next to the line number

    @property
    def active(self) -> bool:
        return self._step is not None or self._failure is not None

    def feed(self, line: str) -> list[Finding]:
        step = _LEGACY_STEP.match(line)
        if step:
            self._step = step.group("text")
            self._output.clear()
            return []
        fail = _LEGACY_FAIL.match(line)
        if fail and self._step is not None:
            failure = _Failure(self._step, fail.group("code"), list(self._output))
            self._step = None
            return self._emit(failure)
        step_fail = _LEGACY_STEP_FAIL.match(line)
        if step_fail and self._step is not None and self._step.upper().startswith(
            step_fail.group("instr")
        ):
            failure = _Failure(self._step, None, [], error=step_fail.group("msg").strip())
            self._step = None
            return self._emit(failure)
        if line.startswith("#"):
            return self._buildkit(line)
        ref = _LINE_REF.match(line)
        if ref and self._failure is not None:
            self._line = int(ref.group("line"))
            self._line_path = ref.group("path")
            return []
        if _FINAL.match(line):
            return self._emit(self._failure) if self._failure is not None else []
        if self._step is not None:
            if line.startswith(" ---> ") or line.startswith("Removing intermediate"):
                return []
            if line.startswith(("Successfully built", "Successfully tagged")):
                self._step = None
            elif line.strip():
                self._output.append(line.strip())
        return []

    def _buildkit(self, line: str) -> list[Finding]:
        step = _BK_STEP.match(line)
        if step:
            self._steps[step.group("id")] = step.group("text")
            return []
        output = _BK_OUTPUT.match(line)
        if output:
            tail = self._outputs.setdefault(output.group("id"), deque(maxlen=_TAIL))
            if output.group("text").strip():
                tail.append(output.group("text").strip())
            return []
        error = _BK_ERROR.match(line)
        if error and error.group("id") in self._steps and self._failure is None:
            code = _EXIT_CODE.search(error.group("msg"))
            self._failure = _Failure(
                self._steps[error.group("id")], code.group("code") if code else None,
                list(self._outputs.get(error.group("id"), ())),
                error="" if code else error.group("msg").strip(),
            )
        return []

    def _emit(self, failure: _Failure) -> list[Finding]:
        line, line_path = self._line, self._line_path
        self._failure, self._line, self._line_path = None, None, ""
        self._steps.clear()
        self._outputs.clear()
        if self._dockerfile is not None:
            path = self._dockerfile.path
            if line is None:
                line = locate_instruction(self._dockerfile.text, failure.text)
        else:
            path = line_path  # BuildKit named it; path mapping decides where it is
        if line is None or not path:
            return []
        instruction = failure.text.split(None, 1)[0].upper()
        message = f"{instruction} failed"
        if failure.exit_code is not None:
            message += f" with exit code {failure.exit_code}"
        details = [failure.error] if failure.error else failure.output
        if details:
            message += ": " + " | ".join(details)
        return [Problem(path, line, None, message, source=self.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        if not final:
            return []  # a quiet step is still running; "Dockerfile:12" may still come
        failure = self._failure
        self._step = None
        self._output.clear()
        return self._emit(failure) if failure is not None else []


def _normalise(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def locate_instruction(dockerfile_text: str, step_text: str) -> int | None:
    """1-based line of the instruction whose text is the step's text, if exactly findable."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode("utf-8")))
    instructions = [
        (_normalise(f"{item['instruction']} {item['value']}").upper(), int(item["startline"]) + 1)
        for item in parser.structure if item["instruction"] != "COMMENT"
    ]
    wanted = _normalise(step_text).upper()
    exact = [line for text, line in instructions if text == wanted]
    if exact:
        return exact[0]
    # BuildKit may shorten a long instruction: fall back to a unique prefix match.
    prefix = [line for text, line in instructions if text.startswith(wanted[:60])]
    return prefix[0] if len(prefix) == 1 else None
