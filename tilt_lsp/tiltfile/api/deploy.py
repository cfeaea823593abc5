"""Resource builtins: ``local_resource``, ``docker_compose``/``dc_resource``,
``k8s_yaml``/``k8s_resource``, and the helpers they take (probes, port forwards, links)."""

from __future__ import annotations

import os
import re
from typing import Any

from tilt_lsp.tiltfile import compose, k8s
from tilt_lsp.tiltfile.api.core import parse_trigger_mode
from tilt_lsp.tiltfile.args import (
    as_bool,
    as_command,
    as_int,
    as_opt_str,
    as_str,
    as_str_dict,
    as_str_list,
    type_name,
    warn_missing_paths,
)
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import (
    Command,
    LocalSpec,
    PortForward,
    Probe,
    Resource,
    ResourceKind,
    TriggerMode,
)
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import ComposeCall, EvalState, K8sObject, ResourceCall

PROBE_KEY = "__tilt_probe__"
ACTION_KEY = "__tilt_probe_action__"
PORT_FORWARD_KEY = "__tilt_port_forward__"
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
_NAME = re.compile(r"^[^\s/]+$")


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def parse_labels(fn: str, value: Any) -> tuple[str, ...]:
    out = as_str_list(fn, "labels", value)
    for label in out:
        if not _LABEL.match(label):
            raise TiltfileError(
                f"{fn}(): label {label!r} must be 1-63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit",
                kind="argument",
            )
    return tuple(out)


def trigger_mode_arg(fn: str, value: Any) -> TriggerMode | None:
    return None if value is None else parse_trigger_mode(fn, value)


def parse_links(fn: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            out.append(item["url"])
        else:
            raise TiltfileError(
                f"{fn}(): links must be URLs or link(...) values, not {type_name(item)}",
                kind="type",
            )
    return tuple(out)


# -- local_resource ------------------------------------------------------------------------


def _local_resource(
    ctx: CallContext,
    name: Any,
    cmd: Any = "",
    deps: Any = None,
    trigger_mode: Any = None,
    resource_deps: Any = None,
    ignore: Any = None,
    auto_init: Any = True,
    serve_cmd: Any = "",
    cmd_bat: Any = "",
    serve_cmd_bat: Any = "",
    allow_parallel: Any = False,
    links: Any = None,
    tags: Any = None,
    env: Any = None,
    serve_env: Any = None,
    readiness_probe: Any = None,
    dir: Any = "",
    serve_dir: Any = "",
    labels: Any = None,
) -> None:
    fn = "local_resource"
    res_name = as_str(fn, "name", name)
    if not _NAME.match(res_name):
        raise TiltfileError(
            f"{fn}(): invalid resource name {res_name!r}: no spaces or '/'", kind="argument"
        )
    command = as_command(fn, "cmd", cmd)
    serve = as_command(fn, "serve_cmd", serve_cmd)
    as_str(fn, "cmd_bat", cmd_bat)
    as_str(fn, "serve_cmd_bat", serve_cmd_bat)
    if command is None and serve is None:
        raise TiltfileError(
            f"{fn}(): '{res_name}' needs a cmd and/or a serve_cmd, but both are empty",
            kind="argument",
        )
    state = _state(ctx)
    if any(r.name == res_name for r in state.locals):
        raise TiltfileError(
            f"{fn}(): a local_resource named {res_name!r} already exists", kind="argument"
        )
    work_dir = ctx.path(as_str(fn, "dir", dir) or ".")
    serve_work_dir = ctx.path(as_str(fn, "serve_dir", serve_dir) or ".")
    for label, d in (("dir", work_dir), ("serve_dir", serve_work_dir)):
        if not os.path.isdir(d):
            raise TiltfileError(f"{fn}(): {label} is not a directory: {d}", kind="missing-file")
    probe = _probe_arg(ctx, fn, readiness_probe)
    as_bool(fn, "allow_parallel", allow_parallel)
    warn_missing_paths(ctx, fn, "deps", as_str_list(fn, "deps", deps), position=2)
    state.locals.append(
        Resource(
            name=res_name,
            kind=ResourceKind.LOCAL,
            trigger_mode=trigger_mode_arg(fn, trigger_mode) or state.default_trigger_mode,
            auto_init=as_bool(fn, "auto_init", auto_init),
            resource_deps=tuple(as_str_list(fn, "resource_deps", resource_deps)),
            labels=_labels_and_tags(fn, labels, tags),
            image_refs=(),
            location=ctx.location,
            links=parse_links(fn, links),
            local=LocalSpec(
                cmd=command,
                serve_cmd=serve,
                deps=tuple(ctx.path(p) for p in as_str_list(fn, "deps", deps)),
                ignore=tuple(as_str_list(fn, "ignore", ignore)),
                dir=work_dir,
                serve_dir=serve_work_dir,
                env=as_str_dict(fn, "env", env),
                serve_env=as_str_dict(fn, "serve_env", serve_env),
                allow_parallel=bool(allow_parallel),
                readiness_probe=probe,
            ),
        )
    )
    # An explicit trigger_mode is kept; the default applies at assembly (trigger_mode() may
    # be called after this resource). Remember which one it was.
    if trigger_mode is None:
        state.implicit_trigger.add(res_name)


def _labels_and_tags(fn: str, value: Any, tags: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_labels(fn, value) + tuple(as_str_list(fn, "tags", tags))))


