"""Live updates applied for real: files, deletes, run steps, restarts, and each failure kind."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synclet.archive import build_archive
from synclet.protocol import (
    UPDATE_CONTENT_TYPE,
    Deleted,
    Done,
    Event,
    Extracted,
    Failed,
    Output,
    Restarted,
    RunStep,
    Started,
    StepExited,
    StepStarted,
    UpdateSpec,
    encode_request,
    update_path,
)
from tests.synclet.helpers import Synclet, exec_out, post_update, run_container

pytestmark = pytest.mark.docker


def _files(tmp_path: Path, **contents: str) -> list[tuple[str, str]]:
    """Local files named after their keys (``src__a_py`` → /app/src/a.py) for an archive."""
    pairs = []
    for key, text in contents.items():
        rel = key.replace("__", "/").replace("_py", ".py").replace("_txt", ".txt")
        local = tmp_path / rel.replace("/", "-")
        local.write_text(text)
        pairs.append((str(local), f"/app/{rel}"))
    return pairs


@pytest.fixture
def app_container(docker_client: Any, base_image: str, docker_resources: Any) -> Any:
    """A Python web server serving /app, with an old file to delete."""
    container = run_container(
        docker_client,
        docker_resources,
        base_image,
        command=["python3", "-m", "http.server", "8000", "--directory", "/"],
    )
    exec_out(container, "sh", "-c", "mkdir -p /app/src && echo old > /app/old.txt")
    return container


async def test_normal_update_event_sequence_and_effects(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    pairs = _files(tmp_path, src__main_py="print('v2')\n", requirements_txt="flask\n")
    os.chmod(pairs[0][0], 0o750)
    os.utime(pairs[0][0], (1_700_000_000, 1_700_000_000))
    spec = UpdateSpec(
        deletes=("/app/old.txt",),
        changed=("/app/src/main.py", "/app/requirements.txt"),
        run_steps=(
            RunStep(
                ("sh", "-c", "cat /app/requirements.txt; echo installed > /app/step0"),
                ("/app/requirements.txt",),
            ),
            RunStep(("sh", "-c", "echo never > /app/step1"), ("/app/package.json",)),
            RunStep(
                ("sh", "-c", "echo out; echo err >&2; ls /app/old.txt 2>/dev/null || echo gone")
            ),
        ),
        restart="container",
        dest="/",
    )
    app_container.reload()
    started_at = app_container.attrs["State"]["StartedAt"]
    reply = await post_update(synclet, app_container.id, spec, build_archive(pairs))
    assert reply.status == 200
    events = reply.events
    assert events[:3] == [
        Started(),
        Deleted(count=1),
        # A root container: the archive API gives the same owners as tar, in one call.
        Extracted(files=2, bytes=len("print('v2')\n") + len("flask\n"), method="archive-api"),
    ]
    assert events[3:6] == [
        StepStarted(index=0, command=spec.run_steps[0].command),
        Output(index=0, line="flask"),
        StepExited(index=0, exit_code=0),
    ]
    # Step 1 is not triggered by these changes: skipped, step 2 always runs.
    assert events[6] == StepStarted(index=2, command=spec.run_steps[2].command)
    assert sorted(e.line for e in events[7:10] if isinstance(e, Output)) == ["err", "gone", "out"]
    assert events[10:12] == [StepExited(index=2, exit_code=0), Restarted(mode="container")]
    assert isinstance(events[12], Done) and len(events) == 13

    app_container.reload()
    assert app_container.status == "running"
    assert app_container.attrs["State"]["StartedAt"] != started_at
    listing = exec_out(
        app_container,
        "sh",
        "-c",
        "stat -c '%a %Y %n' /app/src/main.py; cat /app/src/main.py /app/step0; ls /app",
    )
    assert listing.splitlines()[:3] == [
        "750 1700000000 /app/src/main.py",
        "print('v2')",
        "installed",
    ]
    assert "old.txt" not in listing and "step1" not in listing


async def test_dest_that_does_not_exist_yet_is_created(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    local = tmp_path / "x.txt"
    local.write_text("fresh\n")
    spec = UpdateSpec(
        deletes=(), changed=("/srv/new/x.txt",), run_steps=(), restart="none", dest="/srv/new"
    )
    reply = await post_update(
        synclet,
        app_container.id,
        spec,
        build_archive([(str(local), "/srv/new/x.txt")], dest="/srv/new"),
    )
    assert reply.names() == ["started", "extracted", "done"]
    assert exec_out(app_container, "cat", "/srv/new/x.txt") == "fresh\n"


async def test_failing_run_step_is_a_user_failure_with_its_output(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    spec = UpdateSpec(
        deletes=(),
        changed=("/app/src/main.py",),
        run_steps=(
            RunStep(("sh", "-c", "echo compiling; echo 'main.py:3: error: boom' >&2; exit 3")),
            RunStep(("sh", "-c", "echo never > /app/after")),
        ),
        restart="container",
    )
    app_container.reload()
    started_at = app_container.attrs["State"]["StartedAt"]
    reply = await post_update(
        synclet, app_container.id, spec, build_archive(_files(tmp_path, src__main_py="x\n"))
    )
    assert reply.names()[-3:] == ["output", "step_exited", "failed"]
    lines = sorted(e.line for e in reply.events if isinstance(e, Output))
    assert lines == ["compiling", "main.py:3: error: boom"]
    assert StepExited(index=0, exit_code=3) in reply.events
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "user"
    assert "run step 0 (sh -c" in failed.message and "exited with code 3" in failed.message
    # Stopped there: no later step, no restart; the synced file is in place.
    app_container.reload()
    assert app_container.attrs["State"]["StartedAt"] == started_at
    assert (
        exec_out(app_container, "sh", "-c", "cat /app/src/main.py; ls /app") == "x\nold.txt\nsrc\n"
    )


async def test_no_tar_in_the_image_falls_back_to_the_archive_api(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    builder = run_container(docker_client, docker_resources, base_image)
    exec_out(builder, "rm", "-f", "/usr/bin/tar", "/bin/tar")
    image = docker_resources.track_image(
        builder.commit(
            repository="tilt-lsp-test/synclet-notar",
            tag=os.urandom(6).hex(),
            conf={"Labels": docker_resources.labels},
        )
    )
    container = run_container(docker_client, docker_resources, image.id)
    assert container.exec_run(["tar", "--version"]).exit_code != 0
    reply = await post_update(
        synclet,
        container.id,
        UpdateSpec(deletes=(), changed=("/app/a.py",), run_steps=(), restart="none"),
        build_archive(_files(tmp_path, a_py="print('no tar')\n")),
    )
    assert reply.events[1] == Extracted(files=1, bytes=16, method="archive-api"), reply.events
    assert reply.names()[-1] == "done"
    assert exec_out(container, "cat", "/app/a.py") == "print('no tar')\n"

    # Neither tar nor a writable filesystem: said in plain words, and a rebuild is the answer.
    readonly = run_container(docker_client, docker_resources, image.id, read_only=True)
    reply = await post_update(
        synclet,
        readonly.id,
        UpdateSpec(deletes=(), changed=("/app/a.py",), run_steps=(), restart="none"),
        build_archive(_files(tmp_path, a_py="x\n")),
    )
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "infrastructure", reply.events
    assert "the image has neither tar nor a writable filesystem" in failed.message


async def test_permission_denied_is_explained(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    container = run_container(docker_client, docker_resources, base_image, user="65534:65534")
    reply = await post_update(
        synclet,
        container.id,
        UpdateSpec(deletes=(), changed=("/app/x.py",), run_steps=(), restart="none", dest="/app"),
        build_archive(_files(tmp_path, x_py="x\n"), dest="/app"),
    )
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "infrastructure", reply.events
    assert failed.message.startswith("permission denied writing /app"), failed.message
    assert (
        "the container user cannot write there; chown the directory in your Dockerfile or sync elsewhere"
        in failed.message
    )


async def test_container_killed_mid_update_is_an_infrastructure_failure(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    killed: list[float] = []

    async def kill_on_step(event: Event) -> None:
        if isinstance(event, StepStarted) and not killed:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(app_container.kill)
            killed.append(1)

    spec = UpdateSpec(
        deletes=(),
        changed=("/app/a.py",),
        run_steps=(RunStep(("sleep", "5")),),
        restart="container",
    )
    reply = await post_update(
        synclet,
        app_container.id,
        spec,
        build_archive(_files(tmp_path, a_py="x\n")),
        on_event=kill_on_step,
    )
    assert killed
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "infrastructure", reply.events
    assert "is exited" in failed.message and "running step 0 (sleep 5)" in failed.message
    assert "restarted" not in reply.names()


async def test_missing_container_is_an_infrastructure_failure(synclet: Synclet) -> None:
    spec = UpdateSpec(deletes=(), changed=(), run_steps=(), restart="none")
    reply = await post_update(synclet, "no-such-container-1234", spec, b"")
    assert reply.names() == ["started", "failed"]
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "infrastructure"
    assert "container no-such-container-1234 not found" in failed.message


async def test_process_restart_signals_a_declared_supervisor(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    # PID 1 promises (by label) to restart the app on SIGHUP; here it just records the signal.
    container = run_container(
        docker_client,
        docker_resources,
        base_image,
        init=False,
        command=["sh", "-c", "trap 'echo hup >> /tmp/hups' HUP; while :; do sleep 0.05; done"],
        labels={"dev.tilt-lsp.restart-signal": "SIGHUP"},
    )
    spec = UpdateSpec(deletes=(), changed=("/app/a.py",), run_steps=(), restart="process")
    reply = await post_update(
        synclet, container.id, spec, build_archive(_files(tmp_path, a_py="x\n"))
    )
    assert reply.names() == ["started", "extracted", "restarted", "done"]
    assert reply.events[2] == Restarted(mode="process")
    for _ in range(40):
        code, out = container.exec_run(["cat", "/tmp/hups"])
        if code == 0:
            break
        await asyncio.sleep(0.05)
    assert out.decode() == "hup\n"


async def test_concurrent_updates_to_one_container_do_not_interleave(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    def spec(name: str) -> UpdateSpec:
        script = f"echo start-{name} >> /tmp/log; sleep 0.3; echo end-{name} >> /tmp/log"
        return UpdateSpec((), ("/app/a.py",), (RunStep(("sh", "-c", script)),), "none")

    archive = build_archive(_files(tmp_path, a_py="x\n"))
    replies = await asyncio.gather(
        post_update(synclet, app_container.id, spec("a"), archive),
        post_update(synclet, app_container.id, spec("b"), archive),
    )
    assert [r.names()[-1] for r in replies] == ["done", "done"]
    log = exec_out(app_container, "cat", "/tmp/log").split()
    assert log in (
        ["start-a", "end-a", "start-b", "end-b"],
        ["start-b", "end-b", "start-a", "end-a"],
    )


async def test_update_completes_when_the_client_hangs_up(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    spec = UpdateSpec(
        (), ("/app/a.py",), (RunStep(("sh", "-c", "sleep 0.3; echo ok > /app/step")),), "none"
    )
    body = encode_request(spec, build_archive(_files(tmp_path, a_py="x\n")))
    headers = {"Authorization": f"Bearer {synclet.token}", "Content-Type": UPDATE_CONTENT_TYPE}
    async with (
        aiohttp.ClientSession() as s,
        s.post(synclet.url + update_path(app_container.id), data=body, headers=headers) as r,
    ):
        assert await r.content.readline() == b'{"event":"started"}\n'
    # Half an update would be worse than a finished one: the synclet carries on.
    deadline = time.monotonic() + 30  # generous: the step sleeps 0.3 s
    while time.monotonic() < deadline:
        code, out = app_container.exec_run(["cat", "/app/step"])
        if code == 0:
            break
        await asyncio.sleep(0.05)
    assert out == b"ok\n"
    assert exec_out(app_container, "cat", "/app/a.py") == "x\n"
    # And it still serves the next request.
    reply = await post_update(synclet, app_container.id, UpdateSpec((), (), (), "none"), b"")
    assert reply.names() == ["started", "done"]


async def test_stopped_container_is_an_infrastructure_failure(
    synclet: Synclet, app_container: Any, tmp_path: Path
) -> None:
    app_container.stop(timeout=1)
    spec = UpdateSpec((), ("/app/a.py",), (), "container")
    reply = await post_update(
        synclet, app_container.id, spec, build_archive(_files(tmp_path, a_py="x\n"))
    )
    assert reply.names() == ["started", "failed"]
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "infrastructure"
    assert failed.message == f"container {app_container.id} is exited; live update needs it running"


async def test_a_non_root_container_gets_files_owned_by_its_user_through_tar(
    synclet: Synclet, docker_client: Any, base_image: str, docker_resources: Any, tmp_path: Path
) -> None:
    container = run_container(docker_client, docker_resources, base_image, user="1000:1000")
    exec_out(container, "sh", "-c", "mkdir -p /tmp/app")
    local = tmp_path / "main.py"
    local.write_text("print('mine')\n")
    spec = UpdateSpec(deletes=(), changed=("/tmp/app/main.py",), run_steps=(), restart="none")
    reply = await post_update(
        synclet, container.id, spec, build_archive([(str(local), "/tmp/app/main.py")])
    )
    assert reply.status == 200
    assert Extracted(files=1, bytes=len("print('mine')\n"), method="tar") in reply.events
    assert exec_out(container, "stat", "-c", "%u:%g", "/tmp/app/main.py").strip() == "1000:1000"
