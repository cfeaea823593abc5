"""Evaluate a Tiltfile into a Model: run the Starlark, then resolve what refers to what.

Resolution happens after evaluation, as in Tilt: ``k8s_resource('web')`` may come before or
after the ``k8s_yaml`` that defines ``web``. Errors found here still point at the call that
made the reference.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tilt_lsp.tiltfile import api, k8s
from tilt_lsp.tiltfile.assemble_k8s import k8s_resources
from tilt_lsp.tiltfile.checks import check_images, enabled_resources
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.extensions import fetch
from tilt_lsp.tiltfile.extensions.resolve import extension_tiltfile
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


def load_tiltfile(
    path: str,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> Model:
    """Evaluate the Tiltfile at ``path``. ``args`` are the Tiltfile's args (``tilt-lsp up --
    ARGS``): resource names, or config flags when the Tiltfile calls config.parse().
    Raises TiltfileError (with a location when there is one) if it cannot be understood."""
    path = os.path.abspath(path)
    state = EvalState(main_path=path, env=dict(os.environ if env is None else env))
    state.config_args = list(args)
    state.ext_cache_dir = fetch.cache_dir(state.env)
    environment = Environment(
        api.BUILTINS,
        api.constants(state),
        state,
        resolve_ext=lambda module: extension_tiltfile(module, state),
    )
    environment.run(path)
    namer = None
    if state.workload_to_resource:
        namer = _workload_namer(environment, state.workload_to_resource)
    for step in state.steps.values():
        if not step.consumed:
            raise TiltfileError(
                f"{step.kind}() step was created but not used in any docker_build(live_update=...)",
                step.location,
                "live-update",
            )
    return _assemble(state, namer)


def _workload_namer(environment: Environment, path: str) -> Callable[[dict[str, Any]], str]:
    """workload_to_resource_function: the Tiltfile's function names each workload."""

    def name(obj: dict[str, Any]) -> str:
        api_version = str(obj.get("apiVersion", ""))
        arg = {
            "name": k8s.name_of(obj),
            "kind": str(obj.get("kind", "")),
            "namespace": k8s.namespace_of(obj),
            "group": api_version.split("/")[0] if "/" in api_version else "",
        }
        try:
            result = environment.call_kept(path, "workload_to_resource_function", arg)
        except TiltfileError as err:
            raise TiltfileError(
                f"workload_to_resource_function: {err.message}", err.location, err.kind
            ) from None
        if not isinstance(result, str) or not result:
            raise TiltfileError(
                f"workload_to_resource_function must return a non-empty string, got {result!r} "
                f"for {arg['name']}",
                None,
                "type",
            )
        return result

    return name


def _assemble(state: EvalState, namer: Callable[[dict[str, Any]], str] | None = None) -> Model:
    resources: list[Resource] = []
    resources += _compose_resources(state)
    resources += k8s_resources(
        state, lambda n, loc, spec: _k8s_resource(n, state, loc, spec), _configured, namer
    )
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
    warnings = list(state.warnings)
    resources = [_known_deps(r, seen, warnings) for r in resources]
    _check_dep_cycles(resources)
    check_images(state, resources, warnings)
    enabled = enabled_resources(state, [r.name for r in resources], warnings)
    if enabled is not None:
        resources = [
            r if r.name in enabled else dataclasses.replace(r, auto_init=False) for r in resources
        ]
    used = {ref for r in resources for ref in r.image_refs}
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
        enabled_resources=None if enabled is None else tuple(enabled),
        k8s_context=state.k8s_context,
        k8s_namespace=state.k8s_namespace,
        ui_objects=tuple(state.ui_objects),
    )


def _known_deps(r: Resource, seen: Mapping[str, Resource], warnings: list[Warning]) -> Resource:
    """Tilt warns about (and ignores) a resource_deps entry that names no resource."""
    unknown = [d for d in r.resource_deps if d not in seen]
    for dep in unknown:
        warnings.append(
            Warning(
                f"resource {r.name!r}: resource_deps names unknown resource {dep!r}; it is "
                f"ignored (resources: {', '.join(sorted(seen))})",
                r.location,
            )
        )
    if not unknown:
        return r
    return dataclasses.replace(r, resource_deps=tuple(d for d in r.resource_deps if d in seen))


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
    # depends_on names services; dc_resource(new_name=) may have renamed them.
    names = {r.compose.service: r.name for r in out if r.compose}
    return [
        dataclasses.replace(
            r,
            resource_deps=tuple(names.get(d, d) for d in _depends_on(r.compose.config))
            + r.resource_deps,
        )
        if r.compose
        else r
        for r in out
    ]


def _depends_on(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Compose ``depends_on`` (a list, or a mapping of service → condition) becomes
    resource_deps, as in Tilt."""
    deps = config.get("depends_on") or ()
    return tuple(str(d) for d in deps) if isinstance(deps, list | dict) else ()


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
    images = [ref for obj in spec.objects for ref in k8s.images(obj, state.k8s_kinds)]
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