# -- probes ---------------------------------------------------------------------------------


def _probe_arg(ctx: CallContext, fn: str, value: Any) -> Probe | None:
    if value is None:
        return None
    if isinstance(value, dict) and value.get(PROBE_KEY) in _state(ctx).probes:
        return _state(ctx).probes[value[PROBE_KEY]]
    raise TiltfileError(
        f"{fn}(): readiness_probe must be a probe(...) value, not {type_name(value)}", kind="type"
    )


def _probe(
    ctx: CallContext,
    initial_delay_secs: Any = 0,
    timeout_secs: Any = 1,
    period_secs: Any = 10,
    success_threshold: Any = 1,
    failure_threshold: Any = 3,
    exec: Any = None,
    http_get: Any = None,
    tcp_socket: Any = None,
) -> dict[str, int]:
    fn = "probe"
    state = _state(ctx)
    given = [a for a in (exec, http_get, tcp_socket) if a is not None]
    if len(given) != 1:
        raise TiltfileError(
            f"{fn}(): exactly one of exec, http_get, tcp_socket is required", kind="argument"
        )
    action = given[0]
    if not (isinstance(action, dict) and action.get(ACTION_KEY) in state.actions):
        raise TiltfileError(
            f"{fn}(): the action must come from exec_action, http_get_action or tcp_socket_action",
            kind="type",
        )
    kind, data = state.actions[action[ACTION_KEY]]
    probe = Probe(
        action=kind,
        initial_delay_secs=as_int(fn, "initial_delay_secs", initial_delay_secs),
        timeout_secs=as_int(fn, "timeout_secs", timeout_secs),
        period_secs=as_int(fn, "period_secs", period_secs),
        success_threshold=as_int(fn, "success_threshold", success_threshold),
        failure_threshold=as_int(fn, "failure_threshold", failure_threshold),
        **data,
    )
    pid = state.new_id()
    state.probes[pid] = probe
    return {PROBE_KEY: pid}


def _action(ctx: CallContext, kind: str, data: dict[str, Any]) -> dict[str, int]:
    state = _state(ctx)
    aid = state.new_id()
    state.actions[aid] = (kind, data)
    return {ACTION_KEY: aid}


def _exec_action(ctx: CallContext, command: Any) -> dict[str, int]:
    cmd: Command | None = as_command("exec_action", "command", command)
    if cmd is None:
        raise TiltfileError("exec_action(): 'command' is empty", kind="argument")
    return _action(ctx, "exec", {"command": cmd})


def _http_get_action(
    ctx: CallContext, port: Any, host: Any = "localhost", scheme: Any = "http", path: Any = "/"
) -> dict[str, int]:
    fn = "http_get_action"
    return _action(
        ctx,
        "http_get",
        {
            "port": as_int(fn, "port", port),
            "host": as_str(fn, "host", host),
            "scheme": as_str(fn, "scheme", scheme),
            "path": as_str(fn, "path", path),
        },
    )


def _tcp_socket_action(ctx: CallContext, port: Any, host: Any = "localhost") -> dict[str, int]:
    fn = "tcp_socket_action"
    return _action(
        ctx, "tcp_socket", {"port": as_int(fn, "port", port), "host": as_str(fn, "host", host)}
    )


