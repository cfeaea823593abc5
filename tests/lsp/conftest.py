"""End-to-end: the real server over stdio, driven by pytest-lsp as VS Code and as Neovim."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.support import free_port, until

wait_for = until  # the name the LSP tests use

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-local"
CLIENTS = ["visual-studio-code", "neovim"]

MANUAL = """
local_resource(
    'report',
    cmd='python3 -c "import greeting; print(\\'report:\\', greeting.greet(\\'manual\\'))"',
    deps=['greeting.py'],
    trigger_mode=TRIGGER_MODE_MANUAL,
    auto_init=False,
)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of examples/hello-local on a free port, plus a manual resource."""
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    tiltfile = root / "Tiltfile"
    text = tiltfile.read_text().replace("'8765'", f"'{free_port()}'")
    tiltfile.write_text(text + MANUAL)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tilt_lsp", "serve"]),
    params=CLIENTS,
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    statuses: list[Any] = []
    lsp_client.tilt_statuses = statuses  # type: ignore[attr-defined]

    @lsp_client.feature("tilt/status")
    def on_status(params: Any) -> None:
        statuses.append(plain(params))

    uri = workspace.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def plain(value: Any) -> Any:
    """pygls hands back custom responses as namedtuples; tests read them as JSON."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return plain(await client.protocol.send_request_async(method, params))


async def resources(client: LanguageClient) -> dict[str, dict[str, Any]]:
    data = await request(client, "tilt/resources", {})
    return {r["name"]: r for r in data["resources"]}


async def wait_resource(
    client: LanguageClient,
    name: str,
    cond: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = 20.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = (await resources(client)).get(name, {})
        if last and cond(last):
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {name}: {what}; last: {last}")


def save(client: LanguageClient, path: Path, text: str) -> None:
    path.write_text(text)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )


def diagnostics(client: LanguageClient, path: Path) -> list[types.Diagnostic]:
    return list(client.diagnostics.get(path.as_uri(), []))
