"""Helpers for the golden tests: run the diagnose pipeline over a captured case.

A case folder ``tests/data/diagnostics/<family>/<case>/`` holds the sources, the real tool
output (``output.txt``, made by ``tests/data/diagnostics/capture.py``, which ran the tool in
``/tmp/tilt-lsp-capture/<family>/<case>``) and ``expected.json``: the problems, with paths
relative to the case folder. ``UPDATE_GOLDEN=1 pytest tests/diagnostics`` rewrites the
expected files; review the diff against the sources before committing it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from tilt_lsp.commands.diagnose import problem_json
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import diagnose_lines

DATA = Path(__file__).resolve().parent.parent / "data" / "diagnostics"
CAPTURE_ROOT = "/tmp/tilt-lsp-capture"


def all_cases() -> list[str]:
    return sorted(
        str(p.parent.relative_to(DATA)) for p in DATA.glob("*/*/output.txt")
    )


def output_lines(case: str) -> list[bytes]:
    return (DATA / case / "output.txt").read_bytes().splitlines(keepends=True)


def mapper_for(case: str) -> PathMapper:
    case_dir = DATA / case
    return PathMapper(str(case_dir), [(f"{CAPTURE_ROOT}/{case}", str(case_dir))])


def dockerfile_for(case: str) -> DockerfileSource | None:
    path = DATA / case / "Dockerfile"
    if not path.is_file():
        return None
    return DockerfileSource(str(path.resolve()), path.read_text())


def run_case(
    case: str,
    transform: Callable[[list[bytes]], Iterable[str | bytes]] | None = None,
) -> list[dict[str, object]]:
    lines: Iterable[str | bytes] = output_lines(case)
    if transform is not None:
        lines = transform(list(output_lines(case)))
    problems = diagnose_lines(lines, mapper_for(case), dockerfile_for(case))
    return [relativize(problem_json(p), DATA / case) for p in problems]


def relativize(obj: dict[str, object], base: Path) -> dict[str, object]:
    real = os.path.realpath(base)
    out = dict(obj)
    out["path"] = os.path.relpath(str(obj["path"]), real)
    related = obj.get("related")
    assert isinstance(related, list)
    out["related"] = [{**r, "path": os.path.relpath(r["path"], real)} for r in related]
    return out


def expected(case: str) -> list[dict[str, object]]:
    path = DATA / case / "expected.json"
    data = json.loads(path.read_text())
    assert isinstance(data, list)
    return data


def write_expected(case: str, problems: list[dict[str, object]]) -> None:
    text = json.dumps(problems, indent=2, ensure_ascii=False) + "\n"
    (DATA / case / "expected.json").write_text(text)
