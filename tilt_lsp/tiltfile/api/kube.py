"""Kubernetes resource builtins: ``k8s_yaml``, ``k8s_resource`` and ``port_forward``."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.api.deploy import parse_labels, parse_links, trigger_mode_arg
from tilt_lsp.tiltfile.args import as_bool, as_int, as_str, as_str_list
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import PortForward
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState, K8sObject, ResourceCall

PORT_FORWARD_KEY = "__tilt_port_forward__"


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


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
    "port_forward": _port_forward,
    "k8s_yaml": _k8s_yaml,
    "k8s_resource": _k8s_resource,
}
