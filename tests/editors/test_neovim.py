"""The Neovim plugin (editors/neovim) in a real, headless Neovim 0.11.

Each Lua spec in tests/editors/neovim/ runs in its own `nvim --headless --clean` with the
plugin on the runtimepath, exactly as a user adds it; the spec records what the plugin did
(diagnostics in vim.diagnostic, completion, pids from tilt/resources, the health report) as
JSON, and each test here checks one of those records.

nvim comes from scripts/setup-neovim (.tools/neovim/venv/bin/nvim) or $TILT_LSP_NVIM. When it
is missing the tests skip, except under TILT_LSP_REQUIRE_EDITORS=1 (scripts/test), where
they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "neovim"
SPECS = Path(__file__).resolve().parent / "neovim"
EXAMPLE = REPO / "examples" / "hello-local"
MIN_VERSION = (0, 10)
SPEC_TIMEOUT_S = 120  # a safety net: the slowest spec takes ~10 s (~35 s on a loaded machine)


def _version(nvim: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def find_nvim() -> tuple[str | None, str]:
    """nvim ≥ 0.10, or None and why not."""
    candidates = [
        os.environ.get("TILT_LSP_NVIM"),
        str(REPO / ".tools" / "neovim" / "venv" / "bin" / "nvim"),
        shutil.which("nvim"),
    ]
    seen = []
    for c in candidates:
        if not c or not os.access(c, os.X_OK):
            continue
        v = _version(c)
        if v and v >= MIN_VERSION:
            return c, ""
        seen.append(f"{c} (v{v[0]}.{v[1]})" if v else f"{c} (no version)")
    why = "no Neovim ≥ 0.10"
    if seen:
        why += f" (found only {', '.join(seen)})"
    return None, why + ": run scripts/setup-neovim, or set TILT_LSP_NVIM"


def find_server() -> str:
    """The tilt-lsp executable of the Python running the tests, else the repo's .venv."""
    for c in (Path(sys.executable).parent / "tilt-lsp", REPO / ".venv" / "bin" / "tilt-lsp"):
        if os.access(c, os.X_OK):
            return str(c)
    pytest.fail("tilt-lsp is not installed next to this Python nor in .venv (pip install -e .)")


@pytest.fixture(scope="module")
def nvim() -> str:
    path, why = find_nvim()
    if path is None:
        if os.environ.get("TILT_LSP_REQUIRE_EDITORS") == "1":
            pytest.fail(f"TILT_LSP_REQUIRE_EDITORS=1 but {why}")
        pytest.skip(why)
    return path


def copy_example(root: Path) -> Path:
    """A copy of examples/hello-local at `root`, on a free port."""
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    tiltfile = root / "Tiltfile"
    text = tiltfile.read_text()
    assert "'8765'" in text, "examples/hello-local/Tiltfile no longer has the default port '8765'"
    tiltfile.write_text(text.replace("'8765'", f"'{free_port()}'"))
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("nvim") / "hello-local")


class Spec:
    """What one Lua spec recorded: results by name, notifications, and nvim's stderr."""

    def __init__(self, name: str, data: dict[str, Any], stderr: str, seconds: float) -> None:
        self.name = name
        self.results = {r["name"]: r for r in data.get("results", [])}
        self.messages = data.get("messages", [])
        self.stderr = stderr
        self.seconds = seconds
        self.lsp_log = ""

    def check(self, name: str) -> dict[str, Any]:
        """The data the spec recorded for `name`, failing with its error if it failed."""
        body = self.results.get("(spec body)")
        if body:
            pytest.fail(f"{self.name} crashed outside its specs:\n{body['error']}\n{self.stderr}")
        result = self.results.get(name)
        if result is None:
            pytest.fail(
                f"{self.name} has no spec {name!r}; it ran {list(self.results)}\n{self.stderr}"
            )
        if not result["ok"]:
            pytest.fail(
                f"{self.name}: {name}:\n{result['error']}\n--- nvim stderr ---\n{self.stderr}"
                f"\n--- Neovim's LSP log (last lines) ---\n{self.lsp_log}"
            )
        return result["data"] or {}


