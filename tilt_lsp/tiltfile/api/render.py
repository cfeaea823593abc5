"""Rendering Kubernetes YAML with other tools (``helm``, ``kustomize``) and reading, filtering
and describing it (``read_yaml_stream``, ``filter_yaml``, ``k8s_kind``, …), as Tilt does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.api.core import LOCAL_TIMEOUT_S
from tilt_lsp.tiltfile.args import as_bool, as_str, as_str_list
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState

HELM_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _blob(ctx: CallContext, text: str) -> str:
    _state(ctx).blobs.add(text)
    return text


def _run(fn: str, argv: Sequence[str], cwd: str, missing: str) -> str:
    try:
        proc = subprocess.run(
            list(argv), cwd=cwd, capture_output=True, text=True, timeout=LOCAL_TIMEOUT_S
        )
    except FileNotFoundError:
        raise TiltfileError(f"{fn}(): {missing}", kind="missing-file") from None
    except subprocess.TimeoutExpired:
        raise TiltfileError(
            f"{fn}(): {' '.join(argv)} did not finish within {LOCAL_TIMEOUT_S}s", kind="starlark"
        ) from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise TiltfileError(
            f"{fn}(): {' '.join(argv)} failed with exit code {proc.returncode}"
            + (f":\n{detail}" if detail else ""),
            kind="starlark",
        )
    return proc.stdout


def helm_command(
    chart: str,
    name: str = "",
    namespace: str = "",
    values: Sequence[str] = (),
    set: Sequence[str] = (),
    kube_version: str = "",
    skip_crds: bool = False,
) -> list[str]:
    """The ``helm template`` command Tilt runs: release name ``chart`` unless given (stable
    across loads), CRDs included unless skip_crds."""
    argv = ["helm", "template", name or "chart", chart]
    if namespace:
        argv += ["--namespace", namespace]
    if kube_version:
        argv += ["--kube-version", kube_version]
    if not skip_crds:
        argv.append("--include-crds")
    for v in values:
        argv += ["--values", v]
    for s in set:
        argv += ["--set", s]
    return argv


def without_helm_tests(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tilt drops a chart's test hooks: they are run by ``helm test``, not deployed."""

    def is_test(obj: dict[str, Any]) -> bool:
        hook = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
        return bool(HELM_TEST_HOOKS & {h.strip() for h in str(hook).split(",")})

    return [o for o in objs if not is_test(o)]


def _helm(
    ctx: CallContext,
    paths: Any,
    name: Any = "",
    namespace: Any = "",
    values: Any = None,
    set: Any = None,
    kube_version: Any = "",
    skip_crds: Any = False,
) -> str:
    fn = "helm"
    chart = ctx.path(as_str(fn, "paths", paths))
    if not os.path.exists(chart):
        raise TiltfileError(
            f"{fn}(): could not read Helm chart directory {chart}: does not exist",
            kind="missing-file",
        )
    if not os.path.isdir(chart):
        raise TiltfileError(
            f"{fn}(): may only be called on a chart directory (with Chart.yaml): {chart}",
            kind="argument",
        )
    value_files = [ctx.path(v) for v in as_str_list(fn, "values", values)]
    state = _state(ctx)
    state.config_files.update([chart, *value_files])
    ns = as_str(fn, "namespace", namespace)
    argv = helm_command(
        chart,
        as_str(fn, "name", name),
        ns,
        value_files,
        as_str_list(fn, "set", set),
        as_str(fn, "kube_version", kube_version),
        as_bool(fn, "skip_crds", skip_crds),
    )
    state.output.append(f"helm: {' '.join(argv)}")
    out = _run(
        fn,
        argv,
        ctx.dir,
        "Unable to find a Helm installation: install helm (https://helm.sh/docs/intro/install/) "
        "and make sure `helm` is on your $PATH",
    )
    try:
        objs = k8s.parse_objects(out, f"helm template {chart}")
    except k8s.K8sYamlError as err:
        raise TiltfileError(f"{fn}(): {err}", kind="type") from None
    objs = without_helm_tests(objs)
    if ns:
        # helm template --namespace does not put the namespace on the objects: Tilt does.
        for obj in objs:
            meta = obj.setdefault("metadata", {})
            meta.setdefault("namespace", ns)
    return _blob(ctx, yaml.safe_dump_all(objs, sort_keys=False))


def _kustomize(ctx: CallContext, paths: Any, kustomize_bin: Any = None, flags: Any = None) -> str:
    fn = "kustomize"
    path = ctx.path(as_str(fn, "paths", paths))
    if not os.path.isdir(path):
        raise TiltfileError(f"{fn}(): not a directory: {path}", kind="missing-file")
    extra = as_str_list(fn, "flags", flags)
    binary = as_str(fn, "kustomize_bin", kustomize_bin) if kustomize_bin else ""
    if binary or shutil.which("kustomize"):
        argv = [binary or "kustomize", "build", path, *extra]
    else:
        argv = ["kubectl", "kustomize", path, *extra]
    state = _state(ctx)
    state.config_files.add(path)
    state.output.append(f"kustomize: {' '.join(argv)}")
    out = _run(
        fn,
        argv,
        ctx.dir,
        f"cannot run {argv[0]}: install kustomize or kubectl (kubectl kustomize) and put it "
        "on your $PATH",
    )
    return _blob(ctx, out)


