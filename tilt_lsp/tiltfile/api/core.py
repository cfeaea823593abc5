"""Files, commands, printing, namespaces (os, config, sys, shlex) and global settings."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from typing import Any

import yaml

from tilt_lsp.tiltfile.args import (
    as_bool,
    as_command,
    as_opt_str,
    as_str,
    as_str_dict,
    as_str_list,
    type_name,
)
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import TriggerMode, Warning
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState

LOCAL_TIMEOUT_S = 300


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _blob(ctx: CallContext, text: str) -> str:
    _state(ctx).blobs.add(text)
    return text


def _print(ctx: CallContext, *args: Any, sep: str = " ") -> None:
    _state(ctx).output.append(sep.join(_to_str(a) for a in args))


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _warn(ctx: CallContext, msg: Any) -> None:
    _state(ctx).warnings.append(Warning(as_str("warn", "msg", msg), ctx.location))


def _read(ctx: CallContext, fn: str, file_path: Any, default: Any, has_default: bool) -> str | None:
    path = ctx.path(as_str(fn, "file_path", file_path))
    _state(ctx).config_files.add(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        if has_default:
            return None
        raise TiltfileError(f"{fn}(): file not found: {path}", kind="missing-file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise TiltfileError(f"{fn}(): cannot read {path}: {err}", kind="missing-file") from None


_NO_DEFAULT = object()


def _read_file(ctx: CallContext, file_path: Any, default: Any = _NO_DEFAULT) -> Any:
    text = _read(ctx, "read_file", file_path, default, default is not _NO_DEFAULT)
    if text is None:
        return default
    return _blob(ctx, text)


def _decode(fn: str, text: str, kind: str) -> Any:
    try:
        if kind == "json":
            return json.loads(text)
        docs = [d for d in yaml.safe_load_all(text)]
        return docs
    except (ValueError, yaml.YAMLError) as err:
        raise TiltfileError(f"{fn}(): not valid {kind.upper()}: {err}", kind="type") from None


def _read_json(ctx: CallContext, path: Any, default: Any = _NO_DEFAULT) -> Any:
    text = _read(ctx, "read_json", path, default, default is not _NO_DEFAULT)
    return default if text is None else _decode("read_json", text, "json")


def _read_yaml(ctx: CallContext, path: Any, default: Any = _NO_DEFAULT) -> Any:
    text = _read(ctx, "read_yaml", path, default, default is not _NO_DEFAULT)
    if text is None:
        return default
    docs = _decode("read_yaml", text, "yaml")
    if len(docs) > 1:
        raise TiltfileError(
            "read_yaml(): the file holds several YAML documents; use decode_yaml_stream(read_file(...))",
            kind="type",
        )
    return docs[0] if docs else None


def _watch_file(ctx: CallContext, file_path: Any) -> None:
    _state(ctx).config_files.add(ctx.path(as_str("watch_file", "file_path", file_path)))


def _listdir(ctx: CallContext, directory: Any, recursive: Any = False) -> list[str]:
    root = ctx.path(as_str("listdir", "directory", directory))
    _state(ctx).config_files.add(root)
    if not os.path.isdir(root):
        raise TiltfileError(f"listdir(): not a directory: {root}", kind="missing-file")
    if as_bool("listdir", "recursive", recursive):
        return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)
    return sorted(
        os.path.join(root, f) for f in os.listdir(root) if os.path.isfile(os.path.join(root, f))
    )


def _local(
    ctx: CallContext,
    command: Any,
    quiet: Any = False,
    command_bat: Any = "",
    echo_off: Any = False,
    env: Any = None,
    dir: Any = "",
    stdin: Any = None,
) -> str:
    cmd = as_command("local", "command", command)
    if cmd is None:
        raise TiltfileError("local(): 'command' is empty", kind="argument")
    as_str("local", "command_bat", command_bat)
    workdir = ctx.path(as_str("local", "dir", dir) or ".")
    full_env = {**_state(ctx).env, **as_str_dict("local", "env", env)}
    state = _state(ctx)
    if not as_bool("local", "echo_off", echo_off):
        state.output.append(f"local: {cmd.display}")
    try:
        proc = subprocess.run(
            list(cmd.argv),
            cwd=workdir,
            env=full_env,
            input=as_opt_str("local", "stdin", stdin),
            capture_output=True,
            text=True,
            timeout=LOCAL_TIMEOUT_S,
        )
    except FileNotFoundError as err:
        raise TiltfileError(
            f"local(): cannot run {cmd.display!r}: {err}", kind="missing-file"
        ) from None
    except subprocess.TimeoutExpired:
        raise TiltfileError(
            f"local(): {cmd.display!r} did not finish within {LOCAL_TIMEOUT_S}s", kind="starlark"
        ) from None
    if not as_bool("local", "quiet", quiet) and proc.stdout:
        state.output.append(proc.stdout.rstrip("\n"))
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise TiltfileError(
            f"local(): command {cmd.display!r} failed with exit code {proc.returncode}"
            + (f":\n{detail}" if detail else ""),
            kind="starlark",
        )
    return _blob(ctx, proc.stdout)


def _blob_fn(ctx: CallContext, contents: Any) -> str:
    return _blob(ctx, as_str("blob", "contents", contents))


def _decode_json(ctx: CallContext, json_str: Any) -> Any:
    return _decode("decode_json", as_str("decode_json", "json", json_str), "json")


def _decode_yaml(ctx: CallContext, yaml_str: Any) -> Any:
    docs = _decode("decode_yaml", as_str("decode_yaml", "yaml", yaml_str), "yaml")
    if len(docs) > 1:
        raise TiltfileError(
            "decode_yaml(): several YAML documents; use decode_yaml_stream", kind="type"
        )
    return docs[0] if docs else None


def _decode_yaml_stream(ctx: CallContext, yaml_str: Any) -> Any:
    docs = _decode("decode_yaml_stream", as_str("decode_yaml_stream", "yaml", yaml_str), "yaml")
    return [d for d in docs if d is not None]


def _encode_json(ctx: CallContext, obj: Any) -> str:
    return _blob(ctx, json.dumps(obj, indent=2) + "\n")


def _encode_yaml(ctx: CallContext, obj: Any) -> str:
    return _blob(ctx, yaml.safe_dump(obj, sort_keys=False))


def _encode_yaml_stream(ctx: CallContext, objs: Any) -> str:
    if not isinstance(objs, list):
        raise TiltfileError(
            f"encode_yaml_stream(): expected a list, not {type_name(objs)}", kind="type"
        )
    return _blob(ctx, yaml.safe_dump_all(objs, sort_keys=False))


def _trigger_mode(ctx: CallContext, trigger_mode: Any) -> None:
    _state(ctx).default_trigger_mode = parse_trigger_mode("trigger_mode", trigger_mode)


def parse_trigger_mode(fn: str, value: Any) -> TriggerMode:
    for mode in TriggerMode:
        if value == _TRIGGER_CONSTANT[mode]:
            return mode
    raise TiltfileError(
        f"{fn}(): trigger_mode must be TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL, not {value!r}",
        kind="type",
    )


_TRIGGER_CONSTANT = {
    TriggerMode.AUTO: "TRIGGER_MODE_AUTO",
    TriggerMode.MANUAL: "TRIGGER_MODE_MANUAL",
}


def _os_getcwd(ctx: CallContext) -> str:
    return ctx.dir


def _os_getenv(ctx: CallContext, key: Any, default: Any = None) -> Any:
    return _state(ctx).env.get(as_str("os.getenv", "key", key), default)


def _os_putenv(ctx: CallContext, key: Any, value: Any) -> None:
    _state(ctx).env[as_str("os.putenv", "key", key)] = as_str("os.putenv", "value", value)


def _os_unsetenv(ctx: CallContext, key: Any) -> None:
    _state(ctx).env.pop(as_str("os.unsetenv", "key", key), None)


def _path_fn(name: str, fn: Any) -> Impl:
    def impl(ctx: CallContext, path: Any) -> Any:
        return fn(ctx, as_str(f"os.path.{name}", "path", path))

    return impl


def _os_path_join(ctx: CallContext, path: Any, *paths: Any) -> str:
    return os.path.join(
        as_str("os.path.join", "path", path), *(as_str("os.path.join", "paths", p) for p in paths)
    )


def _os_path_relpath(ctx: CallContext, targpath: Any, basepath: Any = None) -> str:
    base = (
        ctx.dir if basepath is None else ctx.path(as_str("os.path.relpath", "basepath", basepath))
    )
    return os.path.relpath(ctx.path(as_str("os.path.relpath", "targpath", targpath)), base)


def _shlex_quote(ctx: CallContext, s: Any) -> str:
    return shlex.quote(as_str("shlex.quote", "s", s))


def _default_registry(
    ctx: CallContext, host: Any, host_from_cluster: Any = None, single_name: Any = ""
) -> None:
    _state(ctx).default_registry = as_str("default_registry", "host", host)


def _allow_k8s_contexts(ctx: CallContext, contexts: Any) -> None:
    _state(ctx).allowed_k8s_contexts.extend(as_str_list("allow_k8s_contexts", "contexts", contexts))


def _watch_settings(ctx: CallContext, ignore: Any = None) -> None:
    _state(ctx).watch_ignores.extend(as_str_list("watch_settings", "ignore", ignore))


def _exit(ctx: CallContext, code: Any = None) -> None:
    """Tilt's exit(): stop evaluating here; what was declared so far is the Tiltfile."""
    if code is not None and _to_str(code):
        _state(ctx).output.append(_to_str(code))
    ctx.state.environment.exiting = True
    raise TiltfileError("exit() stopped the Tiltfile", kind="exit")


