"""docker_build(entrypoint=...) replaces the image's ENTRYPOINT and CMD (Tilt's
TestDockerBuildEntrypoint / TestCustomBuildEntrypoint), with the restart wrapper in front
when the live update restarts."""

from __future__ import annotations

from tilt_lsp.build.finish import WRAPPER_PATH, plan_finish

CONFIG = {"Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx"], "Labels": {}}


def test_entrypoint_replaces_entrypoint_and_cmd() -> None:
    finish = plan_finish(CONFIG, {"a": "b"}, wrap=False, has_shell=True, entrypoint=["/app", "-v"])
    assert finish.conf["Entrypoint"] == ["/app", "-v"] and finish.conf["Cmd"] is None
    assert not finish.wrapped


def test_entrypoint_with_the_restart_wrapper() -> None:
    finish = plan_finish(CONFIG, {}, wrap=True, has_shell=True, entrypoint=["python3", "app.py"])
    assert finish.wrapped
    assert finish.conf["Entrypoint"] == [WRAPPER_PATH, "python3", "app.py"]
    assert finish.conf["Cmd"] is None


def test_no_entrypoint_keeps_the_image_command() -> None:
    finish = plan_finish(CONFIG, {}, wrap=True, has_shell=True)
    assert finish.conf["Entrypoint"] == [WRAPPER_PATH, "/docker-entrypoint.sh"]
    assert finish.conf["Cmd"] == ["nginx"]
