"""The Kubernetes part of ``tilt-lsp doctor``: it contacts the API server (a down cluster is
not "fine") and asks what the user may do there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.k8s.cluster_support import cluster_kubeconfig
from tests.support import free_port
from tilt_lsp.runtime.k8s.health import check

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: down
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
users:
- name: someone
  user: {{token: not-a-real-token}}
contexts:
- name: down
  context: {{cluster: down, user: someone}}
current-context: down
"""


def test_an_unreachable_api_server_is_a_problem_found_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.format(port=free_port()))
    started = time.monotonic()
    found = check({"KUBECONFIG": str(path)})
    assert time.monotonic() - started < 15
    assert [f.name for f in found] == ["Kubernetes context", "Kubernetes API server"]
    assert found[0].ok
    server = found[1]
    assert not server.ok
    assert "cannot reach the cluster at https://127.0.0.1:" in server.detail
    assert "start the cluster of context 'down'" in server.fix


def test_a_server_that_is_not_an_api_server_is_named_as_such(tmp_path: Path) -> None:
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = tmp_path / "kubeconfig"
        config = KUBECONFIG.format(port=server.server_address[1])
        path.write_text(config.replace("https://", "http://"))
        found = check({"KUBECONFIG": str(path)})
    finally:
        server.shutdown()
    server_check = found[1]
    assert not server_check.ok
    assert "answered GET /version with 501" in server_check.detail
    assert "not a Kubernetes API server?" in server_check.detail


def test_a_missing_kubeconfig_is_named_as_such(tmp_path: Path) -> None:
    (found,) = check({"KUBECONFIG": str(tmp_path / "nothing-here")})
    assert not found.ok
    assert found.name == "Kubernetes context"
    assert "no usable kubeconfig at" in found.detail
    assert "KUBECONFIG" in found.fix


@pytest.mark.cluster
def test_doctor_on_a_real_cluster_reports_version_and_rights(tmp_path: Path) -> None:
    kubeconfig, _ = cluster_kubeconfig()
    (tmp_path / "k8s.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
    )
    (tmp_path / "Tiltfile").write_text("k8s_yaml('k8s.yaml')\n")
    run = subprocess.run(
        [sys.executable, "-m", "tilt_lsp", "doctor", "--file", str(tmp_path / "Tiltfile")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KUBECONFIG": kubeconfig},
    )
    assert "[ok ] Kubernetes API server:" in run.stdout and "answers: Kubernetes v" in run.stdout, (
        run.stdout
    )
    assert "[ok ] Kubernetes permissions:" in run.stdout, run.stdout
    dev = Path(kubeconfig).parent / "dev.kubeconfig"
    if dev.exists():
        found = check({"KUBECONFIG": str(dev)})
        rights = next(f for f in found if f.name == "Kubernetes permissions")
        assert not rights.ok and "you may not: patch deployments" in rights.detail
