"""Kubernetes objects from ``k8s_yaml``: which are workloads, what images they run, and how
Tilt names the resources they become."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class KindRule:
    """``k8s_kind`` (objects of a kind are workloads, images at these JSON paths) and
    ``k8s_image_json_path`` (images at these paths, no workload). Patterns are
    case-insensitive regular expressions, empty = any."""

    kind: str
    api_version: str
    name: str
    image_json_paths: tuple[str, ...]
    workload: bool = True

    def applies(self, obj: Mapping[str, Any]) -> bool:
        for pattern, value in (
            (self.kind, str(obj.get("kind", ""))),
            (self.api_version, str(obj.get("apiVersion", ""))),
            (self.name, name_of(obj)),
        ):
            if pattern and not re.fullmatch(pattern, value, re.IGNORECASE):
                return False
        return True


def json_path_values(obj: Any, path: str) -> list[Any]:
    """The values at a Kubernetes-style JSON path (``{.spec.template.spec.containers[*].image}``):
    dotted keys, ``[*]`` and ``[N]``."""
    parts = re.findall(r"[^.\[\]{}]+|\[\*\]|\[\d+\]", path.strip().strip("{}"))
    values = [obj]
    for part in parts:
        nxt: list[Any] = []
        for v in values:
            if part == "[*]" and isinstance(v, list):
                nxt += v
            elif part.startswith("[") and isinstance(v, list):
                i = int(part[1:-1])
                nxt += [v[i]] if i < len(v) else []
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        values = nxt
    return values


def images(obj: Mapping[str, Any], rules: Sequence[KindRule] = ()) -> list[str]:
    found = [str(c["image"]) for c in containers(obj) if c.get("image")]
    for rule in rules:
        if rule.applies(obj):
            for path in rule.image_json_paths:
                found += [v for v in json_path_values(obj, path) if isinstance(v, str)]
    return found


def is_workload(obj: Mapping[str, Any], rules: Sequence[KindRule] = ()) -> bool:
    return obj.get("kind") in WORKLOAD_KINDS or any(r.workload and r.applies(obj) for r in rules)


def pod_template_labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = obj.get("kind")
    if kind == "Pod":
        return (obj.get("metadata") or {}).get("labels") or {}
    spec = obj.get("spec") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") if isinstance(spec, dict) else None
    meta = (template or {}).get("metadata") if isinstance(template, dict) else None
    return (meta or {}).get("labels") or {} if isinstance(meta, dict) else {}


def selects_pods_of(obj: Mapping[str, Any], workload: Mapping[str, Any]) -> bool:
    """Tilt groups a Service with a workload when the Service's selector (non-empty) matches
    the workload's pod labels, and the Service has no namespace or the workload's."""
    if obj.get("kind") != "Service":
        return False
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = pod_template_labels(workload)
    if not selector or not isinstance(selector, dict):
        return False
    if any(str(labels.get(k)) != str(v) for k, v in selector.items()):
        return False
    ns = (obj.get("metadata") or {}).get("namespace")
    return not ns or ns == "default" or ns == namespace_of(workload)


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
