"""What a resource's pods say about it, in the user's words: pure functions from pod objects
(as the API returns them) to a runtime status and a clear error text.

During a rollout the old ReplicaSet's pods are still there for a while; they say nothing
about the new code, so the *current* pods are the ones with the pod-template-hash of the
newest pod we saw appear (``current_pods``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tilt_lsp.engine.status import RuntimeStatus

Obj = Mapping[str, Any]

# Waiting reasons that will not fix themselves: the resource has failed until something
# changes. ContainerCreating and PodInitializing are just slow.
FAILED_WAITING = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "PreCreateHookError",
        "PostStartHookError",
    }
)

ADVICE = {
    "ImagePullBackOff": "the cluster cannot pull this image (is it built, loaded or pushed where the cluster looks? see 'image delivery' in the log)",
    "ErrImagePull": "the cluster cannot pull this image (is it built, loaded or pushed where the cluster looks? see 'image delivery' in the log)",
    "ErrImageNeverPull": "imagePullPolicy is Never and the node does not have the image",
    "CreateContainerConfigError": "the container's configuration refers to something missing (a ConfigMap, a Secret or a key in one)",
    "InvalidImageName": "the image reference is not valid",
}


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def pod_name(pod: Obj) -> str:
    return str(_meta(pod).get("name", ""))


def template_hash(pod: Obj) -> str:
    return str((_meta(pod).get("labels") or {}).get("pod-template-hash", ""))


def terminating(pod: Obj) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def runs_images(pod: Obj, refs: Collection[str]) -> bool:
    """True when every container of ``pod`` that runs one of our repositories runs the ref
    we deployed last."""
    from tilt_lsp.tiltfile.model import image_repository

    repos = {image_repository(r) for r in refs}
    images = [str(c.get("image", "")) for c in (pod.get("spec") or {}).get("containers") or []]
    ours = [i for i in images if image_repository(i) in repos]
    return bool(ours) and all(i in refs for i in ours)


def current_pods(
    pods: Sequence[Obj], order: Mapping[str, int], refs: Collection[str] = ()
) -> list[Obj]:
    """The pods of the newest pod template: the template of the pods that run the images we
    deployed last, and among those (or without images) the one of the pod that appeared
    last (``order`` numbers pods by uid as they first appeared). Terminating pods are never
    current."""
    live = [p for p in pods if not terminating(p)]
    if not live:
        return []
    newest = max(
        live,
        key=lambda p: (
            bool(refs) and runs_images(p, refs),
            order.get(str(_meta(p).get("uid", "")), -1),
        ),
    )
    h = template_hash(newest)
    return [p for p in live if template_hash(p) == h]


def container_statuses(pod: Obj) -> list[Mapping[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def restarts(pods: Sequence[Obj]) -> int:
    return sum(int(c.get("restartCount") or 0) for p in pods for c in container_statuses(p))


def pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclass(frozen=True, slots=True)
class PodsState:
    runtime: RuntimeStatus
    error: str | None = None  # set when the resource failed: what, where, and what to do
    summary: str = ""  # one line for the resource log
    exit_code: int | None = None


def _termination(c: Mapping[str, Any]) -> tuple[str, int | None]:
    term = ((c.get("lastState") or {}).get("terminated")) or (
        (c.get("state") or {}).get("terminated")
    )
    if not term:
        return "", None
    code = term.get("exitCode")
    parts = [f"exit code {code}"]
    if term.get("reason") and term.get("reason") not in ("Error", "Completed"):
        parts.append(str(term["reason"]))
    if term.get("message"):
        parts.append(str(term["message"]).strip().splitlines()[-1])
    return "; ".join(parts), int(code) if code is not None else None


# Pod conditions that, when False, keep every container from starting (PodReadyToStartContainers
# is 1.25+: the sandbox or its network could not be set up).
BLOCKING_CONDITIONS = ("PodScheduled", "PodReadyToStartContainers")


def not_starting(pod: Obj) -> str:
    """Why the pod's containers cannot start, in the scheduler's (or kubelet's) words, or "".
    An unschedulable pod stays Pending for ever: that is an error, not "starting"."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") in BLOCKING_CONDITIONS and cond.get("status") == "False":
            reason = str(cond.get("reason") or "")
            message = str(cond.get("message") or "").strip()
            if cond.get("type") == "PodScheduled" and not reason:
                continue  # not yet tried
            what = (
                "cannot be scheduled"
                if cond.get("type") == "PodScheduled"
                else "cannot start its containers"
            )
            text = f"pod {pod_name(pod)} {what}"
            if reason:
                text += f" ({reason})"
            return text + (f": {message}" if message else "")
    return ""


def describe(pods: Sequence[Obj]) -> PodsState:
    """The runtime status of a resource from its current pods."""
    if not pods:
        return PodsState(RuntimeStatus.STARTING, summary="waiting for pods")
    total = restarts(pods)
    for pod in pods:
        for c in container_statuses(pod):
            waiting = (c.get("state") or {}).get("waiting") or {}
            reason = str(waiting.get("reason") or "")
            if reason in FAILED_WAITING:
                last, code = _termination(c)
                detail = ADVICE.get(reason) or str(waiting.get("message") or "").strip()
                text = f"pod {pod_name(pod)} container {c.get('name')}: {reason}"
                if last:
                    text += f" (last run: {last})"
                if c.get("restartCount"):
                    text += f", restarted {c['restartCount']} time{'s' if c['restartCount'] != 1 else ''}"
                if detail and reason not in ("CrashLoopBackOff",):
                    text += f": {detail}"
                return PodsState(RuntimeStatus.CRASHED, text, text, code)
    for pod in pods:
        blocked = not_starting(pod)
        if blocked:
            return PodsState(RuntimeStatus.CRASHED, blocked, blocked)
    phases = {str((p.get("status") or {}).get("phase") or "Pending") for p in pods}
    if "Failed" in phases:
        pod = next(p for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        term = next((t for t in map(_termination, container_statuses(pod)) if t[0]), ("", None))
        reason = (pod.get("status") or {}).get("reason") or ""
        text = (
            f"pod {pod_name(pod)} failed"
            + (f" ({reason})" if reason else "")
            + (f": {term[0]}" if term[0] else "")
        )
        return PodsState(RuntimeStatus.CRASHED, text, text, term[1])
    if phases == {"Succeeded"}:
        return PodsState(RuntimeStatus.EXITED, summary="pods completed", exit_code=0)
    ready = sum(1 for p in pods if pod_ready(p))
    suffix = f", {total} restart{'s' if total != 1 else ''}" if total else ""
    if ready == len(pods):
        return PodsState(RuntimeStatus.READY, summary=f"{ready}/{len(pods)} pods ready{suffix}")
    if phases == {"Pending"}:
        reasons = sorted(
            {
                str(((c.get("state") or {}).get("waiting") or {}).get("reason") or "")
                for p in pods
                for c in container_statuses(p)
            }
            - {""}
        )
        return PodsState(
            RuntimeStatus.STARTING,
            summary="pods pending" + (f" ({', '.join(reasons)})" if reasons else ""),
        )
    return PodsState(RuntimeStatus.RUNNING, summary=f"{ready}/{len(pods)} pods ready{suffix}")
