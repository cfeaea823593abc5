"""Evaluate a Tiltfile into a Model: run the Starlark, then resolve what refers to what.

Resolution happens after evaluation, as in Tilt: ``k8s_resource('web')`` may come before or
after the ``k8s_yaml`` that defines ``web``. Errors found here still point at the call that
made the reference.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from tilt_lsp.tiltfile import api, k8s
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import (
    ComposeSpec,
    ImageBuild,
    K8sSpec,
    Location,
    Model,
    Resource,
    ResourceKind,
    Warning,
    image_repository,
)
from tilt_lsp.tiltfile.starlark_env import Environment
from tilt_lsp.tiltfile.state import EvalState, ResourceCall

UNCATEGORIZED = "uncategorized"


def load_tiltfile(path: str, env: Mapping[str, str] | None = None) -> Model:
    """Evaluate the Tiltfile at ``path``. Raises TiltfileError (with a location when there
    is one) if it cannot be understood."""
    path = os.path.abspath(path)
    state = EvalState(main_path=path, env=dict(os.environ if env is None else env))
    environment = Environment(api.BUILTINS, api.constants(state), state)
    environment.run(path)
    for step in state.steps.values():
        if not step.consumed:
            raise TiltfileError(
                f"{step.kind}() step was created but not used in any docker_build(live_update=...)",
                step.location,
                "live-update",
            )
    return _assemble(state)


def _assemble(state: EvalState) -> Model:
    resources: list[Resource] = []
    resources += _compose_resources(state)
    resources += _k8s_resources(state)
    resources += [
        dataclasses.replace(r, trigger_mode=state.default_trigger_mode)
        if r.name in state.implicit_trigger
        else r
        for r in state.locals
    ]
    seen: dict[str, Resource] = {}
    for r in resources:
        if r.name in seen:
            raise TiltfileError(
                f"two resources are named {r.name!r} ({seen[r.name].kind.value} and {r.kind.value}); "
                "rename one (new_name=...)",
                r.location,
                "argument",
            )
        seen[r.name] = r
    for r in resources:
        for dep in r.resource_deps:
            if dep not in seen:
                raise TiltfileError(
                    f"resource {r.name!r}: resource_deps names unknown resource {dep!r} "
                    f"(resources: {', '.join(sorted(seen))})",
                    r.location,
                    "reference",
                )
    _check_dep_cycles(resources)
    used = {ref for r in resources for ref in r.image_refs}
    warnings = list(state.warnings)
    for image in state.images:
        if image.ref not in used:
            warnings.append(
                Warning(
                    f"image {image.ref!r} is not used by any resource: no compose service or "
                    "Kubernetes workload runs it",
                    image.location,
                )
            )
    return Model(
        tiltfile=state.main_path,
        resources=tuple(resources),
        images=tuple(state.images),
        config_files=tuple(sorted(state.config_files)),
        warnings=tuple(warnings),
        output="\n".join(state.output),
        default_registry=state.default_registry,
        allowed_k8s_contexts=tuple(state.allowed_k8s_contexts),
        watch_ignores=tuple(state.watch_ignores),
    )


def _image_refs(images: list[ImageBuild], candidates: list[str]) -> tuple[str, ...]:
    repos = {image_repository(c) for c in candidates}
    return tuple(i.ref for i in images if i.repository in repos)


def _compose_resources(state: EvalState) -> list[Resource]:
    out: list[Resource] = []
    for call, project in state.compose_projects:
        for service, config in project.services.items():
            candidates = [str(config["image"])] if config.get("image") else []
            if not candidates and config.get("build"):
                candidates = [f"{project.name}-{service}", f"{project.name}_{service}"]
            spec = ComposeSpec(
                project_name=project.name,
                config_paths=project.config_paths,
                env_file=project.env_file,
                profiles=tuple(call.profiles),
                service=service,
                config=config,
            )
            kind = ResourceKind.DOCKER_COMPOSE
            out.append(_new_resource(service, kind, state, call.location, candidates, compose=spec))
    for dc in state.dc_calls:
        index = next(
            (i for i, r in enumerate(out) if r.compose and r.compose.service == dc.target), None
        )
        if index is None:
            known = ", ".join(r.name for r in out) or "none: call docker_compose() first"
            raise TiltfileError(
                f"dc_resource(): no Docker Compose service named {dc.target!r} (services: {known})",
                dc.location,
                "reference",
            )
        out[index] = _configured(out[index], dc)
    return out


def _new_resource(
    name: str,
    kind: ResourceKind,
    state: EvalState,
    location: Location | None,
    images: list[str],
    **spec: Any,
) -> Resource:
    """A deployed resource before dc_resource/k8s_resource configure it."""
    return Resource(
        name=name,
        kind=kind,
        trigger_mode=state.default_trigger_mode,
        auto_init=True,
        resource_deps=(),
        labels=(),
        image_refs=_image_refs(state.images, images),
        location=location,
        **spec,
    )


def _k8s_resource(
    name: str, state: EvalState, location: Location | None, spec: K8sSpec
) -> Resource:
    images = [ref for obj in spec.objects for ref in k8s.images(obj)]
    return _new_resource(name, ResourceKind.K8S, state, location, images, k8s=spec)


def _configured(base: Resource, call: ResourceCall, **spec: Any) -> Resource:
    """Apply what dc_resource()/k8s_resource() say about a resource."""
    kw = call.kwargs
    return dataclasses.replace(
        base,
        name=kw["new_name"] or base.name,
        trigger_mode=kw["trigger_mode"] or base.trigger_mode,
        auto_init=kw["auto_init"],
        resource_deps=base.resource_deps + kw["resource_deps"],
        labels=base.labels + kw["labels"],
        links=base.links + kw["links"],
        location=call.location,
        **spec,
    )


def _k8s_resources(state: EvalState) -> list[Resource]:
    workloads = [o for o in state.k8s_objects if k8s.is_workload(o.obj)]
    others = [o for o in state.k8s_objects if not k8s.is_workload(o.obj)]
    names = k8s.workload_names([w.obj for w in workloads])
    # Each entry: the resource, and the workload object it was made from (None: objects only).
    entries: list[tuple[Resource, dict[str, Any] | None]] = [
        (
            _k8s_resource(name, state, w.location, K8sSpec((w.obj,), (), k8s.selector_of(w.obj))),
            w.obj,
        )
        for w, name in zip(workloads, names, strict=True)
    ]
    for call in state.k8s_calls:
        kw = call.kwargs
        if call.target:
            index = next(
                (
                    i
                    for i, (r, obj) in enumerate(entries)
                    if obj is not None and (r.name == call.target or k8s.matches(obj, call.target))
                ),
                None,
            )
            if index is None:
                known = ", ".join(r.name for r, obj in entries if obj is not None)
                raise TiltfileError(
                    f"k8s_resource(): no workload named {call.target!r} "
                    f"(workloads: {known or 'none: call k8s_yaml() first'})",
                    call.location,
                    "reference",
                )
        else:
            entries.append(
                (_k8s_resource(kw["new_name"], state, call.location, K8sSpec((), (), "")), None)
            )
            index = len(entries) - 1
        base, obj = entries[index]
        claimed: list[dict[str, Any]] = []
        for selector in kw["objects"]:
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
        assert base.k8s is not None
        spec = dataclasses.replace(
            base.k8s,
            objects=base.k8s.objects + tuple(claimed),
            port_forwards=base.k8s.port_forwards + kw["port_forwards"],
        )
        entries[index] = (_configured(base, call, k8s=spec), obj)
    out = [r for r, _ in entries]
    if others:
        spec = K8sSpec(tuple(o.obj for o in others), (), "")
        out.append(_k8s_resource(UNCATEGORIZED, state, others[0].location, spec))
    return out


def _check_dep_cycles(resources: list[Resource]) -> None:
    deps = {r.name: r.resource_deps for r in resources}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            r = next(x for x in resources if x.name == name)
            raise TiltfileError(
                f"resource_deps form a cycle: {' -> '.join(cycle)}", r.location, "reference"
            )
        state[name] = 1
        for dep in deps.get(name, ()):
            visit(dep, [*path, name])
        state[name] = 2

    for r in resources:
        visit(r.name, [])
