"""The real-cluster layer, part 1: a web app live-updated by exec. Run with
``pytest -m cluster tests/k8s`` (``./scripts/test`` starts ``../shared/k8s/cluster`` for it).

What a real kubelet does that the test API server only imitates: exec over the v4 protocol
(no stdin close: BusyBox tar), containers restarted from their image (synced files gone),
crashes during an exec (137). See ``cluster_support.py`` for how the cluster is chosen.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from tests.k8s.cluster_support import Project, busybox_binary
from tests.support import free_port
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus

pytestmark = pytest.mark.cluster

APP = """\
import http.server, os, runpy, threading, time

def boom():
    raise ValueError("bad input")

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = runpy.run_path("/app/handler.py")["message"]().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("", 8000), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("started with " + runpy.run_path("/app/handler.py")["message"](), flush=True)
while True:
    if os.path.exists("/tmp/crash") or os.path.exists("/app/crash"):
        boom()
    time.sleep(0.2)
"""
BOOM_LINE = 4  # `raise ValueError` above

HANDLER = 'def message():\n    return "{}"\n'

DOCKERFILE = """\
ARG BASE=python:3.12-slim
FROM $BASE
WORKDIR /app
ENV PYTHONUNBUFFERED=1
{extra}
COPY . /app
CMD ["python3", "app.py"]
"""

# BusyBox's tar and head in place of GNU's: BusyBox tar reads stdin to its end.
BUSYBOX = "COPY busybox /bin/busybox\nRUN ln -sf /bin/busybox /bin/tar && ln -sf /bin/busybox /usr/bin/head"

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
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: tilt-lsp-test/cluster-web
        ports: [{{containerPort: 8000}}]
"""

TILTFILE = """\
docker_build('tilt-lsp-test/cluster-web', '.', build_args={{'BASE': '{base}'}}, live_update=[
    fall_back_on(['requirements.txt']),
    sync('.', '/app'),
    {steps}
])
k8s_yaml('k8s.yaml')
k8s_resource('web', port_forwards='{port}:8000')
"""


# restart_container() is refused for Kubernetes (as in Tilt): the restart_process extension.
RESTART_TILTFILE = "load('ext://restart_process', 'docker_build_with_restart')\n" + TILTFILE.replace(
    "docker_build('tilt-lsp-test/cluster-web', '.',",
    "docker_build_with_restart('tilt-lsp-test/cluster-web', '.', entrypoint=['python3', 'app.py'],",
)


