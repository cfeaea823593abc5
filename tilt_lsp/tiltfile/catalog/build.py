"""Catalog: images (docker_build) and live update steps."""

from __future__ import annotations

from tilt_lsp.tiltfile.catalog.model import Entry, fn

_IGNORED = "accepted; tilt-lsp warns that it does not use it"

ENTRIES: tuple[Entry, ...] = (
    fn(
        "docker_build(ref: str, context: str, build_args: dict[str, str] = {}, "
        "dockerfile: str = 'Dockerfile', dockerfile_contents: str = '', "
        "live_update: list[LiveUpdateStep] = [], match_in_env_vars: bool = False, "
        "ignore: str | list[str] = [], only: str | list[str] = [], "
        "entrypoint: str | list[str] = [], target: str = '', ssh: str | list[str] = '', "
        "network: str = '', secret: str | list[str] = '', extra_tag: str | list[str] = '', "
        "container_args: list[str] = None, cache_from: str | list[str] = [], pull: bool = False, "
        "platform: str = '', extra_hosts: str | list[str] = [])",
        "Builds an image with Docker from a folder. Any compose service or Kubernetes workload "
        "that uses the image name gets the freshly built image. With `live_update`, a change "
        "to a synced file is copied into the running container instead of rebuilding.",
        ref="the image name that compose files and Kubernetes YAML refer to, e.g. `api`",
        context="the build context folder, relative to the Tiltfile",
        build_args="`--build-arg` values",
        dockerfile="the Dockerfile's path (default: `Dockerfile` in the context)",
        dockerfile_contents="the Dockerfile's text, instead of a file",
        live_update="steps: `sync()`, `run()`, `fall_back_on()`, `restart_container()`, `initial_sync()`",
        match_in_env_vars="also replace the image name in environment variables",
        ignore="files in the context that never trigger a build (.dockerignore syntax)",
        only="send only these files of the context",
        entrypoint="overrides the image's entrypoint",
        target="the Dockerfile stage to build",
        ssh=_IGNORED,
        network=_IGNORED,
        secret=_IGNORED,
        extra_tag=_IGNORED,
        container_args="overrides the container's arguments",
        cache_from=_IGNORED,
        pull="always pull the base image",
        platform=_IGNORED,
        extra_hosts=_IGNORED,
    ),
    fn(
        "sync(local_path: str, remote_path: str) -> LiveUpdateStep",
        "Live update step: copy changed files under `local_path` to `remote_path` in the "
        "running container. A changed file outside every sync rebuilds the image.",
        local_path="a file or folder on this machine, relative to the Tiltfile",
        remote_path="the absolute path in the container",
    ),
    fn(
        "run(cmd: str | list[str], trigger: str | list[str] = [], echo_off: bool = False) -> LiveUpdateStep",
        "Live update step: run a command in the container after syncing. A failing command "
        "is reported as your error; it does not rebuild.",
        cmd="the command, run in the container",
        trigger="run only when one of these local files changed",
        echo_off="do not log the command",
    ),
    fn(
        "fall_back_on(files: str | list[str]) -> LiveUpdateStep",
        "Live update step (first): a change to one of these files rebuilds the image instead.",
        files="files or folders, relative to the Tiltfile",
    ),
    fn(
        "restart_container() -> LiveUpdateStep",
        "Live update step (last): restart the container's process after syncing. tilt-lsp "
        "restarts the process in place, without restarting the container.",
    ),
    fn(
        "tilt_lsp.restart_process(trigger: str | list[str] = None) -> LiveUpdateStep",
        "tilt-lsp's own live update step, made by `docker_build_with_restart` (the "
        "restart_process extension): restart the app's process in place after each live "
        "update.",
        trigger="files whose change asks for the restart (tilt-lsp restarts after every live update)",
    ),
    fn(
        "initial_sync() -> LiveUpdateStep",
        "Live update step (first): sync every file once when the container starts, not only "
        "the files changed since the build.",
    ),
)
