"""What tilt-lsp sends to the cluster, as pure functions on object dicts: labels that mark
our objects and pods, built image refs substituted into containers, the REST path of each
kind, and the label selector that finds a workload's pods."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tilt_lsp.tiltfile.model import image_repository

FIELD_MANAGER = "tilt-lsp"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "tilt-lsp"
RESOURCE_LABEL = "dev.tilt-lsp/resource"
MANAGED = "dev.tilt-lsp.managed"  # the managed mark (tilt_lsp/build/labels.py): every pod
MANAGED_VALUE = "true"  # template we apply, so the synclet may touch its containers

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class KindInfo:
    api_version: str
    plural: str
    namespaced: bool


# The kinds a Tiltfile's k8s_yaml commonly holds. Others are refused with a clear error
# rather than guessed (a wrong plural is a 404 the user cannot explain).
KINDS: dict[str, KindInfo] = {
    "Namespace": KindInfo("v1", "namespaces", False),
    "ConfigMap": KindInfo("v1", "configmaps", True),
    "Secret": KindInfo("v1", "secrets", True),
    "Service": KindInfo("v1", "services", True),
    "ServiceAccount": KindInfo("v1", "serviceaccounts", True),
    "PersistentVolumeClaim": KindInfo("v1", "persistentvolumeclaims", True),
    "PersistentVolume": KindInfo("v1", "persistentvolumes", False),
    "Pod": KindInfo("v1", "pods", True),
    "ReplicationController": KindInfo("v1", "replicationcontrollers", True),
    "Deployment": KindInfo("apps/v1", "deployments", True),
    "StatefulSet": KindInfo("apps/v1", "statefulsets", True),
    "DaemonSet": KindInfo("apps/v1", "daemonsets", True),
    "ReplicaSet": KindInfo("apps/v1", "replicasets", True),
    "Job": KindInfo("batch/v1", "jobs", True),
    "CronJob": KindInfo("batch/v1", "cronjobs", True),
    "Ingress": KindInfo("networking.k8s.io/v1", "ingresses", True),
    "NetworkPolicy": KindInfo("networking.k8s.io/v1", "networkpolicies", True),
    "Role": KindInfo("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": KindInfo("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRole": KindInfo("rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": KindInfo("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "HorizontalPodAutoscaler": KindInfo("autoscaling/v2", "horizontalpodautoscalers", True),
    "PodDisruptionBudget": KindInfo("policy/v1", "poddisruptionbudgets", True),
}


class UnsupportedKind(Exception):
    pass


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def namespace_of(obj: Mapping[str, Any], default: str = "default") -> str:
    return str((obj.get("metadata") or {}).get("namespace") or default)


def object_path(obj: Mapping[str, Any], default_namespace: str) -> str:
    """The REST path of one object (for apply, get and delete)."""
    kind = str(obj.get("kind", ""))
    info = KINDS.get(kind)
    if info is None:
        raise UnsupportedKind(
            f"{kind or 'an object without kind'} {name_of(obj)!r}: tilt-lsp cannot deploy this "
            f"kind yet (supported: {', '.join(sorted(KINDS))})"
        )
    api_version = str(obj.get("apiVersion") or info.api_version)
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if info.namespaced:
        return (
            f"{base}/namespaces/{namespace_of(obj, default_namespace)}/{info.plural}/{name_of(obj)}"
        )
    return f"{base}/{info.plural}/{name_of(obj)}"


def pod_template(obj: Obj) -> Obj | None:
    """The pod spec holder: the object itself for a Pod, its template otherwise."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template")
    return template if isinstance(template, dict) else None


def containers(obj: Obj) -> list[Obj]:
    holder = pod_template(obj)
    spec = (holder or {}).get("spec") or {}
    return [
        c
        for key in ("initContainers", "containers")
        for c in spec.get(key) or []
        if isinstance(c, dict)
    ]


def substitute_images(obj: Obj, refs: Mapping[str, str]) -> list[str]:
    """Point every container whose image has a built repository at the built ref (in place).
    ``refs`` maps repository (no tag) → built ref. Returns the container names changed."""
    changed = []
    for c in containers(obj):
        image = c.get("image")
        if isinstance(image, str) and image_repository(image) in refs:
            c["image"] = refs[image_repository(image)]
            # A built tag exists only where we put it: never ask a registry for it.
            if c.get("imagePullPolicy") == "Always":
                c["imagePullPolicy"] = "IfNotPresent"
            changed.append(str(c.get("name", "")))
    return changed


def prepare(objects: list[Mapping[str, Any]], resource: str, refs: Mapping[str, str]) -> list[Obj]:
    """Copies of ``objects`` as tilt-lsp applies them: our labels on each object and on its
    pod template (so its pods can be found), built images substituted."""
    out = []
    for original in objects:
        obj: Obj = copy.deepcopy(dict(original))
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels[MANAGED_BY] = MANAGED_BY_VALUE
        labels[RESOURCE_LABEL] = resource_label_value(resource)
        holder = pod_template(obj)
        if holder is not None:
            tlabels = holder.setdefault("metadata", {}).setdefault("labels", {})
            tlabels[MANAGED_BY] = MANAGED_BY_VALUE
            tlabels[RESOURCE_LABEL] = resource_label_value(resource)
            tlabels[MANAGED] = MANAGED_VALUE
        substitute_images(obj, refs)
        out.append(obj)
    return out


def resource_label_value(name: str) -> str:
    """Label values allow [A-Za-z0-9_.-], at most 63 characters, alphanumeric at both ends."""
    value = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)[:63]
    return value.strip("_.-") or "resource"


def pod_selector(resource: str) -> str:
    """The pods of a resource: every pod template we apply carries these labels."""
    return f"{MANAGED_BY}={MANAGED_BY_VALUE},{RESOURCE_LABEL}={resource_label_value(resource)}"


def workload(objects: list[Obj]) -> Obj | None:
    return next((o for o in objects if pod_template(o) is not None), None)


def apply_order(objects: list[Obj]) -> list[Obj]:
    """Namespaces first, then what pods need (config, accounts, RBAC), workloads last."""
    first = {
        "Namespace": 0,
        "ServiceAccount": 1,
        "ConfigMap": 1,
        "Secret": 1,
        "Role": 2,
        "ClusterRole": 2,
        "RoleBinding": 3,
        "ClusterRoleBinding": 3,
        "PersistentVolumeClaim": 3,
        "Service": 4,
    }
    return sorted(objects, key=lambda o: first.get(str(o.get("kind")), 5))


def immutable(status: int, message: str) -> bool:
    """The API server refused an apply because it changes a field that cannot change (a
    Job's pod template, a Service's clusterIP…): the object must be re-created."""
    return status == 422 and "field is immutable" in message
