"""The real Docker engine: build and run the compose-python example offline.

The example defaults to a public base image; here it is built on the offline
base (``base_image`` fixture) through its ``BASE_IMAGE`` build arg.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compose-python"
GREETING = "Hello from compose-python!"


def wait_for_http(url: str, timeout: float = 20.0, container: Any = None) -> str:
    """GET ``url`` until it answers 200; return the body."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return str(resp.read().decode())
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
            if container is not None:
                container.reload()
                if container.status == "exited":
                    logs = container.logs().decode(errors="replace")
                    pytest.fail(f"container exited before serving {url}:\n{logs}")
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout} s: {last}")


def test_build_and_run_example_on_offline_base(
    docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    tag = f"tilt-lsp-test/compose-python-web:{uuid.uuid4().hex[:12]}"
    image, _logs = docker_client.images.build(
        path=str(EXAMPLE),
        tag=tag,
        buildargs={"BASE_IMAGE": base_image},
        labels=docker_resources.labels,
        rm=True,
        forcerm=True,
        pull=False,
    )
    docker_resources.track_image(image)
    assert image.labels.get("dev.tilt-lsp.test") == "1"

    container = docker_resources.track_container(
        docker_client.containers.run(
            tag,
            detach=True,
            ports={"8000/tcp": ("127.0.0.1", None)},
            labels=docker_resources.labels,
        )
    )
    container.reload()
    host_port = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
    body = wait_for_http(f"http://127.0.0.1:{host_port}/", container=container)
    assert body.strip() == GREETING

    # The app's files are where the Tiltfile's live_update syncs them.
    code, out = container.exec_run(["sh", "-c", "ls /app && echo $PYTHONUNBUFFERED"])
    assert code == 0, out
    assert b"app.py" in out and out.strip().endswith(b"1")
    # PYTHONUNBUFFERED=1: the startup line is in the logs while the app runs.
    assert b"serving on port 8000" in container.logs()


def compose_command() -> list[str] | None:
    """docker-compose v1 (Debian), else the ``docker compose`` v2 plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_up_example_on_offline_base(
    docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    compose = compose_command()
    if compose is None:
        pytest.fail("neither docker-compose nor `docker compose` is installed (apt docker-compose)")

    suffix = uuid.uuid4().hex[:12]
    project = f"tiltlsptest{suffix}"
    image = f"tilt-lsp-test/compose-python-web:{suffix}"
    labels = "".join(f'\n        {k}: "{v}"' for k, v in docker_resources.labels.items())
    # Our own image name (never clobber the user's compose-python-web), labels
    # for cleanup, and no pull: the base image is local and offline.
    override = tmp_path / "docker-compose.test.yml"
    override.write_text(
        f"""version: "3.8"
services:
  web:
    image: {image}
    build:
      labels:{labels}
    labels:{labels}
networks:
  default:
    labels:{labels}
"""
    )
    port = free_port()
    env = {**os.environ, "BASE_IMAGE": base_image, "WEB_PORT": str(port)}
    base_cmd = [
        *compose,
        "--project-name",
        project,
        "--project-directory",
        str(EXAMPLE),
        "-f",
        str(EXAMPLE / "docker-compose.yml"),
        "-f",
        str(override),
    ]

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base_cmd, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    try:
        up = run("up", "-d", "--build", "--no-color")
        assert up.returncode == 0, f"compose up failed:\n{up.stdout}\n{up.stderr}"
        body = wait_for_http(f"http://127.0.0.1:{port}/")
        assert body.strip() == GREETING
        ps = run("ps", "-q")
        assert ps.returncode == 0 and ps.stdout.strip(), ps.stderr
    finally:
        down = run("down", "--volumes", "--remove-orphans", "--rmi", "all")
        import docker.errors

        with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.APIError):
            docker_client.images.remove(image, force=True)
    assert down.returncode == 0, f"compose down failed:\n{down.stdout}\n{down.stderr}"
    leftovers = docker_client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={project}"}
    )
    assert leftovers == []
