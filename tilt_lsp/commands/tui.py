"""What ``tilt-lsp up`` shows. On a terminal: a live, coloured table of the resources (state,
last update, problems) above the log tail, redrawn as things change. Elsewhere (CI, a pipe):
plain lines. In both, each problem is printed once per change, never again for the same list.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tilt_lsp.commands.output import problem_text
from tilt_lsp.engine import wording
from tilt_lsp.engine.listener import Published
from tilt_lsp.engine.status import ResourceStatus

_STYLE = {"ok": "green", "busy": "yellow", "error": "bold red", "idle": "dim"}
_ICON = {"ok": "●", "busy": "◌", "error": "✖", "idle": "○"}


def status_text(s: ResourceStatus) -> str:
    """One resource in plain words: "greeter: ready (pid 42)"."""
    text = f"{s.name}: {wording.state(s)}"
    if s.pid and s.enabled:
        text += f" (pid {s.pid})"
    extra = wording.pending(s)
    if extra:
        text += f", {extra}: trigger it to apply"
    if s.last_error and s.failed:
        text += f" — {s.last_error}"
    return text


class Problems:
    """Remembers what was printed per file, so a re-publish of the same list prints nothing
    and a fixed file says so once."""

    def __init__(self) -> None:
        self._shown: dict[str, list[str]] = {}

    def news(self, published: Published) -> list[tuple[str, str]]:
        """(kind, line) to print: kind is "problem" or "cleared"."""
        out: list[tuple[str, str]] = []
        for path, items in published.items():
            lines = [problem_text(resource, p) for resource, _source, p in items]
            before = self._shown.get(path, [])
            if lines == before:
                continue
            self._shown[path] = lines
            if not lines:
                out.append(("cleared", f"✓ {path}: problems cleared"))
            out += [("problem", line) for line in lines if line not in before]
        return out

    def count(self) -> int:
        return sum(len(v) for v in self._shown.values())


def repeats_a_problem(resource: str, line: str) -> bool:
    """The Tiltfile's log repeats its error, which is already printed as a problem."""
    return resource.startswith("(") and line.startswith("Tiltfile error:")


class PlainLines:
    """Line by line, for logs and CI."""

    def __init__(self, logs: bool, out: IO[str] | None = None) -> None:
        self._logs = logs
        self._out = out or sys.stdout
        self._last: dict[str, str] = {}
        self._problems = Problems()
        self._said: set[str] = set()  # messages shown since the problems last changed

    def news(self, published: Published) -> list[tuple[str, str]]:
        found = self._problems.news(published)
        if found:
            self._said.clear()
        return found

    def first_time(self, text: str) -> bool:
        """A message is shown once until the problems change (a reload that fails the same
        way says nothing new)."""
        if text in self._said:
            return False
        self._said.add(text)
        return True

    def _print(self, text: str, err: bool = False) -> None:
        print(text, file=sys.stderr if err else self._out, flush=True)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        for s in statuses:
            line = status_text(s)
            if self._last.get(s.name) != line:
                self._last[s.name] = line
                self._print(f"{_ICON[wording.tone(s)]} {line}")

    def diagnostics_changed(self, published: Published) -> None:
        for _kind, line in self.news(published):
            self._print(line)

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None:
        if self._logs:
            for line in lines:
                if not repeats_a_problem(resource, line):
                    self._print(f"{resource:>12} │ {line}")

    def progress(self, resource: str, phase: str, message: str) -> None:
        if phase == "begin":
            self._print(f"↻ {resource}: updating ({message})")

    def message(self, severity: str, text: str) -> None:
        if self.first_time(text):
            self._print(f"{severity}: {text}", err=True)


class LiveTable(PlainLines):
    """The table and the log tail, redrawn in place (rich), full screen while it runs; the
    final table and the problems stay printed after Ctrl-C."""

    def __init__(self, logs: bool, console: Console | None = None) -> None:
        super().__init__(logs)
        self._console = console or Console()
        self._statuses: list[ResourceStatus] = []
        self._log: deque[Text] = deque(maxlen=500)
        self._lock = threading.Lock()  # rich redraws from its own thread
        self._live = Live(
            self, console=self._console, screen=True, auto_refresh=True, refresh_per_second=8
        )

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()
        with self._lock:
            self._console.print(self.table())
            tail = list(self._log)[-20:]
        for line in tail:
            self._console.print(line)

    def __rich__(self) -> Group:
        with self._lock:
            table = self.table()
            room = max(self._console.height - len(self._statuses) - 6, 3)
            return Group(table, *list(self._log)[-room:])

    def table(self) -> Table:
        table = Table(expand=True, title="tilt-lsp up  (Ctrl-C to stop)", title_justify="left")
        table.add_column("resource", no_wrap=True)
        table.add_column("status")
        table.add_column("last update", no_wrap=True)
        table.add_column("problem", ratio=2, overflow="ellipsis", no_wrap=True)
        for s in self._statuses:
            tone = wording.tone(s)
            state = f"{_ICON[tone]} {wording.state(s)}"
            if s.pid and s.enabled:
                state += f" (pid {s.pid})"
            error = s.last_error if s.failed and s.last_error else wording.pending(s)
            table.add_row(
                s.name,
                Text(state, style=_STYLE[tone]),
                wording.when(s.last_update_at).removeprefix("updated "),
                Text(error or "", style="red" if s.failed else "yellow"),
            )
        return table

    def _add(self, text: str, style: str = "") -> None:
        with self._lock:
            self._log.append(Text(text, style=style, overflow="ellipsis", no_wrap=True))

    def status_changed(self, statuses: list[ResourceStatus]) -> None:
        with self._lock:
            self._statuses = list(statuses)

    def diagnostics_changed(self, published: Published) -> None:
        for kind, line in self.news(published):
            self._add(line, "red" if kind == "problem" else "green")

    def log_lines(self, resource: str, lines: tuple[str, ...]) -> None:
        if self._logs:
            for line in lines:
                if not repeats_a_problem(resource, line):
                    self._add(f"{resource:>12} │ {line}")

    def progress(self, resource: str, phase: str, message: str) -> None:
        if phase == "begin":
            self._add(f"↻ {resource}: updating ({message})", "yellow")

    def message(self, severity: str, text: str) -> None:
        if self.first_time(text):
            self._add(f"{severity}: {text}", "bold red" if severity == "error" else "yellow")


def display(logs: bool, plain: bool = False, stream: Any = None) -> PlainLines:
    """A live table when ``stream`` (stdout) is a terminal and ``plain`` is not asked for."""
    stream = stream or sys.stdout
    if not plain and stream.isatty():
        return LiveTable(logs, Console(file=stream))
    return PlainLines(logs, stream)
