"""The Kubernetes runtime through the engine and the real ``kubernetes`` client, against the
test API server: deploy, pod status, pod stack traces as problems, rollouts with live-update
re-sync, watch expiry, exec live update, restart, port forwards.

Images are not built here (no Docker engine in this layer): ``FakeBuilds`` hands out a new
content tag per build, as the Docker builder does. The Docker build itself is tested by the
Docker room; the real-cluster layer (``test_cluster.py``) builds for real.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.apiserver import FakeCluster
from tests.k8s.runtime_support import APP, Setup, wait_pods, with_restart_process
from tests.support import until
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus


async def test_deploys_with_server_side_apply_built_image_and_labels(setup: Setup) -> None:
    pods = await wait_pods(setup.fake)
    pod = pods[0]
    assert pod["spec"]["containers"][0]["image"] == setup.builds.refs[0]
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "tilt-lsp"
    assert pod["metadata"]["labels"]["dev.tilt-lsp.managed"] == "true"  # the managed mark
    deploy = setup.fake.get("deployments", "web")
    assert deploy is not None
    assert deploy["metadata"]["managedFields"][0]["manager"] == "tilt-lsp"
    assert deploy["metadata"]["labels"]["dev.tilt-lsp/resource"] == "web"
    assert setup.fake.get("services", "web") is not None
    assert setup.status.build is BuildStatus.OK
    assert "applied Deployment/web" in setup.log()
    assert "context 'tilt-lsp-test'" in setup.log()


async def test_a_python_traceback_in_a_pod_log_is_a_problem_on_the_source_line(
    setup: Setup,
) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    traceback = [
        "serving",
        "Traceback (most recent call last):",
        '  File "/app/app.py", line 7, in <module>',
        "    handler()",
        '  File "/app/app.py", line 4, in handler',
        '    raise ValueError("bad input")',
        "ValueError: bad input",
    ]
    setup.fake.log(pod, traceback)
    setup.fake.crash(pod, "app", 1)
    app = str(setup.root / "app.py")

    def problem() -> Any:
        return next((p for p in setup.engine.problems.for_resource("web") if p.path == app), None)

    found = await until(problem, what="a problem on app.py")
    assert found.line == 4 and "ValueError: bad input" in found.message
    await until(lambda: setup.status.runtime is RuntimeStatus.CRASHED, what="crashed status")
    assert "CrashLoopBackOff" in (setup.status.last_error or "")
    assert "exit code 1" in (setup.status.last_error or "")
    assert "[pod/" in setup.log() and "ValueError: bad input" in setup.log()


async def test_a_crash_before_we_attached_is_read_with_previous(setup: Setup) -> None:
    """The log of an instance that died while nobody followed it is still read."""
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    await setup.engine.stop()  # stop following
    setup.fake.log(
        pod,
        [
            "Traceback (most recent call last):",
            '  File "/app/app.py", line 7, in <module>',
            "    handler()",
            "RuntimeError: early",
        ],
    )
    setup.fake.crash(pod, "app", 2, back_off=False)  # crashed and already running again
    engine = Engine(
        str(setup.root / "Tiltfile"), env=setup.engine.env, controllers=setup.engine._controllers
    )
    setup.engine = engine
    await engine.start()
    await until(
        lambda: any(p.line == 7 for p in engine.problems.for_resource("web")),
        what="the early crash's problem",
    )
    assert any(
        r.get("previous") == "true"
        for r in setup.fake.call(lambda: list(setup.fake.cluster.log_requests))
    )


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "CreateContainerConfigError"])
async def test_waiting_reasons_are_a_clear_error(setup: Setup, reason: str) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    setup.fake.wait_container(pod, "app", reason, "some detail")
    await until(lambda: setup.status.runtime is RuntimeStatus.CRASHED, what="failed status")
    assert reason in (setup.status.last_error or "")
    assert pod in (setup.status.last_error or "")


async def test_exec_live_update_copies_files_and_runs_triggered_steps(setup: Setup) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "still bad"))
    (setup.root / "helper.py").write_text("X = 1\n")
    setup.engine.files_changed([str(app), str(setup.root / "helper.py")])
    await until(
        lambda: (
            setup.status.update_count >= 2
            and setup.status.build is BuildStatus.OK
            and "live update of" in setup.log()
        ),
        what="live update",
    )
    root = setup.fake.container_dir(pod, "app")
    await until(lambda: (root / "app" / "ran.txt").exists(), what="run step output")
    assert "still bad" in (root / "app" / "app.py").read_text()
    assert (root / "app" / "helper.py").read_text() == "X = 1\n"
    assert setup.builds.builds == ["example.com/web"], "a live update builds nothing"
    assert setup.fake.pod_names(selector="app=web") == [pod], "and replaces no pod"
    (setup.root / "helper.py").unlink()
    setup.engine.files_changed([str(setup.root / "helper.py")])
    await until(
        lambda: not (root / "app" / "helper.py").exists(),
        what="the deleted file gone in the container",
    )


async def test_a_failing_run_step_is_a_user_error_not_a_rebuild(setup: Setup) -> None:
    tiltfile = setup.root / "Tiltfile"
    tiltfile.write_text(
        tiltfile.read_text().replace("echo ran > ran.txt", "echo broken >&2; exit 3")
    )
    setup.engine.files_changed([str(tiltfile)])
    await until(
        lambda: (
            setup.engine.loads >= 2 and setup.engine.statuses["web"].runtime is RuntimeStatus.READY
        ),
        what="reload",
    )
    await setup.redeployed()
    builds = len(setup.builds.builds)
    app = setup.root / "app.py"
    app.write_text(APP + "\n# edit\n")
    setup.engine.files_changed([str(app)])
    try:
        await until(
            lambda: setup.engine.statuses["web"].build is BuildStatus.ERROR, what="run step failure"
        )
    except AssertionError:
        raise AssertionError("\n".join(setup.engine.statuses["web"].log)) from None
    assert "exit code 3" in (setup.engine.statuses["web"].last_error or "")
    assert "broken" in "\n".join(setup.engine.statuses["web"].log)
    await asyncio.sleep(0.3)
    assert len(setup.builds.builds) == builds, "no rebuild after a failing run step"
    log = "\n".join(setup.engine.statuses["web"].log)
    assert log.count("$ echo broken >&2; exit 3") == 1, (
        "the failing step ran once, not again as a re-sync"
    )


async def test_no_tar_in_the_image_falls_back_to_a_full_deploy_with_advice(setup: Setup) -> None:
    setup.fake.set(no_tar_images={"example.com/web"})
    app = setup.root / "app.py"
    app.write_text(APP + "\n# edit\n")
    setup.engine.files_changed([str(app)])
    await until(lambda: len(setup.builds.builds) == 2, what="the fallback build")
    assert "'tar' is not in the container image" in setup.log()
    await until(
        lambda: (
            setup.status.runtime is RuntimeStatus.READY and setup.status.build is BuildStatus.OK
        ),
        what="redeployed",
    )


async def test_a_fall_back_on_file_rebuilds_and_rolls_out_new_pods(setup: Setup) -> None:
    old = {p["metadata"]["name"] for p in await wait_pods(setup.fake)}
    req = setup.root / "requirements.txt"
    req.write_text("flask\n")
    setup.engine.files_changed([str(req)])
    new = await wait_pods(setup.fake, exclude=old)
    assert new[0]["spec"]["containers"][0]["image"] == setup.builds.refs[-1] != setup.builds.refs[0]
    await until(
        lambda: not set(setup.fake.pod_names(selector="app=web")) & old, what="old pods gone"
    )
    await until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready on the new pod")


async def test_a_replaced_pod_gets_every_live_updated_file_before_it_is_ready(setup: Setup) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "synced"))
    await setup.live_updated(app)
    setup.fake.set(auto_ready=True)
    await asyncio.to_thread(
        setup.fake.call, setup.fake.cluster.delete_pod, "default", pod
    )  # e.g. evicted
    new = (await wait_pods(setup.fake, exclude={pod}))[0]["metadata"]["name"]
    root = setup.fake.container_dir(new, "app")
    await setup.until(
        lambda: (
            (root / "app" / "app.py").exists() and "synced" in (root / "app" / "app.py").read_text()
        ),
        what="re-sync into the new pod",
    )
    await setup.until(
        lambda: setup.status.runtime is RuntimeStatus.READY, what="ready after re-sync"
    )
    assert f"into {new}/app (a new pod" in setup.log()
    assert setup.builds.builds == ["example.com/web"]


async def test_restart_deletes_the_pods_without_building(setup: Setup) -> None:
    old = {p["metadata"]["name"] for p in await wait_pods(setup.fake)}
    setup.engine.restart("web")
    new = await wait_pods(setup.fake, exclude=old)
    assert new and setup.builds.builds == ["example.com/web"]
    assert "restart: deleted pod" in setup.log()
    await until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready again")


async def test_a_watch_that_expires_with_410_resumes_without_losing_events(setup: Setup) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    watches = setup.fake.requests
    cluster = setup.fake.cluster
    setup.fake.while_watches_are_cut(lambda: cluster.crash("default", pod, "app", 137, "OOMKilled"))
    await until(
        lambda: setup.status.runtime is RuntimeStatus.CRASHED, what="the crash seen after relist"
    )
    assert "exit code 137" in (setup.status.last_error or "")
    await until(lambda: "410 Gone" in setup.log(), what="the relist noted")
    later = setup.fake.requests
    relists = [
        r
        for r in later[len(watches) :]
        if r[0] == "GET" and "/pods?" in r[1] and "watch=true" not in r[1]
    ]
    assert relists, "listed again after 410"


async def test_port_forward_reaches_the_pod(setup: Setup) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        conn, _ = server.accept()
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello from the pod")
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    setup.fake.set(port_targets={setup.port: server.getsockname()})

    def fetch() -> bytes:
        with socket.create_connection(("127.0.0.1", setup.port), timeout=5) as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            # Until the answer is complete: whether the end of the pod's side reaches us as an
            # EOF depends on a race in the client library's forwarding thread.
            while not data.endswith(b"hello from the pod") and (chunk := c.recv(1000)):
                data += chunk
            return data

    try:
        answer = await asyncio.to_thread(fetch)
    except OSError as err:
        raise AssertionError(f"{err}; log:\n{setup.log()}") from None
    assert answer.endswith(b"hello from the pod")
    server.close()


async def test_a_context_that_is_not_a_local_cluster_needs_allow_k8s_contexts(setup: Setup) -> None:
    tiltfile = setup.root / "Tiltfile"
    tiltfile.write_text(tiltfile.read_text().replace("allow_k8s_contexts('tilt-lsp-test')", ""))
    k8s = setup.root / "k8s.yaml"
    k8s.write_text(
        k8s.read_text().replace("replicas: 1", "replicas: 2")
    )  # a changed resource: a new controller
    setup.engine.files_changed([str(tiltfile), str(k8s)])
    await until(lambda: setup.engine.statuses["web"].build is BuildStatus.ERROR, what="refused")
    assert "add allow_k8s_contexts('tilt-lsp-test') to the Tiltfile" in (
        setup.engine.statuses["web"].last_error or ""
    )


async def test_restart_without_a_wrapper_deletes_the_pod_and_its_replacement_is_re_synced(
    setup: Setup,
) -> None:
    tiltfile = setup.root / "Tiltfile"
    tiltfile.write_text(with_restart_process(tiltfile.read_text()))
    setup.engine.files_changed([str(tiltfile)])
    await setup.redeployed()
    before = set(setup.fake.pod_names(selector="app=web"))
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "restarted"))
    setup.engine.files_changed([str(app)])
    new = (await wait_pods(setup.fake, exclude=before))[0]["metadata"]["name"]
    root = setup.fake.container_dir(new, "app")
    await until(
        lambda: (
            (root / "app" / "app.py").exists()
            and "restarted" in (root / "app" / "app.py").read_text()
        ),
        what="the replacement re-synced",
    )
    await until(lambda: setup.engine.statuses["web"].runtime is RuntimeStatus.READY, what="ready")
    assert "the image has no restart wrapper; deleting the updated pods" in "\n".join(
        setup.engine.statuses["web"].log
    )


async def test_a_bare_pod_without_images_deploys_and_restart_applies_it_again(
    tmp_path: Path, fake: FakeCluster
) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    (root / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: job, labels: {app: job}}\n"
        "spec: {containers: [{name: main, image: busybox}]}\n"
    )
    (root / "Tiltfile").write_text("allow_k8s_contexts('tilt-lsp-test')\nk8s_yaml('pod.yaml')\n")
    engine = Engine(str(root / "Tiltfile"), env={"KUBECONFIG": str(fake.kubeconfig)})
    await engine.start()
    try:
        await until(
            lambda: engine.statuses["job"].runtime is RuntimeStatus.READY, what="the pod ready"
        )
        first = fake.get("pods", "job")
        assert first is not None
        engine.restart("job")
        await until(
            lambda: (
                (p := fake.get("pods", "job")) is not None
                and p["metadata"]["uid"] != first["metadata"]["uid"]
            ),
            what="the pod applied again",
        )
        await until(
            lambda: engine.statuses["job"].runtime is RuntimeStatus.READY, what="ready again"
        )
    finally:
        await engine.stop()


@pytest.mark.docker
async def test_live_update_goes_through_the_synclet_on_the_pods_node(
    setup: Setup, docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    """A synclet pod on the node (here: a local synclet behind the test server's
    port-forward) updates a container that runs on Docker (here: a real container)."""
    import base64

    from synclet.local import start_local_synclet
    from tilt_lsp.runtime.k8s.api import KubeApi

    # The managed mark an image tilt-lsp built gives its containers: the synclet updates no other.
    managed = {**docker_resources.labels, "dev.tilt-lsp.managed": "true"}
    container = docker_resources.track_container(
        docker_client.containers.run(base_image, ["sleep", "infinity"], detach=True, labels=managed)
    )
    async with start_local_synclet() as (_process, url, token):
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        setup.fake.set(
            port_targets={8790: ("127.0.0.1", port)},
            container_ids={"example.com/web": f"docker://{container.id}"},
        )
        api = KubeApi({"KUBECONFIG": str(setup.fake.kubeconfig)})
        for obj in (
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tilt-lsp-system"}},
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "tilt-lsp-synclet-token", "namespace": "tilt-lsp-system"},
                "data": {"token": base64.b64encode(token.encode()).decode()},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "synclet-abc",
                    "namespace": "tilt-lsp-system",
                    "labels": {"app.kubernetes.io/name": "tilt-lsp-synclet"},
                },
                "spec": {
                    "nodeName": "fake-node",
                    "containers": [{"name": "synclet", "image": "tilt-lsp-synclet:dev"}],
                },
            },
        ):
            await asyncio.to_thread(api.apply, obj)
        before = set(setup.fake.pod_names(selector="app=web"))
        setup.engine.restart("web")  # the new pod's container is the Docker one
        await wait_pods(setup.fake, exclude=before)
        await until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready")

        app = setup.root / "app.py"
        app.write_text(APP.replace("bad input", "via the synclet"))
        setup.engine.files_changed([str(app)])

        def synced() -> bool:
            code, out = container.exec_run(["cat", "/app/app.py"])
            return code == 0 and b"via the synclet" in out

        await until(synced, timeout=20, what="the file in the Docker container")
        await until(lambda: setup.status.build is BuildStatus.OK, what="update done")
        assert "go through synclet pod synclet-abc" in setup.log()
        code, out = container.exec_run(["cat", "/ran.txt"])
        assert code == 0 and out.strip() == b"ran", "the run step ran in the container"


async def test_rebuild_with_an_unchanged_context_still_replaces_the_pods(setup: Setup) -> None:
    old = {p["metadata"]["name"] for p in await wait_pods(setup.fake)}
    setup.engine.rebuild("web")
    new = await wait_pods(setup.fake, exclude=old)
    assert new[0]["spec"]["containers"][0]["image"] == setup.builds.refs[0] == setup.builds.refs[-1]
    assert len(setup.builds.builds) == 2, "built again"
    await until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready")


async def test_a_rollout_is_judged_by_the_new_pods_while_old_ones_terminate(setup: Setup) -> None:
    setup.fake.set(termination_grace=1.5)
    old = {p["metadata"]["name"] for p in await wait_pods(setup.fake)}
    req = setup.root / "requirements.txt"
    req.write_text("flask\n")
    setup.engine.files_changed([str(req)])
    await wait_pods(setup.fake, exclude=old)

    def ready_while_old_terminate() -> bool:
        pods = setup.fake.pods(selector="app=web")
        lingering = [
            p
            for p in pods
            if p["metadata"]["name"] in old and p["metadata"].get("deletionTimestamp")
        ]
        return bool(lingering) and setup.status.runtime is RuntimeStatus.READY

    await until(
        ready_while_old_terminate, what="ready on the new pods while the old one terminates"
    )
    await until(
        lambda: not set(setup.fake.pod_names(selector="app=web")) & old, what="the old pods gone"
    )
    assert setup.status.runtime is RuntimeStatus.READY


async def test_an_outside_rollout_restart_gets_the_live_updated_files_into_the_new_pods(
    setup: Setup,
) -> None:
    """``kubectl rollout restart`` (another field manager changes the template): the new
    ReplicaSet's pods run the image, so they are re-synced before the resource is ready."""
    from tilt_lsp.runtime.k8s.api import KubeApi

    old = {p["metadata"]["name"] for p in await wait_pods(setup.fake)}
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "after rollout"))
    await setup.live_updated(app)

    api = KubeApi({"KUBECONFIG": str(setup.fake.kubeconfig)})
    deploy = setup.fake.get("deployments", "web")
    assert deploy is not None
    restart = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}
        },
    }
    await asyncio.to_thread(
        api._call,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        body=restart,
        content_type="application/merge-patch+json",
    )
    new = (await wait_pods(setup.fake, exclude=old))[0]["metadata"]["name"]
    assert new.rsplit("-", 1)[0] != next(iter(old)).rsplit("-", 1)[0], "a new ReplicaSet"
    root = setup.fake.container_dir(new, "app")
    await until(
        lambda: (
            (root / "app" / "app.py").exists()
            and "after rollout" in (root / "app" / "app.py").read_text()
        ),
        what="re-synced",
    )
    await until(
        lambda: (
            setup.status.runtime is RuntimeStatus.READY
            and not set(setup.fake.pod_names(selector="app=web")) & old
        ),
        what="ready on the new pods",
    )
    assert setup.builds.builds == ["example.com/web"]
