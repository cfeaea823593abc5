"""Fast by default, on the real engine: an unmodified app (PID 1 ignores SIGTERM) live-updates
by restarting its process in the same container, with no diagnostic but real errors; a real
crash after a live update is reported once, on its line; ``tilt.restart`` takes < 1 s; with
the wrapper turned off, a container restart is not a crash either."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.docker import fastapp
from tests.support import free_port
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import RuntimeStatus

pytestmark = pytest.mark.docker


class App:
    def __init__(
        self, root: Path, port: int, project: str, engine: Engine, recorder: fastapp.Recorder
    ) -> None:
        self.root = root
        self.port = port
        self.project = project
        self.engine = engine
        self.recorder = recorder
        self.app = root / "src" / "app.py"

    def save(self, text: str) -> None:
        self.app.write_text(text)
        self.engine.files_changed([str(self.app)], origin="save")

    def status(self) -> Any:
        return self.engine.statuses["web"]

    def crashes(self) -> list[tuple[str, str]]:
        return [(p, m) for p, m in self.recorder.history if "crash" in m or "exited" in m]


async def started(
    tmp_path: Path, base_image: str, docker_client: Any, extra_env: dict[str, str]
) -> AsyncIterator[App]:
    root = tmp_path / "ws"
    fastapp.write_app(root)
    port, project = free_port(), fastapp.project_name()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
        **extra_env,
    }
    recorder = fastapp.Recorder()
    engine = fastapp.new_engine(root, env, recorder)
    try:
        await engine.start()
        await fastapp.until_serves(port, "v1", timeout=120)
        yield App(root, port, project, engine, recorder)
    finally:
        await engine.stop()
        fastapp.cleanup(docker_client, root, project)


@pytest.fixture
async def app(tmp_path: Path, base_image: str, docker_client: Any) -> AsyncIterator[App]:
    async for a in started(tmp_path, base_image, docker_client, {}):
        yield a


@pytest.fixture
async def opted_out(tmp_path: Path, base_image: str, docker_client: Any) -> AsyncIterator[App]:
    async for a in started(tmp_path, base_image, docker_client, {"TILT_LSP_RESTART_WRAPPER": "0"}):
        yield a


async def test_saves_restart_the_process_in_place_and_only_real_errors_show(
    app: App, docker_client: Any
) -> None:
    (first,) = fastapp.containers(docker_client, app.project)
    assert first.labels["dev.tilt-lsp.managed"] == "true"  # the synclet's managed mark
    for n in range(2, 6):  # more saves than the crash-loop count
        app.save(fastapp.APP.replace('MESSAGE = "v1"', f'MESSAGE = "v{n}"'))
        await fastapp.until_serves(app.port, f"v{n}")
    (same,) = fastapp.containers(docker_client, app.project)
    assert same.id == first.id
    assert any("restart (process)" in line for line in app.status().log)
    assert app.recorder.history == []  # no diagnostic at all: nothing went wrong

    # A real crash after a live update: on its line, once; the container stays for the fix.
    crashing = fastapp.APP.replace('print("serving"', 'raise RuntimeError("boom")\nprint("serving"')
    app.save(crashing)
    line = crashing.splitlines().index('raise RuntimeError("boom")') + 1
    await fastapp.until(lambda: app.status().runtime is RuntimeStatus.CRASHED, "the crash")
    on_app = await fastapp.until(
        lambda: [p for p in app.recorder.current.get(str(app.app), []) if "boom" in p.message],
        "the RuntimeError on app.py",
    )
    assert [p.line for p in on_app] == [line]
    assert app.status().exit_code == 1
    assert len([m for _p, m in app.crashes()]) == 1, app.recorder.history

    app.save(fastapp.APP.replace('MESSAGE = "v1"', 'MESSAGE = "fixed"'))
    await fastapp.until_serves(app.port, "fixed")
    await fastapp.until(lambda: not any(app.recorder.current.values()), "the problems to clear")
    (still,) = fastapp.containers(docker_client, app.project)
    assert still.id == first.id


async def test_tilt_restart_is_quick_on_an_unmodified_app(app: App) -> None:
    before = await fastapp.until_serves(app.port, "v1")
    t0 = time.monotonic()
    app.engine.restart("web")
    # A new process (another pid) serving.
    after = await fastapp.until(
        lambda: (s := fastapp.get(app.port)).startswith("v1") and s != before and s, "a new pid"
    )
    elapsed = time.monotonic() - t0
    assert after != before
    assert elapsed < 1.0, f"tilt.restart took {elapsed:.2f} s"
    assert app.recorder.history == []


async def test_opted_out_container_restart_is_not_a_crash(
    opted_out: App, docker_client: Any
) -> None:
    app = opted_out
    (first,) = fastapp.containers(docker_client, app.project)
    for n in range(2, 5):
        app.save(fastapp.APP.replace('MESSAGE = "v1"', f'MESSAGE = "v{n}"'))
        t0 = time.monotonic()
        await fastapp.until_serves(app.port, f"v{n}")
        # No grace period: PID 1 ignoring SIGTERM does not cost 10 s.
        assert time.monotonic() - t0 < 5
    # The update's log line follows the restart's completion; the app may serve before it.
    await fastapp.until(
        lambda: sum("restart (container)" in line for line in app.status().log) == 3,
        "three container restarts logged",
    )
    t0 = time.monotonic()
    app.engine.restart("web")
    await fastapp.until(
        lambda: (
            app.status().start_count >= 1
            and fastapp.get(app.port).startswith("v4")
            and app.status().runtime is RuntimeStatus.READY
        ),
        "serving after tilt.restart",
    )
    assert time.monotonic() - t0 < 5
    (same,) = fastapp.containers(docker_client, app.project)
    assert same.id == first.id
    assert app.crashes() == [], app.recorder.history
    assert app.status().runtime is RuntimeStatus.READY


async def test_restart_process_idiom_restarts_in_place(
    tmp_path: Path, base_image: str, docker_client: Any
) -> None:
    """``LiveUpdate.restart_process`` (set by the restart_process extension's
    ``docker_build_with_restart``) with no ``restart_container()``: the image gets the wrapper
    and a save restarts the process in the same container. The model is adjusted here until
    the Tiltfile loader sets the field (#11)."""
    from tilt_lsp.runtime.compose import ComposeController
    from tilt_lsp.runtime.dockerhost import DockerHost

    root = tmp_path / "ws"
    fastapp.write_app(root)
    (root / "Tiltfile").write_text(fastapp.TILTFILE.replace(", restart_container()", ""))
    port, project = free_port(), fastapp.project_name()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
    }
    host = DockerHost(str(root), env)
    engine: Engine | None = None

    def controller(resource: Any, dispatch: Any) -> Any:
        assert engine is not None and engine.model is not None
        image = engine.model.image(resource.image_refs[0])
        assert image is not None and image.live_update is not None
        assert not image.live_update.restart_container
        live_update = dataclasses.replace(image.live_update, restart_process=True)
        return ComposeController(
            resource, dataclasses.replace(image, live_update=live_update), host, dispatch
        )

    recorder = fastapp.Recorder()
    engine = Engine(str(root / "Tiltfile"), listener=recorder, env=env, controllers=controller)
    try:
        await engine.start()
        await fastapp.until_serves(port, "v1", timeout=120)
        (first,) = fastapp.containers(docker_client, project)
        app = root / "src" / "app.py"
        app.write_text(fastapp.APP.replace('MESSAGE = "v1"', 'MESSAGE = "v2"'))
        engine.files_changed([str(app)], origin="save")
        await fastapp.until_serves(port, "v2")
        await fastapp.until(
            lambda: any("restart (process)" in line for line in engine.statuses["web"].log),
            "a process restart",
        )
        (same,) = fastapp.containers(docker_client, project)
        assert same.id == first.id
        assert recorder.history == []
    finally:
        await engine.stop()
        await host.close()
        fastapp.cleanup(docker_client, root, project)
