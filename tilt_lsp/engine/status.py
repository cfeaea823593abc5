"""What the user sees of each resource: build and runtime status, errors, pending changes, log."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from tilt_lsp.engine.logbuffer import MAX_LINES, LogBuffer
from tilt_lsp.tiltfile.model import Resource

LOG_LINES = MAX_LINES
LOG_TAIL = 20


class BuildStatus(enum.Enum):
    NONE = "none"  # nothing to build (e.g. a serve_cmd-only local_resource)
    PENDING = "pending"  # waiting: for a trigger, for resource_deps, or queued
    BUILDING = "building"
    OK = "ok"
    ERROR = "error"


class RuntimeStatus(enum.Enum):
    NOT_STARTED = "not_started"
    STARTING = "starting"
    RUNNING = "running"
    READY = "ready"
    EXITED = "exited"  # finished by itself with code 0
    CRASHED = "crashed"  # finished with a non-zero code or a signal
    STOPPED = "stopped"  # stopped by us (disable, shutdown)
    DISABLED = "disabled"
    NONE = "none"  # nothing runs (a cmd-only local_resource)


@dataclass
class ResourceStatus:
    name: str
    kind: str
    resource: Resource
    enabled: bool = True
    build: BuildStatus = BuildStatus.PENDING
    runtime: RuntimeStatus = RuntimeStatus.NOT_STARTED
    pid: int | None = None
    exit_code: int | None = None
    last_error: str | None = None
    pending_changes: set[str] = field(default_factory=set)
    waiting_for: str | None = None
    update_count: int = 0
    start_count: int = 0
    last_update_reason: str = ""
    last_update_at: float | None = None
    log: LogBuffer = field(default_factory=LogBuffer)

    @property
    def settled(self) -> bool:
        """Nothing more will happen without a change: ready, finished, crashed or failed."""
        if not self.enabled:
            return True
        if self.build is BuildStatus.ERROR:
            return True
        if self.build in (BuildStatus.PENDING, BuildStatus.BUILDING):
            return False
        return self.runtime in (
            RuntimeStatus.READY,
            RuntimeStatus.EXITED,
            RuntimeStatus.CRASHED,
            RuntimeStatus.STOPPED,
            RuntimeStatus.NONE,
        )

    @property
    def failed(self) -> bool:
        return self.build is BuildStatus.ERROR or self.runtime is RuntimeStatus.CRASHED

    def to_json(self, tail: int = LOG_TAIL) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "enabled": self.enabled,
            "triggerMode": self.resource.trigger_mode.value,
            "buildStatus": self.build.value,
            "runtimeStatus": self.runtime.value,
            "pid": self.pid,
            "exitCode": self.exit_code,
            "lastError": self.last_error,
            "pendingChanges": sorted(self.pending_changes),
            "waitingFor": self.waiting_for,
            "updateCount": self.update_count,
            "startCount": self.start_count,
            "lastUpdateReason": self.last_update_reason,
            "lastUpdateAt": self.last_update_at,
            "logTail": self.log.tail(tail) if tail else [],
        }

    def touch(self, reason: str) -> None:
        self.last_update_reason = reason
        self.last_update_at = time.time()
