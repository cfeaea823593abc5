"""Errors that name their cause, on the real engine: a host port already in use (compose's own
line, not "Encountered errors while bringing up the project"), and a base image that cannot be
pulled (named, on its FROM line)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker import fastapp
from tests.support import free_port
from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError, ImageBuilder, dockerfile_source, image_mapper
from tilt_lsp.diagnostics.stream import diagnose_lines
from tilt_lsp.engine.status import RuntimeStatus
from tilt_lsp.runtime.composecli import failure_reason
from tilt_lsp.tiltfile.model import ImageBuild

# docker-compose 1.29.2 on Docker 20.10.24, `up -d` with the host port held by a listener.
PORT_TAKEN_V1 = [
    'Creating network "tiltlsp10port_default" with the default driver',
    "Creating tiltlsp10port_web_1 ... ",
    "Host is already in use by another container",
    "Creating tiltlsp10port_web_1 ... error",
    "",
    "ERROR: for tiltlsp10port_web_1  Cannot start service web: driver failed programming "
    "external connectivity on endpoint tiltlsp10port_web_1 (b7f4122047fab3585e05363b0cf21fa99"
    "01f3fdfc11d3134ed1d91634a75b0aa): Error starting userland proxy: listen tcp4 "
    "127.0.0.1:48555: bind: address already in use",
    "",
    "ERROR: for web  Cannot start service web: driver failed programming external "
    "connectivity on endpoint tiltlsp10port_web_1 (b7f4122047fab3585e05363b0cf21fa9901f3fdfc1"
    "1d3134ed1d91634a75b0aa): Error starting userland proxy: listen tcp4 127.0.0.1:48555: "
    "bind: address already in use",
    "Encountered errors while bringing up the project.",
]


def test_failure_reason_is_compose_own_cause_line() -> None:
    reason = failure_reason(PORT_TAKEN_V1)
    assert reason.startswith("Cannot start service web: driver failed programming")
    assert "127.0.0.1:48555: bind: address already in use" in reason
    assert "another process or container holds that host port" in reason
    assert failure_reason(["Pulling web ...", "some other failure"]) == "some other failure"


@pytest.fixture
def held_port() -> Iterator[int]:
    port = free_port()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        yield port


@pytest.mark.docker
async def test_port_in_use_names_the_port(
    tmp_path: Path, base_image: str, docker_client: Any, held_port: int
) -> None:
    root = tmp_path / "ws"
    fastapp.write_app(root)
    project = fastapp.project_name()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(held_port),
        "COMPOSE_PROJECT_NAME": project,
    }
    recorder = fastapp.Recorder()
    engine = fastapp.new_engine(root, env, recorder)
    try:
        await engine.start()
        await fastapp.until(
            lambda: engine.statuses["web"].runtime is RuntimeStatus.CRASHED,
            "the failed up",
            timeout=120,
        )
        error = engine.statuses["web"].last_error or ""
        assert f"127.0.0.1:{held_port}: bind: address already in use" in error, error
        assert "Encountered errors" not in error
        on_tiltfile = await fastapp.until(
            lambda: [
                p
                for p in recorder.current.get(str(root / "Tiltfile"), [])
                if "address already in use" in p.message
            ],
            "the diagnostic on the Tiltfile",
        )
        assert len(on_tiltfile) == 1
    finally:
        await engine.stop()
        fastapp.cleanup(docker_client, root, project)


@pytest.mark.docker
def test_unpullable_base_image_is_named_on_its_from_line(
    tmp_path: Path, docker_client: Any
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    missing = "tilt-lsp-nonexistent-10/base:1.2"
    text = f"ARG BASE={missing}\nFROM ${{BASE}}\nWORKDIR /app\nCOPY . /app\n"
    (root / "Dockerfile").write_text(text)
    image = ImageBuild(
        ref="tilt-lsp-test/unpullable",
        context=str(root),
        dockerfile=str(root / "Dockerfile"),
        dockerfile_contents=None,
        build_args={},
        target="",
        ignore=(),
        only=(),
        entrypoint=None,
        live_update=None,
        location=None,
    )
    builder = ImageBuilder(image, docker_client.api, lbl.managed_labels(str(root)), env={})
    lines: list[str] = []
    with pytest.raises(BuildError) as err:
        builder.build(None, lines.append)
    assert f"the base image {missing} is not available locally" in err.value.reason
    problems = list(diagnose_lines(lines, image_mapper(str(root), image), dockerfile_source(image)))
    assert [(Path(p.path).name, p.line) for p in problems] == [("Dockerfile", 2)]
    assert missing in problems[0].message and problems[0].message.startswith("FROM failed")
