"""Tilt's Tiltfile API, one module per area. ``BUILTINS`` maps each Tilt name to its
implementation; ``constants(state)`` gives the per-evaluation values (``config.main_dir``…)."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.api import build, core, deploy, unsupported
from tilt_lsp.tiltfile.starlark_env import Impl
from tilt_lsp.tiltfile.state import EvalState

BUILTINS: dict[str, Impl] = {
    **core.BUILTINS,
    **build.BUILTINS,
    **deploy.BUILTINS,
    **unsupported.BUILTINS,
}


def constants(state: EvalState) -> dict[str, Any]:
    return {**core.constants(state), **deploy.CONSTANTS}
