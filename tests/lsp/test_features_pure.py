"""The pure parts of the Tiltfile features: reading the text, the cursor's context while
typing, the checks, and the plain words — no server, no editor."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tilt_lsp.lsp.features import checks, cursor, source
from tilt_lsp.lsp.features.actions import actions_for
from tilt_lsp.lsp.features.codelens import lenses_for
from tilt_lsp.lsp.features.signature import active_parameter
from tilt_lsp.tiltfile import catalog

TEXT = """\
load('./lib.star', 'helper', greet='say_hi')
def cmd():
    return 'echo é'  # a comment with 'quotes' and (brackets
local_resource('api', cmd=cmd(), deps=['src', "lib"], resource_deps=['db'])
k8s_resource('web', new_name='frontend')
"""


def at(text: str, needle: str, delta: int = 0) -> tuple[int, int]:
    i = text.index(needle) + delta
    return text.count("\n", 0, i), i - (text.rfind("\n", 0, i) + 1)


def test_outline_reads_calls_strings_defs_loads_and_resources() -> None:
    outline = source.parse(TEXT)
    assert outline is not None
    assert [(n, c.name) for n, c, _ in outline.resources()] == [
        ("api", "local_resource"),
        ("frontend", "k8s_resource"),
    ]
    assert set(outline.defs) >= {"cmd", "helper", "greet"}
    load = outline.loads[0]
    assert load.path.value == "./lib.star" and load.symbols["greet"].value == "say_hi"
    paths = [s.value for _, s in outline.paths()]
    assert paths == ["./lib.star", "src", "lib"]
    deps = next(c for c in outline.calls if c.name == "local_resource").arg(-1, "deps")
    assert deps is not None
    line, col = at(TEXT, "'src'")
    assert (deps.strings[0].span.line, deps.strings[0].span.start) == (line, col)


def test_columns_are_characters_not_bytes() -> None:
    text = "x = 'é' ; local_resource('é2', cmd='true')\n"
    outline = source.parse(text)
    assert outline is not None
    name = outline.resources()[0][2]
    assert name.span.start == text.index("'é2'")


def test_unparsable_text_has_no_outline() -> None:
    assert source.parse("local_resource('api',\n") is None


def test_cursor_inside_a_call_through_lists_and_strings() -> None:
    text = "local_resource('api', cmd='x, y', resource_deps=['db', 'we"
    ctx = cursor.context(text, 0, len(text))
    assert ctx.call == "local_resource" and ctx.keyword == "resource_deps"
    assert ctx.in_string and ctx.string_prefix == "we"
    assert ctx.used_keywords == ("cmd", "resource_deps")


def test_cursor_counts_positional_arguments_and_ignores_comments_and_strings() -> None:
    text = "docker_build('web', # a comment, with (\n    'ctx', "
    ctx = cursor.context(text, 1, len("    'ctx', "))
    assert ctx.call == "docker_build" and ctx.index == 2 and ctx.keyword is None
    assert ctx.arg_start and not ctx.in_string
    entry = catalog.lookup("docker_build")
    assert entry is not None and entry.params is not None
    active = active_parameter(entry, ctx)
    assert active is not None and entry.params[active].name == "build_args"


def test_cursor_word_for_dotted_names() -> None:
    text = "x = os.path.jo"
    assert cursor.context(text, 0, len(text)).word == "os.path.jo"
    assert cursor.word_at("os.path.join('a')", 0, 4) == ("os.path", 0, 7)
    assert cursor.word_at("os.path.join('a')", 0, 9) == ("os.path.join", 0, 12)


def test_cursor_in_a_comment_offers_nothing() -> None:
    text = "# local_resource("
    assert cursor.context(text, 0, len(text)).in_comment


def test_checks(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "k8s.yaml").write_text("image: registry.local/api:dev\n")
    text = (
        "docker_build('registry.local/api', 'src')\n"
        "docker_build('worker', 'src')\n"
        "k8s_yaml('k8s.yaml')\n"
        "local_resource('tests', cmd='true', deps=['src', 'nope'], resource_deps=['apj'])\n"
    )
    outline = source.parse(text)
    assert outline is not None

    def read(path: str) -> str | None:
        p = Path(path)
        return p.read_text() if p.exists() else None

    found = checks.check(outline, str(tmp_path), ["api", "tests"], read)
    by_code = {d.code: d for d in found}
    assert set(by_code) == {"unknown-resource", "missing-path", "unused-image"}
    assert "did you mean 'api'?" in by_code["unknown-resource"].message
    assert by_code["unknown-resource"].data == {"suggestion": "api"}
    assert "nope" in by_code["missing-path"].message
    assert "'worker'" in by_code["unused-image"].message  # registry.local/api is in the YAML
    # Resources from YAML are unknown until the engine has read it: no resource check.
    assert not checks.resources_known_from_text(outline)


def test_no_unused_image_check_when_yaml_comes_from_a_function(tmp_path: Path) -> None:
    outline = source.parse("docker_build('web', '.')\nk8s_yaml(local('helm template x'))\n")
    assert outline is not None
    assert checks.check(outline, str(tmp_path), None, lambda p: None) == []


def test_quick_fix_replaces_the_name_keeping_its_quotes() -> None:
    diag = types.Diagnostic(
        range=types.Range(types.Position(0, 15), types.Position(0, 20)),
        message="no resource named 'apj'",
        code=checks.UNKNOWN_RESOURCE,
        data={"suggestion": "api"},
    )
    actions = actions_for("file:///w/Tiltfile", [diag], lambda n: 'resource_deps=["apj"]')
    edit = actions[0].edit
    assert edit is not None and edit.changes is not None
    assert edit.changes["file:///w/Tiltfile"][0].new_text == '"api"'


def test_lens_titles_are_plain_words() -> None:
    from tilt_lsp.engine.status import BuildStatus, ResourceStatus, RuntimeStatus
    from tilt_lsp.tiltfile.model import Link, Resource, ResourceKind, TriggerMode

    r = Resource(
        "web",
        ResourceKind.LOCAL,
        TriggerMode.AUTO,
        True,
        (),
        (),
        (),
        None,
        links=(Link("http://localhost:1/"),),
    )
    for build in BuildStatus:
        for runtime in RuntimeStatus:
            s = ResourceStatus("web", "local", r, build=build, runtime=runtime)
            titles = [lens.command.title for lens in lenses_for(s, 0, 0) if lens.command]
            assert "↗ http://localhost:1/" in titles
            assert not any("none" in t.split() or "_" in t for t in titles), titles


def test_endpoints_from_links_port_forwards_and_compose_ports() -> None:
    from tilt_lsp.engine.wording import endpoints
    from tilt_lsp.tiltfile.model import (
        ComposeSpec,
        K8sSpec,
        Link,
        PortForward,
        Resource,
        ResourceKind,
        TriggerMode,
    )

    def resource(**spec: object) -> Resource:
        return Resource("r", ResourceKind.LOCAL, TriggerMode.AUTO, True, (), (), (), None, **spec)  # type: ignore[arg-type]

    assert endpoints(resource(links=(Link("http://x/", "docs"),))) == ["http://x/"]
    k8s = K8sSpec((), (PortForward(8000, 80), PortForward(9000, 90, host="0.0.0.0")), "")
    assert endpoints(resource(k8s=k8s)) == ["http://localhost:8000/", "http://localhost:9000/"]
    config = {"ports": ["8080:80", "127.0.0.1:8081:81", "90", {"published": 8082, "target": 82}]}
    compose = ComposeSpec("p", (), None, (), "web", config)
    assert endpoints(resource(compose=compose)) == [
        "http://localhost:8080/",
        "http://localhost:8081/",
        "http://localhost:8082/",
    ]


def test_checks_do_not_repeat_what_the_engine_says() -> None:
    def diag(line: int, message: str, code: str | None = None) -> types.Diagnostic:
        where = types.Range(types.Position(line, 0), types.Position(line, 1))
        return types.Diagnostic(range=where, message=message, code=code)

    found = [
        diag(0, "image 'web' is built but not used: …", checks.UNUSED_IMAGE),
        diag(
            1,
            "local_resource(): nothing at src/x.py (/w/src/x.py does not exist)",
            checks.MISSING_PATH,
        ),
        diag(2, "resource_deps: no resource named 'apj'", checks.UNKNOWN_RESOURCE),
    ]
    engine = [
        diag(0, "image 'web' is not used by any resource"),
        diag(1, "local_resource(): deps: src/x.py does not exist"),
        diag(2, "something else"),
    ]
    kept = checks.without_engine_repeats(found, engine)
    assert [d.code for d in kept] == [checks.UNKNOWN_RESOURCE]
    assert checks.without_engine_repeats(found, []) == found
