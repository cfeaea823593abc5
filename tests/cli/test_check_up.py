"""The headless commands over the same engine: check (one shot) and up (until Ctrl-C)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.lsp.rawclient import MARKER_VAR, marked_processes
from tests.support import free_port, run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-local"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "hello"
    shutil.copytree(EXAMPLE, root)
    tiltfile = root / "Tiltfile"
    tiltfile.write_text(tiltfile.read_text().replace("'8765'", f"'{free_port()}'"))
    return root


def test_check_passes_on_the_example(example: Path) -> None:
    proc = run_cli("check", "--file", str(example))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "2 resources, 2 ok, 0 error(s)" in proc.stderr


def test_check_json_reports_the_crash_on_its_line_and_exits_1(example: Path) -> None:
    greeting = example / "greeting.py"
    greeting.write_text(greeting.read_text().replace('+ "!"', "+ 1"))
    proc = run_cli("check", "--file", str(example), "--format", "json", "--quiet")
    assert proc.returncode == 1
    items = [json.loads(line) for line in proc.stdout.splitlines()]
    on_source = [i for i in items if i["path"] == str(greeting)]
    assert on_source and all(i["line"] == 6 and i["severity"] == "error" for i in on_source)
    assert "TypeError: can only concatenate str" in on_source[0]["message"]
    assert {i["resource"] for i in on_source} == {"tests"}  # greeter never started: tests failed
    keys = {"path", "line", "column", "severity", "message", "source", "resource"}
    assert all(keys <= set(i) for i in items)


def test_check_reports_a_tiltfile_error(example: Path) -> None:
    (example / "Tiltfile").write_text("local_resource('x', cmd='true', bogus=1)\n")
    proc = run_cli("check", "--file", str(example), "--quiet")
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        f"{example}/Tiltfile:1:33: error: local_resource() got an unexpected keyword argument 'bogus'"
    )


def test_check_times_out_on_a_resource_that_never_gets_ready(example: Path) -> None:
    (example / "Tiltfile").write_text(
        "local_resource('slow', serve_cmd='sleep 60', readiness_probe=probe(exec=exec_action(['false']), period_secs=1))\n"
    )
    t0 = time.monotonic()
    proc = run_cli("check", "--file", str(example), "--timeout", "2")
    assert time.monotonic() - t0 < 20
    assert proc.returncode == 1  # a check that could not finish did not pass
    assert "timed out after 2s waiting for: slow" in proc.stderr


def test_up_runs_until_interrupted_and_stops_what_it_started(example: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", "up", "--file", str(example)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    pid = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if "greeter: ready (pid" in line:
            pid = int(line.split("(pid ")[1].split(")")[0])
            break
    assert pid is not None, "".join(seen)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopping" in out
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


STUBBORN = """
local_resource('shell', serve_cmd='sleep 300 & sleep 301 & wait',
               readiness_probe=probe(exec=exec_action(['false']), period_secs=1))
local_resource('stubborn', serve_cmd="trap '' TERM; sleep 302 & wait")
local_resource('slow-build', cmd='sleep 303')
"""


@pytest.mark.parametrize(
    ("command", "sig"),
    [("check", signal.SIGTERM), ("check", signal.SIGHUP), ("up", signal.SIGHUP)],
)
def test_a_signal_stops_every_process_the_command_started(
    tmp_path: Path, command: str, sig: signal.Signals
) -> None:
    (tmp_path / "Tiltfile").write_text(STUBBORN)
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", command, "--file", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, MARKER_VAR: marker},
    )
    try:
        deadline = time.monotonic() + 30
        # shell + 2 sleeps, stubborn sh + sleep, slow-build's sleep (and maybe its sh)
        while len(marked_processes(marker)) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(marked_processes(marker)) >= 6
        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while marked_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marked_processes(marker) == []
        assert proc.returncode == (0 if command == "up" else 128 + sig)
    finally:
        proc.kill()
        for pid in marked_processes(marker):
            os.kill(pid, signal.SIGKILL)
