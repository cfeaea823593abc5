"""``tilt-lsp up``'s display: a live coloured table on a terminal, plain lines in a pipe, and
each problem printed once per change."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tilt_lsp.commands.tui import Problems
from tilt_lsp.diagnostics.model import Problem

GOOD = "local_resource('hello', cmd='echo hello from tui16')\n"
BROKEN = "local_resource('hello', cmd='echo hello from tui16'\n"


def _read_until(fd: int, want: str, timeout: float) -> str:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            out += chunk
            if want in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace")):
                return out.decode(errors="replace")
    raise AssertionError(
        f"no {want!r} within {timeout}s in: {out.decode(errors='replace')[-2000:]}"
    )


def test_plain_lines_in_a_pipe_print_each_problem_once(tmp_path: Path) -> None:
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text(GOOD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", "up", "--file", str(tiltfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(proc.stdout.readline())
        if "hello: up to date" in seen[-1]:
            break
    tiltfile.write_text(BROKEN)  # a save; the watcher may see it as more than one event
    while time.monotonic() < deadline:
        seen.append(proc.stdout.readline())
        if "still running the last good version" in seen[-1]:
            break
    time.sleep(1.5)  # give a second reload the time to print the same error again
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=30)
    text = "".join(seen) + rest
    assert proc.returncode == 0, text
    assert "\x1b[" not in text  # no colour codes in a pipe
    problem = [
        line
        for line in text.splitlines()
        if re.search(r"Tiltfile:1:\d+: error: syntax error", line)
    ]
    assert len(problem) == 1, text
    assert not re.search(r"\bnot_started\b|build none|runtime none", text), text


def test_live_table_on_a_terminal(tmp_path: Path) -> None:
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text(GOOD)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tilt_lsp", "up", "--file", str(tiltfile)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120", "LINES": "30", "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(follower)
    try:
        screen = _read_until(leader, "up to date", 30)
        assert "resource" in screen and "last update" in screen  # the table's header
        assert "\x1b[" in screen  # drawn with colour and cursor moves
        assert "hello from tui16" in screen  # the log tail under the table
        proc.send_signal(signal.SIGINT)
        _read_until(leader, "stopping", 30)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)


def test_problems_are_news_once_per_change() -> None:
    problems = Problems()
    boom = Problem("/w/app.py", 3, 1, "ZeroDivisionError: division by zero")
    assert [k for k, _ in problems.news({"/w/app.py": [("api", "python", boom)]})] == ["problem"]
    assert problems.news({"/w/app.py": [("api", "python", boom)]}) == []  # the same list again
    assert [k for k, _ in problems.news({"/w/app.py": []})] == ["cleared"]
    assert problems.news({"/w/app.py": []}) == []
