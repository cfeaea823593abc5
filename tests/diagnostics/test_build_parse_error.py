"""A Dockerfile the engine cannot parse, built the way tilt-lsp builds (the Docker SDK): the
problem lands on the Dockerfile line the engine names, as with the docker CLI's output."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import BuildError, ImageBuilder, dockerfile_source, image_mapper
from tilt_lsp.diagnostics.stream import diagnose_lines
from tilt_lsp.tiltfile.model import ImageBuild

pytestmark = pytest.mark.docker

CASE = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "diagnostics"
    / "dockerfile"
    / "parse_error_legacy"
)


def test_a_dockerfile_parse_error_from_the_sdk_is_a_problem_on_its_line(
    docker_client: Any, base_image: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws14"
    shutil.copytree(CASE, root, ignore=shutil.ignore_patterns("output.txt", "expected.json"))
    image = ImageBuild(
        ref="tilt-lsp-test-14/parse-error",
        context=str(root),
        dockerfile=str(root / "Dockerfile"),
        dockerfile_contents=None,
        build_args={"BASE": base_image},
        target="",
        ignore=(),
        only=(),
        entrypoint=None,
        live_update=None,
        location=None,
    )
    builder = ImageBuilder(image, docker_client.api, lbl.managed_labels(str(root)))
    lines: list[str] = []
    try:
        with pytest.raises(BuildError):
            builder.build(None, lines.append)
    finally:
        lbl.remove_stale_images(docker_client.api, lbl.managed_labels(str(root)), keep=())
    (problem,) = diagnose_lines(lines, image_mapper(str(root), image), dockerfile_source(image))
    assert (Path(problem.path).name, problem.line) == ("Dockerfile", 5)
    assert problem.message == "dockerfile parse error: unknown instruction: RUNN"
