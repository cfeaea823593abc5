"""Running Starlark files with Tilt's builtins, and knowing where each call came from.

starlark-pyo3 calls Python functions without telling them where in the Tiltfile the call was
made. Tilt's errors and our diagnostics need that place, so every builtin is exposed through a
one-line Starlark wrapper (the *prelude*) that passes ``call_stack()`` along. The innermost frame
that is not the prelude is the user's call site; its column is found on the source line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import starlark as sl

from tilt_lsp.tiltfile.args import bind, locate_argument
from tilt_lsp.tiltfile.errors import TiltfileError, from_starlark_message, unclosed_at_end
from tilt_lsp.tiltfile.model import Location

PRELUDE = "<tilt-builtins>"
_FRAME = re.compile(r"^\s*\* (?P<path>.+):(?P<line>\d+), in (?P<fn>.*)$")


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a builtin knows about its call: the call site, and the folder that relative
    paths resolve against."""

    name: str
    location: Location | None
    dir: str
    state: Any  # the EvalState of this evaluation; typed loosely to avoid an import cycle
    source: str = ""  # the text of the file the call is in, for placing messages in it

    def path(self, p: str) -> str:
        return os.path.normpath(os.path.join(self.dir, os.path.expanduser(p)))


Impl = Callable[..., Any]


class _Abort(Exception):
    """Raised through Starlark to stop evaluation; the real error is kept on the side."""


class Environment:
    """Evaluates one Tiltfile and everything it loads, with the given builtins.

    ``builtins`` maps a name (``docker_build``, or dotted like ``os.path.join``) to an
    implementation ``impl(ctx, *args, **kwargs)``. ``constants`` maps names (also dotted) to
    plain values.
    """

    def __init__(
        self,
        builtins: Mapping[str, Impl],
        constants: Mapping[str, object],
        state: Any,
    ) -> None:
        self._builtins = builtins
        self._constants = constants
        self._state = state
        self._globals = sl.Globals.extended_by(
            [sl.LibraryExtension.StructType, sl.LibraryExtension.CallStack]
        )
        self._prelude_src = _prelude(builtins, constants)
        self._prelude_ast = sl.parse(PRELUDE, self._prelude_src, sl.Dialect.extended())
        self._sources: dict[str, str] = {}
        self._modules: dict[str, sl.FrozenModule] = {}
        self._stack: list[str] = []
        self._pending: TiltfileError | None = None

    @property
    def files(self) -> list[str]:
        """Every Starlark file evaluated so far (the Tiltfile and what it loaded)."""
        return list(self._sources)

    def run(self, path: str) -> None:
        """Evaluate the Tiltfile at ``path``; raise TiltfileError if it does not work."""
        self._pending = None
        try:
            self._eval_file(path)
        except sl.StarlarkError as err:
            raise self._translate(err) from None

    # -- internals -------------------------------------------------------------------------

    def _new_module(self) -> sl.Module:
        module = sl.Module()
        for name, impl in self._builtins.items():
            module.add_callable(_py_name(name), self._dispatcher(name, impl))
        for name, value in self._constants.items():
            module[_py_name(name)] = value
        sl.eval(module, self._prelude_ast, self._globals)
        return module

    def _eval_file(self, path: str) -> sl.FrozenModule:
        path = os.path.abspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except FileNotFoundError:
            raise TiltfileError(f"no Tiltfile at {path}", None, "missing-file") from None
        except (OSError, UnicodeDecodeError) as err:
            raise TiltfileError(f"cannot read {path}: {err}", None, "missing-file") from None
        self._sources[path] = source
        self._state.config_files.add(path)
        module = self._new_module()
        try:
            ast = sl.parse(path, source, sl.Dialect.extended())
        except sl.StarlarkError as err:
            raise _syntax_error(str(err), path, source) from None
        with self._in_file(path):
            sl.eval(module, ast, self._globals, sl.FileLoader(self._load))
        frozen = module.freeze()
        self._modules[path] = frozen
        return frozen

    @contextmanager
    def _in_file(self, path: str) -> Iterator[None]:
        self._stack.append(path)
        try:
            yield
        finally:
            self._stack.pop()

    def _load(self, module_id: str) -> sl.FrozenModule:
        current = self._stack[-1]
        if "://" in module_id:
            self._pending = TiltfileError(
                f"load('{module_id}'): Tilt extensions are not supported by tilt-lsp yet; "
                "copy the extension's Tiltfile into your repo and load it by path",
                None,
                "unsupported",
            )
            raise _Abort(self._pending.message)
        path = os.path.normpath(os.path.join(os.path.dirname(current), module_id))
        if path in self._modules:
            return self._modules[path]
        if path in self._stack:
            chain = " -> ".join([*self._stack[self._stack.index(path) :], path])
            self._pending = TiltfileError(f"load cycle: {chain}", None, "reference")
            raise _Abort(self._pending.message)
        if not os.path.isfile(path):
            self._pending = TiltfileError(
                f"load('{module_id}'): file not found: {path}", None, "missing-file"
            )
            raise _Abort(self._pending.message)
        try:
            return self._eval_file(path)
        except sl.StarlarkError as err:
            if self._pending is None:
                self._pending = from_starlark_message(str(err), PRELUDE)
            raise _Abort(self._pending.message) from None
        except TiltfileError as err:
            self._pending = err
            raise _Abort(err.message) from None

    def _dispatcher(self, name: str, impl: Impl) -> Callable[..., Any]:
        def call(stack: str, *args: Any, **kwargs: Any) -> Any:
            # Relative paths resolve against the file being executed at module level (as in
            # Tilt): a helper defined in a loaded file and called from the Tiltfile works with
            # the Tiltfile's folder.
            location = self._call_site(stack, name)
            ctx = CallContext(
                name=name,
                location=location,
                dir=os.path.dirname(self._stack[-1]),
                state=self._state,
                source=self._sources.get(location.path, "") if location else "",
            )
            try:
                bound = bind(name, impl, args, kwargs)
                return impl(ctx, *bound.args, **bound.kwargs)
            except TiltfileError as err:
                if err.location is None:
                    err.location = locate_argument(ctx.source, ctx.location, err.argument)
                self._pending = err
                raise _Abort(err.message) from None

        return call

    def _call_site(self, stack: str, name: str) -> Location | None:
        frames = [m for m in map(_FRAME.match, stack.splitlines()) if m]
        user = [f for f in frames if f.group("path") != PRELUDE]
        if not user:
            return None
        frame = user[-1]
        path, line = frame.group("path"), int(frame.group("line"))
        text = self._source_line(path, line)
        short = name.rsplit(".", 1)[-1]
        found = re.search(rf"\b{re.escape(short)}\s*\(", text)
        column = found.start() + 1 if found else len(text) - len(text.lstrip()) + 1
        return Location(path, line, column)

    def _source_line(self, path: str, line: int) -> str:
        lines = self._sources.get(path, "").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def _translate(self, err: sl.StarlarkError) -> TiltfileError:
        parsed = from_starlark_message(str(err), PRELUDE)
        pending, self._pending = self._pending, None
        if pending is None:
            return parsed
        if pending.location is None:
            pending.location = parsed.location
        return pending


