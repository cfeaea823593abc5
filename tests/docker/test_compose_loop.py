"""The Docker Compose loop end to end: the real language server over stdio (pytest-lsp), the
real Docker engine, docker-compose, the synclet, and a copy of examples/compose-python built
on the offline base image.

Save → the new code serves through the synclet with no image build; a syntax error and a
crash at startup are diagnostics on their lines, cleared by the fix; a change outside the
sync rules rebuilds; a killed and restarted container gets the synced files again;
``tilt.restart`` and ``tilt.rebuild`` work. Everything created is removed by its labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import diagnostics, request, save, wait_for, wait_resource
from tests.support import free_port
from tilt_lsp.build import labels as lbl

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compose-python"
GREETING = 'GREETING = os.environ.get("GREETING", "Hello from compose-python!")'
MAIN = '    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)'


def http_get(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
            return str(resp.read().decode()).strip()
    except Exception as err:
        return f"error: {err}"


async def serves(port: int, text: str, timeout: float = 30.0) -> float:
    """Seconds until GET / answers ``text``."""
    t0 = time.monotonic()

    def check() -> bool:
        return http_get(port) == text

    while time.monotonic() - t0 < timeout:
        if await asyncio.to_thread(check):
            return time.monotonic() - t0
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"port {port} did not serve {text!r} within {timeout}s: {http_get(port)!r}"
    )


class Workspace:
    def __init__(self, root: Path, project: str, port: int) -> None:
        self.root = root
        self.project = project
        self.port = port
        self.app = root / "app.py"
        self.original = self.app.read_text()


@pytest.fixture
def workspace(
    tmp_path: Path, base_image: str, docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> Any:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    # Changes to greeting.txt are outside the sync rules: they need a new image.
    tiltfile = root / "Tiltfile"
    tiltfile.write_text(
        tiltfile.read_text().replace("sync('.', '/app')", "sync('app.py', '/app/app.py')")
    )
    (root / "greeting.txt").write_text("unused\n")
    ws = Workspace(root, f"tiltlsptest{uuid.uuid4().hex[:10]}", free_port())
    # The server inherits the test's environment (pytest-lsp starts it after this fixture).
    monkeypatch.setenv("BASE_IMAGE", base_image)
    monkeypatch.setenv("WEB_PORT", str(ws.port))
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", ws.project)
    yield ws
    api = docker_client.api
    project = {"label": [f"com.docker.compose.project={ws.project}"]}
    for c in api.containers(all=True, filters=project):
        with contextlib.suppress(Exception):
            api.remove_container(c["Id"], force=True, v=True)
    for net in api.networks(filters=project):
        with contextlib.suppress(Exception):
            api.remove_network(net["Id"])
    lbl.remove_containers(api, lbl.managed_labels(str(root)))
    lbl.remove_stale_images(api, lbl.managed_labels(str(root)), keep=())
    for net in api.networks(names=[f"{ws.project}_default"]):
        with contextlib.suppress(Exception):
            api.remove_network(net["Id"])


# Tests list ``workspace`` before ``client``: pytest-lsp starts the server before it resolves
# the fixture's own arguments, and the server must inherit the workspace's environment.
@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tilt_lsp", "serve"]),
)
async def client(lsp_client: LanguageClient, workspace: Workspace) -> Any:
    uri = workspace.root.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def web_ready(client: LanguageClient, timeout: float = 120) -> dict[str, Any]:
    return await wait_resource(
        client,
        "web",
        lambda r: r["runtimeStatus"] == "ready" and r["buildStatus"] == "ok",
        "web ready",
        timeout=timeout,
    )


async def logs(client: LanguageClient) -> list[str]:
    return list((await request(client, "tilt/logs", {"resource": "web", "lines": 0}))["lines"])


def builds(lines: list[str]) -> int:
    return sum(1 for line in lines if line.startswith("building compose-python-web:tilt-"))


async def command(client: LanguageClient, name: str) -> None:
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=["web"])
    )


def container_of(docker_client: Any, ws: Workspace) -> Any:
    found = docker_client.containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={ws.project}"]}
    )
    assert len(found) == 1, found
    return found[0]


async def test_save_serves_through_the_synclet_and_errors_land_on_their_lines(
    workspace: Workspace, client: LanguageClient
) -> None:
    await web_ready(client)
    await serves(workspace.port, "Hello from compose-python!")
    built = builds(await logs(client))
    assert built == 1

    # A source change: synced and the process restarted, no image build.
    save(
        client, workspace.app, workspace.original.replace("Hello from compose-python!", "Hello v2")
    )
    await serves(workspace.port, "Hello v2", timeout=20)
    lines = await logs(client)
    assert builds(lines) == built
    assert any(line.startswith("live update: 1 file synced") for line in lines)

    # A syntax error: a diagnostic on its line; the resource crashed.
    broken = workspace.original.replace("PORT = int(", "PORT = int((", 1)
    save(client, workspace.app, broken)
    syntax_line = broken.splitlines().index('PORT = int((os.environ.get("PORT", "8000"))')
    found = await wait_for(
        lambda: [d for d in diagnostics(client, workspace.app) if "SyntaxError" in d.message],
        what="a SyntaxError diagnostic on app.py",
        timeout=30,
    )
    assert {d.range.start.line for d in found} == {syntax_line}
    tiltfile = workspace.root / "Tiltfile"
    await wait_for(
        lambda: [d for d in diagnostics(client, tiltfile) if "'web' crashed" in d.message],
        what="the crash on the Tiltfile line of dc_resource",
    )

    # The fix clears both and serves again.
    save(client, workspace.app, workspace.original)
    await wait_for(lambda: diagnostics(client, workspace.app) == [], what="app.py to clear")
    await wait_for(lambda: diagnostics(client, tiltfile) == [], what="the Tiltfile to clear")
    await serves(workspace.port, "Hello from compose-python!", timeout=20)

    # A crash at runtime: the stack trace's frame in app.py is the diagnostic.
    crashing = workspace.original.replace(
        MAIN, "    raise RuntimeError('no server today')\n" + MAIN
    )
    save(client, workspace.app, crashing)
    raise_line = crashing.splitlines().index("    raise RuntimeError('no server today')")
    found = await wait_for(
        lambda: [d for d in diagnostics(client, workspace.app) if "RuntimeError" in d.message],
        what="a RuntimeError diagnostic",
        timeout=30,
    )
    assert raise_line in {d.range.start.line for d in found}
    status = await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "crashed", "crash")
    assert status["exitCode"] == 1
    save(client, workspace.app, workspace.original)
    await wait_for(lambda: diagnostics(client, workspace.app) == [], what="app.py to clear")
    await wait_for(lambda: diagnostics(client, tiltfile) == [], what="the Tiltfile to clear")
    await serves(workspace.port, "Hello from compose-python!", timeout=20)
    assert builds(await logs(client)) == built  # never rebuilt on a crash


async def test_outside_sync_rebuilds_and_a_killed_container_is_resynced(
    workspace: Workspace, client: LanguageClient, docker_client: Any
) -> None:
    await web_ready(client)
    built = builds(await logs(client))

    save(client, workspace.root / "greeting.txt", "a file outside every sync\n")
    lines = await wait_for_log(client, lambda ls: builds(ls) == built + 1, "a full build")
    assert any("full build: greeting.txt is outside every sync" in line for line in lines)
    await web_ready(client)
    await serves(workspace.port, "Hello from compose-python!")

    save(
        client, workspace.app, workspace.original.replace("Hello from compose-python!", "Hello v3")
    )
    await serves(workspace.port, "Hello v3", timeout=20)

    container = container_of(docker_client, workspace)
    await asyncio.to_thread(container.kill)
    crashed = await wait_resource(client, "web", lambda r: r["runtimeStatus"] == "crashed", "kill")
    assert crashed["exitCode"] == 137
    await asyncio.to_thread(container.start)
    await wait_for_log(
        client,
        lambda ls: any("re-syncing 1 file" in line for line in ls),
        "the re-sync after the restart",
    )
    await web_ready(client)
    await serves(workspace.port, "Hello v3", timeout=20)
    assert builds(await logs(client)) == built + 1


async def test_restart_and_rebuild_commands(
    workspace: Workspace, client: LanguageClient, docker_client: Any
) -> None:
    before = await web_ready(client)
    first = container_of(docker_client, workspace)
    started = first.attrs["State"]["StartedAt"]

    await command(client, "tilt.restart")
    await wait_resource(
        client,
        "web",
        lambda r: r["startCount"] > before["startCount"] and r["runtimeStatus"] == "ready",
        "a restart",
    )
    first.reload()
    # The example's image declares its restart signal: the app restarts in the same container.
    assert first.attrs["State"]["StartedAt"] == started
    assert any("restarting the app in container" in line for line in await logs(client))
    await serves(workspace.port, "Hello from compose-python!")

    built = builds(await logs(client))
    restarted = await web_ready(client)
    await command(client, "tilt.rebuild")
    await wait_for_log(client, lambda ls: builds(ls) == built + 1, "a rebuild")
    # The build's log line comes before the new container starts: wait for that start, or
    # the old, still-ready container would be taken for the new one.
    await wait_resource(
        client,
        "web",
        lambda r: r["startCount"] > restarted["startCount"] and r["runtimeStatus"] == "ready",
        "the rebuilt container ready",
    )
    second = container_of(docker_client, workspace)
    assert second.id != first.id  # recreated
    await serves(workspace.port, "Hello from compose-python!")


async def wait_for_log(
    client: LanguageClient, cond: Any, what: str, timeout: float = 60
) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = await logs(client)
        if cond(lines):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; log tail: {lines[-30:]}")
