"""Image builds on the real engine: streamed lines, content tags, labels, problems on lines."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError, ImageBuilder, dockerfile_source, image_mapper
from tilt_lsp.diagnostics.stream import diagnose_lines
from tilt_lsp.tiltfile.model import ImageBuild, LiveUpdate, SyncRule

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compose-python"


def image_for(root: Path, base_image: str, **kw: Any) -> ImageBuild:
    image = ImageBuild(
        ref="tilt-lsp-test/builder",
        context=str(root),
        dockerfile=str(root / "Dockerfile"),
        dockerfile_contents=None,
        build_args={"BASE_IMAGE": base_image},
        target="",
        ignore=(),
        only=(),
        entrypoint=None,
        live_update=LiveUpdate(syncs=(SyncRule(str(root), "/app"),)),
        location=None,
    )
    return dataclasses.replace(image, **kw)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


def cleanup(docker_client: Any, root: Path) -> None:
    lbl.remove_stale_images(docker_client.api, lbl.managed_labels(str(root)), keep=())


def test_build_streams_lines_tags_by_content_and_labels(
    docker_client: Any, base_image: str, workspace: Path
) -> None:
    builder = ImageBuilder(
        image_for(workspace, base_image), docker_client.api, lbl.managed_labels(str(workspace))
    )
    lines: list[str] = []
    try:
        built = builder.build(None, lines.append)
        assert not built.reused and built.ref.startswith("tilt-lsp-test/builder:tilt-")
        assert any(line.startswith("Step ") for line in lines)
        labels = docker_client.images.get(built.ref).labels
        assert labels[lbl.MANAGED] == "true" and labels[lbl.IMAGE] == "tilt-lsp-test/builder"

        again = builder.build([], lines.append)
        assert again.reused and again.ref == built.ref

        (workspace / "app.py").write_text((workspace / "app.py").read_text() + "\n# edit\n")
        third = builder.build([str(workspace / "app.py")], lines.append)
        assert third.ref != built.ref and builder.context.stats.files_read == 1
        removed = lbl.remove_stale_images(
            docker_client.api, lbl.managed_labels(str(workspace)), keep={third.image_id}
        )
        assert built.image_id in removed
        assert docker_client.images.get(third.ref)
    finally:
        cleanup(docker_client, workspace)


def test_failing_run_step_is_a_problem_on_its_dockerfile_line(
    docker_client: Any, base_image: str, workspace: Path
) -> None:
    dockerfile = workspace / "Dockerfile"
    text = dockerfile.read_text().replace(
        "EXPOSE 8000", "RUN python3 -c 'import app; app.missing()'\nEXPOSE 8000"
    )
    dockerfile.write_text(text)
    (workspace / "app.py").write_text(
        (workspace / "app.py").read_text()
        + "\n\ndef missing() -> None:\n    raise ValueError('boom')\n"
    )
    image = image_for(workspace, base_image)
    builder = ImageBuilder(image, docker_client.api, lbl.managed_labels(str(workspace)))
    lines: list[str] = []
    try:
        with pytest.raises(BuildError) as err:
            builder.build(None, lines.append)
        assert "non-zero code" in err.value.reason
        problems = list(
            diagnose_lines(lines, image_mapper(str(workspace), image), dockerfile_source(image))
        )
        run_line = text.splitlines().index("RUN python3 -c 'import app; app.missing()'") + 1
        by_file = {(Path(p.path).name, p.line) for p in problems}
        assert ("Dockerfile", run_line) in by_file
        # The traceback inside the RUN lands on the app's source line.
        raise_line = (workspace / "app.py").read_text().splitlines().index(
            "    raise ValueError('boom')"
        ) + 1
        assert ("app.py", raise_line) in by_file
        # The failed build's own intermediate images are removed; the base image never is.
        base_id = docker_client.images.get(base_image).id
        assert builder.leftovers and not any(
            base_id.startswith(f"sha256:{i}") for i in builder.leftovers
        )
        builder.remove_leftovers()
        assert not builder.leftovers
        assert docker_client.images.get(base_image).id == base_id
    finally:
        cleanup(docker_client, workspace)


def test_dockerfile_contents_and_build_error_in_plain_words(
    docker_client: Any, workspace: Path, base_image: str
) -> None:
    image = image_for(
        workspace,
        base_image,
        dockerfile=None,
        dockerfile_contents="ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.py /x/app.py\n",
    )
    builder = ImageBuilder(image, docker_client.api, lbl.managed_labels(str(workspace)))
    try:
        built = builder.build(None, lambda line: None)
        assert docker_client.images.get(built.ref)
    finally:
        cleanup(docker_client, workspace)


def test_target_and_build_args(docker_client: Any, workspace: Path, base_image: str) -> None:
    contents = (
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS dev\nARG FLAVOUR\n"
        'RUN echo "dev-$FLAVOUR" > /stage\n'
        "FROM ${BASE_IMAGE} AS prod\nRUN echo prod > /stage\n"
    )
    image = image_for(
        workspace,
        base_image,
        dockerfile=None,
        dockerfile_contents=contents,
        target="dev",
        build_args={"BASE_IMAGE": base_image, "FLAVOUR": "mint"},
    )
    builder = ImageBuilder(image, docker_client.api, lbl.managed_labels(str(workspace)))
    try:
        built = builder.build(None, lambda line: None)
        out = docker_client.containers.run(built.ref, ["cat", "/stage"], remove=True)
        assert out.strip() == b"dev-mint"
        # Another build arg is another content tag.
        other = ImageBuilder(
            dataclasses.replace(image, build_args={"BASE_IMAGE": base_image, "FLAVOUR": "lime"}),
            docker_client.api,
            lbl.managed_labels(str(workspace)),
        )
        assert other.tag_for(other.context.scan(), contents) != built.ref
    finally:
        cleanup(docker_client, workspace)
