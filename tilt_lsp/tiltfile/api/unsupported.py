"""Tilt builtins tilt-lsp does not support yet. Calling one is an error at the call site that
names it, never a silent no-op: a Tiltfile that half-works would mislead."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl

NAMES = (
    "helm",
    "kustomize",
    "custom_build",
    "k8s_custom_deploy",
    "k8s_kind",
    "k8s_image_json_path",
    "k8s_context",
    "k8s_namespace",
    "filter_yaml",
    "include",
    "load_dynamic",
    "secret_settings",
    "ci_settings",
    "disable_snapshots",
    "enable_feature",
    "workload_to_resource_function",
    "config.define_string",
    "config.define_string_list",
    "config.define_bool",
    "config.define_object",
    "config.parse",
    "config.set_enabled_resources",
    "config.clear_enabled_resources",
    "v1alpha1.extension_repo",
    "v1alpha1.extension",
    "v1alpha1.cmd",
    "v1alpha1.ui_button",
)


def _unsupported(name: str) -> Impl:
    def impl(ctx: CallContext, *args: Any, **kwargs: Any) -> None:
        raise TiltfileError(
            f"{name}() is a Tilt builtin that tilt-lsp does not support yet "
            "(see the Tiltfile support table in the README)",
            kind="unsupported",
        )

    return impl


BUILTINS: dict[str, Impl] = {n: _unsupported(n) for n in NAMES}
