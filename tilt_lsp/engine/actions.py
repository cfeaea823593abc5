"""Actions: the only way engine state changes. Runtimes and the loader report what happened
as actions; ``Engine.dispatch`` applies them and tells the listener what changed."""

from __future__ import annotations

from dataclasses import dataclass

from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus


@dataclass(frozen=True)
class UpdateStarted:
    resource: str
    reason: str
    paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UpdateFinished:
    resource: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class BuildChanged:
    resource: str
    build: BuildStatus
    error: str | None = None
    # What failed, when it is not the build itself (e.g. "Kubernetes config problem").
    label: str | None = None


@dataclass(frozen=True)
class RuntimeChanged:
    resource: str
    runtime: RuntimeStatus
    pid: int | None = None
    exit_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class PendingChanged:
    resource: str
    paths: frozenset[str]
    replace: bool = False


@dataclass(frozen=True)
class WaitingFor:
    resource: str
    what: str | None


@dataclass(frozen=True)
class LogLines:
    resource: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ProblemsFound:
    resource: str
    source: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ProblemsReset:
    """A new run of (resource, source) begins: what the last run said no longer holds."""

    resource: str
    source: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Enabled:
    resource: str
    enabled: bool


Action = (
    UpdateStarted
    | UpdateFinished
    | BuildChanged
    | RuntimeChanged
    | PendingChanged
    | WaitingFor
    | LogLines
    | ProblemsFound
    | ProblemsReset
    | Enabled
)
