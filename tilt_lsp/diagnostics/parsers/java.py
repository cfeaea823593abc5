"""Java: javac errors and exception stack traces (``Caused by:``, ``... N more``).

javac prints ``Foo.java:8: error: message``, the source line, a caret (the column) and
indented details (``symbol:``, ``location:``) that belong in the message. An exception is a
class name header (``Exception in thread "main" java.lang.X: msg``, or a logged one) followed
by ``\\tat pkg.Class.method(File.java:8)`` frames; only bare file names are printed, so each
frame carries its package for the workspace index. Each ``Caused by:`` is its own problem:
the root cause usually points at a different line than the wrapper, and so is each
``Suppressed:`` exception (a second failure, e.g. in ``close()`` of a try-with-resources).
Surefire's ``[ERROR] testName(pkg.ClassTest)  Time elapsed: … <<< FAILURE!`` names the test of
the trace after it. Up to ``MAX_FOREIGN`` lines of other output inside a trace are skipped
when frames follow them.
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Severity, Trace
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER, caret_column

# Gradle glues its task name to the first line of the task's output: ":compileJava/src/…".
_JAVAC = re.compile(r"^(?::[\w:-]+(?=/))?(?P<path>[^\s:][^:]*\.java):(?P<line>\d+): "
                    r"(?P<sev>error|warning): (?P<msg>.*)$")
_HEADER = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" |Caused by: )?"
    r"(?P<exc>(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:\$[\w$]+)*)(?::\s?(?P<msg>.*))?$"
)
# "at com.acme.Foo.bar(Foo.java:8)", "at java.base/java.util.List.get(…)" (a module),
# "at app//com.acme.Foo.bar(…)" (a class loader), logback's " ~[app.jar:1.0]" after it.
_AT = re.compile(
    r"^\s+at (?P<loader>(?:[\w.$-]*(?:@[\w.-]+)?/){1,2})?(?P<method>[\w$.<>]+)"
    r"\((?P<file>[\w$-]+\.(?:java|kt|scala|groovy)):(?P<line>\d+)\)(?: ~?\[[^\]]*\])?$"
)
_OTHER_AT = re.compile(r"^\s+(?:at \S+\(.*\)|\.\.\. \d+ (?:more|common frames omitted))$")
_LIBRARY_PACKAGES = ("java.", "javax.", "jdk.", "sun.", "com.sun.")
_NESTED = re.compile(r"^\s+(?P<kind>Suppressed|Caused by): (?P<exc>.+)$")
_SUREFIRE = re.compile(
    r"^\[ERROR\] (?P<test>[\w$.]+(?:\([\w$.]+\))?)\s+Time elapsed: .*<<< (?:FAILURE|ERROR)!$"
)
MAX_FOREIGN = 2
_MAX_FRAMES = 300


class JavaParser:
    source = "java"
    needles: tuple[str, ...] = ()
    trigger = re.compile(
        f"{LOCATION_TRIGGER}"
        r"|(?:Exception in thread \"[^\"]*\" |Caused by: )?(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*"
        r"(?:Exception|Error|Throwable)\b|\[ERROR\] [\w$.]+(?:\([\w$.]+\))?\s+Time elapsed"
        r"|:[\w:-]+/\S*\.java:\d+: "
    )

    def __init__(self) -> None:
        self._javac: Problem | None = None
        self._details: list[str] = []
        self._trace_message: str | None = None
        self._frames: list[Frame] = []
        self._test: str | None = None  # surefire's name for the next trace
        self._foreign: list[str] = []  # lines inside a trace that were not frames (yet)

    @property
    def active(self) -> bool:
        return (self._javac is not None or self._trace_message is not None
                or self._test is not None)

    def feed(self, line: str) -> list[Finding]:
        if self._trace_message is not None:
            at = _AT.match(line)
            if at or _OTHER_AT.match(line):
                self._foreign.clear()  # the trace went on: those lines were someone else's
                if at:
                    self._add_frame(at)
                return []
            nested = _NESTED.match(line)
            if nested and self._frames:
                out = self._finish_trace()
                kind = nested.group("kind")
                self._trace_message = (
                    f"suppressed: {nested.group('exc').strip()}" if kind == "Suppressed"
                    else nested.group("exc").strip()
                )
                return out
            if self._frames and len(self._foreign) < MAX_FOREIGN and not _HEADER.match(
                line.strip().removeprefix("Caused by: ")
            ):
                self._foreign.append(line)
                return []
            out = self._finish_trace()
            for held in self._foreign:
                out.extend(self._start(held))
            self._foreign.clear()
            return out + self._start(line)
        if self._javac is not None:
            if line.startswith((" ", "\t")) and line.strip():
                column = caret_column(line) if "^" in line else None
                if column is not None and self._javac.column is None:
                    j = self._javac
                    self._javac = Problem(j.path, j.line, column, j.message, j.severity,
                                          j.source)
                elif self._javac.column is not None and ":" in line and len(self._details) < 10:
                    # After the caret: "symbol:   variable count", "location: class X".
                    self._details.append(" ".join(line.split()))
                return []
            if (
                line.strip() and _JAVAC.match(line) is None
                and self._javac.column is None and not self._details
            ):
                return []  # the code excerpt of a source line that is not indented
        return self._finish_javac() + self._start(line)

    def _start(self, line: str) -> list[Finding]:
        if line.startswith("[ERROR] ") and (surefire := _SUREFIRE.match(line)):
            self._test = surefire.group("test")
            return []
        javac = _JAVAC.match(line)
        if javac:
            sev = Severity.ERROR if javac.group("sev") == "error" else Severity.WARNING
            self._javac = Problem(
                path=javac.group("path"), line=int(javac.group("line")), column=None,
                message=javac.group("msg").strip(), severity=sev, source="javac",
            )
            return []
        header = _HEADER.match(line.strip()) if "." in line else None
        if header and (line.startswith(("Exception in", "Caused by")) or not line[:1].isspace()):
            self._trace_message = line.strip().removeprefix("Caused by: ")
            if self._trace_message.startswith("Exception in thread"):
                self._trace_message = self._trace_message.split('" ', 1)[1]
            if self._test is not None:
                self._trace_message = f"{self._test}: {self._trace_message}"
            self._frames = []
        self._test = None  # the trace follows surefire's line at once, or not at all
        return []

    def _add_frame(self, at: re.Match[str]) -> None:
        if len(self._frames) >= _MAX_FRAMES:
            return
        method = at.group("method")
        parts = method.split(".")
        package = ".".join(p for p in parts[:-2] if p and p[0].islower()) or None
        loader = at.group("loader") or ""
        library = loader.startswith(_LIBRARY_PACKAGES) or method.startswith(_LIBRARY_PACKAGES)
        self._frames.append(Frame(
            path=at.group("file"), line=int(at.group("line")), function=method,
            library=library, package=package,
        ))

    def _finish_trace(self) -> list[Finding]:
        message, frames = self._trace_message or "", self._frames
        self._trace_message, self._frames = None, []
        if not frames:
            return []  # a class name in prose, not an exception
        return [Trace(message=message, frames=tuple(frames), source=self.source)]

    def _finish_javac(self) -> list[Finding]:
        javac, self._javac = self._javac, None
        details, self._details = self._details, []
        if javac is None:
            return []
        message = javac.message + ("\n" + "\n".join(details) if details else "")
        return [Problem(javac.path, javac.line, javac.column, message, javac.severity,
                        javac.source)]

    def flush(self, final: bool = True) -> list[Finding]:
        out = self._finish_javac() + self._finish_trace()
        held, self._foreign = self._foreign, []
        for line in held:
            out.extend(self._start(line))
        if final:
            self._test = None
        return out + self._finish_javac() + self._finish_trace()
