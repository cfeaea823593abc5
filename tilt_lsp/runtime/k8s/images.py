"""How a locally built image reaches the cluster's nodes.

Three ways, as Tilt does it:
- **shared daemon**: the cluster's nodes use the same Docker engine we build with
  (Docker Desktop, Rancher Desktop, OrbStack, colima, ``minikube docker-env``): the built
  tag is already there; nothing to do.
- **kind** (and k3d): the nodes are containers with their own image store:
  ``kind load docker-image REF --name CLUSTER`` (``k3d image import``).
- **registry**: anything else; the image is pushed to ``default_registry()`` (the repository
  renamed as Tilt does: ``registry/example.com_web:tag``), or to its own repository when
  there is no default registry.

``detect`` is pure (context name, server URL, node info, environment → a ``Delivery``);
``deliver`` does it with the docker SDK / CLI.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tilt_lsp.tiltfile.model import image_repository

Method = Literal["shared", "kind", "k3d", "registry"]
SHARED_CONTEXTS = ("docker-desktop", "docker-for-desktop", "rancher-desktop", "orbstack", "colima")


@dataclass(frozen=True, slots=True)
class Delivery:
    method: Method
    why: str  # what we saw, in plain words, for the resource log
    cluster: str = ""  # kind / k3d cluster name
    registry: str = ""

    def describe(self) -> str:
        what = {
            "shared": "the cluster uses the local Docker engine: built images need no transfer",
            "kind": f"kind cluster {self.cluster!r}: images are loaded with 'kind load docker-image'",
            "k3d": f"k3d cluster {self.cluster!r}: images are loaded with 'k3d image import'",
            "registry": (
                f"images are pushed to {self.registry}"
                if self.registry
                else "images are pushed to their own repository (set default_registry() to choose one)"
            ),
        }[self.method]
        return f"image delivery: {what} ({self.why})"


def detect(
    context: str,
    server: str,
    nodes: Sequence[Mapping[str, Any]],
    env: Mapping[str, str],
    default_registry: str,
) -> Delivery:
    name = context.lower()
    node_names = [str((n.get("metadata") or {}).get("name", "")) for n in nodes]
    provider_ids = [str((n.get("spec") or {}).get("providerID", "")) for n in nodes]
    if name.startswith("kind-") or any(p.startswith("kind://") for p in provider_ids):
        cluster = (
            context[5:]
            if name.startswith("kind-")
            else (node_names[0].rsplit("-control-plane", 1)[0] if node_names else "kind")
        )
        return Delivery("kind", f"context {context!r}", cluster=cluster)
    if name.startswith("k3d-"):
        return Delivery("k3d", f"context {context!r}", cluster=context[4:])
    if name in SHARED_CONTEXTS or any(n in SHARED_CONTEXTS for n in node_names):
        return Delivery("shared", f"context {context!r}")
    if name == "minikube" and env.get("MINIKUBE_ACTIVE_DOCKERD"):
        return Delivery("shared", "minikube with 'minikube docker-env' active")
    if (
        server.startswith(("http://127.0.0.1", "https://127.0.0.1", "https://localhost"))
        and default_registry == ""
        and any(
            "docker://"
            in str(
                ((n.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion", "")
            )
            for n in nodes
        )
    ):
        return Delivery("shared", "a local cluster whose nodes run the Docker runtime")
    why = f"context {context!r} is not a known local cluster"
    return Delivery("registry", why, registry=default_registry)


def registry_ref(ref: str, registry: str) -> str:
    """Tilt's renaming: ``example.com/web:tag`` under ``localhost:5000`` is
    ``localhost:5000/example.com_web:tag``."""
    if not registry:
        return ref
    repo = image_repository(ref)
    tag = ref[len(repo) :]
    return f"{registry.rstrip('/')}/{repo.replace('/', '_')}{tag}"


class DeliveryError(Exception):
    pass


Run = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)


def deliver(
    delivery: Delivery, ref: str, docker_api: Any, on_line: Callable[[str], None], run: Run = _run
) -> str:
    """Make ``ref`` visible to the cluster; returns the ref pods must use. Blocking."""
    if delivery.method == "shared":
        return ref
    if delivery.method in ("kind", "k3d"):
        tool = delivery.method
        if shutil.which(tool) is None and run is _run:
            raise DeliveryError(
                f"the '{tool}' command is not installed: it is needed to load images into {tool} cluster {delivery.cluster!r}"
            )
        argv = (
            ["kind", "load", "docker-image", ref, "--name", delivery.cluster]
            if tool == "kind"
            else ["k3d", "image", "import", ref, "--cluster", delivery.cluster]
        )
        on_line("$ " + " ".join(argv))
        done = run(argv)
        for line in (done.stdout + done.stderr).splitlines():
            on_line(line)
        if done.returncode != 0:
            raise DeliveryError(f"{' '.join(argv[:3])} failed with exit code {done.returncode}")
        return ref
    target = registry_ref(ref, delivery.registry)
    repo = image_repository(target)
    tag = target[len(repo) + 1 :] or "latest"
    if target != ref:
        docker_api.tag(ref, repo, tag)
    on_line(f"pushing {target}")
    error = ""
    for message in docker_api.push(repo, tag=tag, stream=True, decode=True):
        if message.get("error"):
            error = str(message["error"])
        elif message.get("status") and not message.get("progressDetail"):
            on_line(str(message["status"]))
    if error:
        raise DeliveryError(f"pushing {target} failed: {error}")
    return target
