"""``docker_build`` and the live-update steps, with Tilt's ordering rules."""

from __future__ import annotations

import os
import re
from typing import Any

from tilt_lsp.tiltfile.args import (
    as_bool,
    as_command,
    as_opt_str,
    as_str,
    as_str_dict,
    as_str_list,
    type_name,
    warn_missing_paths,
)
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import Command, ImageBuild, LiveUpdate, RunStep, SyncRule, Warning
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState, Step

STEP_KEY = "__tilt_live_update_step__"
_REF = re.compile(
    r"^[a-z0-9]([a-zA-Z0-9._:-]*[a-z0-9])?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*(:[\w][\w.-]{0,127})?$"
)


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _step(ctx: CallContext, kind: str, data: Any) -> dict[str, Any]:
    state = _state(ctx)
    step_id = state.new_id()
    state.steps[step_id] = Step(kind, data, ctx.location)
    return {STEP_KEY: step_id, "kind": kind}


def _fall_back_on(ctx: CallContext, files: Any) -> dict[str, Any]:
    given = as_str_list("fall_back_on", "files", files)
    warn_missing_paths(ctx, "fall_back_on", "files", given, position=0)
    paths = [ctx.path(p) for p in given]
    return _step(ctx, "fall_back_on", tuple(paths))


def _sync(ctx: CallContext, local_path: Any, remote_path: Any) -> dict[str, Any]:
    local = ctx.path(as_str("sync", "local_path", local_path))
    warn_missing_paths(ctx, "sync", "local_path", [local_path], position=0)
    remote = as_str("sync", "remote_path", remote_path)
    if not remote.startswith("/"):
        raise TiltfileError(
            f"sync(): remote_path must be an absolute path in the container, got {remote!r}",
            kind="argument",
        )
    return _step(ctx, "sync", SyncRule(local, remote))


def _run(ctx: CallContext, cmd: Any, trigger: Any = None, echo_off: Any = False) -> dict[str, Any]:
    command = as_command("run", "cmd", cmd)
    if command is None:
        raise TiltfileError("run(): 'cmd' is empty", kind="argument")
    given = as_str_list("run", "trigger", trigger)
    warn_missing_paths(ctx, "run", "trigger", given, position=1)
    triggers = tuple(ctx.path(p) for p in given)
    return _step(ctx, "run", RunStep(command, triggers, as_bool("run", "echo_off", echo_off)))


def _restart_container(ctx: CallContext) -> dict[str, Any]:
    return _step(ctx, "restart_container", None)


def _initial_sync(ctx: CallContext) -> dict[str, Any]:
    return _step(ctx, "initial_sync", None)


def live_update_from_steps(ctx: CallContext, fn: str, value: Any) -> LiveUpdate | None:
    """Check the order Tilt requires: initial_sync and fall_back_on first, then syncs, then
    runs, then restart_container last. Each step may be used once."""
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        value = [value]
    state = _state(ctx)
    steps: list[Step] = []
    for item in value:
        if (
            not (isinstance(item, dict) and isinstance(item.get(STEP_KEY), int))
            or item[STEP_KEY] not in state.steps
        ):
            raise TiltfileError(
                f"{fn}(): live_update must be a list of live update steps (sync, run, "
                f"fall_back_on, restart_container, initial_sync), got {type_name(item)} {item!r}",
                kind="type",
            )
        steps.append(state.steps[item[STEP_KEY]])
    order = {"initial_sync": 0, "fall_back_on": 1, "sync": 2, "run": 3, "restart_container": 4}
    rules = {
        "initial_sync": "initial_sync must appear at most once, at the start of the list",
        "fall_back_on": "fall_back_on steps must appear at the start of the list",
        "sync": "all sync steps must precede all run steps",
        "run": "restart_container is only valid as the last step",
        "restart_container": "restart_container is only valid as the last step",
    }
    highest = -1
    seen_once: set[str] = set()
    for step in steps:
        rank = order[step.kind]
        once = step.kind in ("initial_sync", "restart_container")
        if rank < highest or (once and step.kind in seen_once):
            where = f" (the step at {step.location})" if step.location else ""
            raise TiltfileError(
                f"{fn}(): live_update: {rules[step.kind]}{where}", kind="live-update"
            )
        if rank == order["sync"] and highest == order["run"]:
            raise TiltfileError(f"{fn}(): live_update: {rules['sync']}", kind="live-update")
        highest = max(highest, rank)
        seen_once.add(step.kind)
        step.consumed = True
    return LiveUpdate(
        fall_back_on=tuple(p for s in steps if s.kind == "fall_back_on" for p in s.data),
        syncs=tuple(s.data for s in steps if s.kind == "sync"),
        runs=tuple(s.data for s in steps if s.kind == "run"),
        restart_container=any(s.kind == "restart_container" for s in steps),
        initial_sync=any(s.kind == "initial_sync" for s in steps),
    )


