"""Fixtures and helpers for the real-cluster layer (``test_cluster*.py``).

A test writes a small project (app, Dockerfile, k8s.yaml, Tiltfile) into its tmp dir, runs
the engine on it against the cluster of ``KUBECONFIG`` in a fresh namespace, and waits for
what a user would see. Failure messages carry the resource's log, read *after* the wait.

The cluster: ``KUBECONFIG``'s current context when it is a local one (kind-*, k3d-*, …) or is
named by ``TILT_LSP_CLUSTER_CONTEXT`` (``scripts/test`` sets it for ``../shared/k8s``);
otherwise the tests skip and say why (fail, with ``TILT_LSP_REQUIRE_CLUSTER=1``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tilt_lsp.engine.engine import Engine
from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.runtime.k8s.images import SHARED_CONTEXTS

REQUIRED = os.environ.get("TILT_LSP_REQUIRE_CLUSTER") == "1"


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(
            f"{reason} (TILT_LSP_REQUIRE_CLUSTER=1: the cluster tests must run)", pytrace=False
        )
    pytest.skip(reason)


def cluster_kubeconfig() -> tuple[str, str]:
    """(kubeconfig path, context) of the cluster the tests may use, or skip/fail."""
    path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    if not path or not os.path.exists(path):
        unavailable(
            "needs a real cluster: set KUBECONFIG (./scripts/test starts ../shared/k8s/cluster "
            "when it exists)"
        )
    from kubernetes import client, config

    try:
        _, current = config.list_kube_config_contexts(config_file=path)
        api = config.new_client_from_config(config_file=path)
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as err:
        unavailable(f"KUBECONFIG={path} names no reachable cluster: {err}")
    name = str(current["name"])
    local = name.startswith(("kind-", "k3d-")) or name in (*SHARED_CONTEXTS, "minikube")
    if not local and name != os.environ.get("TILT_LSP_CLUSTER_CONTEXT", ""):
        unavailable(
            f"context {name!r} is not a local cluster; set TILT_LSP_CLUSTER_CONTEXT={name} to "
            "run the cluster tests against it"
        )
    return path, name


@dataclass
class Project:
    root: Path
    namespace: str
    context: str
    kubeconfig: str
    registry: str
    base: str
    engine: Engine | None = None

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def tiltfile(self, body: str) -> None:
        head = f"allow_k8s_contexts({self.context!r})\n"
        if self.registry:
            head += f"default_registry({self.registry!r})\n"
        self.write("Tiltfile", head + body)

    async def start(self, env: dict[str, str] | None = None) -> Engine:
        full = {**os.environ, "KUBECONFIG": self.kubeconfig, **(env or {})}
        self.engine = Engine(str(self.root / "Tiltfile"), env=full)
        await self.engine.start()
        return self.engine

    def status(self, name: str) -> Any:
        assert self.engine is not None
        return self.engine.statuses[name]

    def log(self, name: str) -> str:
        assert self.engine is not None
        status = self.engine.statuses.get(name)
        return "\n".join(status.log) if status is not None else "(no such resource)"

    async def until(self, name: str, cond: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``cond``; on timeout fail with ``what`` and the resource's log as it is then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = cond()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}\n--- log of {name} ---\n{self.log(name)}"
        )

    def api(self) -> KubeApi:
        return KubeApi({"KUBECONFIG": self.kubeconfig})

    async def kubectl(self, *args: str) -> str:
        """Read what the cluster says, as a user would check it."""
        exe = shutil.which("kubectl") or _kit_kubectl(self.kubeconfig)
        if exe is None:
            raise AssertionError("no kubectl on PATH or next to the kubeconfig")
        proc = await asyncio.create_subprocess_exec(
            exe,
            "--kubeconfig",
            self.kubeconfig,
            "-n",
            self.namespace,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return out.decode()


def _kit_kubectl(kubeconfig: str) -> str | None:
    # ../shared/k8s unpacks kubectl next to its kubeconfigs (K8S_KIT_DIR/root/usr/bin).
    candidate = Path(kubeconfig).parent / "root" / "usr" / "bin" / "kubectl"
    return str(candidate) if candidate.exists() else None


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[Project]:
    kubeconfig, context = cluster_kubeconfig()
    ns = f"tilt-lsp-test-{uuid.uuid4().hex[:8]}"
    proj = Project(
        root=tmp_path,
        namespace=ns,
        context=context,
        kubeconfig=kubeconfig,
        registry=os.environ.get("TILT_LSP_TEST_REGISTRY", ""),
        base=os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "python:3.12-slim"),
    )
    try:
        yield proj
    finally:
        if proj.engine is not None:
            await proj.engine.stop()
        ref = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        await asyncio.to_thread(proj.api().delete, ref)  # the cluster finishes it
        await asyncio.to_thread(remove_built_images, tmp_path)


def remove_built_images(root: Path) -> None:
    """The images tilt-lsp built for this test's workspace (by its labels), nothing else."""
    import docker

    from tilt_lsp.build.labels import WORKSPACE, remove_stale_images, workspace_id

    try:
        api = docker.APIClient(version="auto")
    except Exception:
        return  # no engine: nothing was built
    try:
        remove_stale_images(api, {WORKSPACE: workspace_id(str(root))}, keep=())
    finally:
        api.close()


def busybox_binary(cache: Path) -> Path:
    """A static BusyBox from Debian's busybox-static (``apt-get download``, cached)."""
    target = cache / "busybox"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / "deb"
    work.mkdir(exist_ok=True)
    try:
        subprocess.run(
            ["apt-get", "download", "busybox-static"],
            cwd=work,
            check=True,
            capture_output=True,
            timeout=120,
        )
        deb = next(work.glob("busybox-static_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(work / "x")], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError, StopIteration) as err:
        unavailable(f"cannot get a static BusyBox (apt-get download busybox-static): {err}")
    shutil.copy2(work / "x" / "bin" / "busybox", target)
    return target