def _py_name(name: str) -> str:
    return "__tilt_" + name.replace(".", "_")


def _prelude(builtins: Mapping[str, Impl], constants: Mapping[str, object]) -> str:
    """Starlark source defining a wrapper per builtin and the namespaces (os, config, …)."""
    out: list[str] = []
    namespaces: dict[str, Any] = {}
    for name in builtins:
        wrapper = name if "." not in name else "_ns_" + name.replace(".", "_")
        out.append(
            f"def {wrapper}(*args, **kwargs):\n"
            f"    return {_py_name(name)}(call_stack(), *args, **kwargs)\n"
        )
        if "." in name:
            _nest(namespaces, name.split("."), wrapper)
    for name in constants:
        if "." in name:
            _nest(namespaces, name.split("."), _py_name(name))
        else:
            out.append(f"{name} = {_py_name(name)}\n")
    for ns, members in namespaces.items():
        out.append(f"{ns} = {_struct(members)}\n")
    return "".join(out)


def _nest(tree: dict[str, Any], parts: list[str], leaf: str) -> None:
    for part in parts[:-1]:
        tree = tree.setdefault(part, {})
    tree[parts[-1]] = leaf


def _struct(members: Mapping[str, Any]) -> str:
    fields = (f"{k}={_struct(v) if isinstance(v, dict) else v}" for k, v in sorted(members.items()))
    return "struct(" + ", ".join(fields) + ")"


def _syntax_error(text: str, path: str, source: str) -> TiltfileError:
    """starlark-rust reports a parse error at end of input as 1:1 with no excerpt; the
    useful place is the end of the last line, and the useful hint is an unclosed bracket."""
    err = from_starlark_message(text, PRELUDE, source)
    has_excerpt = re.search(r"^\s*\d+ \|", text, re.MULTILINE) is not None
    if not has_excerpt:
        lines = source.rstrip().splitlines() or [""]
        err.location = Location(path, len(lines), len(lines[-1]) + 1)
        err.message = "syntax error: unexpected end of file (is a bracket or a quote left open?)"
        err = unclosed_at_end(path, source) or err
    err.kind = "syntax"
    return err
