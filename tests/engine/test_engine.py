"""The engine with the real local runtime and the real watcher (no editor)."""

from __future__ import annotations

import asyncio
import io
import os
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import until
from tilt_lsp.engine.engine import TILTFILE, Engine
from tilt_lsp.engine.listener import NullListener, Published
from tilt_lsp.runtime.processes import LocalProcesses


class Recorder(NullListener):
    def __init__(self) -> None:
        self.published: list[Published] = []

    def diagnostics_changed(self, published: Published) -> None:
        self.published.append(published)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture
async def engine_for(tmp_path: Path):
    engines: list[Engine] = []

    async def make(
        tiltfile: str, files: dict[str, str] | None = None, watch: bool = False
    ) -> Engine:
        write(tmp_path, {"Tiltfile": tiltfile, **(files or {})})
        engine = Engine(str(tmp_path / "Tiltfile"), listener=Recorder())
        engines.append(engine)
        await engine.start(watch=watch)
        return engine

    yield make
    for engine in engines:
        await stop_or_explain(engine)


async def stop_or_explain(engine: Engine, timeout: float = 20.0) -> None:
    """Stop the engine; if it hangs, fail with what every task was waiting for."""
    stopping = asyncio.ensure_future(engine.stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout)
    if not done:
        stacks = io.StringIO()
        for task in asyncio.all_tasks():
            task.print_stack(limit=8, file=stacks)
        raise AssertionError(f"engine.stop() hung for {timeout}s:\n{stacks.getvalue()}")
    stopping.result()


async def test_a_burst_of_1000_files_is_one_update_per_affected_resource(
    engine_for, tmp_path: Path
) -> None:
    engine = await engine_for(
        """
        local_resource('gen', cmd='ls gen/sub | wc -l', deps=['gen'])
        local_resource('also-gen', cmd='true', deps=['gen/sub'])
        local_resource('other', cmd='true', deps=['other'])
        """,
        {"gen/sub/.keep": "", "other/.keep": ""},
        watch=True,
    )
    assert await engine.wait_settled(15)
    counts = {n: s.update_count for n, s in engine.statuses.items()}
    assert counts == {"gen": 1, "also-gen": 1, "other": 1}

    for i in range(1000):  # like a git checkout: many files, as fast as the disk takes them
        (tmp_path / "gen" / "sub" / f"file{i:04}.txt").write_text(str(i))
    await until(lambda: engine.statuses["gen"].update_count == 2, what="the burst's update")
    await asyncio.sleep(1.5)  # anything still in flight would arrive by now
    assert await engine.wait_settled(15)
    counts = {n: s.update_count for n, s in engine.statuses.items()}
    assert counts == {"gen": 2, "also-gen": 2, "other": 1}
    assert engine.logs("gen")[-1].strip() == "1000"  # the one update saw every file


async def test_a_burst_spread_over_3_seconds_is_one_update(engine_for, tmp_path: Path) -> None:
    """A checkout on a slow disk: 1,000 files over 3 s, never quiet for long."""
    engine = await engine_for(
        "local_resource('gen', cmd='ls gen | wc -l', deps=['gen'])\n",
        {"gen/.keep": ""},
        watch=True,
    )
    assert await engine.wait_settled(15)
    assert engine.statuses["gen"].update_count == 1

    def checkout() -> float:
        start = time.monotonic()
        for i in range(1000):
            (tmp_path / "gen" / f"file{i:04}.txt").write_text(str(i))
            time.sleep(max(0.0, start + 3.0 * (i + 1) / 1000 - time.monotonic()))
        return time.monotonic() - start

    took = await asyncio.to_thread(checkout)
    assert took >= 3.0
    await until(lambda: engine.statuses["gen"].update_count >= 2, what="the burst's update")
    await asyncio.sleep(1.5)  # a second update would have started by now
    assert await engine.wait_settled(15)
    assert engine.statuses["gen"].update_count == 2
    assert engine.logs("gen")[-1].strip() == "1000"  # it ran once, on the whole tree


