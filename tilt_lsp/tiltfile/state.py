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
    # Extensions: the repos and extensions declared so far (v1alpha1.extension_repo/extension),
    # where extension repos are cached, and what each ext:// load resolved to.
    ext_repos: dict[str, Any] = field(default_factory=dict)
    exts: dict[str, Any] = field(default_factory=dict)
    ext_cache_dir: str = ""
    ext_loaded: dict[str, str] = field(default_factory=dict)
    # config.*: the args given to the Tiltfile (``tilt-lsp up -- ARGS``), the settings the
    # Tiltfile defined, and the resources it enabled.
    config_args: list[str] = field(default_factory=list)
    config_defs: dict[str, Any] = field(default_factory=dict)
    config_parsed: bool = False
    config_parsed_dir: str = ""
    enabled_resources: list[str] | None = None
    k8s_context: str = ""
    k8s_namespace: str = ""
    k8s_kinds: list[Any] = field(default_factory=list)
    custom_deploys: list[Resource] = field(default_factory=list)
    custom_image_deps: dict[str, Any] = field(default_factory=dict)
    workload_to_resource: Any = None
    ui_objects: list[dict[str, Any]] = field(default_factory=list)
    environment: Any = None  # the starlark_env.Environment running this evaluation
    notes: set[str] = field(default_factory=set)  # one-time log lines already written
    _next_id: int = 0

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def note(self, text: str) -> None:
        """Say something in the Tiltfile log, once per evaluation."""
        if text not in self.notes:
            self.notes.add(text)
            self.output.append(text)
