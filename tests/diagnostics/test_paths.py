"""Path mapping: container paths, relative paths and bare names onto workspace files only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tilt_lsp.diagnostics.dockerpaths import dockerfile_mappings, mapper_from_dockerfile
from tilt_lsp.diagnostics.paths import PathMapper, mapper_from_sync_rules


def make(root: Path, *files: str) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make(
        tmp_path, "app/main.py", "app/api/views.py", "worker/main.py", "calc/calc_test.go",
        "svc/src/main/java/com/acme/orders/OrderService.java",
        "svc/src/main/java/com/acme/billing/OrderService.java", "web/src/index.ts",
        "node_modules/lib/index.js", ".venv/lib/python3.11/site-packages/x.py", "Dockerfile",
    )
    return tmp_path


def real(p: Path) -> str:
    return os.path.realpath(p)


def test_longest_container_prefix_wins(ws: Path) -> None:
    mapper = PathMapper(str(ws), [("/srv", str(ws / "worker")), ("/srv/app", str(ws / "app"))])
    assert mapper.resolve("/srv/app/main.py") == real(ws / "app/main.py")
    assert mapper.resolve("/srv/main.py") == real(ws / "worker/main.py")
    assert mapper.resolve("/srv/application/main.py") is None  # a prefix is a whole component


def test_sync_rules_are_local_then_container(ws: Path) -> None:
    mapper = mapper_from_sync_rules(str(ws), [(str(ws / "app"), "/code")])
    assert mapper.resolve("/code/api/views.py") == real(ws / "app/api/views.py")


def test_relative_paths_resolve_against_the_container_workdir(ws: Path) -> None:
    mapper = PathMapper(str(ws), [("/code", str(ws / "app"))], workdir="/code")
    assert mapper.resolve("./api/views.py") == real(ws / "app/api/views.py")
    assert mapper.resolve("main.py") == real(ws / "app/main.py")


def test_relative_paths_printed_from_a_subdirectory_use_the_index(ws: Path) -> None:
    mapper = PathMapper(str(ws))
    assert mapper.resolve("src/index.ts") == real(ws / "web/src/index.ts")
    assert mapper.resolve("other/index.ts") is None


def test_bare_java_file_needs_its_package(ws: Path) -> None:
    mapper = PathMapper(str(ws))
    orders = mapper.resolve("OrderService.java", "com/acme/orders", strict=True)
    assert orders == real(ws / "svc/src/main/java/com/acme/orders/OrderService.java")
    assert mapper.resolve("OrderService.java", "com/acme/shipping", strict=True) is None
    assert mapper.resolve("OrderService.java") is None  # two candidates: refuse to guess


def test_bare_go_test_file_resolves_when_unique(ws: Path) -> None:
    mapper = PathMapper(str(ws))
    assert mapper.resolve("calc_test.go", "example.com/m/calc") == real(ws / "calc/calc_test.go")
    assert mapper.resolve("main.py") is None  # app/main.py and worker/main.py


def test_nothing_outside_the_workspace_or_in_dependencies(ws: Path, tmp_path: Path) -> None:
    mapper = PathMapper(str(ws / "app"), [("/deps", str(ws))])
    assert mapper.resolve(str(ws / "worker/main.py")) is None
    assert mapper.resolve("/deps/worker/main.py") is None
    assert mapper.resolve("/etc/passwd") is None
    assert mapper.resolve("../worker/main.py") is None
    whole = PathMapper(str(ws))
    assert whole.resolve(str(ws / "node_modules/lib/index.js")) is None
    assert whole.resolve(str(ws / ".venv/lib/python3.11/site-packages/x.py")) is None
    assert whole.resolve(str(ws / "app")) is None  # a directory is not a file


@pytest.mark.parametrize("raw", [
    "/usr/lib/python3.11/json/decoder.py", "/usr/local/lib/python3.12/site-packages/a.py",
    "/app/node_modules/express/lib/router.js", "node:internal/modules/cjs/loader",
    "/usr/local/go/src/runtime/panic.go", "<frozen importlib._bootstrap>", "<string>",
    "/rustc/59807616e1fa/library/core/src/result.rs", "java.base/java.lang.Integer",
    "/root/go/pkg/mod/github.com/x/y@v1/z.go",
])
def test_library_paths_outside_the_workspace_resolve_to_nothing(ws: Path, raw: str) -> None:
    assert PathMapper(str(ws), [("/app", str(ws / "app"))]).resolve(raw) is None


def test_library_code_is_decided_by_where_a_path_resolves(ws: Path) -> None:
    """Inside the workspace: dependency folders, any virtualenv, a Go installation and Go's
    module cache are library code; names that merely look like one are not."""
    library = [
        "node_modules/express/lib/router.js", "env/lib/python3.11/site-packages/a.py",
        "env/lib/helpers.py", "sdk/go/src/fmt/print.go", "gopath/pkg/mod/x.io/y@v1/z.go",
        "vendor/github.com/x/y.go",
    ]
    user = [
        "internal/store/store.go", "src/runtime/clock.go", "gems/app.rb", "lib/python3/a.py",
        "pkg/models/mod.go",
    ]
    for rel in library + user:
        make(ws, rel)
    (ws / "env/pyvenv.cfg").write_text("home = /usr/bin\n")
    (ws / "sdk/go/VERSION").write_text("go1.22\n")
    (ws / "sdk/go/src/runtime").mkdir(parents=True)
    mapper = PathMapper(str(ws), [("/srv", str(ws))])
    for rel in library:
        assert mapper.resolve(f"/srv/{rel}") is None, rel
        assert mapper.resolve(rel) is None, rel
    for rel in user:
        assert mapper.resolve(f"/srv/{rel}") == real(ws / rel), rel
        assert mapper.resolve(rel) == real(ws / rel), rel


def test_dockerfile_workdir_copy_and_add(ws: Path) -> None:
    text = (
        "FROM python:3.12-slim AS base\n"
        "WORKDIR /srv\n"
        "COPY app/ ./app/\n"
        "COPY worker/main.py /opt/worker.py\n"
        "ADD [\"web/src\", \"/web\"]\n"
        "COPY --from=builder /out /bin\n"
        "WORKDIR app\n"
    )
    pairs, workdir = dockerfile_mappings(text, str(ws))
    assert ("/srv/app", str(ws / "app")) in pairs
    assert ("/opt/worker.py", str(ws / "worker/main.py")) in pairs
    assert ("/web", str(ws / "web/src")) in pairs
    assert all(c != "/bin" for c, _ in pairs)
    assert workdir == "/srv/app"
    mapper = PathMapper(str(ws), pairs, workdir=workdir)
    assert mapper.resolve("/opt/worker.py") == real(ws / "worker/main.py")
    assert mapper.resolve("api/views.py") == real(ws / "app/api/views.py")
    assert mapper.resolve("/web/index.ts") == real(ws / "web/src/index.ts")


def test_mapper_from_a_real_dockerfile_file(ws: Path) -> None:
    (ws / "Dockerfile").write_text("FROM scratch\nWORKDIR /code\nCOPY . .\n")
    mapper = mapper_from_dockerfile(str(ws), str(ws / "Dockerfile"))
    assert mapper.resolve("/code/app/main.py") == real(ws / "app/main.py")
    assert mapper.resolve("./app/api/views.py") == real(ws / "app/api/views.py")


def test_index_skips_vcs_and_dependency_folders(ws: Path) -> None:
    make(ws, ".git/objects/views.py")
    assert PathMapper(str(ws)).resolve("api/views.py") == real(ws / "app/api/views.py")


def test_a_line_past_the_end_of_the_file_is_not_this_file(tmp_path: Path) -> None:
    """A frame from another version of the file: the next user frame gets the error."""
    from tilt_lsp.diagnostics.stream import diagnose_lines

    from .golden import CAPTURE_ROOT, DATA, output_lines

    case = "python/traceback_stdlib"
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text((DATA / case / "app.py").read_text())
    (ws / "settings.py").write_text("import json\n")  # shorter than line 6 now
    mapper = PathMapper(str(ws), [(f"{CAPTURE_ROOT}/{case}", str(ws))])
    (problem,) = diagnose_lines(output_lines(case), mapper)
    assert (Path(problem.path).name, problem.line) == ("app.py", 8)


def test_the_index_sees_files_created_later(ws: Path) -> None:
    mapper = PathMapper(str(ws))
    assert mapper.resolve("Billing.java", "com/acme/billing", strict=True) is None
    make(ws, "svc/src/main/java/com/acme/billing/Billing.java")
    assert mapper.index is not None
    mapper.index.invalidate()
    mapper._cache.clear()
    assert mapper.resolve("Billing.java", "com/acme/billing", strict=True) == real(
        ws / "svc/src/main/java/com/acme/billing/Billing.java"
    )


def test_mappers_of_one_root_can_share_an_index(ws: Path) -> None:
    first = PathMapper(str(ws), local_workdir=str(ws / "app"))
    second = PathMapper(str(ws), local_workdir=str(ws / "worker"), index=first.index)
    assert second.index is first.index
    assert second.resolve("main.py") == real(ws / "worker/main.py")


def test_multi_stage_copies_and_variables(ws: Path) -> None:
    text = (
        "ARG APP_HOME=/srv/app\n"
        "FROM python:3.12 AS build\n"
        "WORKDIR /build\n"
        "COPY app/ src/\n"
        "FROM build AS test\n"
        "COPY worker ./worker\n"
        "FROM python:3.12-slim\n"
        "ENV APP_HOME=/opt/service\n"
        "WORKDIR $APP_HOME\n"
        "COPY --from=build /build/src/ ./\n"
        "COPY --from=test worker/main.py bin/worker.py\n"
    )
    pairs, workdir = dockerfile_mappings(text, str(ws))
    assert workdir == "/opt/service"
    mapper = PathMapper(str(ws), pairs, workdir=workdir)
    assert mapper.resolve("/opt/service/api/views.py") == real(ws / "app/api/views.py")
    assert mapper.resolve("/build/src/main.py") == real(ws / "app/main.py")  # a build stage
    assert mapper.resolve("/build/worker/main.py") == real(ws / "worker/main.py")  # inherited
    assert mapper.resolve("bin/worker.py") == real(ws / "worker/main.py")