async def test_truncate_then_write_of_the_tiltfile_restarts_nothing(
    engine_for, tmp_path: Path
) -> None:
    """An editor that truncates the Tiltfile and writes it a moment later."""
    text = "local_resource('r', serve_cmd='sleep 300')\nlocal_resource('s', cmd='true')\n"
    engine = await engine_for(text, watch=True)
    assert await engine.wait_settled(10)
    before = {n: (s.pid, s.start_count, s.update_count) for n, s in engine.statuses.items()}
    loads = engine.loads
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text("")
    await until(  # held empty for longer than any settle time: said, not applied
        lambda: engine.problems.for_path(str(tiltfile)), what="the empty-Tiltfile warning"
    )
    ((_, _, warning),) = engine.problems.for_path(str(tiltfile))
    assert warning.message == "the Tiltfile is empty; still running the last good version"
    tiltfile.write_text(text)
    await until(lambda: engine.loads > loads, what="the Tiltfile reloaded")
    await asyncio.sleep(1.0)
    assert await engine.wait_settled(10)
    after = {n: (s.pid, s.start_count, s.update_count) for n, s in engine.statuses.items()}
    assert after == before
    assert engine.problems.for_path(str(tiltfile)) == []


async def test_a_save_seen_by_editor_and_watcher_updates_once(engine_for, tmp_path: Path) -> None:
    engine = await engine_for(
        "local_resource('r', cmd='true', deps=['src'])\n", {"src/a.py": "x = 1\n"}
    )
    assert await engine.wait_settled(10)
    path = str(tmp_path / "src" / "a.py")
    (tmp_path / "src" / "a.py").write_text("x = 2\n")
    assert engine.files_changed([path], "save") == 1
    assert engine.files_changed([path], "watch") == 0  # same content signature: not news
    assert await engine.wait_settled(10)
    assert engine.statuses["r"].update_count == 2


async def test_noise_is_ignored(engine_for, tmp_path: Path) -> None:
    engine = await engine_for(
        "local_resource('r', cmd='true', deps=['.'])\n",
        {".tiltignore": "build/\n*.log\n"},
    )
    assert await engine.wait_settled(10)
    noise = [
        ".git/index",
        "src/.main.py.swp",
        "src/4913",
        "src/main.py~",
        "src/.#main.py",
        "src/__pycache__/main.cpython-311.pyc",
        "build/out.bin",
        "debug.log",
    ]
    write(tmp_path, {p: "x" for p in noise})
    assert engine.files_changed([str(tmp_path / p) for p in noise]) == 0
    write(tmp_path, {"src/main.py": "print(1)\n"})
    assert engine.files_changed([str(tmp_path / "src/main.py")]) == 1


async def test_resource_deps_start_in_order(engine_for) -> None:
    engine = await engine_for(
        """
        local_resource('db', serve_cmd='sleep 0.5; echo db-up; sleep 100',
                       readiness_probe=probe(exec=exec_action(['sh', '-c', 'test -f ready']), period_secs=1))
        local_resource('api', cmd='echo api-built', resource_deps=['db'])
        """,
    )
    await until(lambda: engine.statuses["api"].waiting_for == "db", what="api waiting for db")
    assert engine.statuses["api"].update_count == 0
    Path(engine.tiltfile).with_name("ready").write_text("")
    await until(
        lambda: engine.statuses["api"].build.value == "ok", what="api built after db is ready"
    )
    assert engine.statuses["db"].runtime.value == "ready"


async def test_restart_and_stop_leave_no_orphans(engine_for) -> None:
    engine = await engine_for("local_resource('r', serve_cmd='sleep 300 & sleep 300 & wait')\n")
    assert await engine.wait_settled(10)
    first = engine.statuses["r"].pid
    assert first is not None
    engine.restart("r")
    await until(
        lambda: (
            engine.statuses["r"].pid not in (None, first)
            and engine.statuses["r"].runtime.value == "ready"
        ),
        what="restart",
    )
    assert not _group_alive(first), "the old process group (shell and both sleeps) must be gone"
    second = engine.statuses["r"].pid
    assert second is not None
    await engine.stop()
    assert not _group_alive(second)


