"""The catalog's types, and the one parser that turns a written signature into them."""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass


class Support(enum.Enum):
    SUPPORTED = "supported"
    ACCEPTED = "accepted"  # runs, with no effect in tilt-lsp
    UNSUPPORTED = "unsupported"

    @property
    def note(self) -> str:
        return {
            Support.SUPPORTED: "",
            Support.ACCEPTED: "tilt-lsp accepts this call; it has no effect here.",
            Support.UNSUPPORTED: "tilt-lsp does not support this yet: calling it is an error.",
        }[self]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    default: str | None  # source text of the default; None: required
    doc: str
    keyword_only: bool = False
    star: str = ""  # "*" for *args, "**" for **kwargs

    @property
    def label(self) -> str:
        text = f"{self.star}{self.name}"
        if self.type:
            text += f": {self.type}"
        if self.default is not None:
            text += f" = {self.default}"
        return text


@dataclass(frozen=True, slots=True)
class Entry:
    """A builtin function (``params`` set) or a value (``params`` is None)."""

    name: str  # as written in a Tiltfile: docker_build, os.path.join, TRIGGER_MODE_AUTO
    doc: str
    params: tuple[Param, ...] | None = None
    returns: str = ""

    @property
    def is_function(self) -> bool:
        return self.params is not None

    @property
    def signature(self) -> str:
        if self.params is None:
            return f"{self.name}: {self.returns}" if self.returns else self.name
        ret = f" -> {self.returns}" if self.returns else ""
        return f"{self.name}({', '.join(p.label for p in self.params)}){ret}"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params or () if p.name == name), None)


def fn(signature: str, doc: str, **param_docs: str) -> Entry:
    """An entry from ``"name(a: str, b: int = 1) -> T"``; ``param_docs`` documents each
    parameter by name."""
    name, _, rest = signature.partition("(")
    tree = ast.parse(f"def _f({rest}: pass")
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    a = func.args
    params: list[Param] = []

    def text(node: ast.expr | None) -> str:
        return ast.unparse(node) if node is not None else ""

    positional = a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        params.append(_param(arg, default, param_docs))
    if a.vararg is not None:
        params.append(_param(a.vararg, None, param_docs, star="*"))
    for arg, kw_default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(_param(arg, kw_default, param_docs, keyword_only=True))
    if a.kwarg is not None:
        params.append(_param(a.kwarg, None, param_docs, star="**"))
    unknown = set(param_docs) - {p.name for p in params}
    if unknown:
        raise ValueError(f"catalog: {name}: docs for unknown parameters {sorted(unknown)}")
    return Entry(name=name.strip(), doc=doc, params=tuple(params), returns=text(func.returns))


def _param(
    arg: ast.arg,
    default: ast.expr | None,
    docs: dict[str, str],
    keyword_only: bool = False,
    star: str = "",
) -> Param:
    return Param(
        name=arg.arg,
        type=ast.unparse(arg.annotation) if arg.annotation is not None else "",
        default=ast.unparse(default) if default is not None else None,
        doc=docs.get(arg.arg, ""),
        keyword_only=keyword_only,
        star=star,
    )


def value(name: str, type_: str, doc: str) -> Entry:
    return Entry(name=name, doc=doc, params=None, returns=type_)
