"""Tiltfiles using ext://namespace and ext://uibutton load *and run* through the engine:
namespace's objects are applied to the Kubernetes test API server (the real protocol) and its
pods come up in the injected namespace; uibutton's resource runs with its buttons recorded.
Offline, so the bundled implementations are what runs (the log says so)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.k8s.apiserver import FakeCluster
from tests.support import until
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import RuntimeStatus

UNREACHABLE = "v1alpha1.extension_repo(name='default', url='https://127.0.0.1:9/unreachable')\n"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox}]
"""


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCluster]:
    """The Kubernetes test API server (tests/k8s/apiserver), as tests/k8s uses it."""
    (tmp_path / "cluster").mkdir()
    cluster = FakeCluster(tmp_path / "cluster")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_namespace_extension_deploys_into_its_namespace(
    tmp_path: Path, fake: FakeCluster
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "k8s.yaml").write_text(DEPLOYMENT)
    (root / "Tiltfile").write_text(
        UNREACHABLE + "allow_k8s_contexts('tilt-lsp-test')\n"
        "load('ext://namespace', 'namespace_create', 'namespace_inject')\n"
        "namespace_create('team-a')\n"
        "k8s_yaml(namespace_inject(read_file('k8s.yaml'), 'team-a'))\n"
    )
    engine = Engine(
        str(root / "Tiltfile"),
        env={
            "KUBECONFIG": str(fake.kubeconfig),
            "PATH": "/usr/bin:/bin",
            "TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "cache"),
        },
    )
    try:
        await engine.start(watch=False)
        assert engine.model is not None, engine.tiltfile_error
        assert "using tilt-lsp's bundled implementation" in engine.model.output
        await until(
            lambda: (
                fake.get("namespaces", "team-a", namespace="") or fake.get("namespaces", "team-a")
            ),
            20,
            "the namespace applied",
        )
        pods = await asyncio.to_thread(fake.wait_pods, "app=web", 1, "team-a", True, 20)
        assert pods and pods[0]["metadata"]["namespace"] == "team-a"
        await until(lambda: engine.statuses["web"].runtime is RuntimeStatus.READY, 20, "web ready")
    finally:
        await engine.stop()


async def test_uibutton_extension_runs(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "Tiltfile").write_text(
        UNREACHABLE + "load('ext://uibutton', 'cmd_button', 'location')\n"
        "local_resource('seed', cmd='echo seeded > seeded.txt')\n"
        "cmd_button('reseed', resource='seed', argv=['sh', '-c', 'echo again'])\n"
        "cmd_button('docs', argv=['true'], location=location.NAV)\n"
    )
    engine = Engine(
        str(root / "Tiltfile"),
        env={"PATH": "/usr/bin:/bin", "TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "cache")},
    )
    try:
        await engine.start(watch=False)
        assert engine.model is not None, engine.tiltfile_error
        assert [o["name"] for o in engine.model.ui_objects] == [
            "reseed",
            "btn-reseed",
            "docs",
            "btn-docs",
        ]
        await until(lambda: (root / "seeded.txt").exists(), 20, "the seed resource ran")
    finally:
        await engine.stop()


APPLY_SCRIPT = """\
# The user's apply_cmd: apply k8s.yaml (server-side apply, as kubectl apply --server-side),
# then print what it applied, as k8s_custom_deploy requires.
import os, sys, yaml
from tilt_lsp.runtime.k8s.api import KubeApi

api = KubeApi(os.environ)
docs = [d for d in yaml.safe_load_all(open('k8s.yaml')) if d]
for d in docs:
    api.apply(d)
print('applied with', os.environ.get('DEPLOY_MODE'), file=sys.stderr)
print(yaml.safe_dump_all(docs))
"""


async def test_k8s_custom_deploy_runs_apply_cmd_and_follows_its_pods(
    tmp_path: Path, fake: FakeCluster
) -> None:
    """k8s_custom_deploy_test.go (TestK8sCustomDeployNoLiveUpdate) run for real: apply_cmd
    deploys, tilt-lsp follows the pods of the workload it printed (by its own selector)."""
    import sys

    root = tmp_path / "ws"
    root.mkdir()
    (root / "k8s.yaml").write_text(DEPLOYMENT)
    (root / "apply.py").write_text(APPLY_SCRIPT)
    (root / "Tiltfile").write_text(
        "allow_k8s_contexts('tilt-lsp-test')\n"
        f"k8s_custom_deploy('web', apply_cmd=['{sys.executable}', 'apply.py'],\n"
        "    delete_cmd='true', deps=['k8s.yaml'], apply_env={'DEPLOY_MODE': 'dev'})\n"
    )
    engine = Engine(
        str(root / "Tiltfile"),
        env={
            "KUBECONFIG": str(fake.kubeconfig),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "cache"),
        },
    )
    try:
        await engine.start(watch=False)
        assert engine.model is not None, engine.tiltfile_error
        pods = await asyncio.to_thread(fake.wait_pods, "app=web", 1, "default", True, 20)
        assert pods
        await until(lambda: engine.statuses["web"].runtime is RuntimeStatus.READY, 20, "web ready")
        log = "\n".join(engine.logs("web", 0))
        assert "applied with dev" in log and "k8s_custom_deploy applied web:deployment" in log
    finally:
        await engine.stop()


def test_k8s_custom_deploy_env_names_the_built_images() -> None:
    """Tilt's k8s_custom_deploy contract: TILT_IMAGE_<i> is image_deps[i]'s built ref."""
    from tilt_lsp.runtime.k8s.customdeploy import apply_env, pod_selector
    from tilt_lsp.tiltfile.model import Command, CustomDeploy

    deploy = CustomDeploy(
        Command.from_value("apply"),
        Command.from_value("delete"),
        "/",
        {"A": "1"},
        "/",
        {},
        (),
        ("img-a", "img-b"),
    )
    env = apply_env(deploy, ["img-a:tilt-1", "reg/img-b:tilt-2"], {"PATH": "/bin"})
    assert env["TILT_IMAGE_0"] == "img-a:tilt-1" and env["TILT_IMAGE_1"] == "reg/img-b:tilt-2"
    assert env["TILT_IMAGE_MAP_1"] == "img-b" and env["A"] == "1"
    workload = {"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "x", "t": "y"}}}}
    assert pod_selector(workload) == "app=x,t=y"
