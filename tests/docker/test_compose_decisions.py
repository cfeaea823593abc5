"""The live-update decisions on the real engine, through the Engine (no editor): a failing run
step is the user's error (shown on its line, no rebuild); a container removed behind our back
is recreated by the fast build (synced files layered onto the last full build); an
unreachable synclet falls back to a full build."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docker.test_compose_loop import serves
from tests.support import free_port, until
from tilt_lsp.build import labels as lbl
from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.listener import NullListener, Published

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compose-python"
RUN_STEP = """
        run('python3 /app/check.py', trigger=['check.py']),"""


class Problems(NullListener):
    def __init__(self) -> None:
        self.by_path: dict[str, list[Problem]] = {}

    def diagnostics_changed(self, published: Published) -> None:
        for path, items in published.items():
            self.by_path[path] = [p for _, _, p in items]


class Loop:
    def __init__(self, engine: Engine, root: Path, port: int, problems: Problems) -> None:
        self.engine = engine
        self.root = root
        self.port = port
        self.problems = problems

    def save(self, name: str, text: str) -> None:
        path = self.root / name
        path.write_text(text)
        self.engine.files_changed([str(path)], origin="test")

    def log(self) -> list[str]:
        return self.engine.logs("web", 0)

    async def until(self, cond: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        try:
            return await until(cond, timeout, what)
        except AssertionError as err:
            raise AssertionError(f"{err}; log: {self.log()[-25:]}") from None

    async def serving(self, text: str) -> None:
        # The GET runs off the loop: the engine under test shares it.
        try:
            await serves(self.port, text, timeout=60)
        except AssertionError as err:
            raise AssertionError(f"{err}; log: {self.log()[-25:]}") from None


@pytest.fixture
async def loop(tmp_path: Path, base_image: str, docker_client: Any) -> AsyncIterator[Loop]:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    tiltfile = root / "Tiltfile"
    tiltfile.write_text(
        tiltfile.read_text().replace("sync('.', '/app'),", "sync('.', '/app')," + RUN_STEP)
    )
    (root / "check.py").write_text("print('check ok')\n")
    project = f"tiltlsptest{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
    }
    problems = Problems()
    engine = Engine(str(tiltfile), env=env, listener=problems)
    await engine.start()
    try:
        yield Loop(engine, root, port, problems)
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


def builds(lines: list[str]) -> int:
    return sum(1 for line in lines if line.startswith("building compose-python-web:tilt-"))


async def test_failing_run_step_is_a_user_error_with_problems_and_no_rebuild(loop: Loop) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    built = builds(loop.log())
    check = loop.root / "check.py"
    loop.save(
        "check.py",
        "import sys\n\n\ndef check():\n    raise SystemExit('config is wrong')\n\n\nraise ValueError('bad config')\n",
    )
    status = loop.engine.statuses["web"]
    await loop.until(lambda: status.build.value == "error", "the run step to fail")
    assert "exited with code 1" in (status.last_error or "")
    found = await loop.until(lambda: loop.problems.by_path.get(str(check)), "a problem on check.py")
    assert {p.line for p in found} == {8}
    assert builds(loop.log()) == built  # not rebuilt

    loop.save("check.py", "print('fixed')\n")
    await loop.until(lambda: status.build.value == "ok", "the fixed run step")
    await loop.until(lambda: not loop.problems.by_path.get(str(check)), "check.py to clear")
    assert builds(loop.log()) == built


async def test_removed_container_is_recreated_by_the_fast_build(
    loop: Loop, docker_client: Any
) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    app = (loop.root / "app.py").read_text()
    loop.save("app.py", app.replace("Hello from compose-python!", "Hello synced"))
    await loop.serving("Hello synced")
    built = builds(loop.log())

    project = loop.engine.statuses["web"].resource.compose.project_name  # type: ignore[union-attr]
    (container,) = docker_client.containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={project}"]}
    )
    await asyncio.to_thread(container.remove, force=True)
    await loop.until(lambda: loop.engine.statuses["web"].runtime.value == "crashed", "the death")

    loop.save("app.py", app.replace("Hello from compose-python!", "Hello layered"))
    await loop.serving("Hello layered")
    lines = loop.log()
    assert any(
        line.startswith("fast build: 1 file synced since the last full build, layered")
        for line in lines
    ), lines[-20:]
    assert builds(lines) == built  # no Dockerfile run
    (new,) = docker_client.containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={project}"]}
    )
    assert docker_client.images.get(new.image.id).labels[lbl.BUILD_KIND] == "layered"


async def test_unreachable_synclet_falls_back_to_a_full_build(loop: Loop) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    built = builds(loop.log())
    host = loop.engine._docker_host
    assert host is not None

    async def unreachable() -> tuple[str, str]:
        return "http://127.0.0.1:9", "nobody-listens"

    host.updater._endpoint = unreachable
    app = (loop.root / "app.py").read_text()
    loop.save("app.py", app.replace("Hello from compose-python!", "Hello rebuilt"))
    await loop.serving("Hello rebuilt")
    lines = loop.log()
    assert any("lost the synclet" in line and "full build" in line for line in lines)
    assert builds(lines) == built + 1


async def test_disable_removes_the_container_and_enable_brings_back_the_synced_code(
    loop: Loop, docker_client: Any
) -> None:
    assert await loop.engine.wait_settled(180)
    app = (loop.root / "app.py").read_text()
    loop.save("app.py", app.replace("Hello from compose-python!", "Hello kept"))
    await loop.serving("Hello kept")
    project = loop.engine.statuses["web"].resource.compose.project_name  # type: ignore[union-attr]
    mine = {"label": [f"com.docker.compose.project={project}"]}

    stopping = loop.engine.disable("web")
    if inspect.isawaitable(stopping):  # older engines stop inline, newer ones in the worker
        await stopping
    await loop.until(lambda: loop.engine.statuses["web"].runtime.value == "disabled", "disabled")
    await loop.until(
        lambda: docker_client.containers.list(all=True, filters=mine) == [], "the container to go"
    )

    loop.engine.enable("web")
    await loop.serving("Hello kept")  # the synced file was layered onto the last full build
    assert len(docker_client.containers.list(filters=mine)) == 1


async def test_crash_loop_under_a_restart_policy_is_reported_and_never_rebuilt(
    loop: Loop,
) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    built = builds(loop.log())
    # The service restarts on failure; the app now dies at start-up, every time.
    compose = loop.root / "docker-compose.yml"
    assert "restart:" not in compose.read_text()
    app = (loop.root / "app.py").read_text()
    project = loop.engine.statuses["web"].resource.compose.project_name  # type: ignore[union-attr]
    import docker

    client = docker.from_env()
    try:
        (container,) = client.containers.list(
            filters={"label": [f"com.docker.compose.project={project}"]}
        )
        await asyncio.to_thread(container.update, restart_policy={"Name": "always"})
        loop.save(
            "app.py",
            app.replace("def main() -> None:\n", "def main() -> None:\n    raise SystemExit(3)\n"),
        )
        await loop.until(lambda: any("crash loop" in line for line in loop.log()), "a crash loop")
        status = loop.engine.statuses["web"]
        assert status.exit_code == 3
        assert builds(loop.log()) == built  # a crash never rebuilds
        await asyncio.to_thread(container.update, restart_policy={"Name": "no"})
    finally:
        client.close()
    loop.save("app.py", app)
    await loop.serving("Hello from compose-python!")


async def test_a_broken_dockerfile_is_a_problem_on_its_line_until_a_build_works(
    loop: Loop,
) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    dockerfile = loop.root / "Dockerfile"
    good = dockerfile.read_text()
    broken = good.replace(
        "COPY . /app\n", "COPY . /app\nRUN python3 -c 'import app, sys; sys.exit(7)'\n"
    )
    loop.save("Dockerfile", broken)
    status = loop.engine.statuses["web"]
    await loop.until(lambda: status.build.value == "error", "the build to fail")
    run_line = broken.splitlines().index("RUN python3 -c 'import app, sys; sys.exit(7)'") + 1
    found = await loop.until(
        lambda: loop.problems.by_path.get(str(dockerfile)), "a Dockerfile problem"
    )
    assert {p.line for p in found} == {run_line}
    await loop.serving("Hello from compose-python!")  # the old container keeps serving

    # A synced file alone does not hide the failed build: it builds again (and fails again).
    app = (loop.root / "app.py").read_text()
    failures = sum(1 for line in loop.log() if line.startswith("build failed"))
    loop.save("app.py", app.replace("Hello from compose-python!", "Hello after fix"))
    await loop.until(
        lambda: sum(1 for line in loop.log() if line.startswith("build failed")) == failures + 1,
        "another full build",
    )

    loop.save("Dockerfile", good)
    await loop.serving("Hello after fix")
    await loop.until(
        lambda: not loop.problems.by_path.get(str(dockerfile)), "the Dockerfile to clear"
    )
    assert status.build.value == "ok"


async def test_container_killed_mid_update_falls_back_to_a_rebuild_and_ends_consistent(
    loop: Loop, docker_client: Any
) -> None:
    assert await loop.engine.wait_settled(180)
    await loop.serving("Hello from compose-python!")
    built = builds(loop.log())
    project = loop.engine.statuses["web"].resource.compose.project_name  # type: ignore[union-attr]
    (container,) = docker_client.containers.list(
        filters={"label": [f"com.docker.compose.project={project}"]}
    )

    # A slow run step keeps the update in flight while the container is killed under it.
    slow = "import time\ntime.sleep(5)\nprint('slow check done')\n"
    app = (loop.root / "app.py").read_text()
    (loop.root / "app.py").write_text(
        app.replace("Hello from compose-python!", "Hello after the kill")
    )
    loop.save("check.py", slow)
    loop.engine.files_changed([str(loop.root / "app.py")], origin="test")
    await loop.until(
        lambda: any("python3 /app/check.py" in line for line in loop.log()), "the run step to start"
    )
    await asyncio.to_thread(container.kill)

    await loop.until(
        lambda: any("live update failed" in line and "full build" in line for line in loop.log()),
        "the fallback to a full build",
    )
    await loop.serving("Hello after the kill")
    status = loop.engine.statuses["web"]
    await loop.until(
        lambda: status.build.value == "ok" and status.runtime.value == "ready",
        "a consistent, ready resource",
    )
    assert builds(loop.log()) == built + 1
    (new,) = docker_client.containers.list(
        filters={"label": [f"com.docker.compose.project={project}"]}
    )
    assert new.id != container.id
    code, out = await asyncio.to_thread(new.exec_run, ["cat", "/app/check.py"])
    assert code == 0 and out.decode() == slow  # the image has every change
