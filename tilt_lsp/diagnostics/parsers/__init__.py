"""Problem parsers, one module per tool family, all with the small ``Parser`` interface.

``all_parsers`` builds one fresh state machine per family; the stream runs them side by side
over every channel of output, since a log rarely says which tool wrote it.
"""

from __future__ import annotations

from tilt_lsp.diagnostics.parsers.base import Parser
from tilt_lsp.diagnostics.parsers.cc import CcParser
from tilt_lsp.diagnostics.parsers.dockerfile import DockerfileSource, DockerParser
from tilt_lsp.diagnostics.parsers.go import GoParser
from tilt_lsp.diagnostics.parsers.gradle import GradleParser
from tilt_lsp.diagnostics.parsers.java import JavaParser
from tilt_lsp.diagnostics.parsers.ld import LinkerParser
from tilt_lsp.diagnostics.parsers.make import MakeParser
from tilt_lsp.diagnostics.parsers.maven import MavenParser
from tilt_lsp.diagnostics.parsers.node import NodeParser
from tilt_lsp.diagnostics.parsers.nodetest import NodeTestParser
from tilt_lsp.diagnostics.parsers.pytest import PytestParser
from tilt_lsp.diagnostics.parsers.python import PythonParser
from tilt_lsp.diagnostics.parsers.ruby import RubyParser
from tilt_lsp.diagnostics.parsers.rust import RustParser
from tilt_lsp.diagnostics.parsers.tsc import TscParser

__all__ = ["DockerfileSource", "Parser", "all_parsers"]


def all_parsers(dockerfile: DockerfileSource | None = None) -> list[Parser]:
    """One fresh parser of every family (the Dockerfile, if known, locates failed steps)."""
    return [
        PythonParser(), NodeParser(), GoParser(), CcParser(), RustParser(), JavaParser(),
        TscParser(), RubyParser(), DockerParser(dockerfile), PytestParser(),
        NodeTestParser(), MavenParser(), MakeParser(), LinkerParser(),
        GradleParser(),
    ]