def _read_yaml_stream(ctx: CallContext, paths: Any, default: Any = None) -> Any:
    """A list of the YAML documents of a file. Our blobs are strings: YAML text that came
    from read_file/local/helm/… is decoded as is (extensions pass either)."""
    fn = "read_yaml_stream"
    text = as_str(fn, "paths", paths)
    if text in _state(ctx).blobs and "\n" in text:
        content = text
    else:
        path = ctx.path(text)
        _state(ctx).config_files.add(path)
        try:
            with open(path, encoding="utf-8") as f:
                content = f.read()
        except FileNotFoundError:
            if default is not None:
                return default
            raise TiltfileError(f"{fn}(): file not found: {path}", kind="missing-file") from None
    try:
        return [d for d in yaml.safe_load_all(content) if d is not None]
    except yaml.YAMLError as err:
        raise TiltfileError(f"{fn}(): not valid YAML: {err}", kind="type") from None


def _filter_yaml(
    ctx: CallContext,
    yaml_arg: Any = None,
    labels: Any = None,
    name: Any = "",
    namespace: Any = "",
    kind: Any = "",
    api_version: Any = "",
    **kwargs: Any,
) -> tuple[str, str]:
    """Split YAML into (matching, rest), both as YAML text. name/namespace/kind/api_version
    are case-insensitive regular expressions, as in Tilt."""
    fn = "filter_yaml"
    source = kwargs.pop("yaml", yaml_arg)
    if kwargs:
        raise TiltfileError(f"{fn}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    text = as_str(fn, "yaml", source)
    state = _state(ctx)
    if not (text in state.blobs or "\n" in text):
        path = ctx.path(text)
        state.config_files.add(path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            raise TiltfileError(f"{fn}(): file not found: {path}", kind="missing-file") from None
    try:
        objs = k8s.parse_objects(text, "filter_yaml")
    except k8s.K8sYamlError as err:
        raise TiltfileError(f"{fn}(): {err}", kind="type") from None
    want = {str(k): str(v) for k, v in (labels or {}).items()} if isinstance(labels, dict) else {}
    patterns = {
        "name": as_str(fn, "name", name or ""),
        "namespace": as_str(fn, "namespace", namespace or ""),
        "kind": as_str(fn, "kind", kind or ""),
        "apiVersion": as_str(fn, "api_version", api_version or ""),
    }

    def fields(obj: dict[str, Any]) -> dict[str, str]:
        return {
            "name": k8s.name_of(obj),
            "namespace": k8s.namespace_of(obj),
            "kind": str(obj.get("kind", "")),
            "apiVersion": str(obj.get("apiVersion", "")),
        }

    def match(obj: dict[str, Any]) -> bool:
        have = (obj.get("metadata") or {}).get("labels") or {}
        if any(str(have.get(k)) != v for k, v in want.items()):
            return False
        values = fields(obj)
        return all(
            not p or re.fullmatch(p, values[key], re.IGNORECASE) for key, p in patterns.items()
        )

    hit = [o for o in objs if match(o)]
    rest = [o for o in objs if not match(o)]
    return (
        _blob(ctx, yaml.safe_dump_all(hit, sort_keys=False) if hit else ""),
        _blob(ctx, yaml.safe_dump_all(rest, sort_keys=False) if rest else ""),
    )


def _k8s_kind(
    ctx: CallContext,
    kind: Any,
    image_json_path: Any = None,
    api_version: Any = "",
    image_object: Any = None,
    pod_readiness: Any = "",
) -> None:
    fn = "k8s_kind"
    paths = as_str_list(fn, "image_json_path", image_json_path)
    for label, pattern in (("kind", kind), ("apiVersion", api_version)):
        try:
            re.compile(as_str(fn, label, pattern or ""))
        except re.error as err:
            raise TiltfileError(
                f"{fn}(): error parsing {label} regexp {pattern!r}: {err}", kind="argument"
            ) from None
    _state(ctx).k8s_kinds.append(
        k8s.KindRule(
            as_str(fn, "kind", kind), as_str(fn, "api_version", api_version), "", tuple(paths)
        )
    )


def _k8s_image_json_path(
    ctx: CallContext,
    paths: Any,
    api_version: Any = "",
    kind: Any = "",
    name: Any = "",
    namespace: Any = "",
) -> None:
    fn = "k8s_image_json_path"
    _state(ctx).k8s_kinds.append(
        k8s.KindRule(
            as_str(fn, "kind", kind),
            as_str(fn, "api_version", api_version),
            as_str(fn, "name", name),
            tuple(as_str_list(fn, "paths", paths)),
            workload=False,
        )
    )


def _k8s_context(ctx: CallContext) -> str:
    state = _state(ctx)
    if not state.k8s_context:
        state.k8s_context = _kubectl_value(["config", "current-context"], state.env)
    return state.k8s_context


def _k8s_namespace(ctx: CallContext) -> str:
    state = _state(ctx)
    if not state.k8s_namespace:
        ns = _kubectl_value(
            ["config", "view", "--minify", "-o", "jsonpath={..namespace}"], state.env
        )
        state.k8s_namespace = ns or "default"
    return state.k8s_namespace


def _kubectl_value(args: list[str], env: Mapping[str, str]) -> str:
    """What kubectl's config says; "" when there is no kubectl or no kubeconfig (as Tilt
    returns an empty context then)."""
    try:
        proc = subprocess.run(
            ["kubectl", *args],
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, **env},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


BUILTINS: dict[str, Impl] = {
    "helm": _helm,
    "kustomize": _kustomize,
    "read_yaml_stream": _read_yaml_stream,
    "filter_yaml": _filter_yaml,
    "k8s_kind": _k8s_kind,
    "k8s_image_json_path": _k8s_image_json_path,
    "k8s_context": _k8s_context,
    "k8s_namespace": _k8s_namespace,
}
