"""Docker image builds: a failing Dockerfile instruction, for the legacy builder and BuildKit.

The legacy builder prints ``Step 3/5 : RUN …``, the step's output, then ``The command
'/bin/sh -c …' returned a non-zero code: 1``. BuildKit prints ``#8 [3/5] RUN …``, output lines
``#8 0.15 …``, ``#8 ERROR: …`` and at the end either ``executor failed running […]`` (older
engines) or ``Dockerfile:12`` with an excerpt and ``ERROR: failed to solve: …`` (newer).
The problem goes on the Dockerfile line of the failing instruction: the printed line number
when there is one, else the instruction the step's stage and number name (``dockersteps``;
the Dockerfile's text is given to the parser), else nothing, since a guess would be a false
alarm. The message carries the exit code and the step's last output lines, which usually say
what went wrong. A Dockerfile the builder cannot parse (``dockerfile parse error line 5:
unknown instruction: RUNN``, both builders) is a problem on that line.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from tilt_lsp.diagnostics.dockersteps import StepRef, locate_step
from tilt_lsp.diagnostics.model import Finding, Problem

_LEGACY_STEP = re.compile(r"^Step (?P<n>\d+)/(?P<total>\d+) : (?P<text>.+)$")
_LEGACY_FAIL = re.compile(r"^The command '(?P<cmd>.*)' returned a non-zero code: (?P<code>\d+)")
_LEGACY_STEP_FAIL = re.compile(r"^(?P<instr>[A-Z]+) failed: (?P<msg>.+)$")  # "COPY failed: …"
_BK_STEP = re.compile(
    r"^#(?P<id>\d+) \[(?:(?P<stage>[\w.-]+) )?(?P<n>\d+)/(?P<total>\d+)\] (?P<text>.+)$"
)
_PARSE_ERROR = re.compile(r"dockerfile parse error (?:on )?line (?P<line>\d+): (?P<msg>.+)$")
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
    step: StepRef
    exit_code: str | None
    output: list[str]
    error: str = ""  # what the builder said, when it is not a command's exit code


class DockerParser:
    source = "docker"
    # "Dockerfile:12" and "failed to solve" only matter after a failed step, when the parser
    # is active and sees every line anyway.
    trigger = re.compile(
        r"Step \d+/\d+ : |#\d+ |The command '|Error response from daemon: |(?:ERROR: )?failed to solve"
    )
    needles: tuple[str, ...] = ()

    def __init__(self, dockerfile: DockerfileSource | None = None) -> None:
        self._dockerfile = dockerfile
        self._step: StepRef | None = None
        self._output: deque[str] = deque(maxlen=_TAIL)
        self._steps: dict[str, StepRef] = {}
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
            self._step = StepRef(step.group("text"), int(step.group("n")),
                                 int(step.group("total")), legacy=True)
            self._output.clear()
            return []
        if "dockerfile parse error" in line:
            return self._parse_error(line)
        fail = _LEGACY_FAIL.match(line)
        if fail and self._step is not None:
            failure = _Failure(self._step, fail.group("code"), list(self._output))
            self._step = None
            return self._emit(failure)
        step_fail = _LEGACY_STEP_FAIL.match(line)
        if step_fail and self._step is not None and self._step.text.upper().startswith(
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
            self._steps[step.group("id")] = StepRef(
                step.group("text"), int(step.group("n")), int(step.group("total")),
                step.group("stage"),
            )
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
                line = locate_step(self._dockerfile.text, failure.step)
        else:
            path = line_path  # BuildKit named it; path mapping decides where it is
        if line is None or not path:
            return []
        instruction = failure.step.text.split(None, 1)[0].upper()
        message = f"{instruction} failed"
        if failure.exit_code is not None:
            message += f" with exit code {failure.exit_code}"
        details = [failure.error] if failure.error else failure.output
        if details:
            message += ": " + " | ".join(details)
        return [Problem(path, line, None, message, source=self.source)]

    def _parse_error(self, line: str) -> list[Finding]:
        error = _PARSE_ERROR.search(line)
        if error is None or self._dockerfile is None:
            return []  # which Dockerfile is only known when we were told
        self._step, self._failure = None, None
        return [Problem(self._dockerfile.path, int(error.group("line")), None,
                        f"dockerfile parse error: {error.group('msg').strip()}",
                        source=self.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        if not final:
            return []  # a quiet step is still running; "Dockerfile:12" may still come
        failure = self._failure
        self._step = None
        self._output.clear()
        return self._emit(failure) if failure is not None else []
