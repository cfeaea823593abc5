"""Argument checking for Tilt builtins, with messages that name the function and argument.

Starlark hands Python plain values (str, int, bool, None, list, dict); these helpers turn them
into the types the model wants, or raise a TiltfileError that says what was expected.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tilt_lsp.tiltfile import source_scan
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.model import Command, Location, Warning


def type_name(value: object) -> str:
    return {
        str: "string",
        int: "int",
        float: "float",
        bool: "bool",
        list: "list",
        dict: "dict",
        type(None): "NoneType",
    }.get(type(value), type(value).__name__)


def bind(
    fn_name: str, impl: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> inspect.BoundArguments:
    """Bind Starlark call arguments to ``impl``'s signature (minus its first, context,
    parameter) and explain a mismatch the way a user would want to read it."""
    sig = inspect.signature(impl)
    params = list(sig.parameters.values())[1:]
    sig = sig.replace(parameters=params)
    named = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    open_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
    for key in kwargs:
        if not open_kwargs and key not in named:
            raise TiltfileError(
                f"{fn_name}() got an unexpected keyword argument '{key}'{_suggest(key, named)}",
                kind="argument",
                argument=key,
            )
    try:
        return sig.bind(*args, **kwargs)
    except TypeError as err:
        text = str(err)
        if text.startswith("missing a required argument: "):
            missing = text.split(": ", 1)[1]
            raise TiltfileError(
                f"{fn_name}() is missing required argument {missing}", kind="argument"
            ) from None
        if text.startswith("too many positional arguments"):
            raise TiltfileError(
                f"{fn_name}() takes at most {sum(1 for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)} "
                f"positional arguments ({len(args)} given)",
                kind="argument",
            ) from None
        if text.startswith("multiple values for argument"):
            raise TiltfileError(f"{fn_name}() got {text}", kind="argument") from None
        raise TiltfileError(f"{fn_name}(): {text}", kind="argument") from None


def _suggest(key: str, named: list[str]) -> str:
    close = difflib.get_close_matches(key, named, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (it takes: {', '.join(named)})" if named else " (it takes no keyword arguments)"


def locate_argument(source: str, call: Location | None, name: str | None) -> Location | None:
    """Where ``name=`` is written in the call at ``call``; the call itself when the argument
    is not there by name (given by position, or the call's text is elsewhere)."""
    if call is None or name is None or not source:
        return call
    arg = source_scan.argument(source, call.line, call.column, name)
    if not arg:
        return call
    return Location(call.path, arg[0].line, arg[0].column)


class PathCall(Protocol):
    """What ``warn_missing_paths`` needs of a call (a starlark_env.CallContext)."""

    @property
    def location(self) -> Location | None: ...
    @property
    def source(self) -> str: ...
    @property
    def state(self) -> Any: ...
    def path(self, p: str) -> str: ...


def warn_missing_paths(
    ctx: PathCall, fn: str, arg: str, given: Sequence[str], position: int | None = None
) -> None:
    """A warning for each path in ``given`` (argument ``arg``, or positional argument
    ``position``) that does not exist, placed on its string in the call, with the closest
    existing name. Tilt accepts such paths silently; a typo there means saves are never
    seen. Each missing path also counts as a Tiltfile dependency, so creating it
    re-evaluates the Tiltfile and the warning goes."""
    for p in given:
        resolved = ctx.path(p)
        if os.path.exists(resolved):
            continue
        ctx.state.warnings.append(
            Warning(
                f"{fn}(): {arg}: {p!r} does not exist ({resolved}){_closest_path(p, resolved)}",
                _path_location(ctx, arg, position, p),
            )
        )
        ctx.state.config_files.add(resolved)


def _closest_path(given: str, resolved: str) -> str:
    parent = os.path.dirname(resolved)
    try:
        names = os.listdir(parent)
    except OSError:
        return ""
    close = difflib.get_close_matches(os.path.basename(resolved), names, n=1, cutoff=0.6)
    if not close:
        return ""
    head = given.rstrip("/").rpartition("/")[0]
    return f"; did you mean '{head + '/' if head else ''}{close[0]}'?"


def _path_location(ctx: PathCall, arg: str, position: int | None, p: str) -> Location | None:
    call = ctx.location
    if call is None or not ctx.source:
        return call
    tokens = source_scan.argument(ctx.source, call.line, call.column, arg, position)
    if not tokens:
        return call
    at = source_scan.string_in(tokens, p) or tokens[0]
    return Location(call.path, at.line, at.column)


def _wrong(fn: str, arg: str, want: str, value: object) -> TiltfileError:
    return TiltfileError(
        f"{fn}(): argument '{arg}' must be {want}, not {type_name(value)}",
        kind="type",
        argument=arg if arg.isidentifier() else None,
    )


def as_str(fn: str, arg: str, value: object) -> str:
    if isinstance(value, str):
        return value
    raise _wrong(fn, arg, "a string", value)


def as_opt_str(fn: str, arg: str, value: object) -> str | None:
    return None if value is None else as_str(fn, arg, value)


def as_bool(fn: str, arg: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _wrong(fn, arg, "a bool", value)


def as_int(fn: str, arg: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _wrong(fn, arg, "an int", value)


def as_str_list(fn: str, arg: str, value: object) -> list[str]:
    """Tilt accepts a single string wherever it takes a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list):
        bad = next(v for v in value if not isinstance(v, str))
        raise TiltfileError(
            f"{fn}(): argument '{arg}' must be a list of strings, but it contains {type_name(bad)} {bad!r}",
            kind="type",
            argument=arg,
        )
    raise _wrong(fn, arg, "a string or a list of strings", value)


def as_str_dict(fn: str, arg: str, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _wrong(fn, f"{arg}' key '{k!r}", "a string", k)
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise TiltfileError(
                    f"{fn}(): argument '{arg}' must map strings to strings; '{k}' maps to {type_name(v)}",
                    kind="type",
                    argument=arg,
                )
            out[k] = str(v)
        return out
    raise _wrong(fn, arg, "a dict of strings", value)


def as_command(fn: str, arg: str, value: object) -> Command | None:
    """A command is a shell string or an argv list; empty means "no command"."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return Command.from_value(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return Command.from_value(value)
    raise _wrong(fn, arg, "a command (a string, or a list of strings)", value)


def as_mapping(fn: str, arg: str, value: object) -> Mapping[str, Any]:
    if isinstance(value, dict):
        return value
    raise _wrong(fn, arg, "a dict", value)
