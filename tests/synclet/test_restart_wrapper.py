"""``restart: process`` with synclet/restart-wrapper.sh: the app restarts without the container.

The wrapper is bind-mounted into a container of the offline base image; the app records each
start (its pid and the synced message) in /tmp/runs. A crash leaves the container up, so the
next live update can fix and restart the app with no rebuild.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from synclet.archive import build_archive
from synclet.protocol import Restarted, UpdateSpec
from tests.support import until
from tests.synclet.helpers import Synclet, exec_out, post_update, run_container

pytestmark = pytest.mark.docker

WRAPPER = Path(__file__).resolve().parents[2] / "synclet" / "restart-wrapper.sh"
APP = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.3), sys.exit(0)))  # a slow shutdown\n"
    "m = open('/app/msg.txt').read().strip()\n"
    "open('/tmp/runs', 'a').write(f'{os.getpid()} {m}\\n')\n"
    "if m == 'crash':\n"
    "    raise SystemExit(3)\n"
    "time.sleep(1e6)\n"
)


def _apps(container: Any) -> int:
    """How many app processes (``python3 -c``) run in the container."""
    script = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done"
    return sum(
        line.startswith("python3 -c")
        for line in exec_out(container, "sh", "-c", script).splitlines()
    )


async def _runs(container: Any, count: int) -> list[str]:
    """The app's first ``count`` (or more) recorded starts, once there are that many."""

    def runs() -> list[str] | None:
        code, out = container.exec_run(["cat", "/tmp/runs"])
        lines: list[str] = out.decode().splitlines() if code == 0 else []
        return lines if len(lines) >= count else None

    lines: list[str] = await until(runs, timeout=10, what=f"{count} app start(s) in /tmp/runs")
    return lines


async def test_process_restart_through_the_wrapper(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    container = run_container(
        docker_client,
        docker_resources,
        base_image,
        command=[
            "sh",
            "-c",
            'mkdir -p /app && echo v1 > /app/msg.txt && exec sh /restart-wrapper.sh python3 -c "$APP"',
        ],
        environment={"APP": APP},
        volumes={str(WRAPPER): {"bind": "/restart-wrapper.sh", "mode": "ro"}},
        labels={"dev.tilt-lsp.restart-signal": "SIGHUP"},
    )
    first = await _runs(container, 1)
    assert [line.split()[1] for line in first] == ["v1"]

    async def save(message: str) -> list[str]:
        local = tmp_path / "msg.txt"
        local.write_text(message + "\n")
        spec = UpdateSpec((), ("/app/msg.txt",), (), "process")
        reply = await post_update(
            synclet, container.id, spec, build_archive([(str(local), "/app/msg.txt")])
        )
        assert reply.names() == ["started", "extracted", "restarted", "done"], reply.events
        assert reply.events[2] == Restarted(mode="process")
        return reply.names()

    await save("v2")
    runs = await _runs(container, 2)
    assert [line.split()[1] for line in runs] == ["v1", "v2"]
    assert runs[0].split()[0] != runs[1].split()[0]  # a new process

    # A save that crashes the app: the container stays up with its synced files...
    await save("crash")
    assert [line.split()[1] for line in await _runs(container, 3)][-1] == "crash"
    await asyncio.sleep(0.2)
    container.reload()
    assert container.status == "running"
    # ...and the next save fixes it through the same live update, no rebuild.
    await save("v3")
    assert [line.split()[1] for line in await _runs(container, 4)] == ["v1", "v2", "crash", "v3"]
    assert exec_out(container, "cat", "/app/msg.txt") == "v3\n"

    # A burst of restart signals never leaves two apps running.
    for _ in range(3):
        container.kill(signal="SIGHUP")
    assert _apps(container) == 1  # the old app is still stopping: no new one yet
    await asyncio.sleep(1.5)
    assert _apps(container) == 1

    # SIGTERM still stops the container promptly (the wrapper stops the app and exits).
    t0 = time.monotonic()
    container.stop(timeout=5)
    assert time.monotonic() - t0 < 3
