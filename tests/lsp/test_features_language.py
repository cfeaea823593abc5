"""Tiltfile language features through the real server over stdio (pytest-lsp), as VS Code
and as Neovim: completion, signature help, hover, definition, symbols, links, and the checks
published as you type."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import CLIENTS, wait_for

TILTFILE = """\
load('./tools/helpers.star', 'greeting_cmd')

def api_cmd(port):
    \"\"\"The api's serve command.\"\"\"
    return 'python3 -m http.server %d' % port

local_resource('api', serve_cmd=api_cmd(0), deps=['app'], links=['http://localhost:9/'])
local_resource('tests', cmd=greeting_cmd(), deps=['app/main.py'], resource_deps=['api'])
docker_build('web', 'app', dockerfile='app/Dockerfile')
"""

HELPERS = """\
def greeting_cmd():
    return 'echo hello'
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws16"
    (root / "app").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    (root / "tools" / "helpers.star").write_text(HELPERS)
    (root / "Tiltfile").write_text(TILTFILE)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tilt_lsp", "serve"]),
    params=CLIENTS,
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    lsp_client.feature("tilt/status")(lambda params: None)
    lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)(lambda params: None)
    uri = workspace.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
            initialization_options={"watch": False},
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri, language_id="tiltfile", version=1, text=text or path.read_text()
            )
        )
    )
    return uri


def change(client: LanguageClient, uri: str, text: str, version: int = 2) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def pos(text: str, needle: str, delta: int = 0) -> types.Position:
    """The position of ``needle`` (plus ``delta`` characters) in ``text``."""
    at = text.index(needle) + delta
    line = text.count("\n", 0, at)
    return types.Position(line, at - (text.rfind("\n", 0, at) + 1))


async def complete(client: LanguageClient, uri: str, at: types.Position) -> list[str]:
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), at)
    )
    items = result.items if isinstance(result, types.CompletionList) else (result or [])
    return [i.label for i in items]


async def test_completion_offers_functions_keywords_resources_and_paths(
    client: LanguageClient, workspace: Path
) -> None:
    text = (
        TILTFILE
        + "docker_b\nlocal_resource('x', cmd='true', resource_deps=['a'], deps=['app/m'])\nos.path.jo\n"
    )
    uri = open_doc(client, workspace / "Tiltfile", text)

    names = await complete(client, uri, pos(text, "docker_b", 8))
    assert "docker_build" in names
    assert "api_cmd" in names  # a local function

    keywords = await complete(client, uri, pos(text, "cmd='true', ", 12))
    assert "serve_cmd=" in keywords and "resource_deps=" in keywords
    assert "cmd=" not in keywords  # already given

    resources = await complete(client, uri, pos(text, "resource_deps=['a", 16))
    assert {"api", "tests"} <= set(resources)

    paths = await complete(client, uri, pos(text, "deps=['app/m", 12))
    assert "main.py" in paths

    members = await complete(client, uri, pos(text, "os.path.jo", 10))
    assert "join" in members and "docker_build" not in members


async def test_signature_help_follows_the_argument(client: LanguageClient, workspace: Path) -> None:
    text = "docker_build('web', 'app', dockerfile="
    uri = open_doc(client, workspace / "Tiltfile", text)
    help = await client.text_document_signature_help_async(
        types.SignatureHelpParams(types.TextDocumentIdentifier(uri), pos(text, "dockerfile=", 11))
    )
    assert help is not None
    signature = help.signatures[0]
    assert signature.label.startswith("docker_build(ref: str, context: str")
    active = signature.parameters[help.active_parameter or 0]
    assert str(active.label).startswith("dockerfile")

    text2 = "local_resource('api', "
    change(client, uri, text2)
    help = await client.text_document_signature_help_async(
        types.SignatureHelpParams(types.TextDocumentIdentifier(uri), pos(text2, "'api', ", 7))
    )
    assert help is not None and help.active_parameter == 1  # cmd


async def test_hover_shows_our_docs_for_tilt_functions_and_parameters(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "Tiltfile")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            types.TextDocumentIdentifier(uri), pos(TILTFILE, "local_resource('api'", 3)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "local_resource(name: str" in hover.contents.value
    assert "serve_cmd" in hover.contents.value

    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), pos(TILTFILE, "dockerfile=", 2))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "Parameter of `docker_build`" in hover.contents.value

    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), pos(TILTFILE, "api_cmd(0)", 2))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "The api's serve command." in hover.contents.value


