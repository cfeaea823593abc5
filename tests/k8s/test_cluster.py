"""The real-cluster layer: the same scenarios against a real Kubernetes cluster, with real
image builds (Docker) and real image delivery. Run with ``pytest -m cluster tests/k8s``.

They run when ``KUBECONFIG`` names a reachable cluster whose current context is a local one
(kind-*, k3d-*, docker-desktop, minikube, rancher-desktop, orbstack, colima) or is named by
``TILT_LSP_CLUSTER_CONTEXT`` (so a shell pointed at production never gets test pods), and
skip with the reason otherwise. Everything goes into a fresh namespace that is deleted at
the end. The base image is ``TILT_LSP_TEST_BASE_IMAGE`` (default ``python:3.12-slim``); with
a registry-backed cluster set ``TILT_LSP_TEST_REGISTRY`` (it becomes ``default_registry``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import until
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.runtime.k8s.images import SHARED_CONTEXTS

pytestmark = pytest.mark.cluster

APP = """\
import os, time

def handler():
    if os.path.exists("/app/crash"):
        raise ValueError("bad input")

print("serving", flush=True)
while True:
    handler()
    time.sleep(0.2)
"""

DOCKERFILE = """\
ARG BASE=python:3.12-slim
FROM $BASE
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY . /app
CMD ["python3", "app.py"]
"""

K8S = """\
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: tilt-lsp-test/cluster-web
"""

TILTFILE = """\
{registry}
docker_build('tilt-lsp-test/cluster-web', '.', build_args={{'BASE': '{base}'}}, live_update=[
    fall_back_on(['requirements.txt']),
    sync('.', '/app'),
])
k8s_yaml('k8s.yaml')
k8s_resource('web')
"""


@pytest.fixture
def cluster_context(real_kubeconfig: str) -> str:
    from kubernetes import config

    _, current = config.list_kube_config_contexts(config_file=real_kubeconfig)
    name = str(current["name"])
    allowed = os.environ.get("TILT_LSP_CLUSTER_CONTEXT", "")
    local = name.startswith(("kind-", "k3d-")) or name in (*SHARED_CONTEXTS, "minikube")
    if not local and name != allowed:
        pytest.skip(
            f"context {name!r} is not a local cluster; set TILT_LSP_CLUSTER_CONTEXT={name} to run the cluster tests against it"
        )
    return name


@pytest.fixture
async def engine(
    tmp_path: Path, real_kubeconfig: str, cluster_context: str
) -> AsyncIterator[Engine]:
    ns = f"tilt-lsp-test-{uuid.uuid4().hex[:8]}"
    registry = os.environ.get("TILT_LSP_TEST_REGISTRY", "")
    base = os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "python:3.12-slim")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "k8s.yaml").write_text(K8S.format(ns=ns))
    (tmp_path / "Tiltfile").write_text(
        TILTFILE.format(registry=f"default_registry('{registry}')" if registry else "", base=base)
    )
    env = {**os.environ, "KUBECONFIG": real_kubeconfig}
    eng = Engine(str(tmp_path / "Tiltfile"), env=env)
    eng.test_namespace = ns  # type: ignore[attr-defined]
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()
        api = KubeApi(env)
        await asyncio.to_thread(
            api.delete, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )


def status(engine: Engine) -> Any:
    return engine.statuses["web"]


async def test_cluster_deploy_crash_traceback_live_update_and_restart(
    engine: Engine, tmp_path: Path
) -> None:
    await until(
        lambda: status(engine).runtime is RuntimeStatus.READY,
        180,
        "web ready: " + "\n".join(status(engine).log),
    )
    assert "image delivery:" in "\n".join(status(engine).log)

    # Live update by exec: the crash switch is synced into the running container.
    (tmp_path / "crash").write_text("1")
    engine.files_changed([str(tmp_path / "crash")])
    app = str(tmp_path / "app.py")
    await until(
        lambda: any(p.path == app and p.line == 5 for p in engine.problems.for_resource("web")),
        60,
        "the traceback as a problem on app.py:5",
    )
    await until(lambda: status(engine).runtime is RuntimeStatus.CRASHED, 60, "CrashLoopBackOff")
    assert status(engine).build is BuildStatus.OK

    # Without the switch, restarting the pods (no build) brings the resource back up: the
    # new pods are re-synced from the image plus every live-updated change (the deletion).
    (tmp_path / "crash").unlink()
    engine.files_changed([str(tmp_path / "crash")])
    engine.restart("web")
    await until(lambda: status(engine).runtime is RuntimeStatus.READY, 120, "ready after restart")


async def test_cluster_rollout_on_fall_back_on(engine: Engine, tmp_path: Path) -> None:
    await until(lambda: status(engine).runtime is RuntimeStatus.READY, 180, "web ready")
    (tmp_path / "requirements.txt").write_text("# changed\n")
    engine.files_changed([str(tmp_path / "requirements.txt")])
    await until(
        lambda: status(engine).update_count >= 2 and status(engine).build is BuildStatus.OK,
        180,
        "rebuilt",
    )
    await until(lambda: status(engine).runtime is RuntimeStatus.READY, 180, "ready on the new pods")
