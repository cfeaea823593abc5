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
