"""The live-update planner: sync, rebuild or nothing, by Tilt's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tilt_lsp.liveupdate.plan import container_path, plan
from tilt_lsp.tiltfile.model import Command, LiveUpdate, RunStep, SyncRule

ROOT = "/ws"
PIP = RunStep(Command.from_value("pip install -r requirements.txt"), ("/ws/requirements.txt",))
ALWAYS = RunStep(Command.from_value("touch /tmp/reloaded"))
LU = LiveUpdate(
    fall_back_on=("/ws/setup.py", "/ws/config"),
    syncs=(SyncRule("/ws", "/app"), SyncRule("/ws/static", "/srv/static")),
    runs=(PIP, ALWAYS),
    restart_container=True,
)


def test_no_changes_is_nothing() -> None:
    assert plan(LU, []).kind == "nothing"


def test_files_inside_syncs_are_a_live_update() -> None:
    p = plan(LU, ["/ws/app.py", "/ws/pkg/util.py"])
    assert p.kind == "live_update"
    assert p.syncs == (("/ws/app.py", "/app/app.py"), ("/ws/pkg/util.py", "/app/pkg/util.py"))
    assert p.deletes == () and p.restart


def test_the_most_specific_sync_wins() -> None:
    p = plan(LU, ["/ws/static/site.css"])
    assert p.syncs == (("/ws/static/site.css", "/srv/static/site.css"),)


def test_a_change_outside_every_sync_is_a_full_build() -> None:
    lu = LiveUpdate(syncs=(SyncRule("/ws/src", "/app/src"),))
    p = plan(lu, ["/ws/src/a.py", "/ws/package.json"])
    assert p.kind == "full_build"
    assert "package.json is outside every sync" in p.reason


def test_fall_back_on_file_and_directory_mean_a_full_build() -> None:
    assert plan(LU, ["/ws/setup.py"]).kind == "full_build"
    p = plan(LU, ["/ws/app.py", "/ws/config/settings.yaml"])
    assert p.kind == "full_build" and "fall_back_on" in p.reason


def test_always_rebuild_files_like_the_dockerfile() -> None:
    p = plan(LU, ["/ws/Dockerfile"], always_rebuild=["/ws/Dockerfile"])
    assert p.kind == "full_build" and "Dockerfile changed" in p.reason


def test_deleted_files_are_deleted_in_the_container() -> None:
    p = plan(LU, ["/ws/app.py"], deleted=["/ws/old.py"])
    assert p.kind == "live_update"
    assert p.syncs == (("/ws/app.py", "/app/app.py"),)
    assert p.deletes == ("/app/old.py",)


def test_only_deletions_are_still_a_live_update() -> None:
    p = plan(LU, [], deleted=["/ws/pkg"])
    assert p.kind == "live_update" and p.deletes == ("/app/pkg",) and p.syncs == ()


def test_run_steps_by_trigger() -> None:
    assert plan(LU, ["/ws/app.py"]).run_steps == (ALWAYS,)
    assert plan(LU, ["/ws/requirements.txt"]).run_steps == (PIP, ALWAYS)


def test_no_live_update_means_a_full_build_for_any_change() -> None:
    assert plan(None, ["/ws/app.py"]).kind == "full_build"
    assert plan(None, []).kind == "nothing"


def test_sibling_with_a_common_prefix_is_not_inside() -> None:
    lu = LiveUpdate(syncs=(SyncRule("/ws/app", "/app"),))
    assert plan(lu, ["/ws/app2/x.py"]).kind == "full_build"
    assert container_path(lu.syncs, "/ws/app") == "/app"


def test_without_restart_container_no_restart() -> None:
    lu = LiveUpdate(syncs=(SyncRule("/ws", "/app"),))
    assert not plan(lu, ["/ws/a.py"]).restart


names = st.lists(st.sampled_from(["a.py", "b/c.py", "static/x.css", "setup.py", "config/y"]),
                 min_size=1, max_size=5, unique=True)


@given(names)
def test_every_live_update_maps_every_change(rels: list[str]) -> None:
    paths = [f"{ROOT}/{r}" for r in rels]
    p = plan(LU, paths)
    if any(r == "setup.py" or r.startswith("config/") for r in rels):
        assert p.kind == "full_build"
    else:
        assert p.kind == "live_update"
        assert sorted(local for local, _ in p.syncs) == sorted(paths)
        assert all(c.startswith(("/app/", "/srv/static/")) for _, c in p.syncs)