def run_spec(
    nvim: str, spec: str, tmp: Path, env: dict[str, str], cwd: Path, before: tuple[str, ...] = ()
) -> Spec:
    """Run tests/editors/neovim/SPEC.lua; `before` are Ex commands run before plugins load."""
    results = tmp / f"{spec}.json"
    full_env = {
        **os.environ,
        **env,
        "TILT_LSP_SPEC_DIR": str(SPECS),
        "TILT_LSP_SPEC_RESULTS": str(results),
        # A fresh XDG home: no user state, shada, or LSP log leaks in or out.
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }
    argv = [
        nvim,
        "--headless",
        "--clean",
        # --cmd runs before plugins load, so plugin/tilt_lsp.lua is sourced as for a user.
        "--cmd",
        f"set rtp+={PLUGIN}",
        *[arg for cmd in before for arg in ("--cmd", cmd)],
        "-c",
        f"luafile {SPECS / (spec + '.lua')}",
    ]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SPEC_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as err:
        stderr = (
            err.stderr.decode(errors="replace")
            if isinstance(err.stderr, bytes)
            else str(err.stderr)
        )
        pytest.fail(f"{spec} did not finish within {SPEC_TIMEOUT_S} s\n{stderr}")
    seconds = time.monotonic() - t0
    print(f"{spec}: {seconds:.1f} s")
    if not results.exists():
        pytest.fail(
            f"{spec} wrote no results (nvim exit {proc.returncode})\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    result = Spec(spec, json.loads(results.read_text()), proc.stderr, seconds)
    lsp_log = tmp / "state" / "nvim" / "lsp.log"
    if lsp_log.exists():
        tail = lsp_log.read_text(errors="replace").splitlines()[-20:]
        result.lsp_log = "\n".join(line[:400] + (" …" if len(line) > 400 else "") for line in tail)
    return result


@pytest.fixture(scope="module")
def setup_spec(nvim: str, tmp_path_factory: pytest.TempPathFactory) -> Spec:
    tmp = tmp_path_factory.mktemp("setup_spec")
    return run_spec(nvim, "setup_spec", tmp, {}, cwd=tmp)


@pytest.fixture(scope="module")
def loop_spec(nvim: str, workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Spec:
    tmp = tmp_path_factory.mktemp("loop_spec")
    outside = tmp / "outside" / "notes.txt"
    outside.parent.mkdir()
    outside.write_text("not under any Tiltfile\n")
    env = {
        "TILT_LSP_WORKSPACE": str(workspace),
        "TILT_LSP_WORKSPACE2": str(copy_example(tmp / "second-root")),
        "TILT_LSP_SERVER": find_server(),
        "TILT_LSP_OUTSIDE": str(outside),
    }
    # Configured as a user would in init.lua: plugin/ then runs setup() at start-up.
    before = ("lua vim.g.tilt_lsp = { cmd = { vim.env.TILT_LSP_SERVER, 'serve' } }",)
    return run_spec(nvim, "loop_spec", tmp, env, cwd=workspace, before=before)


@pytest.fixture(scope="module")
def features_spec(nvim: str, tmp_path_factory: pytest.TempPathFactory) -> Spec:
    tmp = tmp_path_factory.mktemp("features_spec")
    ws = copy_example(tmp / "hello-local")
    env = {"TILT_LSP_WORKSPACE": str(ws), "TILT_LSP_SERVER": find_server()}
    before = ("lua vim.g.tilt_lsp = { cmd = { vim.env.TILT_LSP_SERVER, 'serve' } }",)
    return run_spec(nvim, "features_spec", tmp, env, cwd=ws, before=before)


@pytest.fixture(scope="module")
def health_spec(nvim: str, workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Spec:
    tmp = tmp_path_factory.mktemp("health_spec")
    env = {"TILT_LSP_WORKSPACE": str(workspace), "TILT_LSP_SERVER": find_server()}
    return run_spec(nvim, "health_spec", tmp, env, cwd=workspace)


# --- the plugin without a server --------------------------------------------------------


def test_plugin_defines_tilt_command_lazily(setup_spec: Spec) -> None:
    data = setup_spec.check(":Tilt is defined by plugin/ without loading the plugin's modules")
    assert data["command_exists"] and not data["commands_loaded"]


def test_subcommands_complete(setup_spec: Spec) -> None:
    data = setup_spec.check("subcommands complete without a server")
    assert data["re"] == ["rebuild", "restart"]


def test_bad_option_is_a_readable_error(setup_spec: Spec) -> None:
    data = setup_spec.check("a wrongly typed option is a readable error naming it")
    assert (
        data["watch"] == "tilt_lsp: invalid option watch: expected boolean, got string (in setup())"
    )


def test_unknown_option_suggests_the_right_one(setup_spec: Spec) -> None:
    data = setup_spec.check("an unknown option is an error that suggests the right name")
    assert "unknown option 'wacth' (did you mean 'watch'?)" in data["msg"]


def test_bad_global_option_names_vim_g(setup_spec: Spec) -> None:
    data = setup_spec.check("a bad option in vim.g.tilt_lsp says where it came from")
    assert data["msg"].endswith("(in vim.g.tilt_lsp)")


def test_global_and_setup_options_merge(setup_spec: Spec) -> None:
    data = setup_spec.check("vim.g.tilt_lsp and setup() options merge, setup() winning")
    assert data["init_options"] == {"watch": False, "logNotifications": True}


def test_command_without_server_says_what_to_do(setup_spec: Spec) -> None:
    data = setup_spec.check(":Tilt with no server says what to do")
    assert "open a file under a folder with a Tiltfile" in data["msg"]


def test_help_file(setup_spec: Spec) -> None:
    data = setup_spec.check("the help file indexes, and documents every option and subcommand")
    assert ":Tilt" in data["tags"] and "tilt_lsp.setup()" in data["tags"]


# --- the loop: hello-local in a real Neovim ------------------------------------------------


def test_global_options_run_setup_at_startup(loop_spec: Spec) -> None:
    loop_spec.check("vim.g.tilt_lsp set before start-up runs setup()")


def test_one_client_per_root(loop_spec: Spec, workspace: Path) -> None:
    data = loop_spec.check("one client per Tiltfile root, none outside")
    assert data["clients"] == 1 and data["outside_clients"] == 0
    assert data["root_dir"] == str(workspace)


def test_second_root_gets_its_own_client(loop_spec: Spec, workspace: Path) -> None:
    data = loop_spec.check("a second Tiltfile root gets its own client; :Tilt there talks to it")
    assert len(data["roots"]) == 2 and data["left"] == [str(workspace)]


def test_resources_come_up(loop_spec: Spec) -> None:
    assert loop_spec.check("the resources come up")["pid"] > 0


def test_statusline_follows_status(loop_spec: Spec) -> None:
    data = loop_spec.check("the statusline and User TiltStatus follow tilt/status")
    assert data["statusline"] == "tilt: ok" and data["status_events"] > 0


def test_restart_completion_lists_resources(loop_spec: Spec) -> None:
    data = loop_spec.check("completion of :Tilt restart lists the resources")
    assert data["restart"] == ["greeter", "tests"]


def test_broken_save_diagnostic_on_its_line_then_cleared(loop_spec: Spec) -> None:
    data = loop_spec.check("a save with the bug puts a TypeError on its line; the fix clears it")
    hits = [d for d in data["diagnostics"] if d["lnum"] == 5 and "TypeError" in d["message"]]
    assert hits, data["diagnostics"]
    assert hits[0]["source"].startswith("tilt-lsp (")
    assert any(q["file"].endswith("greeting.py") and q["lnum"] == 6 for q in data["qflist"])
    assert data["after_ready"] == []
    assert re.fullmatch(r"tilt: \d+ errors?", data["statusline_broken"])
    print(
        f"diagnostic {data['seconds_to_diagnostic']:.2f} s after the save, "
        f"cleared {data['seconds_to_clear']:.2f} s after the fix"
    )


def test_tilt_restart_changes_pid(loop_spec: Spec) -> None:
    data = loop_spec.check(
        ":Tilt restart greeter restarts it (new pid), and its log buffer follows"
    )
    assert data["pid_after"] != data["pid_before"]


def test_tilt_logs_buffer_follows(loop_spec: Spec) -> None:
    loop_spec.check(":Tilt logs follows the resource's log")
    data = loop_spec.check(
        ":Tilt restart greeter restarts it (new pid), and its log buffer follows"
    )
    assert data["listening_after"] > data["listening_before"]


def test_tilt_rebuild_picks_resource_and_rebuilds(loop_spec: Spec) -> None:
    data = loop_spec.check(":Tilt rebuild with no resource asks which, then rebuilds it")
    assert data["items"] == ["greeter", "tests"]
    assert data["update_count"][1] > data["update_count"][0]


def test_tiltfile_log(loop_spec: Spec) -> None:
    loop_spec.check(":Tilt logs (Tiltfile) shows the Tiltfile's own output")


def test_unknown_resource_error(loop_spec: Spec) -> None:
    data = loop_spec.check(":Tilt restart of an unknown resource shows the server's error")
    assert "nope" in data["msg"] and "greeter" in data["msg"]


def test_tilt_stop_ends_server_and_processes(loop_spec: Spec) -> None:
    loop_spec.check(":Tilt stop stops the server and what it started")


def test_tilt_status_float(loop_spec: Spec) -> None:
    data = loop_spec.check(":Tilt status shows every resource in a float")
    assert "greeter" in data["text"] and "tests" in data["text"]


def test_tilt_disable_enable(loop_spec: Spec) -> None:
    data = loop_spec.check(":Tilt disable / enable")
    assert data["enable_completion"] == ["greeter"]


def test_follow_logs_off(loop_spec: Spec) -> None:
    data = loop_spec.check("follow_logs = false: no log notifications, :Tilt logs is a snapshot")
    assert data["init_options"]["logNotifications"] is False


# --- :checkhealth ---------------------------------------------------------------------------


def test_checkhealth_ok(health_spec: Spec) -> None:
    text = health_spec.check(":checkhealth tilt_lsp with the server installed and a Tiltfile")[
        "text"
    ]
    print(text)
    assert "ERROR" not in text, text
    assert "OK tilt-lsp " in text and "OK Neovim 0.1" in text, text


def test_checkhealth_missing_server_is_an_error(health_spec: Spec) -> None:
    text = health_spec.check(":checkhealth tilt_lsp with a server command that does not exist")[
        "text"
    ]
    assert re.search(r"ERROR server command not found: tilt-lsp-not-installed", text), text


# --- Tiltfile features: hover, completion, code lenses, the status window ------------------


def test_tiltfile_filetype(features_spec: Spec) -> None:
    assert features_spec.check("a Tiltfile gets the tiltfile filetype")["filetype"] == "tiltfile"


def test_hover_on_a_tilt_function(features_spec: Spec) -> None:
    data = features_spec.check("hover on local_resource shows the catalog's docs")
    assert "local_resource(name: str" in data["hover"]


def test_completion_of_functions_and_keywords(features_spec: Spec) -> None:
    data = features_spec.check("completion offers Tilt functions and keyword arguments")
    assert "docker_build" in data["functions"] and "serve_cmd=" in data["keywords"]


def test_code_lens_shows_state_and_actions(features_spec: Spec) -> None:
    data = features_spec.check("a code lens over greeter shows its state, last update and actions")
    assert any(t.startswith("● greeter: ready · updated ") for t in data["titles"])


def test_code_lens_restart(features_spec: Spec) -> None:
    data = features_spec.check(
        "running the ↻ Restart lens restarts greeter (new pid), and the lens follows"
    )
    assert "↻ Restart" in data["offered"]
    assert data["after"] != data["before"]


def test_tilt_status_window_follows_status(features_spec: Spec) -> None:
    data = features_spec.check(":Tilt opens the status window, which follows tilt/status")
    assert "ENDPOINTS" in data["text"] and "not_started" not in data["text"]
