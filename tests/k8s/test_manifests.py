"""synclet/deploy: the synclet-as-DaemonSet manifests are consistent, and apply through the
same server-side apply tilt-lsp uses (a real cluster is needed to run them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.k8s.apiserver import FakeCluster
from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.tiltfile.k8s import parse_objects

DEPLOY = Path(__file__).resolve().parents[2] / "synclet" / "deploy"


def load(name: str) -> list[dict[str, Any]]:
    return parse_objects((DEPLOY / name).read_text(), name)


def test_the_daemonset_mounts_the_docker_socket_and_the_token_it_is_told_to_read() -> None:
    [ds] = load("daemonset.yaml")
    [secret] = load("secret.example.yaml")
    spec = ds["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["docker-sock"]["hostPath"]["path"] == "/var/run/docker.sock"
    assert volumes["token"]["secret"]["secretName"] == secret["metadata"]["name"]
    [container] = spec["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    token_file = container["args"][container["args"].index("--token-file") + 1]
    key = next(iter(secret["stringData"]))
    [item] = volumes["token"]["secret"]["items"]
    assert item["key"] == key
    assert token_file == f"{mounts['token']}/{item['path']}"
    assert "--allow-remote" not in container["args"], "the pod's loopback, not the pod network"
    assert container["args"][container["args"].index("--listen") + 1].startswith("127.0.0.1:")
    assert not any("hostPort" in p for p in container["ports"]), "reached by port-forward only"
    assert "httpGet" not in container["readinessProbe"], "nothing listens on the pod IP"
    assert (
        ds["spec"]["selector"]["matchLabels"].items()
        <= ds["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_role_allows_port_forward_and_reading_only_the_token() -> None:
    _account, role, binding = load("rbac.yaml")
    rules = {tuple(r["resources"]): r for r in role["rules"]}
    assert "create" in rules[("pods/portforward",)]["verbs"]
    assert rules[("secrets",)]["resourceNames"] == ["tilt-lsp-synclet-token"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_only_the_tilt_lsp_client_service_account_gets_the_token_and_port_forward() -> None:
    account, _role, binding = load("rbac.yaml")
    assert account["kind"] == "ServiceAccount"
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]


def test_the_daemonset_tolerates_control_plane_taints_not_every_taint() -> None:
    [ds] = load("daemonset.yaml")
    tolerations = ds["spec"]["template"]["spec"]["tolerations"]
    assert all(t.get("key") and t.get("effect") == "NoSchedule" for t in tolerations)
    assert {t["key"] for t in tolerations} <= {
        "node-role.kubernetes.io/control-plane",
        "node-role.kubernetes.io/master",
    }


def test_the_network_policy_isolates_the_synclet_pods() -> None:
    [ds] = load("daemonset.yaml")
    [policy] = load("networkpolicy.yaml")
    assert policy["metadata"]["namespace"] == ds["metadata"]["namespace"]
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []


def test_the_manifests_apply_with_server_side_apply(fake: FakeCluster) -> None:
    api = KubeApi({"KUBECONFIG": str(fake.kubeconfig)})
    for name in ("namespace.yaml", "secret.example.yaml", "daemonset.yaml"):
        for obj in load(name):
            applied = api.apply(obj)
            assert applied["metadata"]["managedFields"][0]["manager"] == "tilt-lsp"
    assert fake.get("daemonsets", "tilt-lsp-synclet", "tilt-lsp-system") is not None
