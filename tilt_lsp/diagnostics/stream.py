"""Running every parser over a stream of output lines: the one entry point for the engine
(``ProblemStream``, fed line by line as output arrives) and the CLI (``diagnose_lines``).

Per line: clean it (see ``clean``), pick its channel (compose service, kubectl pod, BuildKit
step), expand an escaped stack out of a JSON log record, then feed the channel's parsers.
Parsers that are idle only wake when the combined trigger regex matches, so an ordinary log
line costs a cleaning pass and one regex search. Findings are placed on workspace files by
``resolve.place``; a problem found twice in one stream is reported once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from tilt_lsp.diagnostics.clean import clean
from tilt_lsp.diagnostics.jsonlogs import stack_texts
from tilt_lsp.diagnostics.model import Finding, Problem
from tilt_lsp.diagnostics.parsers import DockerfileSource, Parser, all_parsers
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.resolve import place

MAX_CHANNELS = 64
_SEEN_LIMIT = 10_000
_BUILDKIT_OUTPUT = re.compile(r"^#(?P<id>\d+) \d+\.\d+ (?P<text>.*)$")


class ParserSet:
    """Every family's parser over one channel of output."""

    def __init__(self, parsers: list[Parser]) -> None:
        self._parsers = parsers
        self._trigger = re.compile("|".join(f"(?:{p.trigger.pattern})" for p in parsers))

    def feed(self, line: str) -> list[Finding]:
        triggered: bool | None = None
        out: list[Finding] = []
        for parser in self._parsers:
            if not parser.active:
                if triggered is None:
                    triggered = self._trigger.search(line) is not None
                if not triggered:
                    continue
            out.extend(parser.feed(line))
        return out

    def flush(self) -> list[Finding]:
        out: list[Finding] = []
        for parser in self._parsers:
            out.extend(parser.flush())
        return out


class ProblemStream:
    """Incremental problems of one output stream (a build's output, a container's log)."""

    def __init__(
        self,
        mapper: PathMapper,
        dockerfile: DockerfileSource | None = None,
        parsers: Callable[[], list[Parser]] | None = None,
    ) -> None:
        self._mapper = mapper
        self._make = parsers or (lambda: all_parsers(dockerfile))
        self._channels: OrderedDict[str, ParserSet] = OrderedDict()
        self._seen: set[Problem] = set()

    def feed(self, raw: str | bytes) -> list[Problem]:
        """Consume one raw line (with or without its line ending)."""
        channel, text = clean(raw)
        findings: list[Finding] = []
        stacks = stack_texts(text) if text[:1] == "{" else None
        if stacks:
            for stack in stacks:
                record = ParserSet(self._make())
                for line in stack.splitlines():
                    findings.extend(record.feed(clean(line)[1]))
                findings.extend(record.flush())
        else:
            findings.extend(self._channel(channel).feed(text))
            if text[:1] == "#":
                step = _BUILDKIT_OUTPUT.match(text)
                if step:  # a build step's own output, demultiplexed per step
                    inner = self._channel(f"{channel}#{step.group('id')}")
                    findings.extend(inner.feed(step.group("text")))
        return self._place(findings)

    def flush(self) -> list[Problem]:
        """Whatever is pending in any channel, e.g. after a quiet period on a live log (a
        logged Node error is only known to be complete when the next line arrives)."""
        findings: list[Finding] = []
        for parsers in self._channels.values():
            findings.extend(parsers.flush())
        return self._place(findings)

    def close(self) -> list[Problem]:
        """End of stream: whatever was pending in any channel."""
        problems = self.flush()
        self._channels.clear()
        return problems

    def _channel(self, name: str) -> ParserSet:
        parsers = self._channels.get(name)
        if parsers is None:
            if len(self._channels) >= MAX_CHANNELS:
                _old, evicted = self._channels.popitem(last=False)
                evicted.flush()
            parsers = self._channels[name] = ParserSet(self._make())
        return parsers

    def _place(self, findings: list[Finding]) -> list[Problem]:
        out: list[Problem] = []
        for finding in findings:
            problem = place(finding, self._mapper)
            if problem is None or problem in self._seen:
                continue
            if len(self._seen) >= _SEEN_LIMIT:
                self._seen.clear()
            self._seen.add(problem)
            out.append(problem)
        return out


def diagnose_lines(
    lines: Iterable[str | bytes],
    mapper: PathMapper,
    dockerfile: DockerfileSource | None = None,
) -> Iterator[Problem]:
    """Problems of a whole stream of output, in the order they complete."""
    stream = ProblemStream(mapper, dockerfile)
    for line in lines:
        yield from stream.feed(line)
    yield from stream.close()
