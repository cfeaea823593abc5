"""The object store of the test API server: objects by (resource, namespace, name), one
monotonically increasing resourceVersion, an event history watches replay from, compaction
(which makes old resourceVersions answer ``410 Gone``), and server-side apply with
managedFields.

Everything here runs on the server's event loop; nothing blocks.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    plural: str
    kind: str
    api_version: str  # "v1" or "apps/v1"
    namespaced: bool = True


KINDS = [
    Kind("namespaces", "Namespace", "v1", namespaced=False),
    Kind("nodes", "Node", "v1", namespaced=False),
    Kind("configmaps", "ConfigMap", "v1"),
    Kind("secrets", "Secret", "v1"),
    Kind("services", "Service", "v1"),
    Kind("serviceaccounts", "ServiceAccount", "v1"),
    Kind("pods", "Pod", "v1"),
    Kind("deployments", "Deployment", "apps/v1"),
    Kind("replicasets", "ReplicaSet", "apps/v1"),
    Kind("statefulsets", "StatefulSet", "apps/v1"),
    Kind("daemonsets", "DaemonSet", "apps/v1"),
]
BY_PLURAL = {(k.api_version, k.plural): k for k in KINDS}


class ApiError(Exception):
    """Becomes a ``Status`` response (and, in a watch, an ERROR event)."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> Obj:
        return status_obj("Failure", self.code, self.reason, self.message, self.details)


def status_obj(status: str, code: int, reason: str = "", message: str = "", details: Obj | None = None) -> Obj:
    out: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status, "code": code}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    if details:
        out["details"] = details
    return out


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    kind: Kind
    obj: Obj


@dataclass(eq=False)
class Watcher:
    kind: Kind
    namespace: str | None
    selector: Callable[[Obj], bool]
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    bookmark_on_expire: bool = True


# -- label and field selectors --------------------------------------------------------------


def parse_label_selector(text: str) -> Callable[[Obj], bool]:
    """``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``, ``a notin (x)``."""
    tests: list[Callable[[dict[str, str]], bool]] = []
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current:
        parts.append(current)
    for raw in parts:
        term = raw.strip()
        if not term:
            continue
        if " notin " in term or " in " in term:
            neg = " notin " in term
            key, _, values = term.partition(" notin " if neg else " in ")
            allowed = {v.strip() for v in values.strip().strip("()").split(",")}
            k = key.strip()
            if neg:
                tests.append(lambda labels, k=k, allowed=allowed: labels.get(k) not in allowed)
            else:
                tests.append(lambda labels, k=k, allowed=allowed: labels.get(k) in allowed)
        elif "!=" in term:
            k, v = (s.strip() for s in term.split("!=", 1))
            tests.append(lambda labels, k=k, v=v: labels.get(k) != v)
        elif "=" in term:
            k, v = (s.strip() for s in term.replace("==", "=").split("=", 1))
            tests.append(lambda labels, k=k, v=v: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)

    def match(obj: Obj) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(t(labels) for t in tests)

    return match


def parse_field_selector(text: str) -> Callable[[Obj], bool]:
    tests: list[tuple[list[str], str, bool]] = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        neg = "!=" in term
        key, value = term.replace("!=", "=").replace("==", "=").split("=", 1)
        tests.append((key.split("."), value, neg))

    def get(obj: Any, path: list[str]) -> str:
        for p in path:
            obj = obj.get(p) if isinstance(obj, dict) else None
        return "" if obj is None else str(obj)

    return lambda obj: all((get(obj, p) == v) != neg for p, v, neg in tests)


# -- server-side apply --------------------------------------------------------------------


def fields_of(value: Any) -> Obj:
    """The FieldsV1 set of an applied configuration: maps recurse, lists are atomic."""
    if not isinstance(value, dict):
        return {}
    return {f"f:{k}": fields_of(v) for k, v in value.items()}


