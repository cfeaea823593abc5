"""VS Code, for real: code-server in headless Chromium with the packaged extension.

tests/editors/vscode/drive.mjs does what a user does (edit greeting.py, Ctrl+S, open
Problems, run "Tilt: Restart Resource" from the palette) and reports each step; this test
prepares the workspace, runs it, and asserts step by step. ``scripts/setup-vscode``
installs the tools under .tools/vscode/; without them the test skips, or fails when
TILT_LSP_REQUIRE_EDITORS=1 (scripts/test sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "hello-local"
DRIVER = Path(__file__).resolve().parent / "vscode" / "drive.mjs"
TOOLS = Path(os.environ.get("TILT_LSP_VSCODE_TOOLS", REPO / ".tools" / "vscode"))
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOT = ARTIFACTS / "vscode-problems.png"
DRIVE_TIMEOUT_S = 240
MARKER_ENV = "TILT_LSP_VSCODE_TEST_RUN"


def server_path() -> Path:
    """The repo venv's tilt-lsp, else the one next to the running interpreter."""
    for candidate in (
        REPO / ".venv" / "bin" / "tilt-lsp",
        Path(sys.executable).parent / "tilt-lsp",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return REPO / ".venv" / "bin" / "tilt-lsp"


def tools() -> dict[str, Path]:
    return {
        "node": TOOLS / "node" / "node_modules" / "node" / "bin" / "node",
        "codeServer": TOOLS / "code-server" / "node_modules" / "code-server" / "out/node/entry.js",
        "playwrightCore": TOOLS / "driver" / "node_modules" / "playwright-core",
        "vsix": TOOLS / "tilt-lsp.vsix",
        "chromium": CHROMIUM,
        "serverPath": server_path(),
    }


def editors_required() -> bool:
    return os.environ.get("TILT_LSP_REQUIRE_EDITORS") == "1"


@pytest.fixture
def vscode_tools() -> dict[str, Path]:
    missing = [f"{name} ({path})" for name, path in tools().items() if not path.exists()]
    if not missing:
        # The .vsix must be built from the extension as it is now, not from an older one.
        check = subprocess.run(
            [str(REPO / "scripts" / "setup-vscode"), "--check"], capture_output=True, text=True
        )
        if check.returncode != 0:
            missing.append(check.stdout.strip() or check.stderr.strip())
    if missing:
        reason = (
            "VS Code test tools not ready: " + ", ".join(missing) + "; run ./scripts/setup-vscode"
        )
        if editors_required():
            pytest.fail(reason + " (required: TILT_LSP_REQUIRE_EDITORS=1)", pytrace=False)
        pytest.skip(reason + " (set TILT_LSP_REQUIRE_EDITORS=1 to make this a failure)")
    return tools()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of examples/hello-local with the greeter on a free port, and a slow manual
    resource."""
    root = tmp_path / "hello-local"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    tiltfile = root / "Tiltfile"
    text = tiltfile.read_text()
    assert "'8765'" in text, "examples/hello-local/Tiltfile no longer has the default port '8765'"
    # A manual resource that takes a while: its update shows a progress notification.
    slow = (
        "\nlocal_resource('report', cmd='sleep 2 && echo report ready',\n"
        "    trigger_mode=TRIGGER_MODE_MANUAL, auto_init=False)\n"
    )
    tiltfile.write_text(text.replace("'8765'", f"'{free_port()}'") + slow)
    return root


def marked_pids(marker: str) -> list[int]:
    """Processes whose environment carries this run's marker: code-server and all it started."""
    needle = f"{MARKER_ENV}={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids


def kill_marked(marker: str) -> list[int]:
    """Kill what drive.mjs left behind (e.g. code-server's file watcher, which outlives it)."""
    pids = marked_pids(marker)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and (pids := marked_pids(marker)):
            time.sleep(0.1)
        if not pids:
            break
    return pids


@pytest.fixture
def run_marker() -> Iterator[str]:
    marker = uuid.uuid4().hex
    yield marker
    leftover = kill_marked(marker)
    assert not leftover, f"processes survived the test: {leftover}"


def drive(config: dict[str, Any], tmp: Path) -> tuple[dict[str, Any], str]:
    config_file = tmp / "drive.json"
    config_file.write_text(json.dumps(config))
    proc = subprocess.run(
        [str(config["node"]), str(DRIVER), str(config_file)],
        capture_output=True,
        text=True,
        timeout=DRIVE_TIMEOUT_S + 30,
        env={**os.environ, MARKER_ENV: config["env"][MARKER_ENV]},
    )
    result_file = Path(config["result"])
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    log = f"drive.mjs exit {proc.returncode}\n--- stderr ---\n{proc.stderr[-6000:]}\n--- stdout ---\n{proc.stdout[-2000:]}"
    return result, log


def test_vscode_problems_restart_and_status(
    vscode_tools: dict[str, Path], workspace: Path, tmp_path: Path, run_marker: str
) -> None:
    scratch = tmp_path / "code-server"
    scratch.mkdir()
    config: dict[str, Any] = {k: str(v) for k, v in vscode_tools.items()}
    config.update(
        workspace=str(workspace),
        tmp=str(scratch),
        port=free_port(),
        result=str(tmp_path / "result.json"),
        screenshot=str(SCREENSHOT),
        timeoutMs=DRIVE_TIMEOUT_S * 1000,
        env={MARKER_ENV: run_marker},
    )
    result, log = drive(config, tmp_path)
    # Kept for a look after the run: what each step saw, and code-server's own log.
    ARTIFACTS.mkdir(exist_ok=True)
    for src, name in (
        (scratch / "code-server.log", "vscode-code-server.log"),
        (Path(config["result"]), "vscode-result.json"),
    ):
        if src.exists():
            shutil.copy(src, ARTIFACTS / name)
    steps = {s["name"]: s for s in result.get("steps", [])}
    report = "\n".join(
        f"  {'ok ' if s['ok'] else 'FAIL'} {s['seconds']:6.1f}s  {s['name']}"
        for s in result.get("steps", [])
    )
    context = f"steps:\n{report}\nstatus bar: {result.get('statusTexts')}\nerror: {result.get('error')}\n{log}"

    def passed(prefix: str) -> dict[str, Any]:
        found = [s for name, s in steps.items() if name.startswith(prefix)]
        assert found and all(s["ok"] for s in found), f"step {prefix!r} did not pass\n{context}"
        last: dict[str, Any] = found[-1]
        return last

    passed("extension starts tilt-lsp")
    a = passed("(a)")
    assert any(
        p["file"] == "greeting.py" and "TypeError" in p["text"] and "[Ln 6," in p["text"]
        for p in a["detail"]
    ), context
    fixes = passed("quick fixes on the crash")
    assert "tilt-lsp: greeter" in fixes["detail"]["source"], context
    passed("(b)")
    c = passed("(c)")
    assert c["detail"]["after"] != c["detail"]["beforeRestart"], context
    passed("(d) status bar shows the errors")
    passed("(d) status bar back to ok")
    passed("Tilt: Show Logs")
    passed("inline Rebuild")
    passed("tilt-lsp crashes")
    passed("Tilt: Restart Language Server")
    passed("Tilt: Open Tiltfile")
    hover = passed("hover on local_resource")
    assert "local_resource(name: str" in hover["detail"], context
    passed("code lens over greeter")
    lens = passed("code lens ↻ Restart")
    assert lens["detail"]["after"] != lens["detail"]["before"], context
    trigger = passed("code lens ▶ Trigger on the manual 'report'")
    assert "updating report" in trigger["detail"]["progress"], context
    view = passed("the Tilt activity-bar view")
    assert "http://localhost:" in view["detail"]["endpoint"], context
    assert result.get("ok"), context
    assert SCREENSHOT.exists()
    for extra in ("codelens", "view"):
        assert (ARTIFACTS / f"vscode-problems-{extra}.png").exists()
