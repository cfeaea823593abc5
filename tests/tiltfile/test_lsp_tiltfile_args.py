"""The editor's ``tiltfileArgs`` initialization option reaches config.parse(), as
``tilt up -- ARGS`` does in Tilt (TestParseKeyword, config_test.go). Real server over stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import wait_resource

TILTFILE = """
config.define_string('suffix')
cfg = config.parse()
local_resource('job-' + cfg.get('suffix', 'none'), 'true')
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "Tiltfile").write_text(TILTFILE)
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "tilt_lsp", "serve"]),
)
async def client(lsp_client: LanguageClient, workspace: Path):
    uri = workspace.as_uri()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
            initialization_options={"tiltfileArgs": ["--suffix", "fromeditor"], "watch": False},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_tiltfile_args_option_reaches_config_parse(client: LanguageClient) -> None:
    resource = await wait_resource(client, "job-fromeditor", lambda r: True, "the resource")
    assert resource
