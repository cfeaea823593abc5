"""Go: compiler and vet errors, ``go test`` failures, panics with goroutine dumps.

Compiler and vet lines are ``file.go:line:col: message`` (``./main.go`` relative to the
package directory, which path mapping resolves against the working directory). A test
failure is an indented ``calc_test.go:14: message`` that belongs to a failing test: with
``-v`` those lines come *before* ``--- FAIL``, so they are held per test and dropped when the
test passes (they were ``t.Log`` output). The ``FAIL\\tpkg`` line that ends a package names its
import path, a hint for finding the bare file name. A panic's culprit is the innermost frame
of the panicking goroutine that is user code; ``runtime.`` frames and GOROOT are context.
A test timeout (``panic: test timed out after 3s`` with ``running tests:``) panics in the
testing package's alarm goroutine: the culprit is in the goroutine of the stuck test, found
among the others of the dump by the test's function name.
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Severity, Trace
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER

_BUILD = re.compile(r"^(?P<path>[^\s:][^:]*\.go):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")
_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE|NAME)\s+(?P<name>\S+)")
_VERDICT = re.compile(r"^\s*--- (?P<verdict>FAIL|PASS|SKIP): (?P<name>\S+)")
_TEST_LINE = re.compile(r"^\s+(?P<path>[\w./-]+_test\.go|[\w./-]+\.go):(?P<line>\d+): (?P<msg>.*)$")
_PACKAGE_END = re.compile(r"^(?:FAIL|ok)\s+(?P<pkg>\S+)\s")
_PANIC = re.compile(r"^(?P<kind>panic|fatal error): (?P<msg>.+?)(?: \[recovered[^\]]*\])?$")
_GOROUTINE = re.compile(r"^goroutine \d+ \[.*\]:$")
# "main.(*store).add(...)", "net/http.(*conn).serve(0xc000…)", "created by main.main in
# goroutine 1": no space before the arguments, and a location line must follow.
_FUNC = re.compile(r"^(?:created by (?P<creator>[^\s(]\S*?)(?: in goroutine \d+)?"
                   r"|(?P<func>[^\s(][^\s(]*(?:\(\*?[^\s()]+\)[^\s(]*)?)\(.*\))$")
_LOCATION = re.compile(r"^\t(?P<path>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")
_MAX_FRAMES = 200
_RUNNING = re.compile(r"^\t\t(?P<name>(?:Test|Benchmark|Example|Fuzz)\w*)(?:/\S*)? \(")
_MAX_GOROUTINES = 1000
MAX_FOREIGN = 2  # lines of the program's other output tolerated inside a goroutine dump


class GoParser:
    source = "go"
    trigger = re.compile(
        f"{LOCATION_TRIGGER}" r"|=== (?:RUN|CONT|NAME)|\s*--- FAIL: |(?:panic|fatal error): "
    )
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._test_lines: dict[str, list[Problem]] = {}
        self._failed: list[Problem] = []
        self._current_test: str | None = None
        self._in_fail_block = False
        self._panic: str | None = None
        self._frames: list[Frame] = []
        self._function = ""
        self._dumping = False
        self._expect_location = False
        self._running: list[str] = []  # tests a timeout panic names
        self._goroutines: list[list[Frame]] | None = None  # a timeout's other goroutines
        self._foreign: list[str] = []  # lines inside a dump that were not part of it (yet)

    @property
    def active(self) -> bool:
        return bool(
            self._current_test or self._in_fail_block or self._failed or self._panic is not None
        )

    def feed(self, line: str) -> list[Finding]:
        if self._panic is not None:
            return self._panic_line(line)
        panic = _PANIC.match(line)
        if panic:
            self._panic = f"{panic.group('kind')}: {panic.group('msg').strip()}"
            self._frames = []
            self._dumping = False
            self._expect_location = False
            return []
        return self._test_line(line)

    def _test_line(self, line: str) -> list[Finding]:
        run = _RUN.match(line)
        if run:
            self._current_test = run.group("name")
            self._in_fail_block = False
            return []
        verdict = _VERDICT.match(line)
        if verdict:
            held = self._test_lines.pop(verdict.group("name"), [])
            self._in_fail_block = verdict.group("verdict") == "FAIL"
            if self._in_fail_block:
                self._failed.extend(held)
            self._current_test = None
            return []
        test = _TEST_LINE.match(line)
        if test and (self._current_test or self._in_fail_block):
            problem = Problem(
                path=test.group("path"), line=int(test.group("line")), column=None,
                message=test.group("msg").strip(), source="go test",
            )
            if self._in_fail_block:
                self._failed.append(problem)
            elif self._current_test is not None:
                self._test_lines.setdefault(self._current_test, []).append(problem)
            return []
        end = _PACKAGE_END.match(line)
        if end:
            return self._end_package(end.group("pkg"))
        if line.startswith(("FAIL", "ok ", "PASS")):
            self._in_fail_block = False
        build = _BUILD.match(line)
        if build:
            return [Problem(
                path=build.group("path"), line=int(build.group("line")),
                column=int(build.group("col")), message=build.group("msg").strip(),
                severity=Severity.ERROR, source="go",
            )]
        return []

    def _end_package(self, package: str) -> list[Finding]:
        failed = [
            Problem(p.path, p.line, p.column, p.message, source=p.source, package=package)
            for p in self._failed
        ]
        self._failed = []
        self._test_lines.clear()
        self._current_test = None
        self._in_fail_block = False
        return list(failed)

    def _panic_line(self, line: str) -> list[Finding]:
        if not self._dumping:
            if _GOROUTINE.match(line):
                self._dumping = True
            elif line.startswith("\t"):
                running = _RUNNING.match(line)
                if running and len(self._running) < 100:
                    self._running.append(running.group("name"))
            elif line.startswith("[") or not line.strip():
                pass  # "[signal SIGSEGV …]", "[recovered]", blank line before the dump
            elif len(self._frames) == 0 and (again := _PANIC.match(line)):
                # A re-panic: the last one is what the goroutine died of.
                self._panic = f"{again.group('kind')}: {again.group('msg').strip()}"
            else:
                return self._finish()
            return []
        location = _LOCATION.match(line)
        if self._foreign and (location or _FUNC.match(line) or _GOROUTINE.match(line)):
            self._foreign.clear()  # the dump went on: those lines were the program's output
        if location:
            self._expect_location = False
            if len(self._frames) < _MAX_FRAMES:
                path = location.group("path")
                # Go says which code is its own by the function's package; where the file is
                # (GOROOT, the module cache) is path mapping's verdict.
                library = self._function.startswith(("runtime.", "testing."))
                self._frames.append(Frame(
                    path=path, line=int(location.group("line")), function=self._function,
                    library=library,
                ))
            return []
        if self._goroutines is not None and _GOROUTINE.match(line):
            if len(self._goroutines) < _MAX_GOROUTINES:
                self._goroutines.append(self._frames)
            self._frames, self._expect_location = [], False
            return []
        if not line.strip():
            if self._goroutines is None and self._running and (self._panic or "").startswith(
                "panic: test timed out"
            ):
                self._goroutines, self._frames = [self._frames], []
                return []  # read the other goroutines: the stuck test is in one of them
            if self._goroutines is not None:
                return []
            return self._finish_and_replay(None)  # the panicking goroutine's dump ends here
        func = _FUNC.match(line)
        if func and not self._expect_location:
            self._function = func.group("func") or func.group("creator")
            self._expect_location = True
            return []
        if len(self._foreign) < MAX_FOREIGN and not _PANIC.match(line):
            self._foreign.append(line)  # other output inside the dump, unless it ends here
            return []
        return self._finish_and_replay(line)

    def _finish_and_replay(self, line: str | None) -> list[Finding]:
        held, self._foreign = self._foreign, []
        out = self._finish()
        for text in [*held, *([line] if line is not None else [])]:
            out.extend(self.feed(text))
        return out

    def _finish(self) -> list[Finding]:
        message, frames = self._panic or "", self._frames
        if self._goroutines is not None:
            message, frames = _stuck_test(message, [*self._goroutines, frames], self._running)
        self._panic, self._frames, self._dumping, self._function = None, [], False, ""
        self._expect_location = False
        self._running, self._goroutines = [], None
        if not frames:
            return []
        return [Trace(message=message, frames=tuple(frames), source=self.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        if not final:
            return []  # a slow test is still running; its verdict decides
        out: list[Finding] = []
        if self._panic is not None:
            out.extend(self._finish_and_replay(None))
        if self._panic is not None:
            out.extend(self._finish())
        out.extend(self._failed)
        self._failed = []
        self._test_lines.clear()
        self._current_test = None
        self._in_fail_block = False
        return out


def _stuck_test(
    message: str, goroutines: list[list[Frame]], running: list[str]
) -> tuple[str, list[Frame]]:
    """The timeout's message naming the stuck test, and the frames of its goroutine."""
    for frames in goroutines:
        for frame in frames:
            # "example.com/queue.TestPushPop", "example.com/queue.TestPushPop.func1"
            parts = frame.function.rsplit("/", 1)[-1].split(".")
            for name in running:
                if name in parts[1:]:
                    return f"{message}: {name} is stuck here", frames
    return message, []
