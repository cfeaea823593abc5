"""Running every parser over a stream of output lines: the one entry point for the engine
(``ProblemStream``, fed line by line as output arrives) and the CLI (``diagnose_lines``).

Per line: clean it (see ``clean``), pick its channel (compose service, kubectl pod, BuildKit
step), expand an escaped stack out of a JSON log record, then feed the channel's parsers.
Parsers that are idle only wake when the combined trigger regex matches, so an ordinary log
line costs a cleaning pass and one anchored regex match. Findings are placed on files by
``resolve.place``; a problem found twice in one stream is reported once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from tilt_lsp.diagnostics.clean import clean
from tilt_lsp.diagnostics.jsonlogs import docker_json_log, stack_texts
from tilt_lsp.diagnostics.model import Finding, Problem
from tilt_lsp.diagnostics.parsers import DockerfileSource, Parser, all_parsers
from tilt_lsp.diagnostics.parsers.base import LOCATION_TRIGGER
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.resolve import place

MAX_CHANNELS = 64
_SEEN_LIMIT = 10_000
_UNPLACED_LIMIT = 100
_BUILDKIT_OUTPUT = re.compile(r"^#(?P<id>\d+) \d+\.\d+ (?P<text>.*)$")


def combined_trigger(parsers: list[Parser]) -> re.Pattern[str]:
    """One anchored regex for all parsers, the shared location alternative only once."""
    patterns = [p.trigger.pattern for p in parsers]
    shared = [pat for pat in patterns if pat.startswith(LOCATION_TRIGGER)]
    rest = [pat.removeprefix(LOCATION_TRIGGER).removeprefix("|") for pat in patterns]
    alternatives = ([LOCATION_TRIGGER] if shared else []) + [f"(?:{r})" for r in rest if r]
    return re.compile("|".join(alternatives))


class ParserSet:
    """Every family's parser over one channel of output."""

    def __init__(self, parsers: list[Parser]) -> None:
        self._parsers = parsers
        self._match = combined_trigger(parsers).match
        self._needles = tuple(n for p in parsers for n in p.needles)
        self._own = [(p, p.trigger.match, p.needles) for p in parsers]
        self._busy = False  # some parser was active after the last line

    @property
    def busy(self) -> bool:
        return self._busy

    def feed(self, line: str) -> list[Finding]:
        # The fast path of an ordinary line, inlined: it is most of every log.
        if not self._busy and self._match(line) is None:
            for needle in self._needles:
                if needle in line:
                    break
            else:
                return []
        out: list[Finding] = []
        busy = False
        for parser, match, needles in self._own:
            # An idle parser only sees lines its own trigger accepts (a frame line of a
            # Python traceback wakes nobody else).
            if (parser.active or match(line) is not None
                    or (needles and any(n in line for n in needles))):
                out.extend(parser.feed(line))
                busy = busy or parser.active
        self._busy = busy
        return out

    def flush(self, final: bool = True) -> list[Finding]:
        out: list[Finding] = []
        for parser in self._parsers:
            out.extend(parser.flush(final))
        self._busy = any(parser.active for parser in self._parsers)
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
        self._evicted: list[Finding] = []  # what channels held when they were dropped
        self.unplaced: list[Finding] | None = None
        """Set to a list to collect findings that found no place (``diagnose`` explains)."""

    def feed(self, raw: str | bytes) -> list[Problem]:
        """Consume one raw line (with or without its line ending)."""
        channel, text = clean(raw)
        first = text[:1]
        if first != "{" and first != "#":  # the common case, kept short
            found = (self._channels.get(channel) or self._channel(channel)).feed(text)
            if self._evicted:
                found = [*self._evicted, *found]
                self._evicted.clear()
            return self._place(found) if found else []
        findings: list[Finding] = self._evicted[:]
        self._evicted.clear()
        if first == "{" and (inner_log := docker_json_log(text)) is not None:
            parsers = self._channel(channel)
            for line in inner_log.splitlines() or [""]:
                findings.extend(parsers.feed(clean(line)[1]))
            return self._place(findings)
        stacks = stack_texts(text) if first == "{" else None
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
        """After a quiet period on a live stream: what is complete but unconfirmed (a logged
        Node error is only known to be complete when the next line arrives). Context that
        later lines need (a running build step or test) is kept."""
        findings: list[Finding] = []
        for parsers in self._channels.values():
            findings.extend(parsers.flush(final=False))
        return self._place(findings)

    def forget(self) -> None:
        """Report problems again even if this stream reported them before (a container that
        restarted and crashed the same way, after its diagnostics were cleared)."""
        self._seen.clear()

    def close(self) -> list[Problem]:
        """End of stream: whatever was pending in any channel."""
        findings: list[Finding] = list(self._evicted)
        self._evicted.clear()
        for parsers in self._channels.values():
            findings.extend(parsers.flush(final=True))
        self._channels.clear()
        return self._place(findings)

    def _channel(self, name: str) -> ParserSet:
        parsers = self._channels.get(name)
        if parsers is None:
            if len(self._channels) >= MAX_CHANNELS:
                self._evict()
            parsers = self._channels[name] = ParserSet(self._make())
        return parsers

    def _evict(self) -> None:
        """Drop the oldest idle channel (a finished BuildKit step, a gone pod), never the
        unprefixed one; what it held is reported with the next line."""
        names = [n for n in self._channels if n]
        idle = [n for n in names if not self._channels[n].busy]
        victim = (idle or names or [""])[0]
        self._evicted.extend(self._channels.pop(victim).flush(final=True))

    def _place(self, findings: list[Finding]) -> list[Problem]:
        out: list[Problem] = []
        for finding in findings:
            problem = place(finding, self._mapper)
            if problem is None:
                if self.unplaced is not None and len(self.unplaced) < _UNPLACED_LIMIT:
                    self.unplaced.append(finding)
                continue
            if problem in self._seen:
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
    unplaced: list[Finding] | None = None,
) -> Iterator[Problem]:
    """Problems of a whole stream of output, in the order they complete; findings that
    found no place are added to ``unplaced`` if given."""
    stream = ProblemStream(mapper, dockerfile)
    stream.unplaced = unplaced
    feed = stream.feed
    for line in lines:
        problems = feed(line)
        if problems:
            yield from problems
    yield from stream.close()
