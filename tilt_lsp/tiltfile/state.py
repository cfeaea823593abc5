"""What the builtins record while a Tiltfile runs; turned into a Model afterwards.

Tilt resolves references (``k8s_resource('web')``, ``resource_deps``) only after the whole
Tiltfile ran, so calls are recorded with their call site and checked at assembly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tilt_lsp.tiltfile.compose import ComposeProject
from tilt_lsp.tiltfile.model import (
    ImageBuild,
    Location,
    PortForward,
    Probe,
    Resource,
    TriggerMode,
    Warning,
)


@dataclass
class Step:
    """A live-update step as created by ``sync()``/``run()``/…, before docker_build uses it."""

    kind: str  # fall_back_on | sync | run | restart_container | initial_sync
    data: Any
    location: Location | None
    consumed: bool = False


@dataclass
class ComposeCall:
    config_paths: list[str]
    env_file: str | None
    project_name: str
    profiles: list[str]
    location: Location | None


@dataclass
class ResourceCall:
    """A call that configures a resource defined elsewhere (dc_resource, k8s_resource)."""

    target: str
    kwargs: dict[str, Any]
    location: Location | None


@dataclass
class K8sObject:
    obj: dict[str, Any]
    location: Location | None


@dataclass
class EvalState:
    main_path: str
    env: dict[str, str]
    images: list[ImageBuild] = field(default_factory=list)
    locals: list[Resource] = field(default_factory=list)
    implicit_trigger: set[str] = field(default_factory=set)
    compose_projects: list[tuple[ComposeCall, ComposeProject]] = field(default_factory=list)
    dc_calls: list[ResourceCall] = field(default_factory=list)
    k8s_objects: list[K8sObject] = field(default_factory=list)
    k8s_calls: list[ResourceCall] = field(default_factory=list)
    steps: dict[int, Step] = field(default_factory=dict)
    probes: dict[int, Probe] = field(default_factory=dict)
    actions: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    port_forwards: dict[int, PortForward] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)
    config_files: set[str] = field(default_factory=set)
    output: list[str] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    default_trigger_mode: TriggerMode = TriggerMode.AUTO
    default_registry: str = ""
    allowed_k8s_contexts: list[str] = field(default_factory=list)
    watch_ignores: list[str] = field(default_factory=list)
    _next_id: int = 0

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id
