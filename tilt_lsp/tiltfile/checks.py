"""Checks Tilt makes once the whole Tiltfile ran (they need every image and resource), with
Tilt's meaning and an error placed at the call that caused it."""

from __future__ import annotations

import os
from collections.abc import Sequence

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import ImageBuild, Resource, ResourceKind, Warning
from tilt_lsp.tiltfile.state import EvalState

RESTART_CONTAINER_K8S = (
    "Found `restart_container()` LiveUpdate step in resource(s): [{names}]. "
    "`restart_container()` is not supported for Kubernetes resources (Tilt refuses it too): "
    "restart the process with the restart_process extension instead: "
    "load('ext://restart_process', 'docker_build_with_restart')"
)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def watched_paths(image: ImageBuild) -> tuple[str, ...]:
    """What a change must be under to reach this image: its context, or a custom_build's
    deps."""
    return image.custom.deps if image.custom is not None else (image.context,)


def check_images(state: EvalState, resources: Sequence[Resource], warnings: list[Warning]) -> None:
    refs = {i.ref for i in state.images}
    for image in state.images:
        lu = image.live_update
        roots = watched_paths(image)
        if lu is not None:
            for sync in lu.syncs:
                if not _under(sync.local_path, roots):
                    raise TiltfileError(
                        f"sync step source '{sync.local_path}' is not a child of any watched "
                        f"filepaths ({', '.join(roots)})",
                        image.location,
                        "live-update",
                    )
            for path in lu.fall_back_on:
                if not _under(path, roots):
                    raise TiltfileError(
                        f"fall_back_on paths '{path}' is not a child of any watched filepaths "
                        f"({', '.join(roots)})",
                        image.location,
                        "live-update",
                    )
        deps, location = state.custom_image_deps.get(image.ref, ((), None))
        for dep in deps:
            if dep not in refs:
                raise TiltfileError(
                    f'image "{image.ref}": image dep "{dep}" not found', location, "reference"
                )
    k8s_restart = [
        r
        for r in resources
        if r.kind is ResourceKind.K8S
        and any(
            (i := _image(state, ref)) is not None
            and i.live_update is not None
            and i.live_update.restart_container
            for ref in r.image_refs
        )
    ]
    if k8s_restart:
        # As Tilt (TestLiveUpdateRestartContainerDeprecationErrorK8s): an error, at the
        # docker_build whose live_update has the step.
        first = _image(state, k8s_restart[0].image_refs[0])
        raise TiltfileError(
            RESTART_CONTAINER_K8S.format(names=", ".join(r.name for r in k8s_restart)),
            first.location if first else k8s_restart[0].location,
            "live-update",
        )
    for r in resources:
        if r.custom_deploy is None:
            continue
        for dep in r.custom_deploy.image_deps:
            if dep not in refs:
                raise TiltfileError(
                    f'resource "{r.name}": image build "{dep}" not found', r.location, "reference"
                )


def _image(state: EvalState, ref: str) -> ImageBuild | None:
    return next((i for i in state.images if i.ref == ref), None)


def enabled_resources(
    state: EvalState, names: Sequence[str], warnings: list[Warning]
) -> list[str] | None:
    """The resources to run (None: all). The Tiltfile's set_enabled_resources wins; else the
    args name them, unless config.parse() took the args as flags."""
    if state.enabled_resources is not None:
        chosen = list(state.enabled_resources)
    elif state.config_args and not state.config_parsed:
        chosen = list(state.config_args)
    else:
        return None
    for name in chosen:
        if name not in names:
            warnings.append(
                Warning(
                    f"enabled resource {name!r} does not exist (resources: {', '.join(names)})",
                    None,
                )
            )
    return chosen
