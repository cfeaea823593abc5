"""The Kubernetes runtime against the test API server: the project every runtime test starts
from (a Deployment + Service with a live-updated image), its engine, and helpers. The
``setup`` fixture is registered in ``conftest.py``.

Images are not built here (no Docker engine in this layer): ``FakeBuilds`` hands out a new
content tag per build, as the Docker builder does.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.apiserver import FakeCluster
from tests.support import free_port, until
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import NullListener
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.runtime.controller import Controller, Dispatch
from tilt_lsp.runtime.k8s.controller import K8sController
from tilt_lsp.runtime.k8s.images import Delivery
from tilt_lsp.tiltfile.model import ImageBuild, Resource, ResourceKind

APP = """\
import time

def handler():
    raise ValueError("bad input")

print("serving", flush=True)
handler()
"""

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY . /app
CMD ["python", "app.py"]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: example.com/web
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

TILTFILE = """\
allow_k8s_contexts('tilt-lsp-test')
docker_build('example.com/web', '.', live_update=[
    fall_back_on(['requirements.txt']),
    sync('.', '/app'),
    run('echo ran > ran.txt', trigger=['app.py']),
])
k8s_yaml('k8s.yaml')
k8s_resource('web', port_forwards=[{port}])
"""


def with_restart_process(tiltfile: str) -> str:
    """The Tiltfile with the restart_process extension's docker_build_with_restart (the way
    to restart a Kubernetes app after a live update; restart_container() is refused there)."""
    return "load('ext://restart_process', 'docker_build_with_restart')\n" + tiltfile.replace(
        "docker_build('example.com/web', '.', live_update=[",
        "docker_build_with_restart('example.com/web', '.', entrypoint=['python3', 'app.py'], "
        "live_update=[",
    )


class FakeBuilds:
    """A new content tag per build, like the Docker builder; no delivery needed."""

    def __init__(self) -> None:
        self.builds: list[str] = []
        self.refs: list[str] = []

    def build(
        self,
        image: ImageBuild,
        changed: frozenset[str] | None,
        force: bool,
        on_line: Callable[[str], None],
    ) -> str:
        self.builds.append(image.ref)
        digest = hashlib.sha256()
        for path in sorted(Path(image.context).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        ref = f"{image.repository}:tilt-{digest.hexdigest()[:12]}"
        self.refs.append(ref)
        on_line(f"building {ref}")
        return ref

    def deliver(self, delivery: Delivery, ref: str, on_line: Callable[[str], None]) -> str:
        return ref

    def restart_signal(self, ref: str) -> str:
        return self.signal  # the restart-signal label of the "built" image

    signal = ""


class Recorder(NullListener):
    pass


async def wait_pods(
    fake: FakeCluster, count: int = 1, exclude: set[str] | None = None, timeout: float = 10
) -> list[dict[str, Any]]:
    return await asyncio.to_thread(
        fake.wait_pods, "app=web", count, "default", True, timeout, exclude
    )


class Setup:
    def __init__(
        self, root: Path, fake: FakeCluster, engine: Engine, builds: FakeBuilds, port: int
    ) -> None:
        self.root = root
        self.fake = fake
        self.engine = engine
        self.builds = builds
        self.port = port

    @property
    def status(self) -> Any:
        return self.engine.statuses["web"]

    def log(self) -> str:
        return "\n".join(self.status.log)

    async def redeployed(self) -> None:
        """After a Tiltfile change: the reloaded resource built again and its new pods ready."""
        await until(lambda: len(self.builds.builds) >= 2, what="the reloaded resource's deploy")
        await until(
            lambda: (
                all(
                    p["spec"]["containers"][0]["image"] == self.builds.refs[-1]
                    for p in self.fake.pods(selector="app=web")
                )
                and self.status.runtime is RuntimeStatus.READY
            ),
            what="the new pods ready",
        )

    async def until(self, cond: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
        """``until``, failing with the resource's log as it is at the timeout. The bound is
        generous: the machine running the tests may be busy with other work."""
        try:
            return await until(cond, timeout, what)
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- log of web ---\n{self.log()}") from None

    async def live_updated(self, path: Path) -> None:
        """Report ``path`` changed and wait for its live update to succeed. (The build status
        turns BUILDING before the "live update of" line, so a new such line then OK is this
        update's end, not an earlier one's.)"""
        before = self.log().count("live update of")
        self.engine.files_changed([str(path)])
        await until(
            lambda: (
                self.log().count("live update of") > before and self.status.build is BuildStatus.OK
            ),
            what="live update",
        )


@pytest.fixture
async def setup(tmp_path: Path, fake: FakeCluster) -> AsyncIterator[Setup]:
    root = tmp_path / "ws"
    root.mkdir()
    port = free_port()
    fake.set(image_workdirs={"example.com/web": "/app"})
    (root / "Tiltfile").write_text(TILTFILE.format(port=port))
    (root / "k8s.yaml").write_text(DEPLOYMENT)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "app.py").write_text(APP)
    (root / "requirements.txt").write_text("")
    builds = FakeBuilds()
    engine: Engine

    def controllers(resource: Resource, dispatch: Dispatch) -> Controller:
        assert resource.kind is ResourceKind.K8S and engine.model is not None
        images = [i for ref in resource.image_refs if (i := engine.model.image(ref)) is not None]
        return K8sController(
            resource,
            images,
            dispatch,
            engine.root,
            engine.env,
            allowed_contexts=engine.model.allowed_k8s_contexts,
            builds=builds,
        )

    engine = Engine(
        str(root / "Tiltfile"),
        listener=Recorder(),
        env={"KUBECONFIG": str(fake.kubeconfig), "PATH": "/usr/bin:/bin"},
        controllers=controllers,
    )
    await engine.start()
    s = Setup(root, fake, engine, builds, port)
    try:
        await until(lambda: s.status.runtime is RuntimeStatus.READY, what="web ready")
    except AssertionError:
        await engine.stop()
        raise AssertionError("web never became ready; its log:\n" + s.log()) from None
    try:
        yield s
    finally:
        await engine.stop()
