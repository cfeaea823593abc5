"""Gradle: failed tests, as Gradle's console prints them.

``com.acme.orders.CartTest > totalAddsPrices FAILED`` then, indented, the exception and the
one place Gradle shows: ``java.lang.AssertionError at CartTest.java:11`` (JUnit 5 tests print
``totalAddsPrices() FAILED``). The class's package finds the bare file name in the workspace;
a test class in the default package (no package to print) is not recognised.
Compiler errors in a Gradle build are javac's own lines, read by the Java parser (which also
takes the task name Gradle glues to the first one: ``:compileJava/src/…/Order.java:13: …``).
"""

from __future__ import annotations

import re

from tilt_lsp.diagnostics.model import Finding, Problem

_FAILED = re.compile(r"^(?P<cls>[\w$.]+) > (?P<test>.+?) FAILED$")
_AT = re.compile(
    r"^\s+(?P<exc>[\w$.]+(?:: .*)?) at (?P<file>[\w$-]+\.(?:java|kt|groovy|scala)):(?P<line>\d+)$"
)


class GradleParser:
    source = "gradle"
    # A package-qualified class name (what Gradle prints for classes in a package): a line
    # starting with a digit or a capital fails at once, which keeps ordinary lines cheap.
    trigger = re.compile(r"[a-z][\w$]*\.[\w$.]* > ")
    needles: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._test: tuple[str, str] | None = None  # (class, test) awaiting its place

    @property
    def active(self) -> bool:
        return self._test is not None

    def feed(self, line: str) -> list[Finding]:
        test, self._test = self._test, None
        if test is not None:
            at = _AT.match(line)
            if at:
                cls, name = test
                package = cls.rsplit(".", 1)[0].replace(".", "/") if "." in cls else None
                return [
                    Problem(
                        path=at.group("file"),
                        line=int(at.group("line")),
                        column=None,
                        message=f"{name} failed: {at.group('exc').strip()}",
                        source=self.source,
                        package=package,
                    )
                ]
        failed = _FAILED.match(line)
        if failed:
            self._test = (failed.group("cls"), failed.group("test"))
        return []

    def flush(self, final: bool = True) -> list[Finding]:
        if final:
            self._test = None
        return []
