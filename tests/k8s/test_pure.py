"""The Kubernetes runtime's pure decisions: what is applied, what pods say, how images reach
the cluster, what an exec's status means."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.k8s import objects, pods
from tilt_lsp.runtime.k8s.api import exec_result
from tilt_lsp.runtime.k8s.images import Delivery, DeliveryError, deliver, detect, registry_ref


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "initContainers": [{"name": "migrate", "image": "example.com/web:latest"}],
                    "containers": [
                        {"name": "app", "image": "example.com/web", "imagePullPolicy": "Always"},
                        {"name": "proxy", "image": "envoyproxy/envoy:v1.30"},
                    ],
                },
            },
        },
    }


def test_prepare_labels_objects_and_pod_templates_and_substitutes_built_images() -> None:
    original = deployment()
    [obj] = objects.prepare([original], "web", {"example.com/web": "example.com/web:tilt-abc"})
    assert obj["metadata"]["labels"] == {
        objects.MANAGED_BY: "tilt-lsp",
        objects.RESOURCE_LABEL: "web",
    }
    template = obj["spec"]["template"]
    assert template["metadata"]["labels"]["app"] == "web"
    assert template["metadata"]["labels"][objects.MANAGED_BY] == "tilt-lsp"
    spec = template["spec"]
    assert spec["initContainers"][0]["image"] == "example.com/web:tilt-abc"
    assert spec["containers"][0]["image"] == "example.com/web:tilt-abc"
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert spec["containers"][1]["image"] == "envoyproxy/envoy:v1.30"
    assert original["spec"]["template"]["spec"]["containers"][0]["image"] == "example.com/web"


def test_pod_selector_and_label_values_are_valid() -> None:
    assert (
        objects.pod_selector("web")
        == "app.kubernetes.io/managed-by=tilt-lsp,dev.tilt-lsp/resource=web"
    )
    assert objects.resource_label_value("web:deployment:shop") == "web_deployment_shop"
    assert len(objects.resource_label_value("x" * 100)) == 63


def test_object_paths_and_an_unsupported_kind() -> None:
    assert (
        objects.object_path(deployment(), "default")
        == "/apis/apps/v1/namespaces/shop/deployments/web"
    )
    assert (
        objects.object_path({"kind": "Service", "metadata": {"name": "s"}}, "dev")
        == "/api/v1/namespaces/dev/services/s"
    )
    assert (
        objects.object_path(
            {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "n"}}, "x"
        )
        == "/api/v1/namespaces/n"
    )
    with pytest.raises(objects.UnsupportedKind, match="cannot deploy this kind"):
        objects.object_path({"kind": "Certificate", "metadata": {"name": "c"}}, "default")


def test_apply_order_puts_namespaces_and_config_before_workloads() -> None:
    objs = [deployment(), {"kind": "ConfigMap"}, {"kind": "Namespace"}, {"kind": "Service"}]
    assert [o["kind"] for o in objects.apply_order(objs)] == [
        "Namespace",
        "ConfigMap",
        "Service",
        "Deployment",
    ]


def pod(name: str, hash_: str = "h1", uid: str | None = None, **container: Any) -> dict[str, Any]:
    status = {
        "name": "app",
        "ready": container.pop("ready", True),
        "restartCount": container.pop("restarts", 0),
        **container,
    }
    status.setdefault("state", {"running": {}})
    ready = "True" if status["ready"] else "False"
    return {
        "metadata": {"name": name, "uid": uid or name, "labels": {"pod-template-hash": hash_}},
        "spec": {"containers": [{"name": "app", "image": f"example.com/web:{hash_}"}]},
        "status": {
            "phase": container.pop("phase", "Running"),
            "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [status],
        },
    }


def test_describe_ready_running_and_pending() -> None:
    assert pods.describe([]).runtime is RuntimeStatus.STARTING
    assert pods.describe([pod("a")]).runtime is RuntimeStatus.READY
    assert pods.describe([pod("a", ready=False)]).runtime is RuntimeStatus.RUNNING
    pending = pods.describe(
        [pod("a", ready=False, phase="Pending", state={"waiting": {"reason": "ContainerCreating"}})]
    )
    assert pending.runtime is RuntimeStatus.STARTING and "ContainerCreating" in pending.summary


def test_describe_a_crash_loop_says_where_how_and_how_often() -> None:
    state = pods.describe(
        [
            pod(
                "web-1",
                ready=False,
                restarts=3,
                state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                lastState={
                    "terminated": {
                        "exitCode": 137,
                        "reason": "OOMKilled",
                        "message": "out of memory\n",
                    }
                },
            )
        ]
    )
    assert state.runtime is RuntimeStatus.CRASHED
    assert (
        state.error
        == "pod web-1 container app: CrashLoopBackOff (last run: exit code 137; OOMKilled; out of memory), restarted 3 times"
    )
    assert state.exit_code == 137


@pytest.mark.parametrize(
    "reason", ["ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"]
)
def test_describe_waiting_reasons_come_with_advice(reason: str) -> None:
    state = pods.describe(
        [pod("p", ready=False, phase="Pending", state={"waiting": {"reason": reason}})]
    )
    assert state.runtime is RuntimeStatus.CRASHED
    assert state.error is not None and reason in state.error and pods.ADVICE[reason] in state.error


def test_describe_failed_and_succeeded_pods() -> None:
    failed = pod(
        "job-1",
        phase="Failed",
        ready=False,
        state={"terminated": {"exitCode": 2, "reason": "Error"}},
    )
    assert pods.describe([failed]).error == "pod job-1 failed: exit code 2"
    done = pod("job-1", phase="Succeeded", ready=False, state={"terminated": {"exitCode": 0}})
    assert pods.describe([done]).runtime is RuntimeStatus.EXITED


def test_current_pods_follow_a_rollout() -> None:
    old, new = pod("web-old", "h1"), pod("web-new", "h2")
    order = {"web-old": 0, "web-new": 1}
    assert pods.current_pods([old, new], order) == [new]
    # Listed together, the pods running the ref we deployed win over the order.
    assert pods.current_pods(
        [old, new], {"web-new": 0, "web-old": 1}, refs={"example.com/web:h2"}
    ) == [new]
    gone = {**new, "metadata": {**new["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert pods.current_pods([old, gone], order) == [old]


def test_exec_status_success_exit_code_and_failure_to_start() -> None:
    assert exec_result({"status": "Success"}, b"out", b"").exit_code == 0
    code = exec_result(
        {
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
        },
        b"",
        b"",
    )
    assert code.exit_code == 3 and not code.error
    missing = exec_result(
        {"status": "Failure", "message": 'exec: "tar": executable file not found in $PATH'},
        b"",
        b"",
    )
    assert missing.error and "tar" in missing.error


def node(name: str, runtime: str = "containerd://1.7", provider: str = "") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"providerID": provider},
        "status": {"nodeInfo": {"containerRuntimeVersion": runtime}},
    }


@pytest.mark.parametrize(
    ("context", "nodes", "env", "method", "cluster"),
    [
        ("kind-dev", [node("dev-control-plane")], {}, "kind", "dev"),
        (
            "my-ctx",
            [node("dev-control-plane", provider="kind://docker/dev/dev-control-plane")],
            {},
            "kind",
            "dev",
        ),
        ("k3d-mycluster", [], {}, "k3d", "mycluster"),
        ("docker-desktop", [node("docker-desktop", "docker://24")], {}, "shared", ""),
        ("rancher-desktop", [], {}, "shared", ""),
        (
            "minikube",
            [node("minikube", "docker://24")],
            {"MINIKUBE_ACTIVE_DOCKERD": "minikube"},
            "shared",
            "",
        ),
        ("minikube", [node("minikube", "docker://24")], {}, "registry", ""),
        ("gke_project_zone_prod", [node("gke-1")], {}, "registry", ""),
    ],
)
def test_detect_image_delivery(
    context: str, nodes: list[dict[str, Any]], env: dict[str, str], method: str, cluster: str
) -> None:
    delivery = detect(context, "https://10.0.0.1", nodes, env, "")
    assert delivery.method == method
    assert delivery.cluster == cluster
    assert delivery.describe().startswith("image delivery: ")


def test_registry_delivery_names_images_as_tilt_does() -> None:
    delivery = detect("prod", "https://10.0.0.1", [], {}, "localhost:5000")
    assert delivery == Delivery(
        "registry", "context 'prod' is not a known local cluster", registry="localhost:5000"
    )
    assert "pushed to localhost:5000" in delivery.describe()
    assert (
        registry_ref("example.com/web:tilt-1", "localhost:5000")
        == "localhost:5000/example.com_web:tilt-1"
    )
    assert registry_ref("web:tilt-1", "") == "web:tilt-1"


def test_kind_delivery_runs_kind_load() -> None:
    calls: list[list[str]] = []

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "Image loaded\n", "")

    lines: list[str] = []
    ref = deliver(
        Delivery("kind", "context 'kind-dev'", cluster="dev"), "web:tilt-1", None, lines.append, run
    )
    assert ref == "web:tilt-1"
    assert calls == [["kind", "load", "docker-image", "web:tilt-1", "--name", "dev"]]
    assert "Image loaded" in lines

    def fails(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 1, "", "ERROR: no nodes found for cluster")

    with pytest.raises(DeliveryError, match="exit code 1"):
        deliver(Delivery("kind", "", cluster="dev"), "web:tilt-1", None, lines.append, fails)


def test_registry_delivery_tags_and_pushes() -> None:
    class Docker:
        def __init__(self) -> None:
            self.calls: list[tuple[Any, ...]] = []

        def tag(self, ref: str, repo: str, tag: str) -> None:
            self.calls.append(("tag", ref, repo, tag))

        def push(self, repo: str, tag: str, stream: bool, decode: bool) -> list[dict[str, Any]]:
            self.calls.append(("push", repo, tag))
            return [{"status": "Pushed"}, {"status": "tilt-1: digest: sha256:abc"}]

    docker = Docker()
    ref = deliver(
        Delivery("registry", "", registry="localhost:5000"),
        "example.com/web:tilt-1",
        docker,
        lambda _: None,
    )
    assert ref == "localhost:5000/example.com_web:tilt-1"
    assert docker.calls == [
        ("tag", "example.com/web:tilt-1", "localhost:5000/example.com_web", "tilt-1"),
        ("push", "localhost:5000/example.com_web", "tilt-1"),
    ]


def test_an_unreachable_cluster_is_said_plainly(tmp_path: Any) -> None:
    import yaml

    from tilt_lsp.runtime.k8s.api import KubeApi, KubeError

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "dead",
                "clusters": [{"name": "dead", "cluster": {"server": "http://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
            }
        )
    )
    api = KubeApi({"KUBECONFIG": str(kubeconfig)})
    with pytest.raises(KubeError) as err:
        api.version()
    assert (
        err.value.message
        == "cannot reach the cluster at http://127.0.0.1:1: [Errno 111] Connection refused"
    )


def test_a_missing_kubeconfig_is_said_plainly(tmp_path: Any) -> None:
    from tilt_lsp.runtime.k8s.api import KubeApi, KubeError

    with pytest.raises(KubeError, match="no usable kubeconfig at"):
        KubeApi({"KUBECONFIG": str(tmp_path / "nope")})


# -- what a real cluster said (captured from ../shared/k8s, Kubernetes 1.24) ----------------

DATA = __import__("pathlib").Path(__file__).parent / "data"


def test_an_immutable_job_template_is_its_message_without_the_struct_dump() -> None:
    import json

    from tilt_lsp.runtime.k8s.api import status_message

    status = json.loads((DATA / "job-immutable-422.json").read_text())
    assert "core.PodTemplateSpec{" in status["message"]  # what the API server sent
    message = status_message(status)
    assert message == 'Job.batch "migrate" is invalid: spec.template: field is immutable'
    assert objects.immutable(int(status["code"]), message)
    assert not objects.immutable(
        422, 'Deployment.apps "web" is invalid: spec.replicas: must be >= 0'
    )


def test_an_unschedulable_pod_is_an_error_with_the_schedulers_message() -> None:
    import json

    pod = json.loads((DATA / "pod-unschedulable.json").read_text())
    state = pods.describe([pod])
    assert state.runtime is RuntimeStatus.CRASHED
    assert state.error == (
        "pod nowhere cannot be scheduled (Unschedulable): 0/1 nodes are available: 1 node(s) "
        "didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 "
        "Preemption is not helpful for scheduling."
    )


def test_a_pod_not_yet_scheduled_is_starting() -> None:
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Pending", "conditions": []}}
    assert pods.describe([pod]).runtime is RuntimeStatus.STARTING


def test_pod_templates_carry_the_managed_mark() -> None:
    (prepared,) = objects.prepare([deployment()], "web", {})
    assert prepared["spec"]["template"]["metadata"]["labels"]["dev.tilt-lsp.managed"] == "true"
    bare = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    (prepared,) = objects.prepare([bare], "p", {})
    assert prepared["metadata"]["labels"]["dev.tilt-lsp.managed"] == "true"


def test_the_tar_script_extracts_exactly_the_archive_length() -> None:
    from tilt_lsp.runtime.k8s.liveupdate import tar_script, tar_timeout

    argv = tar_script(10240)
    assert argv[:2] == ["sh", "-c"] and argv[2].endswith("head -c 10240 | tar -x -f - -C /")
    assert tar_timeout(0) == 15 and tar_timeout(10_000_000) == 25  # seconds, not minutes


def test_restart_process_and_restart_container_both_restart_the_app() -> None:
    from tilt_lsp.runtime.k8s.instances import ImageState
    from tilt_lsp.tiltfile.model import ImageBuild, LiveUpdate

    def image(lu: LiveUpdate | None) -> ImageState:
        return ImageState(ImageBuild("web", ".", None, None, {}, "", (), (), None, lu, None))

    assert image(LiveUpdate(restart_process=True)).restarts_process
    assert image(LiveUpdate(restart_container=True)).restarts_process
    assert not image(LiveUpdate()).restarts_process
    assert not image(None).restarts_process
