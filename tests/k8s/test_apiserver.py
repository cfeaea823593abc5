"""The test API server speaks the real protocol: checked with the real ``kubernetes`` client
(typed APIs, ``watch.Watch``, ``stream.stream`` for exec, port-forward)."""

from __future__ import annotations

import io
import shutil
import socket
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, stream, watch
from kubernetes.client.rest import ApiException

from tests.k8s.apiserver import FakeCluster

APPLY = "application/apply-patch+yaml"


def deployment(name: str = "web", image: str = "example.com/web:v1", env: str = "1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image, "env": [{"name": "V", "value": env}]}]},
            },
        },
    }


@pytest.fixture
def api(fake: FakeCluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(fake.kubeconfig))


def test_rejects_a_request_without_the_token(fake: FakeCluster) -> None:
    cfg = client.Configuration()
    cfg.host = fake.url
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(client.ApiClient(cfg)).list_namespaced_pod("default")
    assert err.value.status == 401


def test_server_side_apply_creates_a_deployment_its_replicaset_and_pods(fake: FakeCluster, api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    created = apps.patch_namespaced_deployment(
        "web", "default", deployment(), field_manager="tester", force=True, _content_type=APPLY
    )
    assert created.metadata.managed_fields[0].manager == "tester"
    assert created.metadata.managed_fields[0].operation == "Apply"
    assert int(created.metadata.resource_version) > 0
    pods = fake.wait_pods("app=web")
    rs = apps.list_namespaced_replica_set("default", label_selector="app=web").items
    assert len(rs) == 1 and rs[0].metadata.owner_references[0].name == "web"
    pod = client.CoreV1Api(api).read_namespaced_pod(pods[0]["metadata"]["name"], "default")
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].ready
    assert pod.metadata.labels["pod-template-hash"] in rs[0].metadata.name


def test_apply_without_field_manager_is_invalid_and_a_conflict_needs_force(fake: FakeCluster, api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", deployment(), _content_type=APPLY)
    assert err.value.status == 422
    apps.patch_namespaced_deployment("web", "default", deployment(), field_manager="a", _content_type=APPLY)
    changed = deployment(image="example.com/web:v2")
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment("web", "default", changed, field_manager="b", _content_type=APPLY)
    assert err.value.status == 409
    after = apps.patch_namespaced_deployment("web", "default", changed, field_manager="b", force=True, _content_type=APPLY)
    assert after.spec.template.spec.containers[0].image == "example.com/web:v2"
    assert after.metadata.generation == 2


def test_a_template_change_rolls_out_new_pods_and_deletes_the_old(fake: FakeCluster, api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment("web", "default", deployment(), field_manager="t", _content_type=APPLY)
    old = {p["metadata"]["name"] for p in fake.wait_pods("app=web")}
    apps.patch_namespaced_deployment("web", "default", deployment(env="2"), field_manager="t", _content_type=APPLY)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        names = set(fake.pod_names(selector="app=web"))
        if names and not names & old:
            break
        time.sleep(0.02)
    assert names and not names & old
    rs = apps.list_namespaced_replica_set("default").items
    assert sorted(r.spec.replicas for r in rs) == [0, 1]


def test_watch_streams_events_and_answers_410_for_a_compacted_version(fake: FakeCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map("default")
    rv = listed.metadata.resource_version
    for i in range(2):
        core.patch_namespaced_config_map(
            f"c{i}", "default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v"}},
            field_manager="t", _content_type=APPLY,
        )
    core.delete_namespaced_config_map("c0", "default")
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "c0"), ("ADDED", "c1"), ("DELETED", "c0")]
    fake.compact()
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1):
            pass
    assert err.value.status == 410


def test_an_expired_watch_ends_with_a_bookmark(fake: FakeCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_pod("default").metadata.resource_version
    events: list[dict[str, Any]] = []

    def consume() -> None:
        resp = core.list_namespaced_pod("default", watch=True, resource_version=rv, allow_watch_bookmarks=True, _preload_content=False)
        for line in resp:
            events.append(__import__("json").loads(line))

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.2)
    fake.expire_watches()
    t.join(5)
    assert events and events[-1]["type"] == "BOOKMARK"


def start_web(fake: FakeCluster, api: client.ApiClient) -> str:
    client.AppsV1Api(api).patch_namespaced_deployment("web", "default", deployment(), field_manager="t", _content_type=APPLY)
    return str(fake.wait_pods("app=web")[0]["metadata"]["name"])


