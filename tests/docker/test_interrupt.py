"""Ctrl-C is obeyed: ``tilt-lsp up`` and ``check`` (real processes, the real engine)
interrupted during a slow ``RUN`` step cancel the build, say so, and end within 2 s with
nothing left running; a second Ctrl-C stops waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.docker import fastapp
from tests.support import free_port

pytestmark = pytest.mark.docker


def _start(
    command: str, root: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", command, "--file", str(root / "Tiltfile")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def _marked(docker_client: Any, marker: str, running: bool = False) -> list[Any]:
    """Containers whose command carries ``marker``: the build's RUN step."""
    found = []
    for c in docker_client.api.containers(all=not running):
        if marker in str(c.get("Command", "")):
            found.append(c)
    return found


@pytest.mark.parametrize(("command", "presses"), [("up", 1), ("up", 2), ("check", 1)])
def test_ctrl_c_during_a_slow_build_cancels_it(
    tmp_path: Path, base_image: str, docker_client: Any, command: str, presses: int
) -> None:
    marker = f"tiltlsp10-{uuid.uuid4().hex[:10]}"
    root = tmp_path / "ws"
    fastapp.write_app(
        root,
        fastapp.DOCKERFILE.replace(
            "COPY src /app/src\n", f"COPY src /app/src\nRUN sleep 25 # {marker}\n"
        ),
    )
    project = fastapp.project_name()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(free_port()),
        "COMPOSE_PROJECT_NAME": project,
    }
    proc, lines = _start(command, root, env)
    try:
        # The step's container runs (check prints no build log: ask Docker).
        deadline = time.monotonic() + 90
        while not _marked(docker_client, marker, running=True):
            assert proc.poll() is None and time.monotonic() < deadline, lines[-15:]
            time.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        if presses == 2:
            time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        elapsed = time.monotonic() - t0
        assert elapsed < 2.0, f"up took {elapsed:.1f} s to stop: {lines[-15:]}"
        assert any("stopping: cancelling the build of web" in line for line in lines), lines[-15:]
        if presses == 2:
            # The second press cuts the cleanup short (130, "stopping now"); when the cleanup
            # was already done (it is quick) it ends the exiting process (130) or came too
            # late (0). Either way the process is gone within the bound and nothing runs.
            assert code in (0, 130), (code, lines[-15:])
            if any("stopping now" in line for line in lines):
                assert code == 130
        else:
            assert code == (0 if command == "up" else 130)
        # The engine removes the cancelled step's container: nothing of the build runs.
        deadline = time.monotonic() + 5
        while _marked(docker_client, marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _marked(docker_client, marker) == []
        assert fastapp.containers(docker_client, project) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        fastapp.cleanup(docker_client, root, project)


def test_ctrl_c_with_an_app_that_ignores_sigterm_running(
    tmp_path: Path, base_image: str, docker_client: Any
) -> None:
    """Opted out of the wrapper, the app is PID 1 and ignores SIGTERM: stopping still takes
    no grace period."""
    root = tmp_path / "ws"
    fastapp.write_app(root)
    project = fastapp.project_name()
    port = free_port()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
        "TILT_LSP_RESTART_WRAPPER": "0",
    }
    proc, lines = _start("up", root, env)
    try:
        deadline = time.monotonic() + 120
        while not fastapp.get(port).startswith("v1"):
            assert proc.poll() is None and time.monotonic() < deadline, lines[-15:]
            time.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        elapsed = time.monotonic() - t0
        assert elapsed < 2.0, f"up took {elapsed:.1f} s to stop: {lines[-15:]}"
        assert fastapp.containers(docker_client, project) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        fastapp.cleanup(docker_client, root, project)
