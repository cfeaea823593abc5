"""``custom_build`` (the user's command builds the image) and ``k8s_custom_deploy`` (the
user's commands apply and delete), as Tilt models them."""

from __future__ import annotations

import os
from typing import Any

from tilt_lsp.tiltfile.api.build import REF, live_update_from_steps
from tilt_lsp.tiltfile.args import (
    as_bool,
    as_command,
    as_str,
    as_str_dict,
    as_str_list,
    warn_missing_paths,
)
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import (
    CustomBuild,
    CustomDeploy,
    ImageBuild,
    K8sSpec,
    Resource,
    ResourceKind,
)
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _image_refs(fn: str, arg: str, value: Any) -> tuple[str, ...]:
    refs = as_str_list(fn, arg, value)
    for ref in refs:
        if not REF.match(ref):
            raise TiltfileError(
                f"{fn}(): for parameter {arg!r}: must be a valid image reference: {ref!r}",
                kind="argument",
            )
    return tuple(refs)


def _custom_build(
    ctx: CallContext,
    ref: Any,
    command: Any = "",
    deps: Any = None,
    tag: Any = "",
    disable_push: Any = False,
    skips_local_docker: Any = False,
    live_update: Any = None,
    match_in_env_vars: Any = False,
    ignore: Any = None,
    entrypoint: Any = None,
    command_bat_val: Any = "",
    outputs_image_ref_to: Any = "",
    command_bat: Any = "",
    image_deps: Any = None,
    env: Any = None,
    dir: Any = "",
    container_args: Any = None,
) -> None:
    fn = "custom_build"
    image_ref = as_str(fn, "ref", ref)
    if not REF.match(image_ref):
        raise TiltfileError(f"{fn}(): invalid image ref {image_ref!r}", kind="argument")
    cmd = as_command(fn, "command", command)
    as_str(fn, "command_bat", command_bat)
    as_str(fn, "command_bat_val", command_bat_val)
    if cmd is None:
        raise TiltfileError(f"{fn}(): Argument 'command' can't be empty", kind="argument")
    given_deps = as_str_list(fn, "deps", deps)
    warn_missing_paths(ctx, fn, "deps", given_deps, position=2)
    dep_paths = tuple(ctx.path(p) for p in given_deps)
    if not dep_paths:
        raise TiltfileError(
            f"{fn}(): 'deps' must name the files or folders the build reads", kind="argument"
        )
    the_tag = as_str(fn, "tag", tag)
    ref_file = as_str(fn, "outputs_image_ref_to", outputs_image_ref_to)
    if the_tag and ref_file:
        raise TiltfileError(
            f"{fn}(): cannot specify both tag and outputs_image_ref_to", kind="argument"
        )
    state = _state(ctx)
    if any(i.ref == image_ref for i in state.images):
        raise TiltfileError(f"{fn}(): image {image_ref!r} is already built", kind="argument")
    work_dir = ctx.path(as_str(fn, "dir", dir) or ".")
    dirs = [p if os.path.isdir(p) else os.path.dirname(p) for p in dep_paths]
    context = os.path.commonpath(dirs) if dirs else work_dir
    as_bool(fn, "match_in_env_vars", match_in_env_vars)
    as_str_list(fn, "container_args", container_args)
    state.images.append(
        ImageBuild(
            ref=image_ref,
            context=context,
            dockerfile=None,
            dockerfile_contents=None,
            build_args={},
            target="",
            ignore=tuple(as_str_list(fn, "ignore", ignore)),
            only=(),
            entrypoint=as_command(fn, "entrypoint", entrypoint),
            live_update=live_update_from_steps(ctx, fn, live_update),
            location=ctx.location,
            custom=CustomBuild(
                command=cmd,
                deps=dep_paths,
                dir=work_dir,
                env=as_str_dict(fn, "env", env),
                tag=the_tag,
                disable_push=as_bool(fn, "disable_push", disable_push),
                skips_local_docker=as_bool(fn, "skips_local_docker", skips_local_docker),
                outputs_image_ref_to=ctx.path(ref_file) if ref_file else "",
                base_env=dict(state.env),
            ),
        )
    )
    state.custom_image_deps[image_ref] = (_image_refs(fn, "image_deps", image_deps), ctx.location)


def _deps(ctx: CallContext, fn: str, deps: Any) -> list[str]:
    given = as_str_list(fn, "deps", deps)
    warn_missing_paths(ctx, fn, "deps", given, position=3)
    return given


def _k8s_custom_deploy(
    ctx: CallContext,
    name: Any,
    apply_cmd: Any,
    delete_cmd: Any,
    deps: Any = None,
    image_selector: Any = "",
    live_update: Any = None,
    apply_dir: Any = "",
    apply_env: Any = None,
    apply_cmd_bat: Any = "",
    delete_dir: Any = "",
    delete_env: Any = None,
    delete_cmd_bat: Any = "",
    container_selector: Any = "",
    image_deps: Any = None,
) -> None:
    fn = "k8s_custom_deploy"
    res_name = as_str(fn, "name", name)
    apply = as_command(fn, "apply_cmd", apply_cmd)
    delete = as_command(fn, "delete_cmd", delete_cmd)
    if apply is None or delete is None:
        raise TiltfileError(f"{fn}(): apply_cmd and delete_cmd are required", kind="argument")
    state = _state(ctx)
    if any(r.name == res_name for r in state.custom_deploys):
        raise TiltfileError(f'k8s_resource named "{res_name}" already exists', kind="argument")
    img_deps = _image_refs(fn, "image_deps", image_deps)
    selector = as_str(fn, "image_selector", image_selector)
    lu = live_update_from_steps(ctx, fn, live_update)
    state.custom_deploys.append(
        Resource(
            name=res_name,
            kind=ResourceKind.K8S,
            trigger_mode=state.default_trigger_mode,
            auto_init=True,
            resource_deps=(),
            labels=(),
            image_refs=img_deps,
            location=ctx.location,
            k8s=K8sSpec((), (), ""),
            custom_deploy=CustomDeploy(
                apply_cmd=apply,
                delete_cmd=delete,
                apply_dir=ctx.path(as_str(fn, "apply_dir", apply_dir) or "."),
                apply_env=as_str_dict(fn, "apply_env", apply_env),
                delete_dir=ctx.path(as_str(fn, "delete_dir", delete_dir) or "."),
                delete_env=as_str_dict(fn, "delete_env", delete_env),
                deps=tuple(ctx.path(p) for p in _deps(ctx, fn, deps)),
                image_deps=img_deps,
                image_selector=selector,
                container_selector=as_str(fn, "container_selector", container_selector),
                live_update=lu,
            ),
        )
    )
    state.implicit_trigger.add(res_name)
    if lu is not None and not img_deps:
        state.note(
            "k8s_custom_deploy(live_update=...) for an image tilt-lsp does not build "
            "(image_selector/container_selector): not live-updated; changes re-run apply_cmd"
        )


BUILTINS: dict[str, Impl] = {
    "custom_build": _custom_build,
    "k8s_custom_deploy": _k8s_custom_deploy,
}