def _link(ctx: CallContext, url: Any, name: Any = "") -> dict[str, str]:
    return {"url": as_str("link", "url", url), "name": as_str("link", "name", name)}


# -- port forwards --------------------------------------------------------------------------


def _port_forward(
    ctx: CallContext,
    local_port: Any,
    container_port: Any = None,
    name: Any = "",
    link_path: Any = "",
    host: Any = "",
) -> dict[str, int]:
    fn = "port_forward"
    local = as_int(fn, "local_port", local_port)
    remote = local if container_port is None else as_int(fn, "container_port", container_port)
    pf = PortForward(
        local, remote, as_str(fn, "host", host) or "localhost", as_str(fn, "name", name)
    )
    state = _state(ctx)
    pid = state.new_id()
    state.port_forwards[pid] = pf
    return {PORT_FORWARD_KEY: pid}


def parse_port_forwards(state: EvalState, fn: str, value: Any) -> tuple[PortForward, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and item.get(PORT_FORWARD_KEY) in state.port_forwards:
            out.append(state.port_forwards[item[PORT_FORWARD_KEY]])
        elif isinstance(item, int) and not isinstance(item, bool):
            out.append(PortForward(item, item))
        elif isinstance(item, str) and (pf := _parse_port_forward(item)):
            out.append(pf)
        else:
            raise TiltfileError(
                f"{fn}(): port_forwards entries must be a port (8000), 'LOCAL:CONTAINER' "
                f"('8000:80'), or port_forward(...); got {item!r}",
                kind="type",
            )
    return tuple(out)


def _parse_port_forward(text: str) -> PortForward | None:
    """'8000', '8000:80' or 'HOST:8000:80' (Tilt's string forms)."""
    parts = text.split(":")
    if len(parts) == 2 and not parts[0].isdigit():
        parts = [parts[0], parts[1], parts[1]]
    if not all(p.isdigit() for p in parts[-2:] if p) or not 1 <= len(parts) <= 3:
        return None
    if len(parts) == 1:
        return PortForward(int(parts[0]), int(parts[0]))
    if len(parts) == 2:
        return PortForward(int(parts[0]), int(parts[1]))
    return PortForward(int(parts[1]), int(parts[2]), parts[0] or "localhost")


# -- docker compose ---------------------------------------------------------------------------


def _docker_compose(
    ctx: CallContext,
    configPaths: Any,
    env_file: Any = None,
    project_name: Any = "",
    profiles: Any = None,
    wait: Any = False,
) -> None:
    fn = "docker_compose"
    state = _state(ctx)
    paths: list[str] = []
    raw = configPaths if isinstance(configPaths, list) else [configPaths]
    for item in raw:
        text = as_str(fn, "configPaths", item)
        if text in state.blobs and "\n" in text:
            raise TiltfileError(
                f"{fn}(): inline compose YAML (a blob) is not supported yet; pass the file path",
                kind="unsupported",
            )
        paths.append(ctx.path(text))
    for p in paths:
        if not os.path.isfile(p):
            raise TiltfileError(f"{fn}(): compose file not found: {p}", kind="missing-file")
        state.config_files.add(p)
    envf = as_opt_str(fn, "env_file", env_file)
    envf_path = ctx.path(envf) if envf else None
    if envf_path:
        state.config_files.add(envf_path)
    call = ComposeCall(
        paths,
        envf_path,
        as_str(fn, "project_name", project_name),
        as_str_list(fn, "profiles", profiles),
        ctx.location,
    )
    as_bool(fn, "wait", wait)
    try:
        project = compose.load_project(
            paths, state.env, envf_path, call.project_name, call.profiles
        )
    except compose.ComposeError as err:
        raise TiltfileError(
            f"{fn}(): {err}",
            kind="missing-file" if "not found" in str(err) or "cannot read" in str(err) else "type",
        ) from None
    state.compose_projects.append((call, project))


def _dc_resource(
    ctx: CallContext,
    name: Any,
    trigger_mode: Any = None,
    resource_deps: Any = None,
    links: Any = None,
    labels: Any = None,
    auto_init: Any = True,
    project_name: Any = "",
    new_name: Any = "",
    infra: Any = False,
) -> None:
    fn = "dc_resource"
    kwargs = {
        "trigger_mode": trigger_mode_arg(fn, trigger_mode),
        "resource_deps": tuple(as_str_list(fn, "resource_deps", resource_deps)),
        "links": parse_links(fn, links),
        "labels": parse_labels(fn, labels),
        "auto_init": as_bool(fn, "auto_init", auto_init),
        "new_name": as_str(fn, "new_name", new_name),
        "project_name": as_str(fn, "project_name", project_name),
    }
    as_bool(fn, "infra", infra)
    _state(ctx).dc_calls.append(ResourceCall(as_str(fn, "name", name), kwargs, ctx.location))


# -- kubernetes -------------------------------------------------------------------------------


def _k8s_yaml(ctx: CallContext, yaml: Any, allow_duplicates: Any = False) -> None:
    fn = "k8s_yaml"
    state = _state(ctx)
    items = yaml if isinstance(yaml, list) else [yaml]
    for item in items:
        text = as_str(fn, "yaml", item)
        if text in state.blobs or "\n" in text:
            origin, content = "inline YAML", text
        else:
            path = ctx.path(text)
            try:
                with open(path, encoding="utf-8") as f:
                    content = f.read()
            except FileNotFoundError:
                raise TiltfileError(
                    f"{fn}(): file not found: {path}", kind="missing-file"
                ) from None
            except OSError as err:
                raise TiltfileError(
                    f"{fn}(): cannot read {path}: {err.strerror}", kind="missing-file"
                ) from None
            state.config_files.add(path)
            origin = path
        try:
            objs = k8s.parse_objects(content, origin)
        except k8s.K8sYamlError as err:
            raise TiltfileError(f"{fn}(): {err}", kind="type") from None
        dup_ok = as_bool(fn, "allow_duplicates", allow_duplicates)
        for obj in objs:
            sel = k8s.selector_of(obj)
            if not dup_ok and any(k8s.selector_of(o.obj) == sel for o in state.k8s_objects):
                raise TiltfileError(
                    f"{fn}(): duplicate Kubernetes object {sel} (pass allow_duplicates=True to allow)",
                    kind="argument",
                )
            state.k8s_objects.append(K8sObject(obj, ctx.location))


def _k8s_resource(
    ctx: CallContext,
    workload: Any = "",
    new_name: Any = "",
    port_forwards: Any = None,
    extra_pod_selectors: Any = None,
    trigger_mode: Any = None,
    resource_deps: Any = None,
    objects: Any = None,
    auto_init: Any = True,
    pod_readiness: Any = "",
    links: Any = None,
    labels: Any = None,
    discovery_strategy: Any = "",
) -> None:
    fn = "k8s_resource"
    state = _state(ctx)
    target = as_str(fn, "workload", workload)
    name = as_str(fn, "new_name", new_name)
    objs = as_str_list(fn, "objects", objects)
    if not target and not name:
        raise TiltfileError(f"{fn}(): give a workload, or a new_name with objects", kind="argument")
    if not target and not objs:
        raise TiltfileError(
            f"{fn}(): a resource without a workload needs objects=[...]", kind="argument"
        )
    kwargs = {
        "new_name": name,
        "port_forwards": parse_port_forwards(state, fn, port_forwards),
        "trigger_mode": trigger_mode_arg(fn, trigger_mode),
        "resource_deps": tuple(as_str_list(fn, "resource_deps", resource_deps)),
        "objects": tuple(objs),
        "auto_init": as_bool(fn, "auto_init", auto_init),
        "links": parse_links(fn, links),
        "labels": parse_labels(fn, labels),
        "extra_pod_selectors": extra_pod_selectors,
    }
    as_str(fn, "pod_readiness", pod_readiness)
    as_str(fn, "discovery_strategy", discovery_strategy)
    state.k8s_calls.append(ResourceCall(target, kwargs, ctx.location))


BUILTINS: dict[str, Impl] = {
    "local_resource": _local_resource,
    "probe": _probe,
    "exec_action": _exec_action,
    "http_get_action": _http_get_action,
    "tcp_socket_action": _tcp_socket_action,
    "link": _link,
    "port_forward": _port_forward,
    "docker_compose": _docker_compose,
    "dc_resource": _dc_resource,
    "k8s_yaml": _k8s_yaml,
    "k8s_resource": _k8s_resource,
}

CONSTANTS: dict[str, Any] = {}
