"""The finishing commit: labels without build steps, and the restart wrapper in front of an
unmodified app's entrypoint, on the real engine."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import ImageBuilder
from tilt_lsp.build.finish import (
    RESTART_SIGNAL_LABEL,
    WRAPPER_PATH,
    app_exit_code,
    plan_finish,
    wants_wrapper,
)
from tilt_lsp.tiltfile.model import ImageBuild, LiveUpdate, SyncRule

APP = """import os, time
print("started", os.getpid(), open("/app/src/msg.txt").read().strip(), flush=True)
while True:
    time.sleep(1)
"""


def unmodified_app(root: Path, base_image: str, user: str = "") -> ImageBuild:
    """A Python service as users write it: CMD python3, a sleep loop, no signal handling."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "src" / "msg.txt").write_text("one\n")
    (root / "Dockerfile").write_text(
        f"FROM {base_image}\nWORKDIR /app\nCOPY src /app/src\n{user}"
        'CMD ["python3", "-u", "src/app.py"]\n'
    )
    return ImageBuild(
        ref="tilt-lsp-test/finish",
        context=str(root),
        dockerfile=str(root / "Dockerfile"),
        dockerfile_contents=None,
        build_args={},
        target="",
        ignore=(),
        only=(),
        entrypoint=None,
        live_update=LiveUpdate(
            syncs=(SyncRule(str(root / "src"), "/app/src"),), restart_container=True
        ),
        location=None,
    )


def test_plan_wraps_entrypoint_and_cmd_and_keeps_the_stop_signal() -> None:
    labels = {lbl.MANAGED: "true"}
    config = {
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["node", "server.js"],
        "StopSignal": "SIGQUIT",
    }
    finish = plan_finish(config, labels, wrap=True, has_shell=True)
    assert finish.wrapped
    assert finish.conf["Entrypoint"] == [WRAPPER_PATH, "docker-entrypoint.sh"]
    assert finish.conf["Cmd"] == ["node", "server.js"]
    assert finish.conf["StopSignal"] == "SIGQUIT"
    assert finish.conf["Labels"][RESTART_SIGNAL_LABEL] == "SIGHUP"
    assert finish.conf["Labels"][lbl.MANAGED] == "true"


def test_the_wrapper_line_of_an_app_exit() -> None:
    line = "restart-wrapper: python3 exited with code 1; waiting for SIGHUP to start it again"
    assert app_exit_code(line) == 1
    assert app_exit_code("restart-wrapper: restarting python3") is None
    assert app_exit_code("my app exited with code 3; bye") is None


def test_plan_leaves_images_it_cannot_or_need_not_wrap() -> None:
    labels = {lbl.MANAGED: "true"}
    own = plan_finish(
        {"Labels": {RESTART_SIGNAL_LABEL: "SIGUSR1"}, "Cmd": ["x"]},
        labels,
        wrap=True,
        has_shell=True,
    )
    assert not own.wrapped and own.note and "own restart signal" in own.note
    no_shell = plan_finish({"Cmd": ["/app"]}, labels, wrap=True, has_shell=False)
    assert not no_shell.wrapped and no_shell.note and "/bin/sh" in no_shell.note
    plain = plan_finish({"Cmd": ["/app"]}, labels, wrap=False, has_shell=True)
    assert plain.conf == {"Labels": labels} and plain.note is None


def test_wants_wrapper_follows_the_live_update_and_the_opt_out(tmp_path: Path) -> None:
    image = unmodified_app(tmp_path, "base")
    assert wants_wrapper(image, {})
    assert not wants_wrapper(image, {"TILT_LSP_RESTART_WRAPPER": "0"})
    assert not wants_wrapper(dataclasses.replace(image, live_update=None), {})
    process = dataclasses.replace(image, live_update=LiveUpdate(restart_process=True))
    assert wants_wrapper(process, {})
    assert not wants_wrapper(dataclasses.replace(image, live_update=LiveUpdate()), {})