def leaf_paths(fields: Obj, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, sub in fields.items():
        path = (*prefix, key[2:])
        if sub:
            yield from leaf_paths(sub, path)
        else:
            yield path


def get_path(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return _MISSING
        obj = obj[p]
    return obj


_MISSING = object()


def remove_path(obj: Obj, path: tuple[str, ...]) -> None:
    parents = [obj]
    for p in path[:-1]:
        nxt = parents[-1].get(p)
        if not isinstance(nxt, dict):
            return
        parents.append(nxt)
    parents[-1].pop(path[-1], None)
    for i in range(len(path) - 1, 0, -1):  # drop maps left empty
        if parents[i] == {}:
            parents[i - 1].pop(path[i - 1], None)


def merge(base: Obj, patch: Obj) -> Obj:
    out = dict(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


IGNORED_APPLY_FIELDS = (("metadata", "resourceVersion"), ("metadata", "managedFields"), ("status",))


def apply(existing: Obj | None, applied: Obj, manager: str, force: bool) -> Obj:
    """Server-side apply, the subset a client deploying manifests meets: the manager owns
    exactly the fields it applied (lists atomic); fields it applied before and omits now
    are removed; a field another applier owns with a different value is a conflict
    unless ``force``, which transfers ownership."""
    config = copy.deepcopy(applied)
    for path in IGNORED_APPLY_FIELDS:
        remove_path(config, path)
    mine = fields_of({k: v for k, v in config.items() if k not in ("apiVersion", "kind")})
    if existing is None:
        obj = config
        entries: list[Obj] = []
    else:
        obj = copy.deepcopy(existing)
        entries = list((obj.get("metadata") or {}).get("managedFields") or [])
        conflicts = []
        new_paths = set(leaf_paths(mine))
        for entry in entries:
            if entry.get("manager") == manager:
                continue
            theirs = set(leaf_paths(entry.get("fieldsV1") or {}))
            for path in sorted(theirs & new_paths):
                if get_path(existing, path) != get_path(config, path):
                    conflicts.append((entry.get("manager"), path))
        if conflicts and not force:
            causes = [
                {"type": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": "." + ".".join(p)}
                for m, p in conflicts
            ]
            raise ApiError(
                409,
                "Conflict",
                f"Apply failed with {len(conflicts)} conflict(s): "
                + "; ".join(f'conflict with "{m}": .{".".join(p)}' for m, p in conflicts),
                {"causes": causes},
            )
        if force:
            for entry in entries:
                if entry.get("manager") != manager and entry.get("fieldsV1"):
                    kept = {p for p in leaf_paths(entry["fieldsV1"]) if p not in new_paths}
                    entry["fieldsV1"] = _fields_from_paths(kept)
        previous = next((e for e in entries if e.get("manager") == manager), None)
        if previous is not None:
            others: set[tuple[str, ...]] = set()
            for entry in entries:
                if entry is not previous:
                    others |= set(leaf_paths(entry.get("fieldsV1") or {}))
            for path in set(leaf_paths(previous.get("fieldsV1") or {})) - new_paths - others:
                if path[:1] != ("metadata",) or path[1:2] in (("labels",), ("annotations",)):
                    remove_path(obj, path)
        obj = merge(obj, config)
    entries = [e for e in entries if e.get("manager") != manager and e.get("fieldsV1")]
    entries.append(
        {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": applied.get("apiVersion", ""),
            "time": now_rfc3339(),
            "fieldsType": "FieldsV1",
            "fieldsV1": mine,
        }
    )
    obj.setdefault("metadata", {})["managedFields"] = entries
    return obj


def _fields_from_paths(paths: set[tuple[str, ...]]) -> Obj:
    out: Obj = {}
    for path in paths:
        node = out
        for p in path:
            node = node.setdefault(f"f:{p}", {})
    return out


# -- the store ------------------------------------------------------------------------------


class Store:
    def __init__(self) -> None:
        self.rv = 1
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.history: list[Event] = []
        self.compacted = 0  # watches from a resourceVersion below this get 410 Gone
        self.watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Event], None]] = []

    # reads

    def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        obj = self.objects.get((kind.plural, namespace if kind.namespaced else "", name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found', {"name": name, "kind": kind.plural})
        return obj

    def find(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        return self.objects.get((kind.plural, namespace if kind.namespaced else "", name))

    def list(self, kind: Kind, namespace: str | None, selector: Callable[[Obj], bool] | None = None) -> list[Obj]:
        out = [
            obj
            for (plural, ns, _), obj in self.objects.items()
            if plural == kind.plural and (namespace is None or ns == namespace)
            and (selector is None or selector(obj))
        ]
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    # writes

    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, kind: Kind, obj: Obj) -> Obj:
        """Create or replace; fills server-owned metadata and records the event."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        ns = (meta.get("namespace") or "default") if kind.namespaced else ""
        if kind.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        key = (kind.plural, ns, meta["name"])
        old = self.objects.get(key)
        obj["apiVersion"] = kind.api_version
        obj["kind"] = kind.kind
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
        else:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            changed = json.dumps(old.get("spec"), sort_keys=True) != json.dumps(obj.get("spec"), sort_keys=True)
            meta["generation"] = old["metadata"].get("generation", 1) + (1 if changed else 0)
            if old == {**obj, "metadata": {**meta, "resourceVersion": old["metadata"]["resourceVersion"]}}:
                return old  # no-op: no new resourceVersion, no event
        meta["resourceVersion"] = str(self._next_rv())
        self.objects[key] = obj
        self._emit(Event(self.rv, "ADDED" if old is None else "MODIFIED", kind, obj))
        return obj

    def delete(self, kind: Kind, namespace: str, name: str) -> Obj:
        key = (kind.plural, namespace if kind.namespaced else "", name)
        obj = self.objects.pop(key, None)
        if obj is None:
            raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found', {"name": name, "kind": kind.plural})
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self._next_rv())
        obj["metadata"]["deletionTimestamp"] = now_rfc3339()
        self._emit(Event(self.rv, "DELETED", kind, obj))
        return obj

    def _emit(self, event: Event) -> None:
        self.history.append(event)
        for w in list(self.watchers):
            if w.kind is event.kind and (w.namespace is None or w.namespace == event.obj["metadata"].get("namespace")) and w.selector(event.obj):
                w.queue.put_nowait(event)
        for listener in list(self.listeners):
            listener(event)

    # watches

    def events_since(self, kind: Kind, rv: int) -> list[Event]:
        if rv < self.compacted:
            raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted})")
        return [e for e in self.history if e.rv > rv and e.kind is kind]

    def compact(self) -> int:
        """Forget history: every resourceVersion before now is too old to watch from."""
        self.compacted = self.rv
        self.history.clear()
        return self.compacted

    def expire_watches(self, bookmark: bool = True) -> None:
        """End every open watch, as an API server does when a watch times out; with
        ``bookmark`` (and the client's allowWatchBookmarks) a BOOKMARK comes first."""
        for w in list(self.watchers):
            w.bookmark_on_expire = bookmark
            w.queue.put_nowait(None)
