"""synclet/deploy (namespace.yaml, daemonset.yaml) agrees with the image and with how tilt-lsp finds the synclet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from synclet.protocol import HEALTHZ_PATH
from tilt_lsp.runtime.k8s import synclet as k8s_synclet

ROOT = Path(__file__).resolve().parents[2]


def _docs() -> dict[str, Any]:
    deploy = ROOT / "synclet" / "deploy"
    docs = [
        d
        for name in ("namespace.yaml", "daemonset.yaml")
        for d in yaml.safe_load_all((deploy / name).read_text())
    ]
    return {d["kind"]: d for d in docs}


def test_tilt_lsp_finds_the_daemonset_pods_and_token() -> None:
    docs = _docs()
    assert docs["Namespace"]["metadata"]["name"] == k8s_synclet.NAMESPACE
    ds = docs["DaemonSet"]
    assert ds["metadata"]["namespace"] == k8s_synclet.NAMESPACE
    key, value = k8s_synclet.SELECTOR.split("=")
    assert ds["spec"]["template"]["metadata"]["labels"][key] == value
    assert ds["spec"]["selector"]["matchLabels"][key] == value
    pod = ds["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["ports"][0]["containerPort"] == k8s_synclet.PORT
    token_volume = next(v for v in pod["volumes"] if "secret" in v)
    assert token_volume["secret"]["secretName"] == k8s_synclet.SECRET
    assert token_volume["secret"]["items"] == [{"key": "token", "path": "synclet-token"}]
    mount = next(m for m in container["volumeMounts"] if m["name"] == token_volume["name"])
    assert (
        container["args"][container["args"].index("--token-file") + 1]
        == mount["mountPath"] + "/synclet-token"
    )
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    assert f"http://127.0.0.1:{k8s_synclet.PORT}{HEALTHZ_PATH}" in probe


def test_the_synclet_listens_on_the_pods_loopback_only() -> None:
    (container,) = _docs()["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[args.index("--listen") + 1] == f"127.0.0.1:{k8s_synclet.PORT}"
    assert "--allow-remote" not in args
    assert not any("hostPort" in p for p in container["ports"])


def test_daemonset_runs_the_image_the_way_the_dockerfile_does() -> None:
    dockerfile = (ROOT / "synclet" / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    (container,) = _docs()["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == yaml.safe_load(cmd.group(1))
    assert any(m["mountPath"] == "/var/run/docker.sock" for m in container["volumeMounts"])