def _workload_to_resource_function(ctx: CallContext) -> None:
    """Tilt names each workload's resource by calling the function with the workload's id
    (name, kind, namespace, group). The function stays in the calling file's module and is
    called after the Tiltfile ran (``Environment.call_kept``)."""
    _state(ctx).workload_to_resource = ctx.location.path if ctx.location else None


def _accepted(name: str, note: str) -> Impl:
    """Settings that Tilt uses for its own UI or services and that have no meaning in
    tilt-lsp. They are accepted so existing Tiltfiles run; the output says so once."""

    def impl(ctx: CallContext, *args: Any, **kwargs: Any) -> None:
        _state(ctx).note(f"{name}(): accepted, no effect in tilt-lsp ({note})")

    return impl


BUILTINS: dict[str, Impl] = {
    "print": _print,
    "warn": _warn,
    "read_file": _read_file,
    "read_json": _read_json,
    "read_yaml": _read_yaml,
    "watch_file": _watch_file,
    "listdir": _listdir,
    "local": _local,
    "blob": _blob_fn,
    "decode_json": _decode_json,
    "decode_yaml": _decode_yaml,
    "decode_yaml_stream": _decode_yaml_stream,
    "encode_json": _encode_json,
    "encode_yaml": _encode_yaml,
    "encode_yaml_stream": _encode_yaml_stream,
    "trigger_mode": _trigger_mode,
    "default_registry": _default_registry,
    "allow_k8s_contexts": _allow_k8s_contexts,
    "watch_settings": _watch_settings,
    "update_settings": _accepted("update_settings", "resources update as soon as they can"),
    "version_settings": _accepted("version_settings", "Tilt version constraints do not apply"),
    "analytics_settings": _accepted("analytics_settings", "tilt-lsp sends no analytics"),
    "set_team": _accepted("set_team", "there is no Tilt Cloud team"),
    "docker_prune_settings": _accepted(
        "docker_prune_settings", "tilt-lsp removes only the images it created"
    ),
    "disable_snapshots": _accepted("disable_snapshots", "there are no Tilt Cloud snapshots"),
    "ci_settings": _accepted("ci_settings", "tilt-lsp has no `tilt ci` mode; timeouts are its own"),
    "secret_settings": _accepted(
        "secret_settings", "tilt-lsp does not scrub secrets from logs; keep them out of output"
    ),
    "enable_feature": _accepted("enable_feature", "Tilt feature flags do not apply"),
    "experimental_metrics_settings": _accepted(
        "experimental_metrics_settings", "tilt-lsp reports no metrics"
    ),
    "experimental_telemetry_cmd": _accepted(
        "experimental_telemetry_cmd", "tilt-lsp sends no telemetry"
    ),
    "exit": _exit,
    "workload_to_resource_function": _workload_to_resource_function,
    "os.getcwd": _os_getcwd,
    "os.getenv": _os_getenv,
    "os.putenv": _os_putenv,
    "os.unsetenv": _os_unsetenv,
    "os.path.join": _os_path_join,
    "os.path.relpath": _os_path_relpath,
    "os.path.abspath": _path_fn("abspath", lambda ctx, p: ctx.path(p)),
    "os.path.realpath": _path_fn("realpath", lambda ctx, p: os.path.realpath(ctx.path(p))),
    "os.path.exists": _path_fn("exists", lambda ctx, p: os.path.exists(ctx.path(p))),
    "os.path.basename": _path_fn("basename", lambda ctx, p: os.path.basename(p)),
    "os.path.dirname": _path_fn("dirname", lambda ctx, p: os.path.dirname(p)),
    "shlex.quote": _shlex_quote,
}


def constants(state: EvalState) -> dict[str, Any]:
    main_dir = os.path.dirname(state.main_path)
    return {
        "TRIGGER_MODE_AUTO": _TRIGGER_CONSTANT[TriggerMode.AUTO],
        "TRIGGER_MODE_MANUAL": _TRIGGER_CONSTANT[TriggerMode.MANUAL],
        "os.environ": dict(state.env),
        "os.name": os.name,
        "config.main_dir": main_dir,
        "config.main_path": state.main_path,
        "config.tilt_subcommand": "up",
        "sys.argv": ["tilt-lsp", "up"],
        "sys.executable": "tilt-lsp",
    }
