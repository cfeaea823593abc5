"""Every kind of Tiltfile mistake becomes an error at its exact file:line:col, in plain words.

These errors are the first diagnostics the language server publishes, so the place matters
as much as the message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tiltfile.locations import where


def test_syntax_error(load_error, tmp_path: Path) -> None:
    err = load_error("local_resource('a', cmd='true')\nx = (1,\nprint(x\n")
    assert err.kind == "syntax"
    # At the innermost bracket never closed, as Python says it (test_messages.py).
    assert where(err, tmp_path) == "Tiltfile:3:6"
    assert err.message == (
        "syntax error: unexpected end of file: the '(' on line 3 (column 6) is never closed"
    )


def test_syntax_error_mid_file(load_error, tmp_path: Path) -> None:
    err = load_error("a = 1\nb = [1,\nc = 3\n")
    assert (err.kind, where(err, tmp_path)) == ("syntax", "Tiltfile:3:3")
    assert err.message == "syntax error: unexpected symbol '=' here, expected ',' or ']'"


def test_syntax_error_in_a_loaded_file(load_error, tmp_path: Path) -> None:
    err = load_error("load('lib.star', 'x')\n", {"lib.star": "x = 1\ndef f(:\n  pass\n"})
    assert err.kind == "syntax"
    assert where(err, tmp_path) == "lib.star:2:7"


def test_unknown_keyword_argument(load_error, tmp_path: Path) -> None:
    err = load_error(
        "# one\n# two\nif True:\n    local_resource('a', cmd='true', serve_cmmd='x')\n"
    )
    assert err.kind == "argument"
    assert where(err, tmp_path) == "Tiltfile:4:37"  # at serve_cmmd=, see test_messages.py
    assert err.message == (
        "local_resource() got an unexpected keyword argument 'serve_cmmd'; did you mean 'serve_cmd'?"
    )


def test_missing_required_argument(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\ndocker_build('web')\n")
    assert (err.kind, where(err, tmp_path)) == ("argument", "Tiltfile:2:1")
    assert err.message == "docker_build() is missing required argument 'context'"


def test_too_many_positional_arguments(load_error, tmp_path: Path) -> None:
    err = load_error("sync('a', '/b', 'c')\n")
    assert (err.kind, where(err, tmp_path)) == ("argument", "Tiltfile:1:1")
    assert err.message == "sync() takes at most 2 positional arguments (3 given)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "local_resource(3, cmd='x')",
            "local_resource(): argument 'name' must be a string, not int",
        ),
        (
            "local_resource('a', cmd={'x': 1})",
            "local_resource(): argument 'cmd' must be a command (a string, or a list of strings), not dict",
        ),
        (
            "local_resource('a', cmd='x', deps=['a', 2])",
            "local_resource(): argument 'deps' must be a list of strings, but it contains int 2",
        ),
        (
            "local_resource('a', cmd='x', auto_init='no')",
            "local_resource(): argument 'auto_init' must be a bool, not string",
        ),
        (
            "local_resource('a', cmd='x', trigger_mode='manual')",
            "local_resource(): trigger_mode must be TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL, not 'manual'",
        ),
        (
            "docker_build('web', '.', dockerfile_contents='FROM x', live_update=['sync'])",
            "docker_build(): live_update must be a list of live update steps (sync, run, fall_back_on, restart_container, initial_sync), got string 'sync'",
        ),
        (
            "docker_build('web', '.', dockerfile_contents='FROM x', build_args={'A': [1]})",
            "docker_build(): argument 'build_args' must map strings to strings; 'A' maps to list",
        ),
        (
            "k8s_resource('x', port_forwards=['abc'])",
            "k8s_resource(): port_forwards entries must be a port (8000), 'LOCAL:CONTAINER' ('8000:80'), or port_forward(...); got 'abc'",
        ),
    ],
)
def test_wrong_argument_types(load_error, tmp_path: Path, call: str, message: str) -> None:
    err = load_error(f"# comment\n  \n{call}\n".replace("  \n", "\n"))
    assert err.kind == "type"
    # At the argument when it is given by name (test_messages.py), else at the call.
    named = re.search(r"argument '(\w+)'", message)
    column = call.index(named.group(1) + "=") + 1 if named and named.group(1) + "=" in call else 1
    assert where(err, tmp_path) == f"Tiltfile:3:{column}"
    assert err.message == message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "docker_build('web', 'nope')",
            "docker_build(): build context is not a directory: {root}/nope",
        ),
        ("docker_build('web', '.')", "docker_build(): Dockerfile not found: {root}/Dockerfile"),
        (
            "docker_compose('compose.yml')",
            "docker_compose(): compose file not found: {root}/compose.yml",
        ),
        ("k8s_yaml(['k8s/app.yaml'])", "k8s_yaml(): file not found: {root}/k8s/app.yaml"),
        ("read_file('secrets.txt')", "read_file(): file not found: {root}/secrets.txt"),
        (
            "local_resource('a', cmd='x', dir='build')",
            "local_resource(): dir is not a directory: {root}/build",
        ),
    ],
)
def test_missing_files(load_error, tmp_path: Path, call: str, message: str) -> None:
    err = load_error(f"print('start')\n\n\n  {call}\n".replace("\n  ", "\nif True:\n    ", 1))
    assert err.kind == "missing-file"
    assert where(err, tmp_path) == "Tiltfile:5:5"
    assert err.message == message.format(root=tmp_path)


@pytest.mark.parametrize(
    ("steps", "line", "message"),
    [
        (
            "sync('.', '/app'), fall_back_on('x')",
            2,
            "fall_back_on steps must appear at the start of the list",
        ),
        ("run('make'), sync('.', '/app')", 2, "all sync steps must precede all run steps"),
        ("restart_container(), run('make')", 2, "restart_container is only valid as the last step"),
        (
            "sync('.', '/app'), initial_sync()",
            2,
            "initial_sync must appear at most once, at the start of the list",
        ),
    ],
)
def test_bad_live_update_order(
    load_error, tmp_path: Path, steps: str, line: int, message: str
) -> None:
    err = load_error(
        f"docker_build('web', '.', dockerfile_contents='FROM x',\n    live_update=[{steps}])\n"
    )
    assert err.kind == "live-update"
    assert where(err, tmp_path) == "Tiltfile:1:1"
    assert message in err.message


def test_live_update_step_not_used(load_error, tmp_path: Path) -> None:
    err = load_error("steps = [sync('.', '/app')]\n\nstray = run('make')\n")
    assert (err.kind, where(err, tmp_path)) == ("live-update", "Tiltfile:1:10")
    assert (
        err.message == "sync() step was created but not used in any docker_build(live_update=...)"
    )


def test_sync_needs_an_absolute_container_path(load_error, tmp_path: Path) -> None:
    err = load_error("x = sync('.', 'app')\n")
    assert (err.kind, where(err, tmp_path)) == ("argument", "Tiltfile:1:5")


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("helm", "helm('chart')"),
        ("kustomize", "kustomize('overlays/dev')"),
        ("custom_build", "custom_build('img', 'make', ['src'])"),
        ("config.parse", "config.parse()"),
        ("k8s_custom_deploy", "k8s_custom_deploy('x', apply_cmd='a', delete_cmd='b', deps=[])"),
    ],
)
def test_unsupported_tilt_builtin_fails_at_its_call(
    load_error, tmp_path: Path, name: str, call: str
) -> None:
    err = load_error(f"local_resource('a', cmd='true')\nyaml = {call}\n")
    assert err.kind == "unsupported"
    assert where(err, tmp_path) == f"Tiltfile:2:{8 + len(name) - len(name.rsplit('.', 1)[-1])}"
    assert err.message.startswith(f"{name}() is a Tilt builtin that tilt-lsp does not support yet")


def test_load_of_a_missing_file(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\n\nload('lib/missing.star', 'x')\n")
    assert (err.kind, where(err, tmp_path)) == ("missing-file", "Tiltfile:3:1")
    assert err.message == f"load('lib/missing.star'): file not found: {tmp_path}/lib/missing.star"


def test_tilt_extensions_are_unsupported_at_the_load(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\nload('ext://restart_process', 'docker_build_with_restart')\n")
    assert (err.kind, where(err, tmp_path)) == ("unsupported", "Tiltfile:2:1")
    assert "Tilt extensions are not supported" in err.message


def test_fail(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\nif x:\n  fail('set DB_URL first')\n")
    assert (err.kind, where(err, tmp_path), err.message) == (
        "fail",
        "Tiltfile:3:3",
        "set DB_URL first",
    )


def test_undefined_name(load_error, tmp_path: Path) -> None:
    err = load_error("local_resource('a', cmd='true')\ndocker_buld('web', '.')\n")
    assert (err.kind, where(err, tmp_path)) == ("reference", "Tiltfile:2:1")
    assert "docker_buld" in err.message


def test_failing_local_command(load_error, tmp_path: Path) -> None:
    err = load_error("# first\nv = local('echo oops >&2; exit 3')\n")
    assert where(err, tmp_path) == "Tiltfile:2:5"
    assert err.message == "local(): command 'echo oops >&2; exit 3' failed with exit code 3:\noops"


def test_error_inside_a_helper_points_at_the_helper_call(load_error, tmp_path: Path) -> None:
    err = load_error(
        "load('defs.star', 'svc')\nsvc('a')\n",
        {"defs.star": "def svc(name):\n    local_resource(name)\n"},
    )
    assert where(err, tmp_path) == "defs.star:2:5"
    assert err.message == "local_resource(): 'a' needs a cmd and/or a serve_cmd, but both are empty"


@pytest.mark.parametrize(
    ("tiltfile", "files", "at", "message"),
    [
        (
            "k8s_yaml('app.yaml')\n\nk8s_resource('frontend', port_forwards=8000)\n",
            {"app.yaml": "kind: Deployment\nmetadata: {name: backend}\n"},
            "Tiltfile:3:1",
            "k8s_resource(): no workload named 'frontend' (workloads: backend)",
        ),
        (
            "docker_compose('dc.yml')\ndc_resource('wbe')\n",
            {"dc.yml": "services:\n  web: {image: web}\n"},
            "Tiltfile:2:1",
            "dc_resource(): no Docker Compose service named 'wbe' (services: web)",
        ),
        (
            "local_resource('a', cmd='x')\nlocal_resource('b', cmd='x', resource_deps=['c'])\n",
            {},
            "Tiltfile:2:1",
            "resource 'b': resource_deps names unknown resource 'c' (resources: a, b)",
        ),
        (
            "local_resource('a', cmd='x', resource_deps=['b'])\nlocal_resource('b', cmd='x', resource_deps=['a'])\n",
            {},
            "Tiltfile:1:1",
            "resource_deps form a cycle: a -> b -> a",
        ),
        (
            "local_resource('a', cmd='x')\nlocal_resource('a', cmd='y')\n",
            {},
            "Tiltfile:2:1",
            "local_resource(): a local_resource named 'a' already exists",
        ),
    ],
)
def test_references_resolved_after_evaluation(
    load_error, tmp_path: Path, tiltfile, files, at, message
) -> None:
    err = load_error(tiltfile, files)
    assert where(err, tmp_path) == at
    assert err.message == message
