"""``config.*``: Tiltfile settings from the command line and ``tilt_config.json``, and the
resources to enable, with Tilt's rules:

- Without ``config.parse()`` the args (``tilt-lsp up -- ARGS``, or the editor's
  ``tiltfileArgs`` setting) name the resources to run.
- With it, args are ``--name value`` flags and positional values for the one setting defined
  with ``args=True``; ``tilt_config.json`` next to the Tiltfile gives the rest (args win).
- ``config.set_enabled_resources`` wins over both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from tilt_lsp.tiltfile.args import as_bool, as_str, as_str_list
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl
from tilt_lsp.tiltfile.state import EvalState

CONFIG_FILE = "tilt_config.json"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: str  # string | string_list | bool | object
    positional: bool
    usage: str


def _state(ctx: CallContext) -> EvalState:
    state: EvalState = ctx.state
    return state


def _define(kind: str) -> Impl:
    fn = f"config.define_{kind}"

    def impl(ctx: CallContext, name: Any, args: Any = False, usage: Any = "") -> None:
        state = _state(ctx)
        if state.config_parsed:
            raise TiltfileError(
                f"{fn} cannot be called after config.parse is called", kind="argument"
            )
        setting = Setting(
            as_str(fn, "name", name), kind, as_bool(fn, "args", args), as_str(fn, "usage", usage)
        )
        if setting.name in state.config_defs:
            raise TiltfileError(f"{setting.name} defined multiple times", kind="argument")
        if setting.positional:
            other = next((s for s in state.config_defs.values() if s.positional), None)
            if other is not None:
                a, b = sorted([other.name, setting.name])
                raise TiltfileError(
                    f"both {a} and {b} are defined as positional args", kind="argument"
                )
        state.config_defs[setting.name] = setting

    return impl


def _usage(defs: dict[str, Setting]) -> str:
    lines = [f"      --{s.name} {s.kind}{'  ' + s.usage if s.usage else ''}" for s in defs.values()]
    return "Usage:\n" + "\n".join(lines) if lines else ""


def parse_args(defs: dict[str, Setting], args: list[str]) -> dict[str, Any]:
    """Flags and positional args → values; raises ValueError with Tilt's wording."""
    out: dict[str, Any] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional += args[i + 1 :]
            break
        if not arg.startswith("--") or arg == "--":
            positional.append(arg)
            i += 1
            continue
        key, eq, value = arg[2:].partition("=")
        setting = defs.get(key)
        if setting is None:
            usage = _usage(defs)
            raise ValueError(f"unknown flag: --{key}" + (f"\n{usage}" if usage else ""))
        if setting.kind == "bool" and not eq:
            out[key] = True
            i += 1
            continue
        if not eq:
            if i + 1 >= len(args):
                raise ValueError(f"flag needs an argument: --{key}")
            value = args[i + 1]
            i += 1
        i += 1
        out[key] = _value(setting, value, out.get(key))
    if positional:
        target = next((s for s in defs.values() if s.positional), None)
        if target is None:
            raise ValueError(
                f'positional CLI args ("{" ".join(positional)}") were specified, but none were '
                "expected.\nSee https://docs.tilt.dev/tiltfile_config.html#positional-arguments "
                "for examples."
            )
        for value in positional:
            out[target.name] = _value(target, value, out.get(target.name))
    return out


def _value(setting: Setting, text: str, previous: Any) -> Any:
    if setting.kind == "string_list":
        return [*(previous or []), text]
    if setting.kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(
                f"invalid argument {text!r} for --{setting.name}: expected true or false"
            )
        return text.lower() in ("true", "1")
    if setting.kind == "object":
        try:
            return json.loads(text)
        except ValueError as err:
            raise ValueError(f"invalid JSON for --{setting.name}: {err}") from None
    if previous is not None:
        raise ValueError(f"--{setting.name} is a string: give it once")
    return text


_JSON_TYPES = {"string": (str, "string"), "string_list": (list, "array"), "bool": (bool, "bool")}


def _from_file(defs: dict[str, Setting], path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise TiltfileError(f"config.parse(): cannot read {path}: {err}", kind="type") from None
    if not isinstance(data, dict):
        raise TiltfileError(f"config.parse(): {path} must hold a JSON object", kind="type")
    for key, value in data.items():
        setting = defs.get(key)
        if setting is None:
            raise TiltfileError(f"{path} specified unknown setting name '{key}'", kind="argument")
        want = _JSON_TYPES.get(setting.kind)
        if want and not isinstance(value, want[0]):
            raise TiltfileError(
                f"{path} specified invalid value for setting {key}: expected {want[1]}",
                kind="type",
            )
    return data


def _parse(ctx: CallContext) -> dict[str, Any]:
    state = _state(ctx)
    here = ctx.dir
    if state.config_parsed and state.config_parsed_dir != here:
        raise TiltfileError(
            "config.parse can only be called from one Tiltfile working directory per run "
            f"(already from {state.config_parsed_dir}, now from {here})",
            kind="argument",
        )
    config_path = os.path.join(here, CONFIG_FILE)
    state.config_files.add(config_path)
    values = _from_file(state.config_defs, config_path)
    try:
        values.update(parse_args(state.config_defs, state.config_args))
    except ValueError as err:
        raise TiltfileError(f"invalid Tiltfile config args: {err}", kind="argument") from None
    state.config_parsed = True
    state.config_parsed_dir = here
    return values


def _set_enabled_resources(ctx: CallContext, resources: Any) -> None:
    _state(ctx).enabled_resources = as_str_list(
        "config.set_enabled_resources", "resources", resources
    )


def _clear_enabled_resources(ctx: CallContext) -> None:
    _state(ctx).enabled_resources = []


BUILTINS: dict[str, Impl] = {
    "config.define_string": _define("string"),
    "config.define_string_list": _define("string_list"),
    "config.define_bool": _define("bool"),
    "config.define_object": _define("object"),
    "config.parse": _parse,
    "config.set_enabled_resources": _set_enabled_resources,
    "config.clear_enabled_resources": _clear_enabled_resources,
}
