"""``include`` and ``load_dynamic``: running other Tiltfiles from this one, as Tilt does."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.args import as_str
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl


def _include(ctx: CallContext, path: Any) -> None:
    """Runs the file (once per evaluation, like load) for its resources; defines nothing
    here. Its relative paths resolve against its own folder."""
    ctx.state.environment.load_path(ctx.path(as_str("include", "path", path)))


def _load_dynamic(ctx: CallContext, path: Any) -> dict[str, Any]:
    """Runs the file like load(); the prelude turns this into the dict of what it defines
    (its functions as closures that call them in the file's module)."""
    abspath = ctx.path(as_str("load_dynamic", "path", path))
    values, functions = ctx.state.environment.exports(abspath)
    return {"values": values, "functions": functions, "path": abspath}


BUILTINS: dict[str, Impl] = {"include": _include, "load_dynamic": _load_dynamic}
