"""README.md is true to the command line: every flag of every subcommand is in the command
table, and the sample outputs are what ``tilt-lsp check`` and ``resources`` print."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port, run_cli
from tilt_lsp.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
EXAMPLE = REPO / "examples" / "hello-local"


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def _rows() -> dict[str, str]:
    """The command table: the command words of each row (``synclet manifests``) -> the row."""
    rows: dict[str, str] = {}
    for line in _section("Commands").splitlines():
        m = re.match(r"^\| `tilt-lsp (?P<words>[a-z][a-z ]*?)(?: [\[-].*?)?`", line)
        if m:
            rows[m.group("words").strip()] = line
    return rows


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words = f"{prefix} {name}".strip()
                nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                if nested:
                    yield from _commands(sub, words)
                else:
                    yield words, sub


ALL = sorted(_commands(build_parser()), key=lambda c: c[0])


def test_the_table_has_a_row_per_command() -> None:
    assert sorted(_rows()) == [words for words, _ in ALL]


@pytest.mark.parametrize(("words", "parser"), ALL, ids=[w for w, _ in ALL])
def test_every_flag_is_in_its_row(words: str, parser: argparse.ArgumentParser) -> None:
    row = _rows().get(words)
    assert row is not None, f"README's command table has no row for `tilt-lsp {words}`"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for flag in action.option_strings:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", row), (
                f"`tilt-lsp {words}`: {flag} is not in README's command table"
            )
        if not action.option_strings:
            name = (action.metavar or action.dest).upper()
            assert name in row, f"`tilt-lsp {words}`: argument {name} is not in the table"
        if action.choices and action.option_strings:
            for choice in action.choices:
                assert str(choice) in row, (
                    f"`tilt-lsp {words} {action.option_strings[0]}`: {choice}"
                )


def _sample_lines() -> list[str]:
    """The lines of the README's sample ``check`` output, path prefixes replaced by ROOT/."""
    out: list[str] = []
    for block in re.findall(r"```console\n(.*?)```", README, re.DOTALL):
        for line in block.splitlines():
            if "hello-local/" in line and ": error: " in line:
                out.append(re.sub(r"^\S*?/hello-local/", "ROOT/", line))
            elif line.startswith("tilt-lsp: greeter"):
                out.append(line)
    return out


def test_the_sample_output_is_what_check_prints(tmp_path: Path) -> None:
    root = tmp_path / "hello-local"
    shutil.copytree(EXAMPLE, root)
    tiltfile = root / "Tiltfile"
    tiltfile.write_text(tiltfile.read_text().replace("'8765'", f"'{free_port()}'"))
    greeting = root / "greeting.py"
    # The bug scripts/demo puts in: the README's samples show its result.
    greeting.write_text(greeting.read_text().replace('+ "!"', "+ 1"))
    proc = run_cli("check", "--file", str(root), "--quiet")
    assert proc.returncode == 1
    printed = [line.replace(f"{root}/", "ROOT/") for line in proc.stdout.splitlines()]
    printed += proc.stderr.splitlines()
    samples = _sample_lines()
    assert len(samples) >= 5, samples  # the quick start's and the command section's
    for line in samples:
        assert line in printed, f"README shows a line check does not print:\n{line}\n{printed}"


def test_the_multi_service_readme_shows_what_resources_prints() -> None:
    example = REPO / "examples" / "multi-service"
    proc = run_cli("resources", "--file", str(example))
    assert proc.returncode == 0, proc.stderr
    table = [line for line in proc.stdout.splitlines()[1:] if line.strip()][:5]
    readme = (example / "README.md").read_text()
    for line in table:
        assert f"    {line}\n" in readme, line
