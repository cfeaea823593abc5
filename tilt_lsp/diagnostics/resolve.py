"""Placing findings: a parser's raw problem or trace becomes a problem on a workspace file.

This is where "in the workspace" is decided, after path mapping. A trace's culprit is its
innermost frame that maps onto a workspace file and is not library code; the user's other
frames become related places. A build problem is kept only if its own file maps; related
places that do not map are dropped, the problem itself stays.
"""

from __future__ import annotations

from tilt_lsp.diagnostics.model import Finding, Frame, Problem, Related, Trace
from tilt_lsp.diagnostics.paths import PathMapper

MAX_RELATED = 20


def place(finding: Finding, mapper: PathMapper) -> Problem | None:
    """The finding as a problem on a local file, or None when it is not the user's."""
    if isinstance(finding, Trace):
        return _place_trace(finding, mapper)
    return _place_problem(finding, mapper)


def _place_problem(problem: Problem, mapper: PathMapper) -> Problem | None:
    path = mapper.resolve(problem.path, problem.package)
    if path is None or not mapper.has_line(path, problem.line):
        return None
    related = []
    for rel in problem.related:
        rel_path = mapper.resolve(rel.path)
        if rel_path is not None and mapper.has_line(rel_path, rel.line):
            related.append(Related(rel_path, rel.line, rel.column, rel.message))
    return Problem(
        path=path, line=problem.line, column=problem.column, message=problem.message,
        severity=problem.severity, source=problem.source, end_line=problem.end_line,
        end_column=problem.end_column, related=tuple(related[:MAX_RELATED]), code=problem.code,
    )


def _place_trace(trace: Trace, mapper: PathMapper) -> Problem | None:
    strict = trace.source == "java"
    placed: list[tuple[str, int, int | None, str, int | None]] = []
    for frame in trace.frames:
        if frame.library:
            continue
        package = frame.package.replace(".", "/") if frame.package and strict else frame.package
        path = mapper.resolve(frame.path, package, strict=strict)
        if path is None or not mapper.has_line(path, frame.line):
            continue
        if placed and (path, frame.line) == placed[-1][:2]:
            continue  # the same place twice (a panic location repeated as a frame)
        column, end_column = frame.column, None
        if frame.excerpt and column is None:
            column, end_column = _columns(mapper.line_text(path, frame.line), frame)
        placed.append((path, frame.line, column, frame.function, end_column))
        if len(placed) > MAX_RELATED:
            break
    if not placed:
        return None
    path, line, column, _function, end_column = placed[0]
    related = tuple(
        Related(p, ln, col, f"called from here (in {func})" if func else "called from here")
        for p, ln, col, func, _end in placed[1:]
    )
    return Problem(
        path=path, line=line, column=column, message=trace.message, severity=trace.severity,
        source=trace.source, related=related, code=trace.code,
        end_line=line if end_column is not None else None, end_column=end_column,
    )


def _columns(text: str | None, frame: Frame) -> tuple[int | None, int | None]:
    """Column and end column of a frame's marked span, found by its excerpt in the real line.
    (None, None) when the line no longer holds that code: the file changed since."""
    if text is None or not frame.excerpt:
        return None, None
    at = text.find(frame.excerpt)
    if at < 0:
        return None, None
    if frame.span is None:
        return at + 1, None
    return at + frame.span[0] + 1, at + frame.span[1] + 1
