"""``tilt-lsp serve --log-file F``: the server's log goes to F, and only there.

A real ``tilt-lsp serve`` process over stdio, driven by a minimal LSP client (initialize,
initialized, shutdown, exit, each waited for as an editor does).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tilt_lsp import __version__


def _frame(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read(proc: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    assert proc.stdout is not None
    length = 0
    while True:
        line = proc.stdout.readline()
        if not line:
            return None
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        if line in (b"\r\n", b"\n"):
            break
    message: dict[str, Any] = json.loads(proc.stdout.read(length))
    return message


def _request(proc: subprocess.Popen[bytes], id_: int, method: str, params: Any = None) -> None:
    assert proc.stdin is not None
    proc.stdin.write(_frame({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}))
    proc.stdin.flush()
    while (reply := _read(proc)) is not None and reply.get("id") != id_:
        pass
    assert reply is not None, f"the server closed stdout before answering {method}"


def _notify(proc: subprocess.Popen[bytes], method: str, params: Any = None) -> None:
    assert proc.stdin is not None
    proc.stdin.write(_frame({"jsonrpc": "2.0", "method": method, "params": params}))
    proc.stdin.flush()


def _session(
    workspace: Path, *args: str, linger: float = 0.0
) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", "serve", *args],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        params = {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}
        _request(proc, 1, "initialize", params)
        _notify(proc, "initialized", {})
        time.sleep(linger)
        _request(proc, 2, "shutdown")
        _notify(proc, "exit")
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", stderr)


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "Tiltfile").write_text("local_resource('hello', cmd='true')\n")
    return ws


def test_the_log_file_receives_the_servers_log(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    log = tmp_path / "logs" / "serve.log"
    log.parent.mkdir()
    done = _session(ws, "--log-file", str(log))
    assert done.returncode == 0, done.stderr.decode()
    text = log.read_text()
    assert f"tilt_lsp.serve INFO tilt-lsp {__version__}: language server on stdio" in text
    assert "tilt_lsp.serve INFO tilt-lsp: language server stopped" in text
    assert done.stderr == b""  # the log went to the file, not to stderr


def test_without_a_log_file_stderr_gets_problems_only(tmp_path: Path) -> None:
    # Editors keep the server's stderr (Neovim writes it to its LSP log): no chatter there.
    done = _session(_workspace(tmp_path))
    assert done.returncode == 0
    chatter = [
        line for line in done.stderr.decode().splitlines() if re.search(r" (INFO|DEBUG) ", line)
    ]
    assert chatter == []


def test_debug_logs_the_lsp_traffic_without_feeding_on_its_own_file(tmp_path: Path) -> None:
    # The log file inside the watched workspace: each line written is a file event; with
    # watchdog's DEBUG lines in the log, that was a loop of megabytes per second.
    ws = _workspace(tmp_path)
    log = ws / "serve.log"
    done = _session(ws, "--log-file", str(log), "--log-level", "DEBUG", linger=2.0)
    assert done.returncode == 0, done.stderr.decode()
    text = log.read_text()
    assert "pygls.protocol.json_rpc DEBUG Request 'initialize' received" in text
    assert re.search(r" watchdog\S* DEBUG ", text) is None
    assert len(text) < 200_000, f"{len(text)} bytes of log in 2 s"


def test_a_log_file_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tilt_lsp", "serve", "--log-file", str(tmp_path / "no" / "x.log")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"tilt-lsp serve: cannot write --log-file" in done.stderr
