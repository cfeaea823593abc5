"""Live update through the synclet DaemonSet (``synclet/deploy/``), when a node has one.

On nodes whose containers run on Docker, a synclet pod applies an update through the node's
Docker engine. tilt-lsp finds the synclet pod on the updated pod's node (namespace
``tilt-lsp-system``, label ``app.kubernetes.io/name=tilt-lsp-synclet``), reads the token from
the ``tilt-lsp-synclet-token`` Secret, and reaches it through a port-forward on a free local
port; one forward per node, kept while tilt-lsp runs. A node without a ready synclet (or a
user not allowed to see it) is asked again after ``RETRY_S``; meanwhile updates go by exec.

The synclet listens on its pod's loopback only (``127.0.0.1:PORT``, no TLS needed): a
port-forward enters the pod's network namespace and connects to that loopback, so the API
server's port-forward permission (granted to the tilt-lsp-client service account only, see
synclet/deploy/rbac.yaml) is the one way in, and the token the second. The synclet refuses
(403) containers not labelled ``dev.tilt-lsp.managed=true``; such an update goes by exec.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from tilt_lsp.runtime.k8s.api import KubeApi, KubeError
from tilt_lsp.runtime.k8s.pods import pod_ready
from tilt_lsp.runtime.k8s.portforward import PortForwarder
from tilt_lsp.tiltfile.model import PortForward, RunStep

NAMESPACE = "tilt-lsp-system"
SELECTOR = "app.kubernetes.io/name=tilt-lsp-synclet"
SECRET = "tilt-lsp-synclet-token"
PORT = 8790
RETRY_S = 30.0


def docker_container_id(container_id: str) -> str | None:
    """The Docker id of a pod's container (``docker://<id>``), or None on other runtimes."""
    prefix = "docker://"
    return container_id[len(prefix) :] if container_id.startswith(prefix) else None


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    token: str
    pod: str


class NodeSynclets:
    """Blocking (Kubernetes API calls): call ``endpoint_for`` from a thread."""

    def __init__(self, api: KubeApi, on_note: Callable[[str], None]) -> None:
        self.api = api
        self._note = on_note
        self._endpoints: dict[str, tuple[Endpoint, PortForwarder]] = {}
        self._absent_until: dict[str, float] = {}

    def endpoint_for(self, node: str) -> Endpoint | None:
        known = self._endpoints.get(node)
        if known is not None:
            return known[0]
        if time.monotonic() < self._absent_until.get(node, 0.0):
            return None
        try:
            pods, _ = self.api.list_pods(NAMESPACE, SELECTOR)
            pod = next(
                (p for p in pods if (p.get("spec") or {}).get("nodeName") == node and pod_ready(p)),
                None,
            )
            if pod is None:
                self._absent_until[node] = time.monotonic() + RETRY_S
                return None
            token = self._token()
        except KubeError as err:
            self._absent_until[node] = time.monotonic() + RETRY_S
            if err.status not in (403, 404):
                self._note(
                    f"synclet lookup on node {node} failed ({err.message}); updating by exec"
                )
            return None
        name = str(pod["metadata"]["name"])
        forward = PortForwarder(self.api, NAMESPACE, PortForward(0, PORT), lambda: name, self._note)
        forward.start()
        endpoint = Endpoint(f"http://127.0.0.1:{forward.port}", token, name)
        self._endpoints[node] = (endpoint, forward)
        self._note(f"live updates on node {node} go through synclet pod {name}")
        return endpoint

    def forget(self, node: str) -> None:
        """The endpoint failed: look the synclet up again next time."""
        known = self._endpoints.pop(node, None)
        if known is not None:
            known[1].stop()

    def _token(self) -> str:
        secret = self.api.get(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": SECRET, "namespace": NAMESPACE},
            }
        )
        data = (secret or {}).get("data") or {}
        if "token" not in data:
            raise KubeError(404, "NotFound", f"secret {NAMESPACE}/{SECRET} has no 'token'")
        return base64.b64decode(data["token"]).decode().strip()

    def stop(self) -> None:
        for _, forward in self._endpoints.values():
            forward.stop()
        self._endpoints.clear()


async def synclet_update(
    endpoint: Endpoint,
    docker_id: str,
    syncs: list[tuple[str, str]],
    deletes: list[str],
    runs: tuple[RunStep, ...],
    on_line: Callable[[str], None],
) -> tuple[str, str]:
    """One live update through a synclet: ("done" | "user" | "infrastructure", message)."""
    from synclet import protocol as sp
    from tilt_lsp.liveupdate.updater import ArchiveError, SyncletUpdater, make_archive

    try:
        archive = await asyncio.to_thread(make_archive, syncs)  # reads every synced file
    except ArchiveError as err:
        return "infrastructure", f"cannot send the changed files: {err}"
    spec = sp.UpdateSpec(
        deletes=tuple(deletes),
        changed=tuple(c for _, c in syncs) + tuple(deletes),
        run_steps=tuple(sp.RunStep(tuple(step.command.argv)) for step in runs),
        restart="none",
    )

    def on_event(event: sp.Event) -> None:
        if isinstance(event, sp.StepStarted):
            on_line("$ " + " ".join(event.command))
        elif isinstance(event, sp.Output):
            on_line(event.line)

    async def where() -> tuple[str, str]:
        return endpoint.url, endpoint.token

    updater = SyncletUpdater(where)
    try:
        result = await updater.update(docker_id, spec, archive, on_event)
    finally:
        await updater.close()
    return result.outcome, result.message
