"""ext://restart_process on the real Docker engine: a Tiltfile using Tilt's idiom
``load('ext://restart_process', 'docker_build_with_restart')`` live-updates a compose service
and the app process restarts in place: the new code answers from the same container (no image
build, no container replacement). The image has no restart wrapper of its own: tilt-lsp's
builder adds its wrapper because the live update says restart_process (contract 2), in front
of the ``entrypoint=`` the Tiltfile gives (which replaces the image's CMD, as in Tilt)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_compose_loop import serves
from tests.support import free_port
from tilt_lsp.build import labels as lbl
from tilt_lsp.engine.engine import Engine

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compose-python"

TILTFILE = """
load('ext://restart_process', 'docker_build_with_restart')
docker_compose('docker-compose.yml')
docker_build_with_restart(
    'compose-python-web',
    '.',
    entrypoint=['python3', 'app.py'],
    build_args={'BASE_IMAGE': os.getenv('BASE_IMAGE', 'python:3.12-slim')},
    live_update=[sync('.', '/app')],
)
"""

DOCKERFILE = """
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY . /app
EXPOSE 8000
# Not the app: only the Tiltfile's entrypoint= (which replaces it, as in Tilt) serves.
CMD ["python3", "-c", "print('not the app')"]
"""


class Setup:
    def __init__(self, engine: Engine, root: Path, port: int, project: str) -> None:
        self.engine, self.root, self.port, self.project = engine, root, port, project


@pytest.fixture
async def setup(tmp_path: Path, base_image: str, docker_client: Any) -> AsyncIterator[Setup]:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    (root / "Tiltfile").write_text(TILTFILE)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "restart-on-hup.sh").unlink()
    project = f"tiltlsptest11{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
        "TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "ext-cache"),
    }
    engine = Engine(str(root / "Tiltfile"), env=env)
    await engine.start()
    try:
        yield Setup(engine, root, port, project)
    finally:
        await engine.stop()
        api = docker_client.api
        for c in api.containers(
            all=True, filters={"label": [f"com.docker.compose.project={project}"]}
        ):
            with contextlib.suppress(Exception):
                api.remove_container(c["Id"], force=True, v=True)
        lbl.remove_containers(api, lbl.managed_labels(str(root)))
        lbl.remove_stale_images(api, lbl.managed_labels(str(root)), keep=())


def container_ids(docker_client: Any, project: str) -> list[str]:
    return [
        c["Id"]
        for c in docker_client.api.containers(
            filters={"label": [f"com.docker.compose.project={project}"]}
        )
    ]


async def test_restart_process_live_update_restarts_the_process_in_place(
    setup: Setup, docker_client: Any
) -> None:
    engine = setup.engine
    assert engine.model is not None, engine.tiltfile_error
    image = engine.model.image("compose-python-web")
    assert image is not None and image.live_update is not None
    assert image.live_update.restart_process
    assert await engine.wait_settled(180)
    await serves(setup.port, "Hello from compose-python!", timeout=60)
    before = container_ids(docker_client, setup.project)
    assert len(before) == 1
    builds = [line for line in engine.logs("web", 0) if line.startswith("building ")]

    app = setup.root / "app.py"
    app.write_text(app.read_text().replace("Hello from compose-python!", "Hello restarted"))
    engine.files_changed([str(app)], origin="test")
    # GREETING is read when app.py is imported: only a restarted process answers the new text.
    await serves(setup.port, "Hello restarted", timeout=60)
    assert container_ids(docker_client, setup.project) == before
    assert [line for line in engine.logs("web", 0) if line.startswith("building ")] == builds