async def test_definition_of_loaded_symbols_local_functions_load_paths_and_resources(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "Tiltfile")
    helpers = (workspace / "tools" / "helpers.star").as_uri()

    async def where(p: types.Position) -> types.Location:
        found = await client.text_document_definition_async(
            types.DefinitionParams(types.TextDocumentIdentifier(uri), p)
        )
        assert isinstance(found, types.Location), found
        return found

    loaded = await where(pos(TILTFILE, "greeting_cmd()", 3))
    assert loaded.uri == helpers and loaded.range.start.line == 0
    assert (await where(pos(TILTFILE, "tools/helpers", 2))).uri == helpers
    local = await where(pos(TILTFILE, "api_cmd(0)", 1))
    assert local.uri == uri and local.range.start.line == 2
    dep = await where(pos(TILTFILE, "resource_deps=['api", 16))
    assert dep.range.start.line == 6  # local_resource('api', ...)


async def test_document_symbols_are_the_resources(client: LanguageClient, workspace: Path) -> None:
    uri = open_doc(client, workspace / "Tiltfile")
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    names = [s.name for s in symbols or []]
    assert names[:1] == ["api_cmd"] or "api_cmd" in names
    assert [n for n in names if n in {"api", "tests", "web"}] == ["api", "tests", "web"]


async def test_document_links_open_dockerfiles_and_deps(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "Tiltfile")
    found = await client.text_document_document_link_async(
        types.DocumentLinkParams(types.TextDocumentIdentifier(uri))
    )
    targets = {link.target for link in found or []}
    assert (workspace / "app" / "Dockerfile").as_uri() in targets
    assert (workspace / "app" / "main.py").as_uri() in targets
    assert (workspace / "tools" / "helpers.star").as_uri() in targets


async def test_checks_as_you_type_and_the_quick_fix(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "Tiltfile")
    typed = TILTFILE.replace("resource_deps=['api']", "resource_deps=['apj']").replace(
        "deps=['app/main.py']", "deps=['app/mian.py']"
    )
    change(client, uri, typed)

    def checks() -> list[types.Diagnostic]:
        return [d for d in client.diagnostics.get(uri, []) if d.source == "tilt-lsp (Tiltfile)"]

    found = await wait_for(
        lambda: len(checks()) >= 2 and checks(), what="the checks on the typed Tiltfile"
    )
    messages = "\n".join(d.message for d in found)
    assert "no resource named 'apj' (did you mean 'api'?)" in messages
    assert "app/mian.py" in messages

    # The unused image: said once, by the check or (once loaded) by the engine, not both.
    def unused() -> list[types.Diagnostic]:
        return [
            d
            for d in client.diagnostics.get(uri, [])
            if "'web'" in d.message and "not used" in d.message
        ]

    await wait_for(lambda: len(unused()) == 1, what="one unused-image warning for 'web'")

    unknown = next(d for d in found if d.code == "unknown-resource")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=unknown.range,
            context=types.CodeActionContext(diagnostics=[unknown]),
        )
    )
    fix = next(
        a for a in actions or [] if isinstance(a, types.CodeAction) and a.title == "Change to 'api'"
    )
    assert fix.edit is not None and fix.edit.changes is not None
    assert fix.edit.changes[uri][0].new_text == "'api'"

    change(client, uri, TILTFILE, version=3)
    await wait_for(
        lambda: not [d for d in checks() if d.code != "unused-image"], what="the checks to clear"
    )


async def test_every_builtin_of_the_readme_table_has_completion_and_hover(
    client: LanguageClient, workspace: Path
) -> None:
    from tests.tiltfile.test_catalog import _readme_names

    names = sorted(n for n in _readme_names() if not n.endswith("*"))
    text = "\n".join(names) + "\n"
    uri = open_doc(client, workspace / "Tiltfile", text)
    missing: list[str] = []
    for line, name in enumerate(names):
        last = name.rsplit(".", 1)[-1]
        hover = await client.text_document_hover_async(
            types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(line, len(name) - 1)
            )
        )
        if hover is None or name not in getattr(hover.contents, "value", ""):
            missing.append(f"hover {name}")
        labels = await complete(client, uri, types.Position(line, len(name)))
        if last not in labels:
            missing.append(f"completion {name}")
    assert not missing, missing
