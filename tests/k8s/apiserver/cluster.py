"""The test cluster's behaviour: a Deployment controller, a ReplicaSet controller and a fake
kubelet whose containers the test drives (start, ready, crash with an exit code and a
restart count, CrashLoopBackOff, ImagePullBackOff…), with per-instance logs and a directory
on disk per container that stands in for its filesystem.

Runs on the server loop. Tests call it through ``FakeCluster`` (``__init__.py``), which hops
onto that loop.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field

from .store import BY_PLURAL, Event, Obj, Store, now_rfc3339

PODS = BY_PLURAL[("v1", "pods")]
RS = BY_PLURAL[("apps/v1", "replicasets")]
DEPLOY = BY_PLURAL[("apps/v1", "deployments")]
NAMESPACES = BY_PLURAL[("v1", "namespaces")]
NODES = BY_PLURAL[("v1", "nodes")]


def timestamp() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e9):09d}Z"


@dataclass
class LogBook:
    """One container instance's log: lines with their timestamps, and whether it ended."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    ended: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, line: str) -> None:
        self.lines.append((timestamp(), line))
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass
class ContainerState:
    name: str
    image: str
    instances: list[LogBook] = field(default_factory=lambda: [LogBook()])
    fs: str = ""

    @property
    def current(self) -> LogBook:
        return self.instances[-1]


def template_hash(template: Obj) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return "".join(c for c in digest if c in "bcdfghjklmnpqrstvwxz2456789")[:10] or digest[:10]


def suffix(n: int = 5) -> str:
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


