"""custom_build on the real Docker engine: the user's command builds $EXPECTED_REF, tilt-lsp
labels the result (the managed mark) and names it by content. Derived from Tilt's
TestCustomBuildImageWithEnv/Dir and custom_build's documented $EXPECTED_REF contract."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError
from tilt_lsp.build.custom import CustomBuilder, image_builder
from tilt_lsp.tiltfile.loader import load_tiltfile

pytestmark = pytest.mark.docker


def _tiltfile(tmp_path: Path, base: str, repo: str, command: str, **extra: str) -> Any:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(f"FROM {base}\nRUN echo built > /built\n")
    args = "".join(f", {k}={v}" for k, v in extra.items())
    (tmp_path / "Tiltfile").write_text(f"custom_build('{repo}', {command!r}, ['app']{args})\n")
    model = load_tiltfile(
        str(tmp_path / "Tiltfile"), env={"TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "c")}
    )
    return model.images[0]


def test_custom_build_runs_the_command_and_labels_the_image(
    tmp_path: Path, docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    repo = f"tilt-lsp-test-11-custom-{uuid.uuid4().hex[:8]}"
    test_labels = " ".join(f"--label {k}={v}" for k, v in docker_resources.labels.items())
    image = _tiltfile(
        tmp_path,
        base_image,
        repo,
        f"DOCKER_BUILDKIT=0 docker build -q {test_labels} -t $EXPECTED_REF app && echo MODE=$MODE",
        env="{'MODE': 'dev'}",
    )
    labels = {**lbl.managed_labels(str(tmp_path)), **docker_resources.labels}
    builder = image_builder(image, docker_client.api, labels)
    assert isinstance(builder, CustomBuilder)
    lines: list[str] = []
    try:
        built = builder.build(None, lines.append)
    finally:
        for img in docker_client.images.list(name=repo):
            docker_resources.track_image(img)
    assert "MODE=dev" in lines
    assert built.ref.startswith(f"{repo}:tilt-")
    inspected = docker_client.api.inspect_image(built.ref)
    assert inspected["Config"]["Labels"][lbl.MANAGED] == labels[lbl.MANAGED]
    assert inspected["Config"]["Labels"][lbl.IMAGE] == repo
    # The time-stamped $EXPECTED_REF tag was only the hand-over.
    assert not [t for t in inspected.get("RepoTags") or [] if ":tilt-build-" in t]


def test_custom_build_that_builds_nothing_is_a_clear_error(
    tmp_path: Path, docker_client: Any, base_image: str
) -> None:
    image = _tiltfile(tmp_path, base_image, f"tilt-lsp-test-11-none-{uuid.uuid4().hex[:8]}", "true")
    builder = image_builder(image, docker_client.api, lbl.managed_labels(str(tmp_path)))
    with pytest.raises(BuildError) as info:
        builder.build(None, lambda line: None)
    assert "tag what it builds with $EXPECTED_REF" in info.value.reason


def test_custom_build_failing_command(tmp_path: Path, docker_client: Any, base_image: str) -> None:
    image = _tiltfile(tmp_path, base_image, "tilt-lsp-test-11-fail", "echo nope >&2; exit 3")
    builder = image_builder(image, docker_client.api, {})
    with pytest.raises(BuildError) as info:
        builder.build(None, lambda line: None)
    assert info.value.reason == "custom_build command failed with exit code 3"
    assert info.value.log == ("nope",)


def test_custom_build_skips_local_docker_uses_the_ref(
    tmp_path: Path, docker_client: Any, base_image: str
) -> None:
    image = _tiltfile(
        tmp_path,
        base_image,
        "registry.example.com/app",
        "echo pushed",
        skips_local_docker="True",
        tag="'v1'",
    )
    built = image_builder(image, docker_client.api, {}).build(None, lambda line: None)
    assert built.ref == "registry.example.com/app:v1"


async def test_custom_build_image_runs_in_compose(
    tmp_path: Path, base_image: str, docker_client: Any
) -> None:
    """custom_build through the engine and the compose runtime: the command's image serves."""
    import contextlib
    import os
    import shutil

    from tests.docker.test_compose_loop import serves
    from tests.support import free_port
    from tilt_lsp.engine.engine import Engine

    example = Path(__file__).resolve().parents[2] / "examples" / "compose-python"
    root = tmp_path / "ws"
    shutil.copytree(example, root)
    (root / "Tiltfile").write_text(
        "docker_compose('docker-compose.yml')\n"
        "custom_build('compose-python-web',\n"
        "    'DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE=$BASE_IMAGE -t $EXPECTED_REF .',\n"
        "    ['.'])\n"
    )
    project = f"tiltlsptest11cb{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "BASE_IMAGE": base_image,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
    }
    engine = Engine(str(root / "Tiltfile"), env=env)
    try:
        await engine.start()
        assert await engine.wait_settled(180)
        await serves(port, "Hello from compose-python!", timeout=60)
        log = engine.logs("web", 0)
        assert any(line.startswith("custom_build: running") for line in log), log[-20:]
    finally:
        await engine.stop()
        api = docker_client.api
        for c in api.containers(
            all=True, filters={"label": [f"com.docker.compose.project={project}"]}
        ):
            with contextlib.suppress(Exception):
                api.remove_container(c["Id"], force=True, v=True)
        lbl.remove_stale_images(api, lbl.managed_labels(str(root)), keep=())
        for img in api.images(name="compose-python-web"):
            tags = [
                t
                for t in img.get("RepoTags") or []
                if t.startswith("compose-python-web:tilt-build-")
            ]
            for t in tags:
                with contextlib.suppress(Exception):
                    api.remove_image(t)
