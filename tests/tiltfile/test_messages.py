"""What a newcomer reads when the Tiltfile is wrong: short, placed where the mistake is.

- A parse error names what the parser wanted in a few words ("expected ',' or ')'"), not
  the ~50 tokens starlark's parser lists after an expression.
- An unknown keyword argument sits on ``name=`` (not on the call) with the closest valid
  name; a wrongly typed keyword argument sits on its ``name=`` too.
- A path in ``deps`` (and in a live update's sync / run trigger / fall_back_on) that does not
  exist is a warning on that path's string, with the closest existing name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tiltfile.locations import where
from tilt_lsp.changes.mapping import Watches
from tilt_lsp.tiltfile import source_scan
from tilt_lsp.tiltfile.errors import summarize_expected
from tilt_lsp.tiltfile.model import Model, Warning

# -- the parser's expectation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tiltfile", "place", "message"),
    [
        (
            "local_resource('web', serve_cmd='python3 server.py' deps=['server.py'])\n",
            "Tiltfile:1:53",
            "syntax error: unexpected identifier 'deps' here, expected ',' or ')'",
        ),
        (
            "local_resource(\n    'web',\n    serve_cmd='python3 server.py'\n    deps=['a'],\n)\n",
            "Tiltfile:4:5",
            "syntax error: unexpected identifier 'deps' here, expected ',' or ')' "
            "for the '(' on line 1",
        ),
        (
            "local_resource('a',\n    cmd='true'\n\nx = 1\n",
            "Tiltfile:4:1",
            "syntax error: unexpected identifier 'x' here, expected ',' or ')' "
            "for the '(' on line 1",
        ),
        (
            "deps = ['a.py' 'b.py', c]\n",
            "Tiltfile:1:16",
            "syntax error: unexpected string literal \"b.py\" here, expected ',' or ']'",
        ),
        (
            "env = {'A': '1' 'B': '2'}\n",
            "Tiltfile:1:17",
            "syntax error: unexpected string literal \"B\" here, expected ',' or '}'",
        ),
        (
            "# a call inside a list: the innermost bracket decides\nx = [f(1 2)]\n",
            "Tiltfile:2:10",
            "syntax error: unexpected integer literal '2' here, expected ',' or ')'",
        ),
        (
            "x = 1 2\n",
            "Tiltfile:1:7",
            "syntax error: unexpected integer literal '2' here, expected the end of the line",
        ),
        (
            "x = (1, ]\n",
            "Tiltfile:1:9",
            "syntax error: unexpected symbol ']' here, expected a value or ')'",
        ),
        (
            "local_resource('a', cmd=)\n",
            "Tiltfile:1:25",
            "syntax error: unexpected symbol ')' here, expected a value",
        ),
        (
            "s = ')(' # brackets in strings and comments do not count: ([{\nx = 1 2\n",
            "Tiltfile:2:7",
            "syntax error: unexpected integer literal '2' here, expected the end of the line",
        ),
        (
            "def f()\n    pass\n",
            "Tiltfile:1:8",
            "syntax error: unexpected new line here, expected '->' or ':'",
        ),
        (
            "if True\n    pass\n",
            "Tiltfile:1:8",
            "syntax error: unexpected new line here, expected ':'",
        ),
    ],
)
def test_the_parsers_expectation_in_a_few_words(
    load_error, tmp_path: Path, tiltfile: str, place: str, message: str
) -> None:
    err = load_error(tiltfile)
    assert (err.kind, where(err, tmp_path), err.message) == ("syntax", place, message)


def test_a_syntax_error_in_a_loaded_file_is_summarised_too(load_error, tmp_path: Path) -> None:
    err = load_error("load('lib.star', 'f')\n", {"lib.star": "def f(a, b):\n    return [a b]\n"})
    assert where(err, tmp_path) == "lib.star:2:15"
    assert err.message == "syntax error: unexpected identifier 'b' here, expected ',' or ']'"


def test_a_message_without_a_token_list_is_left_alone() -> None:
    assert summarize_expected("syntax error: bad indentation", []) == (
        "syntax error: bad indentation"
    )


@pytest.mark.parametrize(
    ("tiltfile", "place", "message"),
    [
        (
            "x = 1\nlocal_resource('a',\n    cmd='true',\n",
            "Tiltfile:2:15",
            "syntax error: unexpected end of file: the '(' on line 2 (column 15) is never closed",
        ),
        (
            "deps = ['a',\n        'b'\nlocal_resource('a', cmd='true')\n",
            "Tiltfile:3:1",
            "syntax error: unexpected identifier 'local_resource' here, expected ',' or ']' "
            "for the '[' on line 1",
        ),
        (
            "x = {'a': [1, 2],\n",
            "Tiltfile:1:5",
            "syntax error: unexpected end of file: the '{' on line 1 (column 5) is never closed",
        ),
    ],
)
def test_a_bracket_left_open_is_named_with_its_place(
    load_error, tmp_path: Path, tiltfile: str, place: str, message: str
) -> None:
    err = load_error(tiltfile)
    assert (err.kind, where(err, tmp_path), err.message) == ("syntax", place, message)


def test_an_unfinished_string_keeps_the_parsers_words(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\ny = 'abc\nz = 2\n")
    assert (where(err, tmp_path), err.message) == (
        "Tiltfile:2:5",
        "syntax error: unfinished string literal",
    )


# -- unknown and mistyped keyword arguments -----------------------------------------------------


def test_unknown_keyword_argument_is_on_the_argument_with_the_closest_name(
    load_error, tmp_path: Path
) -> None:
    err = load_error(
        "local_resource(\n    'web',\n    serve_cmd='python3 server.py',\n    dep=['server.py'],\n)\n"
    )
    assert (err.kind, where(err, tmp_path)) == ("argument", "Tiltfile:4:5")
    assert (
        err.message
        == "local_resource() got an unexpected keyword argument 'dep'; did you mean 'deps'?"
    )


def test_unknown_keyword_argument_after_a_call_on_the_same_line(load_error, tmp_path: Path) -> None:
    # The name also appears inside a string and as a nested call's argument: only the call's
    # own argument is it.
    err = load_error(
        "x = 1\nlocal_resource('a', cmd='echo lables=1', "
        "readiness_probe=probe(tcp_socket=tcp_socket_action(80), period_secs=1), lables=['x'])\n"
    )
    assert where(err, tmp_path) == "Tiltfile:2:114"
    assert err.message == (
        "local_resource() got an unexpected keyword argument 'lables'; did you mean 'labels'?"
    )


def test_unknown_keyword_argument_of_a_nested_call(load_error, tmp_path: Path) -> None:
    err = load_error(
        "local_resource('a', serve_cmd='x',\n"
        "    readiness_probe=probe(http_get=http_get_action(port=80, pth='/')))\n"
    )
    assert where(err, tmp_path) == "Tiltfile:2:61"
    assert err.message == (
        "http_get_action() got an unexpected keyword argument 'pth'; did you mean 'path'?"
    )


def test_unknown_keyword_argument_with_nothing_close_lists_the_names(
    load_error, tmp_path: Path
) -> None:
    err = load_error("sync('a', '/app', colour='red')\n")
    assert where(err, tmp_path) == "Tiltfile:1:19"
    assert err.message == (
        "sync() got an unexpected keyword argument 'colour' (it takes: local_path, remote_path)"
    )


def test_unknown_keyword_argument_in_a_helper_is_placed_in_the_helper(
    load_error, tmp_path: Path
) -> None:
    err = load_error(
        "load('lib.star', 'svc')\nsvc('web')\n",
        {"lib.star": "def svc(name):\n    local_resource(name, cmd='true', trigger='x')\n"},
    )
    assert where(err, tmp_path) == "lib.star:2:38"
    assert err.message.startswith("local_resource() got an unexpected keyword argument 'trigger'")


def test_a_mistyped_keyword_argument_is_on_the_argument(load_error, tmp_path: Path) -> None:
    err = load_error("local_resource(\n    'a',\n    cmd='x',\n    auto_init='no',\n)\n")
    assert (err.kind, where(err, tmp_path)) == ("type", "Tiltfile:4:5")
    assert err.message == "local_resource(): argument 'auto_init' must be a bool, not string"


def test_a_mistyped_positional_argument_stays_on_the_call(load_error, tmp_path: Path) -> None:
    err = load_error("x = 1\n  \nlocal_resource(3, cmd='x')\n".replace("  \n", "\n"))
    assert where(err, tmp_path) == "Tiltfile:3:1"


# -- paths that do not exist ----------------------------------------------------------------


def _warnings(model: Model, root: Path) -> list[tuple[str, str]]:
    def place(w: Warning) -> str:
        assert w.location is not None, w.message
        rel = Path(w.location.path).relative_to(root)
        return f"{rel}:{w.location.line}:{w.location.column}"

    return [(place(w), w.message) for w in model.warnings]


def test_a_missing_deps_path_is_a_warning_on_its_string(load, tmp_path: Path) -> None:
    model = load(
        "local_resource(\n"
        "    'web',\n"
        "    serve_cmd='python3 server.py',\n"
        "    deps=[\n"
        "        'server.py',\n"
        "        'sever.py',\n"
        "        'src',\n"
        "    ],\n"
        ")\n",
        {"server.py": "", "src/app.py": ""},
    )
    assert _warnings(model, tmp_path) == [
        (
            "Tiltfile:6:9",
            f"local_resource(): deps: 'sever.py' does not exist ({tmp_path}/sever.py); "
            "did you mean 'server.py'?",
        )
    ]
    # Still watched: creating the file later is seen.
    assert model.resources[0].local is not None
    assert str(tmp_path / "sever.py") in model.resources[0].local.deps


def test_creating_a_missing_path_re_evaluates_the_tiltfile(load, tmp_path: Path) -> None:
    # So the warning goes once the file exists (as a changed Tiltfile dependency would).
    model = load("local_resource('web', cmd='true', deps=['sever.py', 'server.py'])\n")
    changed = Watches(model).classify([str(tmp_path / "sever.py")])
    assert changed.tiltfile_changed
    assert changed.resources == {"web": {str(tmp_path / "sever.py")}}
    (tmp_path / "sever.py").write_text("")
    assert len(load("local_resource('web', cmd='true', deps=['sever.py'])\n").warnings) == 0


def test_missing_deps_paths_in_subdirectories_and_given_by_position(load, tmp_path: Path) -> None:
    model = load("local_resource('a', 'make', ['src/mian.c', 'gen/out.h'])\n", {"src/main.c": ""})
    assert _warnings(model, tmp_path) == [
        (
            "Tiltfile:1:30",
            f"local_resource(): deps: 'src/mian.c' does not exist ({tmp_path}/src/mian.c); "
            "did you mean 'src/main.c'?",
        ),
        (
            "Tiltfile:1:44",
            f"local_resource(): deps: 'gen/out.h' does not exist ({tmp_path}/gen/out.h)",
        ),
    ]


def test_deps_from_a_variable_warn_at_the_argument(load, tmp_path: Path) -> None:
    model = load("files = ['nope.py']\nlocal_resource('a', cmd='true', deps=files)\n")
    assert [place for place, _ in _warnings(model, tmp_path)] == ["Tiltfile:2:33"]


def test_live_update_paths_that_do_not_exist_warn_at_their_step(load, tmp_path: Path) -> None:
    model = load(
        "docker_build('web', '.', dockerfile_contents='FROM scratch', live_update=[\n"
        "    fall_back_on('requirments.txt'),\n"
        "    sync('scr', '/app/src'),\n"
        "    run('pip install -r /app/requirements.txt', trigger=['requirements.txt']),\n"
        "])\n",
        {"requirements.txt": "", "src/app.py": ""},
    )
    found = [w for w in _warnings(model, tmp_path) if "does not exist" in w[1]]
    assert found == [
        (
            "Tiltfile:2:18",
            f"fall_back_on(): files: 'requirments.txt' does not exist ({tmp_path}/requirments.txt); "
            "did you mean 'requirements.txt'?",
        ),
        (
            "Tiltfile:3:10",
            f"sync(): local_path: 'scr' does not exist ({tmp_path}/scr); did you mean 'src'?",
        ),
    ]


def test_existing_paths_give_no_warning(load, tmp_path: Path) -> None:
    model = load(
        "local_resource('a', cmd='true', deps=['.', 'src', 'src/app.py'])\n", {"src/app.py": ""}
    )
    assert model.warnings == ()


# -- the lexer behind the places ---------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("ab_=,()[]{}'\"\\#\n r12:."), max_size=80))
@settings(max_examples=300, deadline=None)
def test_the_lexer_takes_any_text(text: str) -> None:
    found = list(source_scan.tokens(text))
    assert all(1 <= t.line <= text.count("\n") + 1 and t.column >= 1 for t in found)
    source_scan.open_brackets(text, 2, 1)
    for tok in found[:3]:
        source_scan.call_arguments(text, tok.line, tok.column)
        source_scan.argument(text, tok.line, tok.column, "a", 0)


def test_the_lexer_reads_strings_as_starlark_does() -> None:
    src = "f(r'a\\'b', '''x\n)''', \"c#d\", b'e') # f(\n"
    found = [t for t in source_scan.tokens(src) if t.kind == "string"]
    assert [(t.value, t.line, t.column) for t in found] == [
        ("a\\'b", 1, 3),
        ("x\n)", 1, 12),
        ("c#d", 2, 7),
        (None, 2, 14),  # bytes: not a str value
    ]
    assert source_scan.open_brackets(src, 3, 1) == []
    assert source_scan.open_brackets(src) == []
