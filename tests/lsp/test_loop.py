"""The loop through the real server: save → run → diagnostics on the line; fix → cleared."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import diagnostics, request, resources, save, wait_for, wait_resource

BROKEN = 'return " ".join(words) + 1'
FIXED = 'return " ".join(words) + "!"'


async def ready(client: LanguageClient) -> dict:
    return await wait_resource(
        client, "greeter", lambda r: r["runtimeStatus"] == "ready", "greeter ready", timeout=30
    )


async def test_crash_is_a_diagnostic_on_the_crashing_line_and_the_fix_clears_it(
    client: LanguageClient, workspace: Path
) -> None:
    await ready(client)
    greeting = workspace / "greeting.py"
    good = greeting.read_text()
    save(client, greeting, good.replace(FIXED, BROKEN))

    found = await wait_for(
        lambda: [
            d
            for d in diagnostics(client, greeting)
            if "TypeError" in d.message and "greeter" in (d.source or "")
        ],
        what="the greeter's TypeError diagnostic on greeting.py",
    )
    assert {d.range.start.line for d in found} == {5}  # line 6: the `return` that raises
    assert all(d.severity == types.DiagnosticSeverity.Error for d in found)
    # The crash also shows on the Tiltfile line that defines the resource.
    tiltfile = workspace / "Tiltfile"
    await wait_for(
        lambda: [d for d in diagnostics(client, tiltfile) if "'greeter' crashed" in d.message],
        what="crash on the Tiltfile",
    )

    save(client, greeting, good)
    await wait_for(
        lambda: diagnostics(client, greeting) == [], what="greeting.py diagnostics to clear"
    )
    await wait_for(
        lambda: diagnostics(client, tiltfile) == [], what="Tiltfile diagnostics to clear"
    )
    await ready(client)


async def test_tiltfile_syntax_error_is_published_and_cleared(
    client: LanguageClient, workspace: Path
) -> None:
    before = await ready(client)
    tiltfile = workspace / "Tiltfile"
    good = tiltfile.read_text()
    save(client, tiltfile, good + "\nlocal_resource('broken', cmd='true'\n")
    found = await wait_for(lambda: diagnostics(client, tiltfile), what="a Tiltfile diagnostic")
    assert found[0].message.startswith("syntax error")
    assert (
        found[0].range.start.line
        == len((good + "\nlocal_resource('broken', cmd='true'").splitlines()) - 1
    )
    # Still running the last good model.
    assert (await resources(client))["greeter"]["pid"] == before["pid"]

    save(client, tiltfile, good)
    await wait_for(
        lambda: diagnostics(client, tiltfile) == [], what="the Tiltfile diagnostic to clear"
    )


async def test_restart_command_gives_a_new_process(client: LanguageClient) -> None:
    before = await ready(client)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.restart", arguments=["greeter"])
    )
    after = await wait_resource(
        client,
        "greeter",
        lambda r: r["pid"] not in (None, before["pid"]) and r["runtimeStatus"] == "ready",
        "a new pid",
    )
    assert after["startCount"] == before["startCount"] + 1


async def test_manual_resource_waits_for_trigger(client: LanguageClient, workspace: Path) -> None:
    await ready(client)
    report = (await resources(client))["report"]
    assert report["updateCount"] == 0 and report["triggerMode"] == "manual"
    greeting = workspace / "greeting.py"
    save(client, greeting, greeting.read_text() + "\n# touched\n")
    pending = await wait_resource(
        client, "report", lambda r: r["pendingChanges"], "pending changes"
    )
    assert pending["pendingChanges"] == [str(greeting)]
    assert pending["updateCount"] == 0

    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.trigger", arguments=["report"])
    )
    done = await wait_resource(
        client, "report", lambda r: r["buildStatus"] == "ok", "the triggered build"
    )
    assert done["updateCount"] == 1 and done["pendingChanges"] == []
    lines = (await request(client, "tilt/logs", {"resource": "report", "lines": 50}))["lines"]
    assert "report: Hello manual!" in lines


async def test_edit_outside_the_editor_is_picked_up(
    client: LanguageClient, workspace: Path
) -> None:
    await ready(client)
    greeting = workspace / "greeting.py"
    greeting.write_text(greeting.read_text().replace(FIXED, BROKEN))  # no didSave: a plain write
    await wait_for(
        lambda: [
            d
            for d in diagnostics(client, greeting)
            if "TypeError" in d.message and d.range.start.line == 5
        ],
        what="the watcher to pick up the change",
    )


async def test_status_notifications_and_unknown_resource_errors(client: LanguageClient) -> None:
    await ready(client)
    statuses = client.tilt_statuses  # type: ignore[attr-defined]
    assert statuses and statuses[-1]["state"] in ("ok", "building")
    try:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tilt.restart", arguments=["nope"])
        )
    except Exception as err:  # the JSON-RPC error the editor shows, in plain words
        assert "no resource named 'nope'" in str(err)
        assert "EngineError" not in str(err)
    else:
        raise AssertionError("restarting an unknown resource should fail")


async def test_rebuild_disable_enable(client: LanguageClient) -> None:
    await ready(client)
    before = (await resources(client))["tests"]
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.rebuild", arguments=[{"resource": "tests"}])
    )
    await wait_resource(
        client,
        "tests",
        lambda r: r["updateCount"] == before["updateCount"] + 1 and r["buildStatus"] == "ok",
        "a rebuild",
    )

    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.disable", arguments=["greeter"])
    )
    disabled = await wait_resource(
        client, "greeter", lambda r: r["runtimeStatus"] == "disabled", "disabled"
    )
    assert disabled["enabled"] is False and disabled["pid"] is None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.enable", arguments=["greeter"])
    )
    await ready(client)


async def test_updates_report_work_done_progress_when_the_client_supports_it(
    client: LanguageClient,
) -> None:
    await ready(client)
    caps = client.capabilities
    supported = bool(caps and caps.window and caps.window.work_done_progress)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tilt.restart", arguments=["greeter"])
    )
    await ready(client)
    if not supported:
        assert client.progress_reports == {}
        return

    def finished() -> list[str]:
        return [
            token
            for token, reports in client.progress_reports.items()
            if reports
            and isinstance(reports[0], types.WorkDoneProgressBegin)
            and isinstance(reports[-1], types.WorkDoneProgressEnd)
        ]

    tokens = await wait_for(finished, what="a begun and ended progress")
    titles = {client.progress_reports[t][0].title for t in tokens}
    assert "Updating greeter" in titles and "Updating tests" in titles