def _docker_build(
    ctx: CallContext,
    ref: Any,
    context: Any,
    build_args: Any = None,
    dockerfile: Any = None,
    dockerfile_contents: Any = "",
    live_update: Any = None,
    match_in_env_vars: Any = False,
    ignore: Any = None,
    only: Any = None,
    entrypoint: Any = None,
    target: Any = "",
    ssh: Any = "",
    network: Any = "",
    secret: Any = "",
    extra_tag: Any = "",
    container_args: Any = None,
    cache_from: Any = None,
    pull: Any = False,
    platform: Any = "",
    extra_hosts: Any = None,
) -> None:
    fn = "docker_build"
    image_ref = as_str(fn, "ref", ref)
    if not _REF.match(image_ref):
        raise TiltfileError(
            f"{fn}(): invalid image ref {image_ref!r}: expected a lowercase name like "
            "'web' or 'registry.example.com/team/web:tag'",
            kind="argument",
        )
    ctx_dir = ctx.path(as_str(fn, "context", context))
    if not os.path.isdir(ctx_dir):
        raise TiltfileError(
            f"{fn}(): build context is not a directory: {ctx_dir}", kind="missing-file"
        )
    contents = as_opt_str(fn, "dockerfile_contents", dockerfile_contents) or None
    dockerfile_path: str | None = None
    if contents is None:
        # Tilt's default is the Dockerfile inside the context; a given path is relative to
        # the Tiltfile, like every other path argument.
        if dockerfile is None:
            dockerfile_path = os.path.join(ctx_dir, "Dockerfile")
        else:
            dockerfile_path = ctx.path(as_str(fn, "dockerfile", dockerfile))
        if not os.path.isfile(dockerfile_path):
            raise TiltfileError(
                f"{fn}(): Dockerfile not found: {dockerfile_path}", kind="missing-file"
            )
        _state(ctx).config_files.add(dockerfile_path)
    ignored = {
        "ssh": ssh,
        "secret": secret,
        "extra_tag": extra_tag,
        "network": network,
        "platform": platform,
        "container_args": container_args,
        "cache_from": cache_from,
        "extra_hosts": extra_hosts,
    }
    for name, value in ignored.items():
        if value in ("", None, []):
            continue
        as_str_list(fn, name, value)  # type-checked, then ignored with a warning
        message = f"{fn}(): '{name}' is not supported by tilt-lsp yet and is ignored"
        _state(ctx).warnings.append(Warning(message, ctx.location))
    as_bool(fn, "match_in_env_vars", match_in_env_vars)
    as_bool(fn, "pull", pull)
    ep: Command | None = as_command(fn, "entrypoint", entrypoint)
    state = _state(ctx)
    if any(i.ref == image_ref for i in state.images):
        raise TiltfileError(
            f"{fn}(): image {image_ref!r} is already built by another docker_build", kind="argument"
        )
    state.images.append(
        ImageBuild(
            ref=image_ref,
            context=ctx_dir,
            dockerfile=dockerfile_path,
            dockerfile_contents=contents,
            build_args=as_str_dict(fn, "build_args", build_args),
            target=as_str(fn, "target", target),
            ignore=tuple(as_str_list(fn, "ignore", ignore)),
            only=tuple(as_str_list(fn, "only", only)),
            entrypoint=ep,
            live_update=live_update_from_steps(ctx, fn, live_update),
            location=ctx.location,
        )
    )


BUILTINS: dict[str, Impl] = {
    "docker_build": _docker_build,
    "fall_back_on": _fall_back_on,
    "sync": _sync,
    "run": _run,
    "restart_container": _restart_container,
    "initial_sync": _initial_sync,
}
