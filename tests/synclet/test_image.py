"""synclet/Dockerfile builds offline and the image applies an update to a sibling container.

No registry and no PyPI here: the build context gets the host's installed aiohttp, docker and
their dependencies in ``synclet/_vendor`` (the Dockerfile's documented offline path) and the
offline base image as ``BASE_IMAGE``. The host venv and the base image are both CPython 3.11,
so compiled extensions load; on a mismatch aiohttp falls back to pure Python.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from synclet.archive import build_archive
from synclet.protocol import UpdateSpec
from tests.support import free_port as _free_port
from tests.synclet.helpers import Synclet, exec_out, post_update, run_container

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]


def _closure(names: list[str]) -> list[md.Distribution]:
    """The installed distributions ``names`` need at run time (extras and absent ones skipped)."""
    seen: dict[str, md.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # a marker-only dependency (async-timeout on Python < 3.11)
        seen[name] = dist
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.split(r"[\s;<>=!\[~(]", req, maxsplit=1)[0])
    return list(seen.values())


def _vendor(dest: Path) -> None:
    for dist in _closure(["aiohttp", "docker"]):
        for file in dist.files or []:
            parts = Path(str(file)).parts
            if (
                not parts
                or parts[0] == ".."
                or parts[0].endswith((".dist-info", ".data"))
                or "__pycache__" in parts
            ):
                continue
            src = Path(str(dist.locate_file(file)))
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


async def test_dockerfile_builds_offline_and_serves(
    docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx"
    shutil.copytree(REPO / "synclet", ctx / "synclet", ignore=shutil.ignore_patterns("__pycache__"))
    _vendor(ctx / "synclet" / "_vendor")
    image, _ = docker_client.images.build(
        path=str(ctx),
        dockerfile="synclet/Dockerfile",
        buildargs={"BASE_IMAGE": base_image},
        labels=docker_resources.labels,
        rm=True,
        forcerm=True,
    )
    docker_resources.track_image(image)

    token = "image-test-token-" + "t" * 32
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    port = _free_port()
    # The image listens on its loopback (as in a pod, reached by port-forward); on the host's
    # network namespace that loopback is ours, so a free port stands in for the tunnel.
    run_container(
        docker_client,
        docker_resources,
        image.id,
        command=["--listen", f"127.0.0.1:{port}", "--token-file", "/run/secrets/synclet-token"],
        init=False,
        network_mode="host",
        read_only=True,  # as synclet/deploy/daemonset.yaml runs it
        tmpfs={"/tmp": ""},
        volumes={
            "/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
            str(token_file): {"bind": "/run/secrets/synclet-token", "mode": "ro"},
        },
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/v1/healthz", timeout=2) as r:
                assert r.status == 200
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

    target = run_container(docker_client, docker_resources, base_image)
    local = tmp_path / "hello.txt"
    local.write_text("from the synclet image\n")
    reply = await post_update(
        Synclet(url, token),
        target.id,
        UpdateSpec(deletes=(), changed=("/app/hello.txt",), run_steps=(), restart="none"),
        build_archive([(str(local), "/app/hello.txt")]),
    )
    assert reply.names() == ["started", "extracted", "done"], reply.events
    assert exec_out(target, "cat", "/app/hello.txt") == "from the synclet image\n"
