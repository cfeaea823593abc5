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

from tilt_lsp.tiltfile import dialect
from tilt_lsp.tiltfile.args import bind, locate_argument
from tilt_lsp.tiltfile.errors import TiltfileError, from_starlark_message, unclosed_at_end
from tilt_lsp.tiltfile.model import Location

PRELUDE = "<tilt-builtins>"
STRUCT_RESULTS = frozenset({"link"})
# Builtins that take a Starlark function: it stays in the file's module (Python cannot hold
# it) and is called back later through ``call_kept``.
FUNCTION_ARGS = frozenset({"workload_to_resource_function"})
KEPT = "tilt_lsp_kept_functions"
CALL_EXPORTED = "__tilt_call_exported"
CALL_KEPT = "tilt_lsp_call_kept"
_TOP_NAME = re.compile(r"^(?:def\s+([A-Za-z_]\w*)\s*\(|([A-Za-z_]\w*)\s*=(?!=))", re.MULTILINE)
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
        resolve_ext: Callable[[str], str] | None = None,
    ) -> None:
        self._builtins = builtins
        self._resolve_ext = resolve_ext
        self._constants = constants
        self._state = state
        self._globals = sl.Globals.extended_by(
            [sl.LibraryExtension.StructType, sl.LibraryExtension.CallStack]
        )
        self._prelude_src = _prelude(builtins, constants)
        self._prelude_ast = sl.parse(PRELUDE, self._prelude_src, sl.Dialect.extended())
        self._sources: dict[str, str] = {}
        self._line_maps: dict[str, dialect.LineMap] = {}
        self._modules: dict[str, sl.FrozenModule] = {}
        self._stack: list[str] = []
        self._pending: TiltfileError | None = None
        self._exports: dict[str, tuple[dict[str, Any], list[str]]] = {}
        self.exiting = False  # exit() was called: stop evaluating, keep what was declared
        state.environment = self

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
            if self.exiting:
                return
            raise self._translate(err) from None

    # -- internals -------------------------------------------------------------------------

    def _new_module(self) -> sl.Module:
        module = sl.Module()
        for name, impl in self._builtins.items():
            module.add_callable(_py_name(name), self._dispatcher(name, impl))
        for name, value in self._constants.items():
            module[_py_name(name)] = value
        module.add_callable(CALL_EXPORTED, self._call_exported)
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
        text, self._line_maps[path] = dialect.rewrite(source)
        try:
            ast = sl.parse(path, text, sl.Dialect.extended())
        except sl.StarlarkError as err:
            raise self._located(_syntax_error(str(err), path, text)) from None
        with self._in_file(path):
            sl.eval(module, ast, self._globals, sl.FileLoader(self._load))
            self._exports[path] = self._values_of(module, source)
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
        try:
            return self.load_path(self._module_path(module_id))
        except TiltfileError as err:
            if err.message.startswith("file not found:"):
                err.message = f"load('{module_id}'): {err.message}"
            self._pending = err
            raise _Abort(err.message) from None

    def _module_path(self, module_id: str) -> str:
        if module_id.startswith("ext://") and self._resolve_ext is not None:
            return self._resolve_ext(module_id[len("ext://") :])
        if "://" in module_id:
            raise TiltfileError(
                f"load('{module_id}'): only file paths and ext:// extensions can be loaded",
                None,
                "unsupported",
            )
        current = self._stack[-1]
        return os.path.normpath(os.path.join(os.path.dirname(current), module_id))

    def load_path(self, path: str) -> sl.FrozenModule:
        """Evaluate the Starlark file at ``path`` once (later loads reuse it); raises
        TiltfileError. ``include()`` and ``load_dynamic()`` call this directly."""
        if path in self._modules:
            return self._modules[path]
        if path in self._stack:
            chain = " -> ".join([*self._stack[self._stack.index(path) :], path])
            raise TiltfileError(f"load cycle: {chain}", None, "reference")
        if not os.path.isfile(path):
            raise TiltfileError(f"file not found: {path}", None, "missing-file")
        try:
            return self._eval_file(path)
        except sl.StarlarkError as err:
            if self.exiting:
                raise TiltfileError("exit() stopped the Tiltfile", None, "exit") from None
            pending, self._pending = self._pending, None
            raise (pending or self._located(from_starlark_message(str(err), PRELUDE))) from None

    def call_kept(self, path: str, builtin: str, arg: dict[str, Any]) -> Any:
        """Call the function the file at ``path`` gave ``builtin`` (after evaluation)."""
        try:
            return self._modules[path].call(CALL_KEPT, builtin, arg)
        except sl.StarlarkError as err:
            raise self._located(from_starlark_message(str(err), PRELUDE)) from None

    def exports(self, path: str) -> tuple[dict[str, Any], list[str]]:
        """What a file defines (for load_dynamic), after evaluating it: its plain values, and
        the names of its functions (called through ``_call_exported``)."""
        self.load_path(path)
        return self._exports.get(path, ({}, []))

    def _call_exported(self, path: str, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._modules[path].call(name, *args, **kwargs)
        except sl.StarlarkError as err:
            if self._pending is None:
                self._pending = self._located(from_starlark_message(str(err), PRELUDE))
            raise _Abort(self._pending.message) from None

    def _values_of(self, module: sl.Module, source: str) -> tuple[dict[str, Any], list[str]]:
        """The file's top-level names: plain values, and the names of its functions. A value
        that cannot become plain data (a struct holding functions) is left out."""
        names = sorted({a or b for a, b in _TOP_NAME.findall(source)})
        names = [n for n in names if not n.startswith("_")]
        values: dict[str, Any] = {}
        functions: list[str] = []
        if not names:
            return values, functions
        kinds = self._eval_in(module, "[" + ", ".join(f"type({n})" for n in names) + "]")
        if not isinstance(kinds, list):
            return values, functions
        for name, kind in zip(names, kinds, strict=True):
            if kind in ("function", "builtin_function_or_method"):
                functions.append(name)
                continue
            try:
                values[name] = sl.eval(
                    module, sl.parse(PRELUDE, name, sl.Dialect.extended()), self._globals
                )
            except sl.StarlarkError:
                continue
        return values, functions

    def _eval_in(self, module: sl.Module, expr: str) -> Any:
        try:
            return sl.eval(module, sl.parse(PRELUDE, expr, sl.Dialect.extended()), self._globals)
        except sl.StarlarkError:
            return None

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
        path, line = (
            frame.group("path"),
            self._user_line(frame.group("path"), int(frame.group("line"))),
        )
        text = self._source_line(path, line)
        short = name.rsplit(".", 1)[-1]
        found = re.search(rf"\b{re.escape(short)}\s*\(", text)
        column = found.start() + 1 if found else len(text) - len(text.lstrip()) + 1
        return Location(path, line, column)

    def _user_line(self, path: str, line: int) -> int:
        """The user's line for a line of the rewritten text (see ``dialect``)."""
        lines = self._line_maps.get(path)
        return lines.original(line) if lines is not None else line

    def _located(self, err: TiltfileError) -> TiltfileError:
        loc = err.location
        if loc is not None and loc.path in self._line_maps:
            err.location = Location(loc.path, self._user_line(loc.path, loc.line), loc.column)
        return err

    def _source_line(self, path: str, line: int) -> str:
        lines = self._sources.get(path, "").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def _translate(self, err: sl.StarlarkError) -> TiltfileError:
        parsed = self._located(from_starlark_message(str(err), PRELUDE))
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
        if name == "load_dynamic":
            # Functions cannot cross into Python: each exported function comes back as a
            # closure that calls it in its own (frozen) module.
            out.append(
                f"def {wrapper}(*args, **kwargs):\n"
                f"    d = {_py_name(name)}(call_stack(), *args, **kwargs)\n"
                "    out = dict(d['values'])\n"
                "    for fn in d['functions']:\n"
                "        out[fn] = _tilt_exported(d['path'], fn)\n"
                "    return out\n"
                "def _tilt_exported(path, fn):\n"
                "    def call(*args, **kwargs):\n"
                f"        return {CALL_EXPORTED}(path, fn, *args, **kwargs)\n"
                "    return call\n"
            )
        elif name in FUNCTION_ARGS:
            out.append(
                f"def {wrapper}(fn):\n    {KEPT}['{name}'] = fn\n"
                f"    return {_py_name(name)}(call_stack())\n"
            )
        else:
            call = f"{_py_name(name)}(call_stack(), *args, **kwargs)"
            # Values Tilt hands back as structs (``link(...).url``) become structs here too.
            body = f"struct(**{call})" if name in STRUCT_RESULTS else call
            out.append(f"def {wrapper}(*args, **kwargs):\n    return {body}\n")
        if "." in name:
            _nest(namespaces, name.split("."), wrapper)
    out.append(
        f"{KEPT} = {{}}\ndef {CALL_KEPT}(name, arg):\n    return {KEPT}[name](struct(**arg))\n"
    )
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
