"""``tilt-lsp diagnose``: the problem parsers on any saved build output or log, from the shell.

The same code the engine runs on live output, so a user can check what tilt-lsp would show
for a log (``kubectl logs web | tilt-lsp diagnose --map /app=.``) and a bug report can carry
the input that went wrong. Prints one JSON object per problem per line (or ``path:line:col:
severity: message`` with ``--format text``); exits 0 whatever it found, 2 on a usage error.
When the output holds errors but none of their files is in the workspace (a container's
paths without ``--map``), it says so on stderr, with the ``--map`` that would place them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, BinaryIO

from tilt_lsp.commands import output
from tilt_lsp.diagnostics.dockerpaths import dockerfile_mappings
from tilt_lsp.diagnostics.explain import explain, unplaced
from tilt_lsp.diagnostics.model import Finding, Problem
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import diagnose_lines


class UsageError(Exception):
    """A bad argument, said in words the user can act on."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "diagnose",
        help="find build errors and stack traces in output or a log and print them as problems",
        description=(
            "Read build output or a container log (a file, or stdin) and print the problems "
            "tilt-lsp would show, placed on files under --root."
        ),
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CONTAINER_PATH=LOCAL_PATH",
        help="a container path prefix and the local directory it comes from (repeatable; "
        "the longest matching prefix wins)",
    )
    p.add_argument("--root", default=None, help="the workspace root (default: the current dir)")
    p.add_argument(
        "--workdir",
        default=None,
        metavar="DIR",
        help="the directory relative paths in the output are relative to (a container path "
        "if it is mapped, else local; default: the Dockerfile's WORKDIR, else --root)",
    )
    p.add_argument(
        "--dockerfile",
        default=None,
        metavar="PATH",
        help="the Dockerfile of the build (default: ROOT/Dockerfile if it exists); its "
        "COPY/WORKDIR add path mappings and failed steps are placed on its lines",
    )
    p.add_argument("--format", choices=("json", "text"), default="json")
    p.add_argument("file", nargs="?", default="-", help="the output to read (default: stdin)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        mapper, dockerfile = build_mapper(args)
        stream = _open_input(args.file)
    except UsageError as exc:
        print(f"tilt-lsp diagnose: {exc}", file=sys.stderr)
        return 2
    missed: list[Finding] = []
    found = 0
    with stream:
        for problem in diagnose_lines(stream, mapper, dockerfile, missed):
            print(format_problem(problem, args.format), flush=args.file == "-")
            found += 1
    if found == 0 and (result := unplaced(missed, mapper)) is not None:
        print(f"tilt-lsp diagnose: {explain(result, mapper.root, os.getcwd())}",
              file=sys.stderr)
    return 0


def build_mapper(args: argparse.Namespace) -> tuple[PathMapper, DockerfileSource | None]:
    root = os.path.abspath(args.root or os.getcwd())
    if not os.path.isdir(root):
        raise UsageError(f"--root {root} is not a directory")
    pairs: list[tuple[str, str]] = []
    for spec in args.map:
        container, sep, local = spec.partition("=")
        if not sep or not container.startswith("/") or not local:
            raise UsageError(
                f"bad --map {spec!r}: expected CONTAINER_PATH=LOCAL_PATH with an absolute "
                "container path, e.g. --map /app=."
            )
        pairs.append((container, os.path.abspath(local)))
    dockerfile: DockerfileSource | None = None
    workdir: str | None = None
    dockerfile_path = args.dockerfile or os.path.join(root, "Dockerfile")
    if args.dockerfile and not os.path.isfile(dockerfile_path):
        raise UsageError(f"no Dockerfile at {dockerfile_path}")
    if os.path.isfile(dockerfile_path):
        with open(dockerfile_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        dockerfile = DockerfileSource(os.path.abspath(dockerfile_path), text)
        context = os.path.dirname(os.path.abspath(dockerfile_path))
        copies, workdir = dockerfile_mappings(text, context)
        pairs.extend(copies)  # explicit --map pairs come first and win ties
    mapper = PathMapper(root, pairs, workdir=args.workdir or workdir)
    if args.workdir and not args.workdir.startswith("/"):
        mapper.local_workdir = os.path.abspath(args.workdir)
    elif args.workdir and mapper.map_container_path(args.workdir) is None:
        mapper.local_workdir = args.workdir
    return mapper, dockerfile


def _open_input(name: str) -> BinaryIO:
    if name == "-":
        return os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    try:
        return open(name, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from exc


def problem_json(problem: Problem) -> dict[str, Any]:
    """``tilt-lsp check``'s JSON object of a problem, without a resource (a log names none)
    and with the tool's code (``TS2322``, ``E0308``) kept."""
    obj = output.problem_json("", problem)
    del obj["resource"]
    obj["code"] = problem.code
    return obj


def format_problem(problem: Problem, fmt: str) -> str:
    if fmt == "text":
        col = f"{problem.column}:" if problem.column is not None else ""
        first = problem.message.splitlines()[0] if problem.message else ""
        return f"{problem.path}:{problem.line}:{col} {problem.severity.value}: {first}"
    return json.dumps(problem_json(problem), ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    """Run as ``python -m tilt_lsp.commands.diagnose`` (the same as ``tilt-lsp diagnose``)."""
    parser = argparse.ArgumentParser(prog="tilt-lsp")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["diagnose", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