async def test_stopping_during_a_cmd_stops_its_whole_group(engine_for) -> None:
    """The update is cancelled while its cmd runs: the cmd (a shell with children) must not
    outlive it — once, cancelling the update dropped the process from the runner's table."""
    engine = await engine_for("local_resource('b', cmd='sleep 300 & sleep 301 & wait')\n")
    await until(lambda: engine.statuses["b"].build.value == "building", what="the cmd running")
    runner = engine.runner
    assert isinstance(runner, LocalProcesses)
    await until(lambda: runner.running, what="the cmd's process group tracked")
    (pgid,) = runner.running
    assert _group_alive(pgid)
    await engine.stop()
    assert not _group_alive(pgid)
    assert runner.running == []


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process in the group? Zombies are dead; whether PID 1 reaps
    them depends on the machine, not on us."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            return True
    return False


async def test_tiltfile_error_keeps_the_last_good_model_and_recovers(
    engine_for, tmp_path: Path
) -> None:
    engine = await engine_for("local_resource('r', serve_cmd='sleep 300')\n")
    assert await engine.wait_settled(10)
    pid = engine.statuses["r"].pid
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text("local_resource('r', serve_cmd='sleep 300')\nlocal_resource(\n")
    engine.files_changed([str(tiltfile)], "save")
    await until(lambda: engine.tiltfile_error is not None, what="the Tiltfile error")
    ((_, source, problem),) = engine.problems.for_path(str(tiltfile))
    assert (source, problem.line) == ("tiltfile", 2)
    assert engine.statuses["r"].pid == pid  # still running
    assert any("Tiltfile error" in line for line in engine.logs(TILTFILE))
    tiltfile.write_text(
        "local_resource('r', serve_cmd='sleep 300')\nlocal_resource('s', cmd='true')\n"
    )
    engine.files_changed([str(tiltfile)], "save")
    await until(lambda: "s" in engine.statuses and engine.tiltfile_error is None, what="recovery")
    assert engine.problems.for_path(str(tiltfile)) == []
    assert engine.statuses["r"].pid == pid  # unchanged resource: not restarted
    assert TILTFILE == "(Tiltfile)"


async def test_disable_and_enable(engine_for) -> None:
    engine = await engine_for("local_resource('r', serve_cmd='sleep 300')\n")
    assert await engine.wait_settled(10)
    pid = engine.statuses["r"].pid
    assert pid is not None
    engine.disable("r")
    await until(lambda: engine.statuses["r"].runtime.value == "disabled", what="disabled")
    assert not _group_alive(pid)
    engine.enable("r")
    await until(lambda: engine.statuses["r"].runtime.value == "ready", what="enabled again")


async def test_enable_during_disable_wins(engine_for) -> None:
    engine = await engine_for("local_resource('r', serve_cmd='sleep 300')\n")
    assert await engine.wait_settled(10)
    engine.disable("r")
    await asyncio.sleep(0.01)  # the worker is now stopping the process
    engine.enable("r")
    await until(lambda: engine.statuses["r"].runtime.value == "ready", what="enabled and running")
    assert engine.statuses["r"].enabled


async def test_resource_deps_gate_only_the_first_update_and_never_a_disable(
    engine_for, tmp_path: Path
) -> None:
    engine = await engine_for(
        """
        local_resource('db', serve_cmd='sleep 100',
                       readiness_probe=probe(exec=exec_action(['sh', '-c', 'test -f ready']), period_secs=1))
        local_resource('api', cmd='echo api-built', deps=['api.txt'], resource_deps=['db'])
        local_resource('blocked', cmd='true', resource_deps=['db'])
        """,
        {"api.txt": "1"},
    )
    await until(
        lambda: engine.statuses["blocked"].waiting_for == "db", what="blocked waiting for db"
    )
    engine.disable("blocked")  # a stop never waits for dependencies
    await until(
        lambda: engine.statuses["blocked"].runtime.value == "disabled",
        what="disabled while waiting",
    )

    (tmp_path / "ready").write_text("")
    await until(
        lambda: engine.statuses["api"].build.value == "ok",
        what="api's first build after db is ready",
    )
    engine.disable("db")
    await until(lambda: engine.statuses["db"].runtime.value == "disabled", what="db disabled")
    (tmp_path / "api.txt").write_text("2")
    engine.files_changed([str(tmp_path / "api.txt")], "save")
    await until(
        lambda: (
            engine.statuses["api"].update_count == 2 and engine.statuses["api"].build.value == "ok"
        ),
        what="api's second update without waiting for db",
    )
