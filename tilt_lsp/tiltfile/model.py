"""What a Tiltfile means: frozen dataclasses the rest of tilt-lsp reads.

The evaluator (``tilt_lsp.tiltfile.loader``) is the only producer. Every path here is absolute
and normalised, so consumers never need to know which file a call came from.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a Tiltfile (or a loaded Starlark file); 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class TriggerMode(enum.Enum):
    AUTO = "auto"
    MANUAL = "manual"


class ResourceKind(enum.Enum):
    LOCAL = "local"
    DOCKER_COMPOSE = "docker_compose"
    K8S = "k8s"


@dataclass(frozen=True, slots=True)
class Command:
    """A command as Tilt takes it: a string runs through ``sh -c``; a list is an argv."""

    argv: tuple[str, ...]
    shell: bool

    @property
    def display(self) -> str:
        return self.argv[-1] if self.shell else " ".join(self.argv)

    @classmethod
    def from_value(cls, value: str | list[str] | tuple[str, ...]) -> Command:
        if isinstance(value, str):
            return cls(argv=("sh", "-c", value), shell=True)
        return cls(argv=tuple(value), shell=False)


@dataclass(frozen=True, slots=True)
class SyncRule:
    """``sync(local_path, remote_path)``: files under ``local_path`` go to ``container_path``."""

    local_path: str
    container_path: str


@dataclass(frozen=True, slots=True)
class RunStep:
    """``run(cmd, trigger=[...])``: runs in the container when a trigger file changed
    (always, when there are no triggers)."""

    command: Command
    triggers: tuple[str, ...] = ()
    echo_off: bool = False


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    fall_back_on: tuple[str, ...] = ()
    syncs: tuple[SyncRule, ...] = ()
    runs: tuple[RunStep, ...] = ()
    restart_container: bool = False
    initial_sync: bool = False
    # Set by the restart_process extension idiom (``docker_build_with_restart``): restart the
    # app process in place after a live update. Unlike ``restart_container`` it is valid for
    # every runtime (Kubernetes included), as in Tilt.
    restart_process: bool = False


@dataclass(frozen=True, slots=True)
class CustomBuild:
    """``custom_build``: the user's command builds the image (Tilt sets ``$EXPECTED_REF``)."""

    command: Command
    deps: tuple[str, ...]
    dir: str
    env: Mapping[str, str]
    tag: str = ""  # the command tags this exact ref instead of $EXPECTED_REF
    disable_push: bool = False
    skips_local_docker: bool = False
    outputs_image_ref_to: str = ""  # a file the command writes the built ref to
    # The Tiltfile's environment when custom_build was called (os.putenv included): the
    # command runs in it, as Tilt runs it in its own process environment. Not shown.
    base_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ImageBuild:
    """``docker_build`` (or ``custom_build``, then ``custom`` is set): how to build one image
    ref, and how to live-update its containers."""

    ref: str
    context: str
    dockerfile: str | None
    dockerfile_contents: str | None
    build_args: Mapping[str, str]
    target: str
    ignore: tuple[str, ...]
    only: tuple[str, ...]
    entrypoint: Command | None
    live_update: LiveUpdate | None
    location: Location | None
    custom: CustomBuild | None = None

    @property
    def repository(self) -> str:
        """The ref without tag or digest: what deploy configs are matched against."""
        return image_repository(self.ref)


def image_repository(ref: str) -> str:
    ref = ref.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


@dataclass(frozen=True, slots=True)
class Probe:
    """A readiness probe (``probe(...)`` with one of ``exec_action``, ``http_get_action``,
    ``tcp_socket_action``)."""

    action: str  # "exec" | "http_get" | "tcp_socket"
    command: Command | None = None
    host: str = "localhost"
    port: int = 0
    path: str = "/"
    scheme: str = "http"
    initial_delay_secs: int = 0
    timeout_secs: int = 1
    period_secs: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True, slots=True)
class PortForward:
    local_port: int
    container_port: int
    host: str = "localhost"
    name: str = ""


@dataclass(frozen=True, slots=True)
class LocalSpec:
    cmd: Command | None
    serve_cmd: Command | None
    deps: tuple[str, ...]
    ignore: tuple[str, ...]
    dir: str
    serve_dir: str
    env: Mapping[str, str]
    serve_env: Mapping[str, str]
    allow_parallel: bool
    readiness_probe: Probe | None


@dataclass(frozen=True, slots=True)
class ComposeSpec:
    project_name: str
    config_paths: tuple[str, ...]
    env_file: str | None
    profiles: tuple[str, ...]
    service: str
    # The service as the compose files declare it (after interpolation).
    config: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class K8sSpec:
    # Each object is one parsed YAML document (a Kubernetes object as a dict).
    objects: tuple[Mapping[str, Any], ...]
    port_forwards: tuple[PortForward, ...]
    workload: str  # "name:kind:namespace" of the workload, or "" for an object-only resource


@dataclass(frozen=True, slots=True)
class Link:
    """``link(url, name)``; a URL without a scheme gets ``http://`` (as Tilt)."""

    url: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class CustomDeploy:
    """``k8s_custom_deploy``: commands that apply (printing the applied YAML) and delete."""

    apply_cmd: Command
    delete_cmd: Command
    apply_dir: str
    apply_env: Mapping[str, str]
    delete_dir: str
    delete_env: Mapping[str, str]
    deps: tuple[str, ...]
    image_deps: tuple[str, ...]
    image_selector: str = ""
    container_selector: str = ""
    live_update: LiveUpdate | None = None  # for the image_selector/container_selector image


@dataclass(frozen=True, slots=True)
class Resource:
    """A unit the user sees: built, deployed, restarted and reported on as one."""

    name: str
    kind: ResourceKind
    trigger_mode: TriggerMode
    auto_init: bool
    resource_deps: tuple[str, ...]
    labels: tuple[str, ...]
    image_refs: tuple[str, ...]  # docker_build refs this resource deploys
    location: Location | None
    links: tuple[Link, ...] = ()
    local: LocalSpec | None = None
    compose: ComposeSpec | None = None
    k8s: K8sSpec | None = None
    custom_deploy: CustomDeploy | None = None


@dataclass(frozen=True, slots=True)
class Warning:
    message: str
    location: Location | None


@dataclass(frozen=True, slots=True)
class Model:
    """Everything one evaluation of a Tiltfile produced."""

    tiltfile: str
    resources: tuple[Resource, ...]
    images: tuple[ImageBuild, ...]
    # Files whose change means the Tiltfile must be evaluated again.
    config_files: tuple[str, ...]
    warnings: tuple[Warning, ...] = ()
    output: str = ""  # what print() and local() printed
    default_registry: str = ""
    allowed_k8s_contexts: tuple[str, ...] = ()
    watch_ignores: tuple[str, ...] = field(default=())
    # config.set_enabled_resources / config.parse: the resources to run ("" = all of them).
    enabled_resources: tuple[str, ...] | None = None
    k8s_context: str = ""
    k8s_namespace: str = ""
    # What Tilt shows in its web UI (buttons, extension repos) and tilt-lsp only records.
    ui_objects: tuple[Mapping[str, Any], ...] = ()

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name), None)

    def image(self, ref: str) -> ImageBuild | None:
        repo = image_repository(ref)
        return next((i for i in self.images if i.repository == repo), None)
