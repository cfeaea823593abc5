from __future__ import annotations

from pathlib import Path

from tilt_lsp.tiltfile.errors import TiltfileError


def where(err: TiltfileError, root: Path) -> str:
    assert err.location is not None, f"no location for: {err}"
    rel = Path(err.location.path).relative_to(root)
    return f"{rel}:{err.location.line}:{err.location.column}"
