"""Kubernetes objects from ``k8s_yaml``: which are workloads, what images they run, and how
Tilt names the resources they become."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

WORKLOAD_KINDS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Pod",
    }
)


class K8sYamlError(Exception):
    pass


def parse_objects(text: str, origin: str) -> list[dict[str, Any]]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        raise K8sYamlError(f"{origin} is not valid YAML: {err}") from None
    out: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict) or "kind" not in doc:
            raise K8sYamlError(
                f"{origin}: every YAML document must be a Kubernetes object with a 'kind'"
            )
        if doc["kind"] == "List" or (str(doc["kind"]).endswith("List") and "items" in doc):
            out.extend(i for i in doc.get("items") or [] if isinstance(i, dict))
        else:
            out.append(doc)
    return out


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace", "") or "default")


def selector_of(obj: Mapping[str, Any]) -> str:
    """``name:kind:namespace``, lowercase kind as Tilt prints it."""
    return f"{name_of(obj)}:{str(obj.get('kind', '')).lower()}:{namespace_of(obj)}"


def matches(obj: Mapping[str, Any], selector: str) -> bool:
    """Tilt's object selectors: ``name``, ``name:kind`` or ``name:kind:namespace``
    (kind and namespace case-insensitive)."""
    parts = selector.split(":")
    if not parts or parts[0] != name_of(obj):
        return False
    if len(parts) > 1 and parts[1].lower() != str(obj.get("kind", "")).lower():
        return False
    return not (len(parts) > 2 and parts[2] != namespace_of(obj))


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") if isinstance(spec, dict) else None
    return (template or {}).get("spec") if isinstance(template, dict) else None


def containers(obj: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = pod_spec(obj) or {}
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                yield c


def images(obj: Mapping[str, Any]) -> list[str]:
    return [str(c["image"]) for c in containers(obj) if c.get("image")]


def is_workload(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") in WORKLOAD_KINDS


def workload_names(workloads: list[Mapping[str, Any]]) -> list[str]:
    """Tilt names a workload's resource after it; when names collide it adds the kind,
    then the namespace."""
    names = [name_of(w) for w in workloads]
    out = []
    for w, n in zip(workloads, names, strict=True):
        if names.count(n) == 1:
            out.append(n)
            continue
        with_kind = f"{n}:{str(w.get('kind', '')).lower()}"
        same_kind = [x for x in workloads if name_of(x) == n and x.get("kind") == w.get("kind")]
        out.append(with_kind if len(same_kind) == 1 else f"{with_kind}:{namespace_of(w)}")
    return out
