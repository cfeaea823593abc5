"""End-to-end: the real language server over stdio (pytest-lsp, as VS Code and as Neovim),
a Tiltfile with ``k8s_yaml`` + ``k8s_resource``, and ``KUBECONFIG`` (in the server process's
environment) pointing at the test API server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.k8s.apiserver import FakeCluster
from tests.lsp.conftest import CLIENTS, diagnostics, resources, save, wait_for, wait_resource

# The server process is configured before any fixture runs: its kubeconfig has a fixed
# path for this test process, written by the ``cluster`` fixture before the server starts.
CLUSTER_DIR = Path(tempfile.gettempdir()) / f"tilt-lsp-k8s-lsp-{os.getpid()}"
CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
KUBECONFIG = CLUSTER_DIR / "kubeconfig"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: IMAGE
"""

APP = """\
import time


def handler():
    raise ValueError("bad input")


print("serving", flush=True)
handler()
"""


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeCluster]:
    docker = request.function.__name__.endswith("_docker")
    # The context name decides image delivery: the test cluster "sees" the local engine's
    # images (its kubelet runs nothing), as Docker Desktop's does.
    fake = FakeCluster(CLUSTER_DIR, context="docker-desktop" if docker else "tilt-lsp-test")
    fake.start()
    assert fake.kubeconfig == KUBECONFIG
    fake.set(image_workdirs={"example.com/web": "/app"})
    try:
        yield fake
    finally:
        fake.stop()
        shutil.rmtree(CLUSTER_DIR / "containers", ignore_errors=True)


@pytest.fixture
def workspace(tmp_path: Path, request: pytest.FixtureRequest, cluster: FakeCluster) -> Iterator[Path]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text(APP)
    if request.function.__name__.endswith("_docker"):
        base = request.getfixturevalue("base_image")
        (root / "Dockerfile").write_text(
            'ARG BASE=python:3.12-slim\nFROM $BASE\nWORKDIR /app\nCOPY . /app\nCMD ["python3", "app.py"]\n'
        )
        (root / "k8s.yaml").write_text(DEPLOYMENT.replace("IMAGE", "example.com/web"))
        (root / "Tiltfile").write_text(
            f"docker_build('example.com/web', '.', build_args={{'BASE': '{base}'}},\n"
            "             live_update=[sync('.', '/app')])\n"
            "k8s_yaml('k8s.yaml')\n"
            "k8s_resource('web')\n"
        )
    else:
        (root / "k8s.yaml").write_text(DEPLOYMENT.replace("IMAGE", "python:3.12-slim"))
        (root / "Tiltfile").write_text("allow_k8s_contexts('tilt-lsp-test')\nk8s_yaml('k8s.yaml')\nk8s_resource('web')\n")
    yield root
    if request.function.__name__.endswith("_docker"):
        _remove_built_images(request, root)


def _remove_built_images(request: pytest.FixtureRequest, root: Path) -> None:
    """Only the images this test's workspace built (by tilt-lsp's workspace label)."""
    from tilt_lsp.build.labels import WORKSPACE, workspace_id

    client = request.getfixturevalue("docker_client")
    for image in client.images.list(filters={"label": f"{WORKSPACE}={workspace_id(str(root))}"}):
        for tag in image.tags or [image.id]:
            with contextlib.suppress(Exception):
                client.images.remove(tag, force=True)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "tilt_lsp", "serve"],
        server_env={**os.environ, "KUBECONFIG": str(KUBECONFIG), "PYTHONUNBUFFERED": "1"},
    ),
    params=CLIENTS,
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path) -> AsyncIterator[None]:
    uri = workspace.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
            initialization_options={"watch": False},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def pods(cluster: FakeCluster, exclude: set[str] | None = None) -> list[dict[str, Any]]:
    return await asyncio.to_thread(cluster.wait_pods, "app=web", 1, "default", True, 15, exclude)


async def test_a_crashing_pod_is_reported_and_restart_replaces_it(client: LanguageClient, workspace: Path, cluster: FakeCluster) -> None:
    await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "ready", "web ready")
    pod = (await pods(cluster))[0]["metadata"]["name"]
    cluster.crash(pod, "app", 1, message="boom")
    crashed = await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "crashed", "web crashed")
    assert "CrashLoopBackOff" in crashed["lastError"] and "exit code 1" in crashed["lastError"]
    tiltfile = workspace / "Tiltfile"
    found = await wait_for(lambda: [d for d in diagnostics(client, tiltfile) if "crashed" in d.message], what="the Tiltfile diagnostic")
    assert found[0].range.start.line == 2  # k8s_resource('web')

    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="tilt.restart", arguments=["web"]))
    await pods(cluster, exclude={pod})
    await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "ready", "ready after restart")
    await wait_for(lambda: not [d for d in diagnostics(client, tiltfile) if "crashed" in d.message], what="the crash diagnostic cleared")


@pytest.mark.docker
async def test_a_pod_traceback_is_a_diagnostic_and_a_saved_fix_live_updates_docker(client: LanguageClient, workspace: Path, cluster: FakeCluster) -> None:
    await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "ready", "web built and ready", timeout=60)
    pod = (await pods(cluster))[0]["metadata"]["name"]
    cluster.log(pod, [
        "serving",
        "Traceback (most recent call last):",
        '  File "/app/app.py", line 9, in <module>',
        "    handler()",
        '  File "/app/app.py", line 5, in handler',
        '    raise ValueError("bad input")',
        "ValueError: bad input",
    ])
    cluster.crash(pod, "app", 1)
    app = workspace / "app.py"
    found = await wait_for(lambda: [d for d in diagnostics(client, app) if "bad input" in d.message], what="a diagnostic on app.py")
    assert found[0].range.start.line == 4  # line 5, 0-based
    cluster.start_container(pod, "app")  # the kubelet restarts it after the back-off

    await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "ready", "running again")
    save(client, app, APP.replace('raise ValueError("bad input")', "return 1"))
    root = cluster.container_dir(pod, "app")
    await wait_for(lambda: (root / "app" / "app.py").exists() and "return 1" in (root / "app" / "app.py").read_text(), what="the fix synced into the container")
    await wait_for(lambda: not [d for d in diagnostics(client, app) if "bad input" in d.message], what="the diagnostic cleared")
    # The fix's problems clear as the update ends; its "ok" follows in the same update.
    await wait_resource(client, "web", lambda r: r["buildStatus"] == "ok", "the live update done")
    status = (await resources(client))["web"]
    assert any("live update of" in line for line in status["logTail"])
