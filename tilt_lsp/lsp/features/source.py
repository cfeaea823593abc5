"""What a Tiltfile's text says, without running it: calls, string arguments, functions,
loads and resource declarations, each with its place in the text.

Starlark is Python's syntax without a few statements, so Python's own parser reads it. Pure:
text in, facts out. Columns are character offsets on the line (the parser gives UTF-8 byte
offsets; they are converted here once).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Calls that declare a resource, and the argument that names it.
RESOURCE_CALLS = {"local_resource": "name", "dc_resource": "name", "k8s_resource": "workload"}
# Arguments that name files or folders, by call: (positional index, keyword).
PATH_ARGS: dict[str, tuple[tuple[int, str], ...]] = {
    "docker_build": ((1, "context"), (-1, "dockerfile")),
    "local_resource": ((-1, "deps"),),
    "docker_compose": ((0, "configPaths"), (-1, "env_file")),
    "k8s_yaml": ((0, "yaml"),),
    "read_file": ((0, "file_path"),),
    "read_json": ((0, "path"),),
    "read_yaml": ((0, "path"),),
    "watch_file": ((0, "file_path"),),
    "listdir": ((0, "directory"),),
    "sync": ((0, "local_path"),),
    "fall_back_on": ((0, "files"),),
    "load": ((0, "path"),),
}


@dataclass(frozen=True, slots=True)
class Span:
    """0-based line and character columns; ``end`` is exclusive and on ``end_line``."""

    line: int
    start: int
    end_line: int
    end: int

    def contains(self, line: int, col: int) -> bool:
        after = (line, col) >= (self.line, self.start)
        return after and (line, col) <= (self.end_line, self.end)


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Arg:
    keyword: str | None
    index: int  # position among positional arguments; -1 for keywords
    strings: tuple[Str, ...]  # a string literal, or the literals of a list
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # dotted: os.path.join
    name_span: Span
    span: Span
    args: tuple[Arg, ...]

    def arg(self, index: int, keyword: str) -> Arg | None:
        for a in self.args:
            if (keyword and a.keyword == keyword) or (index >= 0 and a.index == index):
                return a
        return None


@dataclass(frozen=True, slots=True)
class Def:
    name: str
    span: Span  # the name after `def`, or the assigned name
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Load:
    path: Str
    symbols: dict[str, Str]  # local name -> the loaded file's name for it


@dataclass(frozen=True, slots=True)
class Outline:
    calls: tuple[Call, ...]
    defs: dict[str, Def]
    loads: tuple[Load, ...]

    def resources(self) -> list[tuple[str, Call, Str]]:
        """(name, call, the string naming it) for each resource the text declares."""
        out: list[tuple[str, Call, Str]] = []
        for call in self.calls:
            keyword = RESOURCE_CALLS.get(call.name)
            if keyword is None:
                continue
            named = call.arg(-1, "new_name") if call.name != "local_resource" else None
            arg = (named if named and named.strings else None) or call.arg(0, keyword)
            if arg and len(arg.strings) == 1 and arg.strings[0].value:
                out.append((arg.strings[0].value, call, arg.strings[0]))
        return out

    def paths(self) -> list[tuple[Call, Str]]:
        """Every string literal given where a file or folder is expected."""
        out: list[tuple[Call, Str]] = []
        for call in self.calls:
            for index, keyword in PATH_ARGS.get(call.name, ()):
                arg = call.arg(index, keyword)
                if arg is not None:
                    out += [(call, s) for s in arg.strings if s.value and "\n" not in s.value]
        return out

    def call_at(self, line: int, col: int) -> Call | None:
        """The innermost call whose text holds the position."""
        inside = [c for c in self.calls if c.span.contains(line, col)]
        return min(
            inside,
            key=lambda c: (c.span.end_line - c.span.line, c.span.end - c.span.start),
            default=None,
        )


EMPTY = Outline((), {}, ())


def parse(text: str) -> Outline | None:
    """The outline of ``text``, or None when it does not parse (mid-edit)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines()
    return _Reader(lines).read(tree)


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def col(self, line: int, byte_col: int) -> int:
        """Parser byte offset -> character offset (0-based line)."""
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def span(self, node: ast.expr | ast.stmt | ast.arg) -> Span:
        line = node.lineno - 1
        end_line = (node.end_lineno or node.lineno) - 1
        end = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return Span(line, self.col(line, node.col_offset), end_line, self.col(end_line, end))

    def strings(self, node: ast.expr) -> tuple[Str, ...]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return (Str(node.value, self.span(node)),)
        if isinstance(node, ast.List | ast.Tuple):
            return tuple(s for e in node.elts for s in self.strings(e))
        return ()

    def read(self, tree: ast.Module) -> Outline:
        calls: list[Call] = []
        defs: dict[str, Def] = {}
        loads: list[Load] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                call = self.call(node)
                if call is not None:
                    calls.append(call)
                    if call.name == "load":
                        loads.append(self.load(node))
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                line = stmt.lineno - 1
                text = self.lines[line] if line < len(self.lines) else ""
                start = text.find(stmt.name, text.find("def"))
                span = Span(line, start, line, start + len(stmt.name))
                defs[stmt.name] = Def(stmt.name, span, ast.get_docstring(stmt) or "")
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and target.id not in defs:
                        defs[target.id] = Def(target.id, self.span(target))
        for load in loads:
            for local, original in load.symbols.items():
                defs.setdefault(local, Def(local, original.span))
        calls.sort(key=lambda c: (c.span.line, c.span.start))
        return Outline(tuple(calls), defs, tuple(loads))

    def call(self, node: ast.Call) -> Call | None:
        name = _dotted(node.func)
        if name is None:
            return None
        args: list[Arg] = []
        for i, a in enumerate(node.args):
            if not isinstance(a, ast.Starred):
                args.append(Arg(None, i, self.strings(a), self.span(a)))
        for kw in node.keywords:
            if kw.arg is not None:
                args.append(Arg(kw.arg, -1, self.strings(kw.value), self.span(kw.value)))
        func = node.func
        name_span = self.span(func)
        if isinstance(func, ast.Attribute):  # the last part: `join` in os.path.join
            end = name_span.end
            name_span = Span(name_span.end_line, end - len(func.attr), name_span.end_line, end)
        return Call(name, name_span, self.span(node), tuple(args))

    def load(self, node: ast.Call) -> Load:
        path = (
            self.strings(node.args[0])[0]
            if node.args and self.strings(node.args[0])
            else Str("", self.span(node))
        )
        symbols: dict[str, Str] = {}
        for a in node.args[1:]:
            for s in self.strings(a):
                symbols[s.value] = s
        for kw in node.keywords:
            found = self.strings(kw.value) if kw.arg else ()
            if kw.arg and found:
                symbols[kw.arg] = found[0]
        return Load(path, symbols)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
