"""``tilt-lsp diagnose`` from the shell: JSON lines or text, exit codes, usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tilt_lsp.commands import diagnose

from .golden import CAPTURE_ROOT, DATA, all_cases, expected, relativize


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


def test_errors_that_map_nowhere_are_explained_with_the_map_they_need(tmp_path: Path) -> None:
    """tilt-lsp #17: a container log read without --map names the paths it could not place
    and the --map that places them, and that --map works."""
    case = "python/traceback_stdlib"
    (tmp_path / "svc/src").mkdir(parents=True)
    for name in ("app.py", "settings.py"):
        (tmp_path / "svc/src" / name).write_text((DATA / case / name).read_text())
    output = str(DATA / case / "output.txt")
    proc = run_cli(output, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, b"")
    advice = proc.stderr.decode()
    assert f"{CAPTURE_ROOT}/{case}/settings.py:6" in advice
    suggested = f"--map {CAPTURE_ROOT}/{case}=svc/src"
    assert advice.rstrip().endswith(f"try: {suggested}")
    fixed = run_cli(*suggested.split(" ", 1), "--format", "text", output, cwd=tmp_path)
    assert (fixed.returncode, fixed.stderr) == (0, b"")
    assert fixed.stdout.decode().startswith(
        f"{os.path.realpath(tmp_path)}/svc/src/settings.py:6:12: error: json.decoder."
    )


def test_no_map_is_suggested_when_two_places_fit_equally(tmp_path: Path) -> None:
    case = "python/traceback_stdlib"
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        for name in ("app.py", "settings.py"):
            (tmp_path / where / name).write_text((DATA / case / name).read_text())
    proc = run_cli(str(DATA / case / "output.txt"), cwd=tmp_path)
    advice = proc.stderr.decode()
    assert "none of the files it names is in the workspace" in advice
    assert "--map CONTAINER_PATH=LOCAL_PATH" in advice and "try:" not in advice


def test_output_without_errors_gets_no_explanation(tmp_path: Path) -> None:
    proc = run_cli(str(DATA / "noise/request_log/output.txt"), cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


@pytest.mark.parametrize("case", all_cases())
def test_diagnose_puts_every_error_of_every_capture_on_its_line(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance of tilt-lsp #14: the CLI on each real capture, as a user runs it."""
    root = DATA / case
    code = diagnose.main(["--root", str(root), "--map", f"{CAPTURE_ROOT}/{case}={root}",
                          str(root / "output.txt")])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    got = [relativize(json.loads(line), root) for line in out.splitlines()]
    assert got == expected(case)
