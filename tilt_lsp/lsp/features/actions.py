"""Code actions: on a runtime problem, "Show the log around this error" and "Restart
<resource>"; on an unknown resource_deps name with a close match, the quick fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tilt_lsp.lsp import protocol as p
from tilt_lsp.lsp.features.checks import UNKNOWN_RESOURCE

if TYPE_CHECKING:
    from tilt_lsp.lsp.server import TiltLanguageServer


def _data(d: types.Diagnostic) -> dict[str, Any]:
    data = d.data
    if isinstance(data, dict):
        return data
    return {k: getattr(data, k) for k in ("resource", "tool", "suggestion") if hasattr(data, k)}


def actions_for(
    uri: str, diagnostics: list[types.Diagnostic], line_text: Any
) -> list[types.CodeAction]:
    out: list[types.CodeAction] = []
    seen: set[str] = set()
    for d in diagnostics:
        data = _data(d)
        resource = data.get("resource")
        if isinstance(resource, str) and resource:
            first = d.message.splitlines()[0] if d.message else ""
            if f"log:{resource}:{first}" not in seen:
                seen.add(f"log:{resource}:{first}")
                out.append(
                    types.CodeAction(
                        title="Show the log around this error",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[d],
                        command=types.Command(
                            title="Show the log around this error",
                            command=p.CMD_SHOW_LOGS,
                            arguments=[{"resource": resource, "around": first}],
                        ),
                    )
                )
            if f"restart:{resource}" not in seen:
                seen.add(f"restart:{resource}")
                out.append(
                    types.CodeAction(
                        title=f"Restart {resource}",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[d],
                        command=types.Command(
                            title=f"Restart {resource}", command=p.CMD_RESTART, arguments=[resource]
                        ),
                    )
                )
        suggestion = data.get("suggestion")
        if d.code == UNKNOWN_RESOURCE and isinstance(suggestion, str):
            quote = (
                line_text(d.range.start.line)[d.range.start.character : d.range.start.character + 1]
                or "'"
            )
            out.append(
                types.CodeAction(
                    title=f"Change to '{suggestion}'",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[d],
                    is_preferred=True,
                    edit=types.WorkspaceEdit(
                        changes={
                            uri: [
                                types.TextEdit(
                                    range=d.range, new_text=f"{quote}{suggestion}{quote}"
                                )
                            ]
                        }
                    ),
                )
            )
    return out


def register(ls: TiltLanguageServer, text: Any) -> None:
    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(
        ls: TiltLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        uri = params.text_document.uri
        lines = text(uri).split("\n")

        def line_text(n: int) -> str:
            return lines[n] if 0 <= n < len(lines) else ""

        return actions_for(uri, list(params.context.diagnostics), line_text)
