"""Container instances, as the kubelet reports them: which instance a live update reached,
whether it is still the one running (a container the kubelet restarts is a new instance that
starts from its image), and waiting for the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tilt_lsp.runtime.k8s import pods as k8spods
from tilt_lsp.runtime.k8s.api import KubeApi, KubeError
from tilt_lsp.runtime.k8s.liveupdate import Target
from tilt_lsp.tiltfile.model import ImageBuild, RunStep, image_repository

RESTART_WAIT_S = 30.0  # how long a retry waits for the restarted container to run again
DEATH_WAIT_S = 8.0  # after an exec that looks killed, how long the pod status may lag


@dataclass
class ImageState:
    """What a container started from the last built image lacks: live-updated files since."""

    image: ImageBuild
    ref: str = ""  # the ref pods run (after delivery)
    restart_signal: str = ""  # the image's restart-wrapper signal label, if any
    synced: dict[str, str] = field(default_factory=dict)  # container path -> local path
    deleted: set[str] = field(default_factory=set)  # container paths

    def reset(self, ref: str, restart_signal: str = "") -> None:
        self.ref = ref
        self.restart_signal = restart_signal
        self.synced.clear()
        self.deleted.clear()

    @property
    def dirty(self) -> bool:
        return bool(self.synced or self.deleted)

    @property
    def runs(self) -> tuple[RunStep, ...]:
        return self.image.live_update.runs if self.image.live_update else ()

    @property
    def restarts_process(self) -> bool:
        lu = self.image.live_update
        return bool(lu and (lu.restart_process or lu.restart_container))


class ContainerRestarted(Exception):
    """The container restarted during the live update and again during its retry."""


def instance_key(uid: str, target: Target) -> str:
    return f"{uid}/{target.container}/{target.container_id}"


def target_of(pod: Mapping[str, Any], c: Mapping[str, Any]) -> Target:
    return Target(
        str(pod["metadata"]["namespace"]),
        str(pod["metadata"]["name"]),
        str(c["name"]),
        str((pod.get("spec") or {}).get("nodeName") or ""),
        str(c.get("containerID") or ""),
        int(c.get("restartCount") or 0),
    )


async def instance_now(
    api: KubeApi, target: Target, wait_s: float
) -> tuple[str, dict[str, Any] | None]:
    """Whether ``target`` is still the same running container instance: ("same", pod),
    ("restarted", pod) or ("gone", None). Waits up to ``wait_s`` for a change to show
    (the kubelet reports a death up to a second or so after it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    ref = {"apiVersion": "v1", "kind": "Pod"}
    ref["metadata"] = {"name": target.pod, "namespace": target.namespace}  # type: ignore[assignment]
    while True:
        try:
            pod = await asyncio.to_thread(api.get, ref)
        except KubeError:
            pod = None
        if pod is None or k8spods.terminating(pod):
            return "gone", None
        status: Mapping[str, Any] = next(
            (
                c
                for c in (pod.get("status") or {}).get("containerStatuses") or []
                if c.get("name") == target.container
            ),
            {},
        )
        same = (
            "running" in (status.get("state") or {})
            and str(status.get("containerID") or "") == target.container_id
            and int(status.get("restartCount") or 0) <= target.restarts
        )
        if not same:
            return "restarted", dict(pod)
        if loop.time() >= deadline:
            return "same", dict(pod)
        await asyncio.sleep(0.3)


async def wait_running(api: KubeApi, target: Target) -> Target | None:
    """The container's next running instance, or None within RESTART_WAIT_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RESTART_WAIT_S
    ref = {"apiVersion": "v1", "kind": "Pod"}
    ref["metadata"] = {"name": target.pod, "namespace": target.namespace}  # type: ignore[assignment]
    while loop.time() < deadline:
        try:
            pod = await asyncio.to_thread(api.get, ref)
        except KubeError:
            pod = None
        if pod is None or k8spods.terminating(pod):
            return None
        for c in (pod.get("status") or {}).get("containerStatuses") or []:
            if (
                c.get("name") == target.container
                and "running" in (c.get("state") or {})
                and str(c.get("containerID") or "") != target.container_id
            ):
                return target_of(pod, c)
        await asyncio.sleep(0.5)
    return None


def running_targets(
    pod: Mapping[str, Any], images: Mapping[str, ImageState], repos: set[str] | None = None
) -> list[tuple[str, Target]]:
    """(image repository, container) of the pod's running containers that run one of
    our images."""
    out = []
    spec_images = {
        c.get("name"): str(c.get("image", ""))
        for c in (pod.get("spec") or {}).get("containers") or []
    }
    for c in (pod.get("status") or {}).get("containerStatuses") or []:
        if "running" not in (c.get("state") or {}):
            continue
        repo = image_repository(spec_images.get(c.get("name"), ""))
        for mine, state in images.items():
            if (repos is None or mine in repos) and (
                repo == mine or repo == image_repository(state.ref)
            ):
                out.append((mine, target_of(pod, c)))
    return out


def crashing(pods: list[dict[str, Any]], repo: str, state: ImageState) -> list[str]:
    """Containers of ``repo`` that are down (crash-looping, terminated): no exec reaches
    them, so a change to them needs a build and deploy."""
    out = []
    for pod in pods:
        spec_images = {
            c.get("name"): str(c.get("image", ""))
            for c in (pod.get("spec") or {}).get("containers") or []
        }
        for c in (pod.get("status") or {}).get("containerStatuses") or []:
            image = image_repository(spec_images.get(c.get("name"), ""))
            if image not in (repo, image_repository(state.ref)):
                continue
            current = c.get("state") or {}
            waiting = str((current.get("waiting") or {}).get("reason") or "")
            if waiting in k8spods.FAILED_WAITING or "terminated" in current:
                out.append(f"{k8spods.pod_name(pod)}/{c.get('name')}")
    return out
