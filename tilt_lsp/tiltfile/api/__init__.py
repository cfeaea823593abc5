"""Tilt's Tiltfile API, one module per area. ``BUILTINS`` maps each Tilt name to its
implementation; ``constants(state)`` gives the per-evaluation values (``config.main_dir``…)."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.api import (
    build,
    config,
    core,
    custom,
    deploy,
    files,
    kube,
    render,
    unsupported,
    v1alpha1,
)
from tilt_lsp.tiltfile.starlark_env import Impl
from tilt_lsp.tiltfile.state import EvalState

BUILTINS: dict[str, Impl] = {
    **core.BUILTINS,
    **build.BUILTINS,
    **deploy.BUILTINS,
    **kube.BUILTINS,
    **render.BUILTINS,
    **custom.BUILTINS,
    **files.BUILTINS,
    **config.BUILTINS,
    **v1alpha1.BUILTINS,
    **unsupported.BUILTINS,
}


def constants(state: EvalState) -> dict[str, Any]:
    return {**core.constants(state), "tilt_lsp.cache_dir": state.ext_cache_dir}
