"""Kubernetes objects → resources, after the Tiltfile ran, as Tilt groups them:

1. every workload (a kind that makes pods, or one ``k8s_kind`` declared) is a resource named
   after it (kind, then namespace added when names collide);
2. ``k8s_custom_deploy`` resources exist by name;
3. ``k8s_resource`` calls configure those by name, or make new ones from ``objects=``;
4. each Service whose selector matches a workload's pod labels joins that workload;
5. whatever is left goes to ``uncategorized``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import K8sSpec, Location, Resource, ResourceKind
from tilt_lsp.tiltfile.state import EvalState, K8sObject, ResourceCall

UNCATEGORIZED = "uncategorized"

NewResource = Callable[[str, Location | None, K8sSpec], Resource]
Configure = Callable[..., Resource]


def k8s_resources(
    state: EvalState,
    new: NewResource,
    configure: Configure,
    namer: Callable[[dict[str, Any]], str] | None = None,
) -> list[Resource]:
    rules = state.k8s_kinds
    workloads = [o for o in state.k8s_objects if k8s.is_workload(o.obj, rules)]
    others = [o for o in state.k8s_objects if not k8s.is_workload(o.obj, rules)]
    if namer is None:
        names = k8s.workload_names([w.obj for w in workloads])
    else:
        names = [namer(w.obj) for w in workloads]
    # Each entry: the resource, and the workload object it was made from (None: objects only).
    entries: list[tuple[Resource, dict[str, Any] | None]] = [
        (new(name, w.location, K8sSpec((w.obj,), (), k8s.selector_of(w.obj))), w.obj)
        for w, name in zip(workloads, names, strict=True)
    ]
    for r in state.custom_deploys:
        if any(e.name == r.name for e, _ in entries):
            raise TiltfileError(
                f'k8s_resource named "{r.name}" already exists', r.location, "argument"
            )
        entries.append((r, None))
    for call in state.k8s_calls:
        index = _target(entries, call, state)
        base, obj = entries[index]
        claimed, others = _claim(call, others)
        assert base.k8s is not None
        spec = dataclasses.replace(
            base.k8s,
            objects=base.k8s.objects + tuple(claimed),
            port_forwards=base.k8s.port_forwards + call.kwargs["port_forwards"],
        )
        entries[index] = (configure(base, call, k8s=spec), obj)
    out: list[Resource] = []
    for resource, obj in entries:
        if obj is not None:
            joined = [o for o in others if k8s.selects_pods_of(o.obj, obj)]
            others = [o for o in others if o not in joined]
            if joined:
                assert resource.k8s is not None
                spec = dataclasses.replace(
                    resource.k8s, objects=resource.k8s.objects + tuple(o.obj for o in joined)
                )
                resource = dataclasses.replace(resource, k8s=spec)
        out.append(resource)
    if others:
        spec = K8sSpec(tuple(o.obj for o in others), (), "")
        out.append(new(UNCATEGORIZED, others[0].location, spec))
    return out


def _target(
    entries: list[tuple[Resource, dict[str, Any] | None]], call: ResourceCall, state: EvalState
) -> int:
    kw = call.kwargs
    if not call.target:
        entries.append((_object_only(kw["new_name"], call.location, state), None))
        return len(entries) - 1
    for i, (r, obj) in enumerate(entries):
        if r.name == call.target or (obj is not None and k8s.matches(obj, call.target)):
            return i
    known = ", ".join(r.name for r, _ in entries)
    raise TiltfileError(
        f"k8s_resource(): no workload named {call.target!r} "
        f"(workloads: {known or 'none: call k8s_yaml() first'})",
        call.location,
        "reference",
    )


def _object_only(name: str, location: Location | None, state: EvalState) -> Resource:
    return Resource(
        name=name,
        kind=ResourceKind.K8S,
        trigger_mode=state.default_trigger_mode,
        auto_init=True,
        resource_deps=(),
        labels=(),
        image_refs=(),
        location=location,
        k8s=K8sSpec((), (), ""),
    )


def _claim(
    call: ResourceCall, others: list[K8sObject]
) -> tuple[list[dict[str, Any]], list[K8sObject]]:
    claimed: list[dict[str, Any]] = []
    for selector in call.kwargs["objects"]:
        found = [o for o in others if k8s.matches(o.obj, selector)]
        if not found:
            raise TiltfileError(
                f"k8s_resource(): objects: no Kubernetes object matches {selector!r} "
                "(use 'name', 'name:kind' or 'name:kind:namespace')",
                call.location,
                "reference",
            )
        claimed += [o.obj for o in found]
        others = [o for o in others if o not in found]
    return claimed, others