@pytest.mark.docker
def test_unmodified_app_restarts_in_place_and_steps_match_the_dockerfile(
    docker_client: Any, base_image: str, tmp_path: Path, docker_resources: Any
) -> None:
    root = tmp_path / "ws"
    image = unmodified_app(root, base_image)
    labels = lbl.managed_labels(str(root))
    builder = ImageBuilder(image, docker_client.api, labels, env={})
    lines: list[str] = []
    try:
        built = builder.build(None, lines.append, force=True)
        steps = [line for line in lines if line.startswith("Step ")]
        assert [s.split(" : ")[0] for s in steps] == [f"Step {i}/4" for i in range(1, 5)]
        assert any(line.startswith("added the restart wrapper") for line in lines)
        config = docker_client.api.inspect_image(built.ref)["Config"]
        assert config["Entrypoint"] == [WRAPPER_PATH]
        assert config["Cmd"] == ["python3", "-u", "src/app.py"]
        assert config["Labels"][lbl.MANAGED] == "true"
        assert config["Labels"][RESTART_SIGNAL_LABEL] == "SIGHUP"

        container = docker_client.containers.run(
            built.ref, detach=True, labels=docker_resources.labels
        )
        docker_resources.track_container(container.id)
        first = _wait_log(container, "started", 1)
        exec_put(container, "two")
        container.kill(signal="SIGHUP")
        second = _wait_log(container, "started", 2)
        container.reload()
        assert container.status == "running"  # the same container: the process restarted
        assert second[-1].endswith(" two") and second[-1].split()[1] != first[0].split()[1]
        # docker stop is quick: the wrapper (PID 1) handles SIGTERM, the app (not PID 1) dies.
        t0 = time.monotonic()
        container.stop(timeout=10)
        assert time.monotonic() - t0 < 5
        container.remove(force=True)  # before its image goes
    finally:
        lbl.remove_stale_images(docker_client.api, labels, keep=())


@pytest.mark.docker
def test_opted_out_image_is_labelled_but_not_wrapped(
    docker_client: Any, base_image: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    image = unmodified_app(root, base_image)
    labels = lbl.managed_labels(str(root))
    builder = ImageBuilder(image, docker_client.api, labels, env={"TILT_LSP_RESTART_WRAPPER": "0"})
    try:
        built = builder.build(None, lambda _line: None, force=True)
        config = docker_client.api.inspect_image(built.ref)["Config"]
        assert config["Entrypoint"] is None
        assert config["Cmd"] == ["python3", "-u", "src/app.py"]
        assert config["Labels"][lbl.MANAGED] == "true"
        assert RESTART_SIGNAL_LABEL not in config["Labels"]
    finally:
        lbl.remove_stale_images(docker_client.api, labels, keep=())


def exec_put(container: Any, text: str) -> None:
    code, _ = container.exec_run(["sh", "-c", f"echo {text} > /app/src/msg.txt"])
    assert code == 0


def _wait_log(container: Any, marker: str, count: int, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = [ln for ln in container.logs().decode().splitlines() if ln.startswith(marker)]
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"{count} x {marker!r} not logged: {container.logs().decode()!r}")


@pytest.mark.docker
def test_wrapper_runs_as_the_images_non_root_user(
    docker_client: Any, base_image: str, tmp_path: Path, docker_resources: Any
) -> None:
    root = tmp_path / "ws"
    image = unmodified_app(root, base_image, user="USER 65534\n")
    labels = lbl.managed_labels(str(root))
    builder = ImageBuilder(image, docker_client.api, labels, env={})
    try:
        built = builder.build(None, lambda _line: None, force=True)
        container = docker_client.containers.run(
            built.ref, detach=True, labels=docker_resources.labels
        )
        docker_resources.track_container(container.id)
        _wait_log(container, "started", 1)
        container.kill(signal="SIGHUP")
        _wait_log(container, "started", 2)
        _code, out = container.exec_run(["id", "-u"])
        assert out.decode().strip() == "65534"
        container.remove(force=True)
    finally:
        lbl.remove_stale_images(docker_client.api, labels, keep=())
