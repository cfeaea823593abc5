"""The Tiltfile's args reach config.parse() / the enabled resources from the places a user
gives them: ``tilt-lsp up -- ARGS`` (the Engine's tiltfile_args) and the editor's
``tiltfileArgs`` initialization option. Derived from Tilt's TestSetResources."""

from __future__ import annotations

from pathlib import Path

from tilt_lsp.commands.up import add_parser
from tilt_lsp.engine.engine import Engine


async def test_engine_passes_tiltfile_args(tmp_path: Path) -> None:
    """TestSetResources ("args only"): `tilt-lsp up -- a` enables only resource a."""
    (tmp_path / "Tiltfile").write_text("local_resource('a', 'true')\nlocal_resource('b', 'true')\n")
    engine = Engine(
        str(tmp_path / "Tiltfile"),
        env={"TILT_LSP_EXTENSIONS_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
        tiltfile_args=["a"],
    )
    try:
        await engine.start(watch=False)
        assert engine.model is not None
        assert engine.model.enabled_resources == ("a",)
        assert [r.name for r in engine.model.resources if r.auto_init] == ["a"]
    finally:
        await engine.stop()


def test_up_takes_args_after_double_dash() -> None:
    """`tilt-lsp up -- --env staging web` hands everything after -- to the Tiltfile."""
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["up", "--no-logs", "--", "--env", "staging", "web"])
    assert args.tiltfile_args == ["--env", "staging", "web"]