def test_logs_follow_with_timestamps_and_previous_after_a_crash(fake: FakeCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    pod = start_web(fake, api)
    fake.log(pod, ["first"])
    lines: list[str] = []

    def follow() -> None:
        resp = core.read_namespaced_pod_log(pod, "default", container="app", follow=True, timestamps=True, _preload_content=False)
        for raw in resp:
            lines.extend(raw.decode().splitlines())

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.2)
    fake.log(pod, ["Traceback (most recent call last):", "boom"])
    fake.crash(pod, "app", 1, message="died")
    t.join(5)
    assert not t.is_alive(), "a follow stream ends when the container dies"
    assert [line.split(" ", 1)[1] for line in lines] == ["first", "Traceback (most recent call last):", "boom"]
    assert lines[0][:4].isdigit() and lines[0].split(" ", 1)[0].endswith("Z")
    status = core.read_namespaced_pod(pod, "default").status.container_statuses[0]
    assert status.restart_count == 1
    assert status.state.waiting.reason == "CrashLoopBackOff"
    assert status.last_state.terminated.exit_code == 1
    assert status.last_state.terminated.message == "died"
    fake.start_container(pod, "app")
    prev = core.read_namespaced_pod_log(pod, "default", container="app", previous=True)
    assert prev.splitlines()[-1] == "boom"


def make_tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_exec_extracts_a_tar_and_runs_shell_commands(fake: FakeCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    pod = start_web(fake, api)
    ws = stream.stream(
        core.connect_get_namespaced_pod_exec, pod, "default", container="app",
        command=["tar", "-x", "-f", "-", "-C", "/"], stdin=True, stdout=True, stderr=True, tty=False,
        _preload_content=False, binary=True,
    )
    ws.write_stdin(make_tar({"app/main.py": "print('hi')\n"}))
    ws.close_channel(0)
    ws.run_forever(timeout=5)
    assert ws.returncode == 0
    root = fake.container_dir(pod, "app")
    assert (root / "app" / "main.py").read_text() == "print('hi')\n"
    out = stream.stream(
        core.connect_get_namespaced_pod_exec, pod, "default", container="app",
        command=["sh", "-c", "cat app/main.py; echo oops >&2; exit 3"], stdin=False, stdout=True, stderr=True, tty=False,
        _preload_content=False,
    )
    out.run_forever(timeout=5)
    assert out.read_stdout() == "print('hi')\n"
    assert out.read_stderr() == "oops\n"
    assert out.returncode == 3


def test_port_forward_reaches_the_container_port(fake: FakeCluster, api: client.ApiClient, tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def echo() -> None:
        conn, _ = server.accept()
        conn.sendall(b"hello " + conn.recv(100))
        conn.close()

    threading.Thread(target=echo, daemon=True).start()
    fake.set(port_targets={8080: server.getsockname()})
    pod = start_web(fake, api)
    pf = stream.portforward(client.CoreV1Api(api).connect_get_namespaced_pod_portforward, pod, "default", ports="8080")
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.sendall(b"world")
    data = b""
    while len(data) < 11:
        chunk = sock.recv(100)
        if not chunk:
            break
        data += chunk
    assert data == b"hello world"
    sock.close()
    server.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a self-signed certificate")
def test_the_same_protocol_over_tls_with_the_kubeconfigs_ca(tmp_path: Path) -> None:
    """HTTPS with certificate-authority-data, as real clusters do: REST, watch, logs, exec
    (wss) through tilt-lsp's own API layer."""
    from tilt_lsp.runtime.k8s.api import KubeApi, stream_lines

    fake = FakeCluster(tmp_path, tls=True).start()
    try:
        assert fake.url.startswith("https://")
        api = KubeApi({"KUBECONFIG": str(fake.kubeconfig)})
        api.apply(deployment())
        pod = str(fake.wait_pods("app=web")[0]["metadata"]["name"])
        pods, rv = api.list_pods("default", "app=web")
        assert [p["metadata"]["name"] for p in pods] == [pod]
        fake.log(pod, ["over tls"])
        fake.crash(pod, "app", 1)
        lines = [line.decode() for line in stream_lines(api.logs("default", pod, "app", follow=True, previous=False))]
        assert lines[-1].endswith(" over tls")
        events = api.watch_pods("default", "app=web", rv, timeout_s=1)
        assert any(b'"MODIFIED"' in line for line in stream_lines(events))
        fake.start_container(pod, "app")
        result = api.exec("default", pod, "app", ["tar", "-x", "-f", "-", "-C", "/"], stdin=make_tar({"srv/x.txt": "x"}))
        assert result.exit_code == 0 and (fake.container_dir(pod, "app") / "srv" / "x.txt").read_text() == "x"
    finally:
        fake.stop()
