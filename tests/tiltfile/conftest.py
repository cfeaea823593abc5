from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.loader import load_tiltfile
from tilt_lsp.tiltfile.model import Model

Files = dict[str, str]


@pytest.fixture
def project(tmp_path: Path) -> Callable[[Files], Path]:
    """Write a small project (path -> text, dedented) and return its root."""

    def write(files: Files) -> Path:
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return tmp_path

    return write


@pytest.fixture
def load(project: Callable[[Files], Path]) -> Callable[..., Model]:
    def run(
        tiltfile: str,
        files: Files | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> Model:
        root = project({"Tiltfile": tiltfile, **(files or {})})
        # Extension repos are cached per test, never in the user's cache.
        full_env = {"TILT_LSP_EXTENSIONS_DIR": str(root / ".ext-cache"), **(env or {})}
        return load_tiltfile(str(root / "Tiltfile"), env=full_env, args=args or [])

    return run


@pytest.fixture
def load_error(load: Callable[..., Model], tmp_path: Path) -> Callable[..., TiltfileError]:
    """Evaluate and return the TiltfileError (its location relative to the project)."""

    def run(tiltfile: str, files: Files | None = None, **kw: object) -> TiltfileError:
        with pytest.raises(TiltfileError) as info:
            load(tiltfile, files, **kw)
        return info.value

    return run
