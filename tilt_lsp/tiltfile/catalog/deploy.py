"""Catalog: resources (local, Docker Compose, Kubernetes), links, port forwards and probes."""

from __future__ import annotations

from tilt_lsp.tiltfile.catalog.model import Entry, fn

_DEPS = "names of resources that must be ready before this one starts"
_TRIGGER = "TRIGGER_MODE_AUTO (update on change) or TRIGGER_MODE_MANUAL (wait for ▶)"
_LINKS = "URLs shown with the resource: strings or `link(url, name)`"
_LABELS = "group names for the resource"
_AUTO_INIT = "start the resource when tilt-lsp starts (False: only when triggered)"

ENTRIES: tuple[Entry, ...] = (
    fn(
        "local_resource(name: str, cmd: str | list[str] = '', deps: str | list[str] = None, "
        "trigger_mode: TriggerMode = TRIGGER_MODE_AUTO, resource_deps: list[str] = [], "
        "ignore: str | list[str] = [], auto_init: bool = True, serve_cmd: str | list[str] = '', "
        "cmd_bat: str | list[str] = '', serve_cmd_bat: str | list[str] = '', "
        "allow_parallel: bool = False, links: str | list[str] = [], labels: list[str] = [], "
        "tags: list[str] = [], env: dict[str, str] = {}, serve_env: dict[str, str] = {}, "
        "readiness_probe: Probe = None, dir: str = '', serve_dir: str = '')",
        "A resource that runs on this machine: `cmd` runs to completion (tests, code "
        "generation) each time a file in `deps` changes; `serve_cmd` is a long-running "
        "process (a dev server) restarted after each `cmd`.",
        name="the resource's name, shown in the editor and used by resource_deps",
        cmd="command run on each update; its errors become problems in your files",
        deps="files or folders whose changes update the resource",
        trigger_mode=_TRIGGER,
        resource_deps=_DEPS,
        ignore="files under deps that do not trigger an update",
        auto_init=_AUTO_INIT,
        serve_cmd="a long-running command; its crashes become problems in your files",
        cmd_bat="cmd on Windows",
        serve_cmd_bat="serve_cmd on Windows",
        allow_parallel="let cmd run at the same time as other resources' updates",
        links=_LINKS,
        labels=_LABELS,
        tags="another name for labels",
        env="extra environment variables for cmd",
        serve_env="extra environment variables for serve_cmd",
        readiness_probe="a `probe()` deciding when serve_cmd is ready",
        dir="working directory of cmd (default: the Tiltfile's folder)",
        serve_dir="working directory of serve_cmd",
    ),
    fn(
        "docker_compose(configPaths: str | list[str], env_file: str = None, "
        "project_name: str = '', profiles: str | list[str] = [], wait: bool = False)",
        "Runs Docker Compose services, one resource per service. Images built with "
        "docker_build replace the service's image (your compose file is not edited).",
        configPaths="compose file path(s), or YAML text",
        env_file="an env file for variable substitution",
        project_name="the compose project name (default: the folder's name)",
        profiles="compose profiles to enable",
        wait="wait for services to be healthy",
    ),
    fn(
        "dc_resource(name: str, trigger_mode: TriggerMode = TRIGGER_MODE_AUTO, "
        "resource_deps: list[str] = [], links: str | list[str] = [], labels: str | list[str] = [], "
        "auto_init: bool = True, project_name: str = '', new_name: str = '', infra: bool = False)",
        "Configures the resource of a Docker Compose service.",
        name="the compose service's name",
        trigger_mode=_TRIGGER,
        resource_deps=_DEPS,
        links=_LINKS,
        labels=_LABELS,
        auto_init=_AUTO_INIT,
        project_name="the compose project the service belongs to",
        new_name="rename the resource",
        infra="an infrastructure service",
    ),
    fn(
        "k8s_yaml(yaml: str | list[str] | Blob, allow_duplicates: bool = False)",
        "Deploys Kubernetes objects from YAML files or text. Each workload (Deployment, "
        "StatefulSet, Job, …) becomes a resource; images built with docker_build replace "
        "the workload's matching images.",
        yaml="YAML file path(s) or YAML text (e.g. from `local()` or `read_file()`)",
        allow_duplicates="allow the same object twice",
    ),
    fn(
        "k8s_resource(workload: str = '', new_name: str = '', port_forwards: str | int | list = [], "
        "extra_pod_selectors: dict | list[dict] = [], trigger_mode: TriggerMode = TRIGGER_MODE_AUTO, "
        "resource_deps: list[str] = [], objects: list[str] = [], auto_init: bool = True, "
        "pod_readiness: str = '', links: str | list[str] = [], labels: str | list[str] = [], "
        "discovery_strategy: str = '')",
        "Configures the resource of a Kubernetes workload, or groups objects into a new one.",
        workload="the workload's resource name (usually its metadata.name)",
        new_name="rename the resource, or name a new resource made of `objects`",
        port_forwards="`8000`, `'8000:80'` or `port_forward(...)`: local ports forwarded to the pod",
        extra_pod_selectors="accepted; not used by tilt-lsp",
        trigger_mode=_TRIGGER,
        resource_deps=_DEPS,
        objects="other objects (`name`, `name:kind`, `name:kind:namespace`) deployed with it",
        auto_init=_AUTO_INIT,
        pod_readiness="accepted; not used by tilt-lsp",
        links=_LINKS,
        labels=_LABELS,
        discovery_strategy="accepted; not used by tilt-lsp",
    ),
    fn(
        "port_forward(local_port: int, container_port: int = None, name: str = '', "
        "link_path: str = '', host: str = '') -> PortForward",
        "A port forward for k8s_resource(port_forwards=...).",
        local_port="the port on this machine",
        container_port="the pod's port (default: the same as local_port)",
        name="the link's name",
        link_path="a path appended to the link",
        host="the local address to bind (default: localhost)",
    ),
    fn(
        "link(url: str, name: str = '') -> Link",
        "A named URL shown with a resource (a clickable code lens in the editor).",
        url="the address",
        name="the text shown",
    ),
    fn(
        "probe(initial_delay_secs: int = 0, timeout_secs: int = 1, period_secs: int = 10, "
        "success_threshold: int = 1, failure_threshold: int = 3, exec: ExecAction = None, "
        "http_get: HTTPGetAction = None, tcp_socket: TCPSocketAction = None) -> Probe",
        "A readiness check for a local_resource's serve_cmd, like a Kubernetes probe.",
        initial_delay_secs="wait before the first check",
        timeout_secs="time allowed per check",
        period_secs="time between checks",
        success_threshold="successes in a row to become ready",
        failure_threshold="failures in a row to become not ready",
        exec="`exec_action(...)`",
        http_get="`http_get_action(...)`",
        tcp_socket="`tcp_socket_action(...)`",
    ),
    fn(
        "exec_action(command: list[str]) -> ExecAction",
        "Probe check: ready when the command exits with 0.",
        command="argv of the command",
    ),
    fn(
        "http_get_action(port: int, host: str = 'localhost', scheme: str = 'http', path: str = '') -> HTTPGetAction",
        "Probe check: ready when a GET answers with a 2xx or 3xx status.",
    ),
    fn(
        "tcp_socket_action(port: int, host: str = 'localhost') -> TCPSocketAction",
        "Probe check: ready when the port accepts a connection.",
    ),
)
