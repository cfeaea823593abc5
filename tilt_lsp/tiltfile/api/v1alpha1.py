"""``v1alpha1.*``: the Tilt API objects Tiltfiles and extensions declare.

Extension repos and extensions steer ``load('ext://...')``. The rest (UI buttons, cmds,
file watches, …) belong to Tilt's web UI and API server: they are accepted and recorded in the
model, and the Tiltfile log says once that the editor does not show them.
"""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.args import as_str, as_str_list
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.extensions.repos import Extension, ExtensionRepo
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _extension_repo(
    ctx: CallContext,
    name: Any,
    url: Any,
    ref: Any = "",
    load_host: Any = "",
    git_subpath: Any = "",
    labels: Any = None,
    annotations: Any = None,
) -> dict[str, Any]:
    fn = "v1alpha1.extension_repo"
    repo = ExtensionRepo(
        name=as_str(fn, "name", name),
        url=as_str(fn, "url", url),
        ref=as_str(fn, "ref", ref),
        load_host=as_str(fn, "load_host", load_host),
        git_subpath=as_str(fn, "git_subpath", git_subpath),
    )
    if not repo.url:
        raise TiltfileError(f"{fn}(): url is required", kind="argument")
    if repo.is_file and repo.git_subpath:
        raise TiltfileError(
            f"{fn}(): cannot use git_subpath for file:// URL extension repositories "
            "(point the file:// URL at the subfolder instead)",
            kind="argument",
        )
    if repo.is_file and repo.ref:
        raise TiltfileError(
            f"{fn}(): a file:// extension repo is read in place: it has no ref", kind="argument"
        )
    _state(ctx).ext_repos[repo.name] = repo
    return {"kind": "ExtensionRepo", "name": repo.name, "url": repo.url}


def _extension(
    ctx: CallContext,
    name: Any,
    repo_name: Any,
    repo_path: Any = "",
    args: Any = None,
    labels: Any = None,
    annotations: Any = None,
) -> dict[str, Any]:
    fn = "v1alpha1.extension"
    ext = Extension(
        name=as_str(fn, "name", name),
        repo_name=as_str(fn, "repo_name", repo_name),
        repo_path=as_str(fn, "repo_path", repo_path),
        args=tuple(as_str_list(fn, "args", args)),
    )
    _state(ctx).exts[ext.name] = ext
    return {"kind": "Extension", "name": ext.name, "repo_name": ext.repo_name}


# Objects Tilt's API server runs (recorded), and specs that are only parts of them.
OBJECTS = (
    "ui_button",
    "cmd",
    "file_watch",
    "config_map",
    "kubernetes_apply",
    "kubernetes_discovery",
    "ui_session",
    "ui_resource",
)
SPECS = (
    "ui_input_spec",
    "ui_text_input_spec",
    "ui_bool_input_spec",
    "ui_choice_input_spec",
    "ui_hidden_input_spec",
    "ui_component_location",
    "start_on_spec",
    "restart_on_spec",
    "ignore_def",
    "probe",
    "exec_action",
    "http_get_action",
    "tcp_socket_action",
    "handler",
    "object_selector",
    "port_forward_template_spec",
    "config_map_disable_source",
    "disable_source",
    "forward",
    "http_header",
    "kubernetes_apply_cmd",
    "kubernetes_discovery_template_spec",
    "kubernetes_image_locator",
    "kubernetes_image_object_descriptor",
    "kubernetes_watch_ref",
    "label_selector",
    "label_selector_requirement",
    "pod_log_stream_template_spec",
)


def _object(kind: str) -> Impl:
    def impl(ctx: CallContext, name: Any = "", **kwargs: Any) -> dict[str, Any]:
        obj = {"kind": kind, "name": as_str(f"v1alpha1.{kind}", "name", name), **kwargs}
        state = _state(ctx)
        state.ui_objects.append(obj)
        state.note(
            f"v1alpha1.{kind}: recorded; Tilt shows these in its web UI, which the editor "
            "does not have (tilt-lsp does not run them)"
        )
        return obj

    return impl


def _spec(kind: str) -> Impl:
    def impl(ctx: CallContext, **kwargs: Any) -> dict[str, Any]:
        return {"kind": kind, **kwargs}

    return impl


BUILTINS: dict[str, Impl] = {
    "v1alpha1.extension_repo": _extension_repo,
    "v1alpha1.extension": _extension,
    **{f"v1alpha1.{k}": _object(k) for k in OBJECTS},
    **{f"v1alpha1.{k}": _spec(k) for k in SPECS},
}
