"""The restart wrapper is POSIX sh: the same behaviour under Debian's dash, BusyBox ash and
bash, as host processes (no Docker): SIGHUP restarts the app, an app that exits by itself is
reported in one line and waited for, SIGTERM stops both, an app that ignores SIGTERM is
killed after the grace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tilt_lsp.build.finish import app_exit_code

WRAPPER = Path(__file__).resolve().parents[2] / "synclet" / "restart-wrapper.sh"

APP = """import os, signal, sys, time
runs, flag = sys.argv[1], sys.argv[2]
if os.path.exists(flag + ".ignore"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(runs, "a") as f:
    f.write(f"{os.getpid()}\\n")
if os.path.exists(flag):
    sys.exit(3)
while True:
    time.sleep(1)
"""

SHELLS = {
    "dash": ["dash"],
    "busybox ash": ["busybox", "sh"],
    "bash": ["bash", "--posix"],
}


def test_dash_is_there() -> None:
    assert shutil.which("dash")  # Debian's /bin/sh: the shell most images have


@pytest.fixture(params=list(SHELLS))
def wrapped(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    if not shutil.which(SHELLS[request.param][0]):
        pytest.skip(f"{request.param} is not installed here (apt install busybox-static)")
    runs, flag = tmp_path / "runs", tmp_path / "flag"
    proc = subprocess.Popen(
        [*SHELLS[request.param], str(WRAPPER), sys.executable, "-c", APP, str(runs), str(flag)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "RESTART_WRAPPER_GRACE": "1"},
    )
    try:
        yield proc, runs, flag
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _pids(runs: Path, count: int, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(x) for x in runs.read_text().split()] if runs.exists() else []
        if len(pids) >= count:
            return pids
        time.sleep(0.02)
    raise AssertionError(f"{count} app starts not recorded")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie the wrapper has not reaped yet counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_hup_restarts_crash_is_reported_term_stops(
    wrapped: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    proc, runs, flag = wrapped
    (first,) = _pids(runs, 1)
    proc.send_signal(signal.SIGHUP)
    second = _pids(runs, 2)[1]
    assert second != first and not _alive(first)

    flag.write_text("crash")  # the next start exits with code 3
    proc.send_signal(signal.SIGHUP)
    _pids(runs, 3)
    time.sleep(0.5)
    assert proc.poll() is None  # the wrapper outlives the app

    flag.unlink()
    proc.send_signal(signal.SIGHUP)
    fourth = _pids(runs, 4)[3]
    assert _alive(fourth)

    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 143
    assert time.monotonic() - t0 < 2
    assert not _alive(fourth)
    assert proc.stderr is not None
    codes = [
        c for line in proc.stderr.read().splitlines() if (c := app_exit_code(line)) is not None
    ]
    assert codes == [3]  # reported once, in the line tilt-lsp reads


def test_an_app_ignoring_sigterm_is_killed_after_the_grace(
    wrapped: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    proc, runs, flag = wrapped
    _pids(runs, 1)  # an ordinary first run; the next one ignores SIGTERM
    Path(str(flag) + ".ignore").write_text("")
    proc.send_signal(signal.SIGHUP)
    stubborn = _pids(runs, 2)[1]
    t0 = time.monotonic()
    proc.send_signal(signal.SIGHUP)
    third = _pids(runs, 3)[2]
    elapsed = time.monotonic() - t0
    assert 0.8 < elapsed < 5, elapsed  # RESTART_WRAPPER_GRACE=1
    assert not _alive(stubborn) and _alive(third)
