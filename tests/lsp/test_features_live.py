"""Live status in the Tiltfile through the real server: code lenses that follow the engine
(with workspace/codeLens/refresh), and code actions on a runtime problem."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import CLIENTS, wait_for

TILTFILE = """\
local_resource('report', cmd='echo report done', trigger_mode=TRIGGER_MODE_MANUAL, auto_init=False, links=['http://localhost:9/'])

local_resource('boom', cmd='python3 boom.py', deps=['boom.py'])
"""

BOOM = """\
def ratio(a, b):
    return a / b


print(ratio(1, 0))
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws16live"
    root.mkdir()
    (root / "Tiltfile").write_text(TILTFILE)
    (root / "boom.py").write_text(BOOM)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tilt_lsp", "serve"]),
    params=CLIENTS,
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    refreshes: list[Any] = []
    lsp_client.refreshes = refreshes  # type: ignore[attr-defined]
    lsp_client.feature("tilt/status")(lambda params: None)

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params: Any) -> None:
        refreshes.append(params)

    caps = client_capabilities(request.param)
    lsp_client.lens_refresh = bool(  # type: ignore[attr-defined]
        caps.workspace and caps.workspace.code_lens and caps.workspace.code_lens.refresh_support
    )
    uri = workspace.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
            initialization_options={"watch": False},
        )
    )
    yield
    await lsp_client.shutdown_session()


def action_json(action: types.Command | types.CodeAction) -> dict[str, Any]:
    """lsprotocol's client-side hook reads any code action that has a ``command`` as a bare
    Command (title: the action's title, command: the text of the action's command object;
    lsprotocol/_hooks.py ``_code_action_hook``); editors read the JSON as sent. Recover it."""
    if isinstance(action, types.Command) and action.command.startswith("{"):
        command = ast.literal_eval(action.command)
        assert isinstance(command, dict)
        return {"title": action.title, "command": command}
    raise AssertionError(f"expected a code action, got {action!r}")


async def lenses(client: LanguageClient, uri: str) -> list[types.CodeLens]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri))
    )
    return list(found or [])


def titles(found: list[types.CodeLens], line: int) -> list[str]:
    return [lens.command.title for lens in found if lens.command and lens.range.start.line == line]


async def wait_lens(client: LanguageClient, uri: str, line: int, text: str) -> list[str]:
    last: list[str] = []
    for _ in range(300):
        last = titles(await lenses(client, uri), line)
        if any(text in t for t in last):
            return last
        await __import__("asyncio").sleep(0.1)
    raise AssertionError(f"no lens with {text!r} on line {line + 1}; last: {last}")


async def test_code_lenses_show_live_status_and_run_commands(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "Tiltfile").as_uri()
    first = await wait_lens(client, uri, 0, "report: waiting for a trigger")
    assert "▶ Trigger" in first and "↻ Restart" in first and "Logs" in first
    assert "↗ http://localhost:9/" in first
    assert not any("none" in t or "not_started" in t for t in first)
    lens = next(
        x for x in await lenses(client, uri) if x.command and x.command.title == "▶ Trigger"
    )
    assert lens.command is not None and list(lens.command.arguments or []) == ["report"]

    seen_refreshes = len(client.refreshes)  # type: ignore[attr-defined]
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=lens.command.command, arguments=list(lens.command.arguments or [])
        )
    )
    after = await wait_lens(client, uri, 0, "report: up to date · updated ")
    assert any(t.startswith("● report") for t in after)
    if client.lens_refresh:  # type: ignore[attr-defined]
        await wait_for(
            lambda: len(client.refreshes) > seen_refreshes,  # type: ignore[attr-defined]
            what="workspace/codeLens/refresh after the status changed",
        )


async def test_code_actions_on_a_runtime_problem(client: LanguageClient, workspace: Path) -> None:
    boom = (workspace / "boom.py").as_uri()
    found = await wait_for(
        lambda: [d for d in client.diagnostics.get(boom, []) if "ZeroDivisionError" in d.message],
        timeout=30,
        what="the ZeroDivisionError on boom.py",
    )
    problem = found[0]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(boom),
            range=problem.range,
            context=types.CodeActionContext(diagnostics=[problem]),
        )
    )
    by_title = {a["title"]: a for a in map(action_json, actions or [])}
    assert set(by_title) >= {"Show the log around this error", "Restart boom"}
    show = by_title["Show the log around this error"]["command"]
    assert show["command"] == "tilt.showLogs"
    assert show["arguments"][0]["resource"] == "boom"
    assert "ZeroDivisionError" in show["arguments"][0]["around"]
    restart = types.Command(**by_title["Restart boom"]["command"])
    assert list(restart.arguments or []) == ["boom"]
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=restart.command, arguments=list(restart.arguments or []))
    )
    assert result is not None