class Cluster:
    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.root = root
        self.containers: dict[tuple[str, str, str], ContainerState] = {}  # (ns, pod, container)
        self.auto_ready = True  # new containers run and turn ready by themselves
        self.start_delay = 0.02
        self.no_tar_images: set[str] = set()  # image repositories whose containers lack tar
        # image repositories whose tar reads stdin to its end, as BusyBox tar does
        self.busybox_tar_images: set[str] = set()
        # image repositories without `head` (the bounded tar script exits 96: plain tar then)
        self.no_head_images: set[str] = set()
        # (namespace, pod, container, signal) of every `kill -SIG 1` sent by exec
        self.signals: list[tuple[str, str, str, str]] = []
        # the exec subprotocols offered, best first: ("v4.channel.k8s.io",) is a server
        # before Kubernetes 1.29 (closing stdin is not signalled to the process)
        self.exec_protocols: tuple[str, ...] = ("v5.channel.k8s.io", "v4.channel.k8s.io")
        self.port_targets: dict[int, tuple[str, int]] = {}  # container port -> local address
        self.startup_logs: dict[str, list[str]] = {}  # image repository -> lines each start logs
        self.image_workdirs: dict[str, str] = {}  # image repository -> its WORKDIR (default /)
        self.container_ids: dict[str, str] = {}  # image repository -> containerID to report
        self.termination_grace = 0.0  # seconds a deleted pod stays, terminating
        self.log_requests: list[dict[str, str]] = []
        store.listeners.append(self._on_event)
        for name in ("default", "kube-system"):
            store.put(NAMESPACES, {"metadata": {"name": name}, "status": {"phase": "Active"}})
        store.put(
            NODES,
            {
                "metadata": {
                    "name": "fake-node",
                    "labels": {"kubernetes.io/hostname": "fake-node"},
                },
                "status": {
                    "nodeInfo": {
                        "containerRuntimeVersion": "containerd://1.7.0",
                        "kubeletVersion": "v1.31.0",
                        "architecture": "amd64",
                        "operatingSystem": "linux",
                        "osImage": "tilt-lsp test cluster",
                        "kernelVersion": "",
                        "kubeProxyVersion": "",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                    }
                },
            },
        )

    # -- controllers ------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        loop = asyncio.get_running_loop()
        if event.kind is DEPLOY:
            loop.call_soon(self._reconcile_deployment, event)
        elif event.kind is RS:
            loop.call_soon(self._reconcile_replicaset, event)
        elif event.kind is PODS:
            loop.call_soon(self._on_pod, event)

    def _owned_by(self, obj: Obj, owner: Obj) -> bool:
        return any(
            r.get("uid") == owner["metadata"]["uid"]
            for r in obj["metadata"].get("ownerReferences") or []
        )

    def _owner_ref(self, owner: Obj) -> Obj:
        return {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _reconcile_deployment(self, event: Event) -> None:
        ns = event.obj["metadata"]["namespace"]
        if event.type == "DELETED":
            for rs in self.store.list(RS, ns):
                if self._owned_by(rs, event.obj):
                    self.store.delete(RS, ns, rs["metadata"]["name"])
            return
        deploy = self.store.find(DEPLOY, ns, event.obj["metadata"]["name"])
        if deploy is None:
            return
        spec = deploy.get("spec") or {}
        template = spec.get("template") or {}
        h = template_hash(template)
        name = f"{deploy['metadata']['name']}-{h}"
        replicas = int(spec.get("replicas", 1))
        for rs in self.store.list(RS, ns):
            if (
                self._owned_by(rs, deploy)
                and rs["metadata"]["name"] != name
                and rs["spec"].get("replicas", 0) != 0
            ):
                old = copy.deepcopy(rs)
                old["spec"]["replicas"] = 0
                self.store.put(RS, old)
        current = self.store.find(RS, ns, name)
        if current is None or current["spec"].get("replicas") != replicas:
            tpl = copy.deepcopy(template)
            tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = h
            self.store.put(
                RS,
                {
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "labels": dict(tpl["metadata"]["labels"]),
                        "annotations": {
                            "deployment.kubernetes.io/revision": str(
                                deploy["metadata"]["generation"]
                            )
                        },
                        "ownerReferences": [self._owner_ref(deploy)],
                    },
                    "spec": {"replicas": replicas, "selector": selector, "template": tpl},
                },
            )
        self._deployment_status(deploy)

    def _deployment_status(self, deploy: Obj) -> None:
        ns = deploy["metadata"]["namespace"]
        deploy = self.store.find(DEPLOY, ns, deploy["metadata"]["name"]) or deploy
        h = template_hash((deploy.get("spec") or {}).get("template") or {})
        pods = [p for p in self.store.list(PODS, ns) if self._pod_of_deployment(p, deploy)]
        updated = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == h]
        ready = [p for p in updated if pod_ready(p)]
        status = {
            "observedGeneration": deploy["metadata"]["generation"],
            "replicas": len(pods),
            "updatedReplicas": len(updated),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
        }
        if deploy.get("status") != status:
            self.store.put(DEPLOY, {**deploy, "status": status})

    def _pod_of_deployment(self, pod: Obj, deploy: Obj) -> bool:
        for ref in pod["metadata"].get("ownerReferences") or []:
            rs = self.store.find(RS, pod["metadata"]["namespace"], ref.get("name", ""))
            if rs is not None and self._owned_by(rs, deploy):
                return True
        return False

    def _reconcile_replicaset(self, event: Event) -> None:
        ns = event.obj["metadata"]["namespace"]
        if event.type == "DELETED":
            for pod in self.store.list(PODS, ns):
                if self._owned_by(pod, event.obj):
                    self.delete_pod(ns, pod["metadata"]["name"])
            return
        rs = self.store.find(RS, ns, event.obj["metadata"]["name"])
        if rs is None:
            return
        pods = [
            p
            for p in self.store.list(PODS, ns)
            if self._owned_by(p, rs) and not p["metadata"].get("deletionTimestamp")
        ]
        want = int(rs["spec"].get("replicas", 1))
        for pod in pods[want:]:
            self.delete_pod(ns, pod["metadata"]["name"])
        for _ in range(want - len(pods)):
            tpl = rs["spec"]["template"]
            meta = tpl.get("metadata") or {}
            self.create_pod(
                {
                    "metadata": {
                        "name": f"{rs['metadata']['name']}-{suffix()}",
                        "namespace": ns,
                        "labels": dict(meta.get("labels") or {}),
                        "annotations": dict(meta.get("annotations") or {}),
                        "ownerReferences": [self._owner_ref(rs)],
                    },
                    "spec": copy.deepcopy(tpl.get("spec") or {}),
                }
            )

    def _on_pod(self, event: Event) -> None:
        ns = event.obj["metadata"]["namespace"]
        for ref in event.obj["metadata"].get("ownerReferences") or []:
            rs = self.store.find(RS, ns, ref.get("name", ""))
            if rs is None:
                continue
            if event.type == "DELETED" or event.obj["metadata"].get("deletionTimestamp"):
                self._reconcile_replicaset(Event(self.store.rv, "MODIFIED", RS, rs))
            for dref in rs["metadata"].get("ownerReferences") or []:
                deploy = self.store.find(DEPLOY, ns, dref.get("name", ""))
                if deploy is not None:
                    self._deployment_status(deploy)

    # -- the fake kubelet ----------------------------------------------------------------

    def create_pod(self, pod: Obj) -> Obj:
        pod = copy.deepcopy(pod)
        spec = pod.setdefault("spec", {})
        spec.setdefault("nodeName", "fake-node")
        spec.setdefault("restartPolicy", "Always")
        ns = pod["metadata"].setdefault("namespace", "default")
        name = pod["metadata"]["name"]
        statuses = []
        for c in spec.get("containers") or []:
            state = ContainerState(c["name"], c.get("image", ""))
            state.fs = os.path.join(self.root, ns, name, c["name"])
            os.makedirs(state.fs, exist_ok=True)
            self.containers[(ns, name, c["name"])] = state
            statuses.append(_container_status(c, waiting=("ContainerCreating", "")))
        pod["status"] = {
            "phase": "Pending",
            "hostIP": "10.0.0.1",
            "podIP": f"10.1.{random.randint(0, 255)}.{random.randint(1, 254)}",
            "startTime": now_rfc3339(),
            "conditions": _conditions(False),
            "containerStatuses": statuses,
            "qosClass": "BestEffort",
        }
        created = self.store.put(PODS, pod)
        if self.auto_ready:
            asyncio.get_running_loop().call_later(self.start_delay, self._auto_start, ns, name)
        return created

    def _auto_start(self, ns: str, name: str) -> None:
        pod = self.store.find(PODS, ns, name)
        if pod is None:
            return
        for c in pod["spec"].get("containers") or []:
            self.start_container(ns, name, c["name"], ready=True, first=True)

    def delete_pod(self, ns: str, name: str) -> Obj:
        """With ``termination_grace`` the pod first terminates (deletionTimestamp set,
        containers stopped, still listed) and is removed after the grace period, as a
        kubelet does; without, it goes at once."""
        for (pns, pname, _), state in list(self.containers.items()):
            if pns == ns and pname == name:
                state.current.end()
        pod = self.store.find(PODS, ns, name)
        if (
            self.termination_grace > 0
            and pod is not None
            and not pod["metadata"].get("deletionTimestamp")
        ):
            pod = copy.deepcopy(pod)
            pod["metadata"]["deletionTimestamp"] = now_rfc3339()
            pod["metadata"]["deletionGracePeriodSeconds"] = int(self.termination_grace) or 1
            for c in pod["status"].get("containerStatuses") or []:
                started = ((c.get("state") or {}).get("running") or {}).get(
                    "startedAt", now_rfc3339()
                )
                c["state"] = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": started,
                        "finishedAt": now_rfc3339(),
                    }
                }
                c["ready"] = False
            pod["status"]["conditions"] = _conditions(False)
            updated = self.store.put(PODS, pod)
            asyncio.get_running_loop().call_later(
                self.termination_grace, self._remove_pod, ns, name
            )
            return updated
        if (
            pod is not None
            and pod["metadata"].get("deletionTimestamp")
            and self.termination_grace > 0
        ):
            return pod  # already terminating
        return self._remove_pod(ns, name) or {}

    def _remove_pod(self, ns: str, name: str) -> Obj | None:
        if self.store.find(PODS, ns, name) is None:
            return None
        obj = self.store.delete(PODS, ns, name)
        shutil.rmtree(os.path.join(self.root, ns, name), ignore_errors=True)
        return obj

    def container(self, ns: str, pod: str, container: str | None) -> ContainerState:
        if container is None:
            names = [c for (pns, pname, c) in self.containers if pns == ns and pname == pod]
            if len(names) != 1:
                raise KeyError(f"pod {pod} has containers {names}: name one")
            container = names[0]
        return self.containers[(ns, pod, container)]

    def _update_container(
        self, ns: str, pod: str, container: str, status: Obj, phase: str | None = None
    ) -> None:
        obj = copy.deepcopy(self.store.find(PODS, ns, pod))
        if obj is None:
            raise KeyError(f"no pod {ns}/{pod}")
        statuses = obj["status"]["containerStatuses"]
        for i, s in enumerate(statuses):
            if s["name"] == container:
                statuses[i] = status
        ready = all(s.get("ready") for s in statuses)
        running = all("running" in (s.get("state") or {}) for s in statuses)
        obj["status"]["conditions"] = _conditions(ready)
        if phase is not None:
            obj["status"]["phase"] = phase
        elif running:
            obj["status"]["phase"] = "Running"
        self.store.put(PODS, obj)

    def _status(self, ns: str, pod: str, container: str) -> Obj:
        obj = self.store.find(PODS, ns, pod)
        if obj is None:
            raise KeyError(f"no pod {ns}/{pod}")
        return copy.deepcopy(
            next(s for s in obj["status"]["containerStatuses"] if s["name"] == container)
        )

    def start_container(
        self, ns: str, pod: str, container: str, ready: bool = True, first: bool = False
    ) -> None:
        state = self.containers[(ns, pod, container)]
        if not first:
            state.instances.append(LogBook())
            # A restarted container starts from its image, as a kubelet's does: whatever was
            # copied into the previous instance is gone.
            shutil.rmtree(state.fs, ignore_errors=True)
            os.makedirs(state.fs, exist_ok=True)
        status = self._status(ns, pod, container)
        status["state"] = {"running": {"startedAt": now_rfc3339()}}
        status["ready"] = ready
        status["started"] = True
        status["containerID"] = (
            self.container_ids.get(_repository(state.image)) or f"containerd://{suffix(12)}"
        )
        self._update_container(ns, pod, container, status)
        for line in self.startup_logs.get(_repository(state.image), []):
            state.current.add(line)

    def set_ready(self, ns: str, pod: str, container: str, ready: bool) -> None:
        status = self._status(ns, pod, container)
        status["ready"] = ready
        self._update_container(ns, pod, container, status)

    def crash(
        self,
        ns: str,
        pod: str,
        container: str,
        exit_code: int,
        message: str = "",
        reason: str = "Error",
        back_off: bool = True,
    ) -> None:
        """The container exits: its log ends, restartCount goes up, and it waits in
        CrashLoopBackOff (or runs again at once with ``back_off=False``)."""
        state = self.containers[(ns, pod, container)]
        state.current.end()
        status = self._status(ns, pod, container)
        started = (status.get("state") or {}).get("running", {}).get("startedAt", now_rfc3339())
        terminated: Obj = {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": started,
            "finishedAt": now_rfc3339(),
            "containerID": status.get("containerID", ""),
        }
        if message:
            terminated["message"] = message
        status["lastState"] = {"terminated": terminated}
        status["restartCount"] = int(status.get("restartCount", 0)) + 1
        status["ready"] = False
        status["started"] = False
        if back_off:
            status["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 10s restarting failed container={container} pod={pod}",
                }
            }
            self._update_container(ns, pod, container, status)
        else:
            self._update_container(ns, pod, container, status)
            self.start_container(ns, pod, container)

    def wait(self, ns: str, pod: str, container: str, reason: str, message: str = "") -> None:
        status = self._status(ns, pod, container)
        status["state"] = {"waiting": {"reason": reason, "message": message}}
        status["ready"] = False
        self._update_container(
            ns,
            pod,
            container,
            status,
            phase="Pending" if reason in ("ImagePullBackOff", "ErrImagePull") else None,
        )

    def log(self, ns: str, pod: str, container: str | None, lines: list[str]) -> None:
        book = self.container(ns, pod, container).current
        for line in lines:
            book.add(line)


def _repository(image: str) -> str:
    image = image.split("@", 1)[0]
    slash, colon = image.rfind("/"), image.rfind(":")
    return image[:colon] if colon > slash else image


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _conditions(ready: bool) -> list[Obj]:
    t = now_rfc3339()
    value = "True" if ready else "False"
    return [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
        {"type": "Initialized", "status": "True", "lastTransitionTime": t},
        {"type": "ContainersReady", "status": value, "lastTransitionTime": t},
        {"type": "Ready", "status": value, "lastTransitionTime": t},
    ]


def _container_status(c: Obj, waiting: tuple[str, str]) -> Obj:
    image = c.get("image", "")
    return {
        "name": c["name"],
        "image": image,
        "imageID": f"docker-pullable://{image}",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {
            "waiting": {"reason": waiting[0], **({"message": waiting[1]} if waiting[1] else {})}
        },
    }