def get(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
            return str(resp.read().decode())
    except OSError:
        return ""


async def web(
    project: Project, extra: str = "", steps: str = "", tiltfile: str = TILTFILE
) -> int:
    """Write the web project, start the engine, wait until it serves "v1"; the local port."""
    port = free_port()
    project.write("app.py", APP)
    project.write("handler.py", HANDLER.format("v1"))
    project.write("requirements.txt", "")
    project.write("Dockerfile", DOCKERFILE.format(extra=extra))
    project.write("k8s.yaml", K8S.format(ns=project.namespace))
    project.tiltfile(tiltfile.format(base=project.base, steps=steps, port=port))
    await project.start()
    await project.until(
        "web", lambda: project.status("web").runtime is RuntimeStatus.READY, 240, "web ready"
    )
    await project.until("web", lambda: get(port) == "v1", 30, "v1 through the port-forward")
    return port


async def pods(project: Project) -> list[str]:
    out = await project.kubectl(
        "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"
    )
    return out.split()


async def change(project: Project, name: str, text: str) -> None:
    assert project.engine is not None
    project.engine.files_changed([str(project.write(name, text))])


def problem_on(project: Project, line: int) -> bool:
    assert project.engine is not None
    app = str(project.root / "app.py")
    return any(
        p.path == app and p.line == line for p in project.engine.problems.for_resource("web")
    )


async def test_deploy_port_forward_live_update_crash_kubelet_restart_and_tilt_restart(
    project: Project,
) -> None:
    port = await web(project)
    assert "image delivery:" in project.log("web")
    (pod,) = await pods(project)

    # Live update by exec, in the same pod.
    await change(project, "handler.py", HANDLER.format("v2"))
    await project.until("web", lambda: get(port) == "v2", 30, "v2 after the live update")
    assert await pods(project) == [pod]
    assert "live update of" in project.log("web")

    # A crash: the traceback is a problem on its line.
    result = project.api().exec(project.namespace, pod, "app", ["sh", "-c", "touch /tmp/crash"])
    assert result.exit_code == 0, result
    await project.until("web", lambda: problem_on(project, BOOM_LINE), 60, "problem on app.py:4")

    # The kubelet restarts the container from its image: it is re-synced, and still serves
    # the live-updated code, before the resource is ready again.
    await project.until(
        "web",
        lambda: (
            "re-syncing" in project.log("web")
            and project.status("web").runtime is RuntimeStatus.READY
        ),
        90,
        "re-sync into the restarted container, then ready",
    )
    assert get(port) == "v2", project.log("web")
    restarts = await project.kubectl(
        "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"
    )
    assert int(restarts) >= 1

    # tilt.restart: a new pod, re-synced too.
    assert project.engine is not None
    project.engine.restart("web")
    await project.until(
        "web",
        lambda: "restart: deleted pod" in project.log("web"),
        30,
        "the pod deleted",
    )
    await project.until(
        "web",
        lambda: project.status("web").runtime is RuntimeStatus.READY and get(port) == "v2",
        120,
        "ready with v2 in the new pod",
    )
    assert [p for p in await pods(project) if p != pod], "a new pod"  # the old one may linger


async def test_busybox_tar_live_update_ends_in_seconds(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = Path(tmp_path_factory.getbasetemp()) / "busybox-static"
    (project.root / "busybox").write_bytes(busybox_binary(cache).read_bytes())
    (project.root / "busybox").chmod(0o755)
    port = await web(project, extra=BUSYBOX)
    (pod,) = await pods(project)
    tar = project.api().exec(project.namespace, pod, "app", ["tar", "--help"])
    assert b"BusyBox" in tar.stdout + tar.stderr, tar
    started = time.monotonic()
    await change(project, "handler.py", HANDLER.format("v2"))
    await project.until("web", lambda: get(port) == "v2", 30, "v2 after the live update")
    took = time.monotonic() - started
    assert await pods(project) == [pod]
    assert project.status("web").build is BuildStatus.OK
    assert "full build" not in project.log("web")
    assert took < 60, f"the live update took {took:.1f} s"  # a hang would be 300 s


async def test_crash_during_live_update_is_reported_not_built_into_the_image(
    project: Project,
) -> None:
    # The run step is still running when the synced crash switch kills the app (exit 137).
    port = await web(project, steps="run('sleep 5', trigger=['crash']),")
    image = await project.kubectl("get", "deploy", "web", "-o", "jsonpath={..containers[0].image}")
    await change(project, "crash", "1")
    await project.until(
        "web",
        lambda: "again in the retry" in (project.status("web").last_error or ""),
        90,
        "the crash during the live update reported",
    )
    assert "retrying once in the new container" in project.log("web")
    assert project.status("web").build is BuildStatus.ERROR
    await project.until("web", lambda: problem_on(project, BOOM_LINE), 30, "problem on app.py:4")
    # Nothing was built: the image pods run is the one from before the change.
    after = await project.kubectl("get", "deploy", "web", "-o", "jsonpath={..containers[0].image}")
    assert after == image

    # The fix (the switch removed) brings it back, from the workspace as it is.
    assert project.engine is not None
    (project.root / "crash").unlink()
    project.engine.files_changed([str(project.root / "crash")])
    await project.until(
        "web",
        lambda: (
            project.status("web").runtime is RuntimeStatus.READY
            and project.status("web").build is BuildStatus.OK
            and get(port) == "v1"
        ),
        180,
        "ready again after the fix",
    )


async def test_restart_process_restarts_the_app_under_the_restart_wrapper(
    project: Project,
) -> None:
    """The image builder puts the restart wrapper in front of the app (PID 1) for
    docker_build_with_restart; the live update signals it: same pod, same container."""
    port = await web(project, tiltfile=RESTART_TILTFILE)
    (pod,) = await pods(project)
    await change(project, "handler.py", HANDLER.format("v2"))
    await project.until(
        "web",
        lambda: "started with v2" in project.log("web"),
        60,
        "the app restarted in place with v2",
    )
    assert "(SIGHUP to PID 1)" in project.log("web")
    assert await pods(project) == [pod]

    # The app crashes: the wrapper keeps the container, the wrapper's line says it.
    await change(project, "crash", "1")
    await project.until(
        "web",
        lambda: "the app exited with code 1" in (project.status("web").last_error or ""),
        60,
        "the app's exit reported",
    )
    await project.until("web", lambda: problem_on(project, BOOM_LINE), 30, "problem on app.py:4")
    # The fix: the live update removes the switch and restarts the app.
    assert project.engine is not None
    (project.root / "crash").unlink()
    project.engine.files_changed([str(project.root / "crash")])
    await project.until(
        "web",
        lambda: project.status("web").runtime is RuntimeStatus.READY and get(port) == "v2",
        60,
        "ready again in the same pod",
    )
    assert await pods(project) == [pod]
    restarts = await project.kubectl(
        "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}"
    )
    assert restarts.strip() == "0"
